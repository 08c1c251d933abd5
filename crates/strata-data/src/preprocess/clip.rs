//! `OutlierClipper`: winsorizing, each column clamped to bounds learnt from training data.

use serde::{Deserialize, Serialize};

use super::quantile::{quantile, sorted_present};
use super::{check_columns, map_columns, rows};
use crate::error::{DataError, Result};

/// How [`OutlierClipper`] sets each column's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ClipMethod {
    /// Between the `low` and `high` percentiles (0-100) of the training values.
    Percentile {
        /// Lower percentile.
        low: f32,
        /// Upper percentile.
        high: f32,
    },
    /// Within `k` population standard deviations of the training mean.
    ZScore(f32),
}

/// Clamps every value of a column into `[lower, upper]` learnt at fit time; missing values
/// (NaN) are ignored when fitting and left missing.
///
/// ```
/// use strata_data::preprocess::{ClipMethod, OutlierClipper};
/// let mut c = OutlierClipper::new(ClipMethod::Percentile { low: 0.0, high: 75.0 });
/// assert_eq!(c.fit_transform(&[1.0, 2.0, 3.0, 100.0, 5.0], 1).unwrap(), vec![1.0, 2.0, 3.0, 5.0, 5.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlierClipper {
    method: ClipMethod,
    lower: Vec<f32>,
    upper: Vec<f32>,
}

impl OutlierClipper {
    /// An unfitted clipper.
    pub fn new(method: ClipMethod) -> Self {
        OutlierClipper {
            method,
            lower: Vec::new(),
            upper: Vec::new(),
        }
    }

    /// Learns each column's bounds. A column with no present value gets no bounds
    /// (`-inf, inf`).
    pub fn fit(&mut self, data: &[f32], cols: usize) -> Result<()> {
        rows("OutlierClipper::fit", data, cols)?;
        match self.method {
            ClipMethod::Percentile { low, high }
                if !(0.0..=100.0).contains(&low)
                    || !(0.0..=100.0).contains(&high)
                    || low > high =>
            {
                return Err(DataError::invalid(
                    "OutlierClipper::fit",
                    "percentiles with 0 <= low <= high <= 100",
                    format!("low {low}, high {high}"),
                ));
            }
            ClipMethod::ZScore(k) if !(k > 0.0 && k.is_finite()) => {
                return Err(DataError::invalid(
                    "OutlierClipper::fit",
                    "a z-score bound k > 0",
                    k.to_string(),
                ));
            }
            _ => {}
        }
        let (mut lower, mut upper) = (Vec::with_capacity(cols), Vec::with_capacity(cols));
        for c in 0..cols {
            let v = sorted_present(data, cols, c);
            let (lo, hi) = if v.is_empty() {
                (f64::NEG_INFINITY, f64::INFINITY)
            } else {
                match self.method {
                    ClipMethod::Percentile { low, high } => (
                        quantile(&v, f64::from(low) / 100.0),
                        quantile(&v, f64::from(high) / 100.0),
                    ),
                    ClipMethod::ZScore(k) => {
                        let n = v.len() as f64;
                        let mean = v.iter().sum::<f64>() / n;
                        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
                        (mean - f64::from(k) * std, mean + f64::from(k) * std)
                    }
                }
            };
            lower.push(lo as f32);
            upper.push(hi as f32);
        }
        self.lower = lower;
        self.upper = upper;
        Ok(())
    }

    /// `data` with each value clamped to its column's bounds (NaN stays NaN).
    pub fn transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        let mut out = data.to_vec();
        self.transform_in_place(&mut out, cols)?;
        Ok(out)
    }

    /// [`OutlierClipper::transform`] in place.
    pub fn transform_in_place(&self, data: &mut [f32], cols: usize) -> Result<()> {
        check_columns("OutlierClipper::transform", data, cols, self.lower.len())?;
        map_columns(data, cols, |c, x| {
            if x.is_nan() {
                x
            } else {
                x.clamp(self.lower[c], self.upper[c])
            }
        });
        Ok(())
    }

    /// [`OutlierClipper::fit`] then [`OutlierClipper::transform`].
    pub fn fit_transform(&mut self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        self.fit(data, cols)?;
        self.transform(data, cols)
    }

    /// The fitted `(lower, upper)` bounds of each column.
    pub fn bounds(&self) -> (&[f32], &[f32]) {
        (&self.lower, &self.upper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_bounds_interpolate_and_keep_missing() {
        let mut c = OutlierClipper::new(ClipMethod::Percentile {
            low: 25.0,
            high: 75.0,
        });
        let y = c
            .fit_transform(&[0.0, 10.0, 20.0, 30.0, 40.0, f32::NAN], 1)
            .unwrap();
        assert_eq!(c.bounds(), (&[10.0f32][..], &[30.0f32][..]));
        assert_eq!(&y[..5], &[10.0, 10.0, 20.0, 30.0, 30.0]);
        assert!(y[5].is_nan());
    }

    #[test]
    fn zscore_bounds_are_mean_plus_minus_k_std() {
        // Values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population std 2.
        let mut c = OutlierClipper::new(ClipMethod::ZScore(1.0));
        let y = c
            .fit_transform(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 1)
            .unwrap();
        assert_eq!(y, vec![3.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 7.0]);
    }

    #[test]
    fn all_missing_column_is_left_alone_and_bad_settings_are_errors() {
        let mut c = OutlierClipper::new(ClipMethod::ZScore(2.0));
        let y = c.fit_transform(&[f32::NAN, 1.0, f32::NAN, 2.0], 2).unwrap();
        assert!(y[0].is_nan() && y[2].is_nan());
        assert!(
            OutlierClipper::new(ClipMethod::ZScore(0.0))
                .fit(&[1.0], 1)
                .is_err()
        );
        assert!(
            OutlierClipper::new(ClipMethod::Percentile {
                low: 90.0,
                high: 10.0
            })
            .fit(&[1.0], 1)
            .is_err()
        );
    }
}
