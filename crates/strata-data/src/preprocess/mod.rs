//! Fit/transform preprocessing of tabular data (as scikit-learn does it): a step learns its
//! parameters from training rows with `fit`, then applies them to any rows with `transform`
//! and undoes them with `inverse_transform`. Fitted steps serialize with serde so they can ship
//! with a model.
//!
//! Data is a row-major `&[f32]` of `rows × cols` values with `cols` given alongside. Statistics
//! are accumulated in `f64`. This module owns the scalers; it never touches tensors.

mod clip;
mod encode;
mod imputer;
mod minmax;
mod quantile;
mod robust;
mod standard;

pub use clip::{ClipMethod, OutlierClipper};
pub use encode::{OneHotEncoder, OrdinalEncoder, Unknown};
pub use imputer::{CategoricalImputer, CategoricalStrategy, ImputeStrategy, SimpleImputer};
pub use minmax::MinMaxScaler;
pub use robust::RobustScaler;
pub use standard::StandardScaler;

use crate::error::{DataError, Result};

/// Checks that `data` is whole rows of `cols` columns and returns the row count.
fn rows(context: &'static str, data: &[f32], cols: usize) -> Result<usize> {
    if cols == 0 || !data.len().is_multiple_of(cols) {
        return Err(DataError::invalid(
            context,
            format!("whole rows of {cols} column(s) (and at least one column)"),
            format!("{} values", data.len()),
        ));
    }
    Ok(data.len() / cols)
}

/// Checks that `data` has the `fitted` column count a transform was fitted with.
fn check_columns(context: &'static str, data: &[f32], cols: usize, fitted: usize) -> Result<()> {
    if fitted == 0 {
        return Err(DataError::NotFitted { what: context });
    }
    if cols != fitted {
        return Err(DataError::invalid(
            context,
            format!("{fitted} column(s), as at fit time"),
            format!("{cols} column(s)"),
        ));
    }
    rows(context, data, cols).map(|_| ())
}

/// Per-column minimum, maximum, mean and population variance of training data, in `f64`.
/// Rows must exist and every value be finite.
struct ColumnStats {
    min: Vec<f64>,
    max: Vec<f64>,
    mean: Vec<f64>,
    variance: Vec<f64>,
}

impl ColumnStats {
    fn of(context: &'static str, data: &[f32], cols: usize) -> Result<ColumnStats> {
        let n = rows(context, data, cols)?;
        if n == 0 {
            return Err(DataError::invalid(
                context,
                "at least one row to fit",
                "no rows",
            ));
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(DataError::invalid(
                context,
                "finite values (impute missing values before scaling)",
                format!("{} at row {}, column {}", data[i], i / cols, i % cols),
            ));
        }
        let mut min = vec![f64::INFINITY; cols];
        let mut max = vec![f64::NEG_INFINITY; cols];
        let mut sum = vec![0.0f64; cols];
        for row in data.chunks_exact(cols) {
            for (c, &v) in row.iter().enumerate() {
                let v = f64::from(v);
                min[c] = min[c].min(v);
                max[c] = max[c].max(v);
                sum[c] += v;
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
        let mut variance = vec![0.0f64; cols];
        for row in data.chunks_exact(cols) {
            for (c, &v) in row.iter().enumerate() {
                variance[c] += (f64::from(v) - mean[c]).powi(2);
            }
        }
        variance.iter_mut().for_each(|v| *v /= n as f64);
        Ok(ColumnStats {
            min,
            max,
            mean,
            variance,
        })
    }
}

/// Applies `f(column, value)` to every value of `data`, in place.
/// `(x − center[c]) / scale[c]` in place, after checking the column count: the map of the
/// standard and robust scalers.
fn center_and_scale(
    context: &'static str,
    data: &mut [f32],
    cols: usize,
    center: &[f32],
    scale: &[f32],
) -> Result<()> {
    check_columns(context, data, cols, center.len())?;
    map_columns(data, cols, |c, x| (x - center[c]) / scale[c]);
    Ok(())
}

/// `y · scale[c] + center[c]` as a new array: the inverse of [`center_and_scale`].
fn uncenter_and_unscale(
    context: &'static str,
    data: &[f32],
    cols: usize,
    center: &[f32],
    scale: &[f32],
) -> Result<Vec<f32>> {
    check_columns(context, data, cols, center.len())?;
    let mut out = data.to_vec();
    map_columns(&mut out, cols, |c, y| y * scale[c] + center[c]);
    Ok(out)
}

fn map_columns(data: &mut [f32], cols: usize, f: impl Fn(usize, f32) -> f32) {
    for row in data.chunks_exact_mut(cols) {
        for (c, v) in row.iter_mut().enumerate() {
            *v = f(c, *v);
        }
    }
}
