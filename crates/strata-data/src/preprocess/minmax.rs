//! `MinMaxScaler`: each column onto a target range.

use serde::{Deserialize, Serialize};

use super::{ColumnStats, check_columns, map_columns};
use crate::error::{DataError, Result};

/// Maps each column's training range `[min, max]` linearly onto `range` (default `[0, 1]`), as
/// scikit-learn's `MinMaxScaler`: `y = (x − min) · scale + range.0` with
/// `scale = (range.1 − range.0) / (max − min)`. A constant column gets a data range of 1
/// (it maps to `range.0`) instead of a division by zero.
///
/// ```
/// use strata_data::preprocess::MinMaxScaler;
/// let mut scaler = MinMaxScaler::new().with_range(-1.0, 1.0);
/// assert_eq!(scaler.fit_transform(&[0.0, 5.0, 10.0], 1).unwrap(), vec![-1.0, 0.0, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    range: (f32, f32),
    data_min: Vec<f32>,
    data_max: Vec<f32>,
    scale: Vec<f32>,
}

impl Default for MinMaxScaler {
    fn default() -> Self {
        MinMaxScaler {
            range: (0.0, 1.0),
            data_min: Vec::new(),
            data_max: Vec::new(),
            scale: Vec::new(),
        }
    }
}

impl MinMaxScaler {
    /// An unfitted scaler onto `[0, 1]`.
    pub fn new() -> Self {
        MinMaxScaler::default()
    }

    /// The target range `[low, high]` (`low < high`, checked by `fit`).
    pub fn with_range(mut self, low: f32, high: f32) -> Self {
        self.range = (low, high);
        self
    }

    /// Learns each column's minimum and maximum from `data` (`rows × cols`, row-major; at
    /// least one row; finite values).
    pub fn fit(&mut self, data: &[f32], cols: usize) -> Result<()> {
        let (low, high) = self.range;
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(DataError::invalid(
                "MinMaxScaler::fit",
                "a finite target range with low < high",
                format!("({low}, {high})"),
            ));
        }
        let stats = ColumnStats::of("MinMaxScaler::fit", data, cols)?;
        let width = f64::from(high) - f64::from(low);
        self.scale = (0..cols)
            .map(|c| {
                let span = stats.max[c] - stats.min[c];
                (width / if span == 0.0 { 1.0 } else { span }) as f32
            })
            .collect();
        self.data_min = stats.min.iter().map(|&m| m as f32).collect();
        self.data_max = stats.max.iter().map(|&m| m as f32).collect();
        Ok(())
    }

    /// `(x − min) · scale + low` for every value, as a new array.
    pub fn transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        let mut out = data.to_vec();
        self.transform_in_place(&mut out, cols)?;
        Ok(out)
    }

    /// [`MinMaxScaler::transform`] in place.
    pub fn transform_in_place(&self, data: &mut [f32], cols: usize) -> Result<()> {
        check_columns("MinMaxScaler::transform", data, cols, self.data_min.len())?;
        let low = self.range.0;
        map_columns(data, cols, |c, x| {
            (x - self.data_min[c]) * self.scale[c] + low
        });
        Ok(())
    }

    /// [`MinMaxScaler::fit`] then [`MinMaxScaler::transform`] of the same data.
    pub fn fit_transform(&mut self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        self.fit(data, cols)?;
        self.transform(data, cols)
    }

    /// `(y − low) / scale + min`: back to the original units.
    pub fn inverse_transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        check_columns(
            "MinMaxScaler::inverse_transform",
            data,
            cols,
            self.data_min.len(),
        )?;
        let low = self.range.0;
        let mut out = data.to_vec();
        map_columns(&mut out, cols, |c, y| {
            (y - low) / self.scale[c] + self.data_min[c]
        });
        Ok(out)
    }

    /// Whether [`MinMaxScaler::fit`] has run.
    pub fn is_fitted(&self) -> bool {
        !self.data_min.is_empty()
    }

    /// The target range.
    pub fn range(&self) -> (f32, f32) {
        self.range
    }

    /// The fitted column minima (empty before fitting).
    pub fn data_min(&self) -> &[f32] {
        &self.data_min
    }

    /// The fitted column maxima (empty before fitting).
    pub fn data_max(&self) -> &[f32] {
        &self.data_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column 0 spans [0, 10]; column 1 is constant 7.
    fn data() -> Vec<f32> {
        vec![0.0, 7.0, 5.0, 7.0, 10.0, 7.0, 2.5, 7.0]
    }

    #[test]
    fn maps_each_column_onto_the_unit_interval() {
        let mut s = MinMaxScaler::new();
        let y = s.fit_transform(&data(), 2).unwrap();
        assert_eq!(y, vec![0.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.25, 0.0]);
        assert_eq!(
            (s.data_min(), s.data_max()),
            (&[0.0, 7.0][..], &[10.0, 7.0][..])
        );
    }

    #[test]
    fn maps_onto_a_custom_range_and_a_constant_column_onto_its_low_end() {
        let mut s = MinMaxScaler::new().with_range(-1.0, 1.0);
        let y = s.fit_transform(&data(), 2).unwrap();
        assert_eq!(y, vec![-1.0, -1.0, 0.0, -1.0, 1.0, -1.0, -0.5, -1.0]);
    }

    #[test]
    fn transforms_new_data_with_the_fitted_range() {
        let mut s = MinMaxScaler::new();
        s.fit(&data(), 2).unwrap();
        assert_eq!(s.transform(&[20.0, 8.0], 2).unwrap(), vec![2.0, 1.0]);
    }

    #[test]
    fn inverse_transform_restores_the_data() {
        let mut s = MinMaxScaler::new().with_range(-1.0, 1.0);
        let y = s.fit_transform(&data(), 2).unwrap();
        assert_eq!(s.inverse_transform(&y, 2).unwrap(), data());
    }

    #[test]
    fn unfitted_wrong_columns_and_empty_range_are_errors() {
        assert!(matches!(
            MinMaxScaler::new().transform(&[1.0], 1),
            Err(DataError::NotFitted { .. })
        ));
        let mut s = MinMaxScaler::new();
        s.fit(&data(), 2).unwrap();
        assert!(s.transform(&[1.0, 2.0, 3.0], 3).is_err());
        assert!(
            MinMaxScaler::new()
                .with_range(1.0, 1.0)
                .fit(&data(), 2)
                .is_err()
        );
        assert!(MinMaxScaler::new().fit(&[], 2).is_err());
    }

    #[test]
    fn round_trips_through_json() {
        let mut s = MinMaxScaler::new().with_range(-2.0, 3.0);
        s.fit(&data(), 2).unwrap();
        let back: MinMaxScaler = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
