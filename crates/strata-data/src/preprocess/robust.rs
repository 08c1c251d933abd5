//! `RobustScaler`: each column centred on its median and divided by its interquartile range.

use serde::{Deserialize, Serialize};

use super::quantile::{quantile, sorted_present};
use super::{center_and_scale, rows, uncenter_and_unscale};
use crate::error::{DataError, Result};

/// `y = (x − median) / (q75 − q25)` per column (scikit-learn's `RobustScaler`): outliers move
/// the median and quartiles far less than the mean and standard deviation. Quantiles
/// interpolate linearly (numpy's default). A column with zero IQR gets scale 1 instead of a
/// division by zero.
///
/// ```
/// use strata_data::preprocess::RobustScaler;
/// let mut s = RobustScaler::new();
/// assert_eq!(s.fit_transform(&[1.0, 2.0, 3.0, 4.0, 100.0], 1).unwrap(),
///            vec![-1.0, -0.5, 0.0, 0.5, 48.5]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RobustScaler {
    center: Vec<f32>,
    scale: Vec<f32>,
}

impl RobustScaler {
    /// An unfitted scaler.
    pub fn new() -> Self {
        RobustScaler::default()
    }

    /// Learns each column's median and IQR (at least one row, finite values).
    pub fn fit(&mut self, data: &[f32], cols: usize) -> Result<()> {
        let n = rows("RobustScaler::fit", data, cols)?;
        if n == 0 {
            return Err(DataError::invalid(
                "RobustScaler::fit",
                "at least one row to fit",
                "no rows",
            ));
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(DataError::invalid(
                "RobustScaler::fit",
                "finite values (impute missing values before scaling)",
                format!("{} at row {}, column {}", data[i], i / cols, i % cols),
            ));
        }
        let (mut center, mut scale) = (Vec::with_capacity(cols), Vec::with_capacity(cols));
        for c in 0..cols {
            let v = sorted_present(data, cols, c);
            let iqr = quantile(&v, 0.75) - quantile(&v, 0.25);
            center.push(quantile(&v, 0.5) as f32);
            scale.push(if iqr == 0.0 { 1.0 } else { iqr as f32 });
        }
        self.center = center;
        self.scale = scale;
        Ok(())
    }

    /// `(x − median) / iqr` for every value, as a new array.
    pub fn transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        let mut out = data.to_vec();
        self.transform_in_place(&mut out, cols)?;
        Ok(out)
    }

    /// [`RobustScaler::transform`] in place.
    pub fn transform_in_place(&self, data: &mut [f32], cols: usize) -> Result<()> {
        center_and_scale(
            "RobustScaler::transform",
            data,
            cols,
            &self.center,
            &self.scale,
        )
    }

    /// [`RobustScaler::fit`] then [`RobustScaler::transform`].
    pub fn fit_transform(&mut self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        self.fit(data, cols)?;
        self.transform(data, cols)
    }

    /// `y · iqr + median`: back to the original units.
    pub fn inverse_transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        uncenter_and_unscale(
            "RobustScaler::inverse_transform",
            data,
            cols,
            &self.center,
            &self.scale,
        )
    }

    /// The fitted medians (empty before fitting).
    pub fn center(&self) -> &[f32] {
        &self.center
    }

    /// The fitted IQRs, 1 where a column's IQR is 0.
    pub fn scale(&self) -> &[f32] {
        &self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_on_median_and_divides_by_iqr_constant_column_by_one() {
        // Column 0: 1, 2, 3, 4 (median 2.5, q25 1.75, q75 3.25, IQR 1.5); column 1 constant 5.
        let mut s = RobustScaler::new();
        let y = s
            .fit_transform(&[1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 4.0, 5.0], 2)
            .unwrap();
        assert_eq!(s.center(), &[2.5, 5.0]);
        assert_eq!(s.scale(), &[1.5, 1.0]);
        assert_eq!(
            y,
            vec![-1.0, 0.0, -1.0 / 3.0, 0.0, 1.0 / 3.0, 0.0, 1.0, 0.0]
        );
        assert_eq!(s.inverse_transform(&y, 2).unwrap()[0], 1.0);
    }

    #[test]
    fn missing_values_unfitted_and_empty_input_are_errors() {
        assert!(RobustScaler::new().fit(&[f32::NAN], 1).is_err());
        assert!(RobustScaler::new().fit(&[], 1).is_err());
        assert!(matches!(
            RobustScaler::new().transform(&[1.0], 1),
            Err(DataError::NotFitted { .. })
        ));
    }
}
