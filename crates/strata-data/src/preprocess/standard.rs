//! `StandardScaler`: each column to zero mean and unit variance.

use serde::{Deserialize, Serialize};

use super::{ColumnStats, center_and_scale, uncenter_and_unscale};
use crate::error::Result;

/// Centres each column on its mean and divides by its standard deviation (population, as
/// scikit-learn's `StandardScaler`): `y = (x − mean) / std`. A constant column gets scale 1
/// (it becomes all zeros) instead of a division by zero.
///
/// ```
/// use strata_data::preprocess::StandardScaler;
/// let mut scaler = StandardScaler::new();
/// let y = scaler.fit_transform(&[1.0, 10.0, 3.0, 10.0], 2).unwrap();
/// assert_eq!(y, vec![-1.0, 0.0, 1.0, 0.0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    mean: Vec<f32>,
    scale: Vec<f32>,
}

impl StandardScaler {
    /// An unfitted scaler.
    pub fn new() -> Self {
        StandardScaler::default()
    }

    /// Learns each column's mean and standard deviation from `data` (`rows × cols`,
    /// row-major; at least one row; finite values).
    pub fn fit(&mut self, data: &[f32], cols: usize) -> Result<()> {
        let stats = ColumnStats::of("StandardScaler::fit", data, cols)?;
        self.mean = stats.mean.iter().map(|&m| m as f32).collect();
        self.scale = (0..cols)
            .map(|c| {
                let std = stats.variance[c].sqrt();
                if stats.min[c] == stats.max[c] || std == 0.0 {
                    1.0
                } else {
                    std as f32
                }
            })
            .collect();
        Ok(())
    }

    /// `(x − mean) / scale` for every value, as a new array.
    pub fn transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        let mut out = data.to_vec();
        self.transform_in_place(&mut out, cols)?;
        Ok(out)
    }

    /// [`StandardScaler::transform`] in place.
    pub fn transform_in_place(&self, data: &mut [f32], cols: usize) -> Result<()> {
        center_and_scale(
            "StandardScaler::transform",
            data,
            cols,
            &self.mean,
            &self.scale,
        )
    }

    /// [`StandardScaler::fit`] then [`StandardScaler::transform`] of the same data.
    pub fn fit_transform(&mut self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        self.fit(data, cols)?;
        self.transform(data, cols)
    }

    /// `y · scale + mean`: back to the original units.
    pub fn inverse_transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        uncenter_and_unscale(
            "StandardScaler::inverse_transform",
            data,
            cols,
            &self.mean,
            &self.scale,
        )
    }

    /// Whether [`StandardScaler::fit`] has run.
    pub fn is_fitted(&self) -> bool {
        !self.mean.is_empty()
    }

    /// The fitted column means (empty before fitting).
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The fitted column scales: standard deviations, 1 for constant columns.
    pub fn scale(&self) -> &[f32] {
        &self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataError;

    /// Column 0 is the classic [2, 4, 4, 4, 5, 5, 7, 9] (mean 5, population std 2); column 1
    /// is constant.
    fn data() -> Vec<f32> {
        [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
            .iter()
            .flat_map(|&x| [x, 3.0])
            .collect()
    }

    #[test]
    fn fit_learns_mean_and_population_std() {
        let mut s = StandardScaler::new();
        s.fit(&data(), 2).unwrap();
        assert_eq!(s.mean(), &[5.0, 3.0]);
        assert_eq!(s.scale(), &[2.0, 1.0]);
    }

    #[test]
    fn transform_gives_exact_standard_scores_and_zeros_for_a_constant_column() {
        let y = StandardScaler::new().fit_transform(&data(), 2).unwrap();
        let col0: Vec<f32> = y.iter().step_by(2).copied().collect();
        let col1: Vec<f32> = y.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(col0, vec![-1.5, -0.5, -0.5, -0.5, 0.0, 0.0, 1.0, 2.0]);
        assert_eq!(col1, vec![0.0; 8]);
    }

    #[test]
    fn inverse_transform_restores_the_data() {
        let mut s = StandardScaler::new();
        let y = s.fit_transform(&data(), 2).unwrap();
        assert_eq!(s.inverse_transform(&y, 2).unwrap(), data());
    }

    #[test]
    fn unfitted_or_wrong_columns_are_errors() {
        let s = StandardScaler::new();
        assert!(matches!(
            s.transform(&[1.0, 2.0], 2),
            Err(DataError::NotFitted { .. })
        ));
        let mut s = StandardScaler::new();
        s.fit(&data(), 2).unwrap();
        let err = s.transform(&[1.0, 2.0, 3.0], 3).unwrap_err().to_string();
        assert!(
            err.contains("2 column(s)") && err.contains("3 column(s)"),
            "{err}"
        );
        assert!(s.transform(&[1.0, 2.0, 3.0], 2).is_err());
    }

    #[test]
    fn non_finite_training_values_are_named() {
        let err = StandardScaler::new()
            .fit(&[1.0, 2.0, f32::NAN, 4.0], 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 1, column 0"), "{err}");
    }

    #[test]
    fn round_trips_through_json() {
        let mut s = StandardScaler::new();
        s.fit(&data(), 2).unwrap();
        let back: StandardScaler =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
