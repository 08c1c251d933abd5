//! Series and signals: filling gaps (forward fill, linear interpolation), denoising (median
//! filter, moving average) and cutting a series into supervised windows. Stateless functions
//! on one `&[f32]` series, `NaN` meaning missing.

use crate::error::{DataError, Result};

/// Each missing value takes the last present value before it; leading missing values take
/// the first present value (there is nothing before them). An all-missing series stays so.
///
/// ```
/// let nan = f32::NAN;
/// assert_eq!(strata_data::series::forward_fill(&[nan, 1.0, nan, nan, 4.0]), vec![1.0, 1.0, 1.0, 1.0, 4.0]);
/// ```
pub fn forward_fill(series: &[f32]) -> Vec<f32> {
    let mut last = series.iter().copied().find(|x| !x.is_nan());
    let mut out = Vec::with_capacity(series.len());
    for &x in series {
        if x.is_nan() {
            out.push(last.unwrap_or(f32::NAN));
        } else {
            last = Some(x);
            out.push(x);
        }
    }
    out
}

/// Each run of missing values filled on the straight line between the present values around
/// it; runs at either end take the nearest present value. An all-missing series stays so.
///
/// ```
/// let nan = f32::NAN;
/// assert_eq!(strata_data::series::interpolate_linear(&[nan, 1.0, nan, nan, 4.0, nan]),
///            vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
/// ```
pub fn interpolate_linear(series: &[f32]) -> Vec<f32> {
    let present: Vec<usize> = (0..series.len()).filter(|&i| !series[i].is_nan()).collect();
    let (Some(&first), Some(&last)) = (present.first(), present.last()) else {
        return series.to_vec();
    };
    let mut out = series.to_vec();
    out[..first].fill(series[first]);
    out[last + 1..].fill(series[last]);
    for pair in present.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ya, yb) = (f64::from(series[a]), f64::from(series[b]));
        for (i, v) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            let t = (i - a) as f64 / (b - a) as f64;
            *v = (ya + (yb - ya) * t) as f32;
        }
    }
    out
}

fn check_width(context: &'static str, width: usize) -> Result<usize> {
    if width == 0 || width.is_multiple_of(2) {
        return Err(DataError::invalid(
            context,
            "an odd window width >= 1",
            width.to_string(),
        ));
    }
    Ok(width / 2)
}

/// The median of the `width` values centred on each point (odd `width`); the window is cut
/// at the ends (as `scipy.signal.medfilt` but without zero padding). Removes impulse noise
/// while keeping edges.
///
/// ```
/// let y = strata_data::series::median_filter(&[1.0, 9.0, 2.0, 3.0, 2.0], 3).unwrap();
/// assert_eq!(y, vec![5.0, 2.0, 3.0, 2.0, 2.5]);
/// ```
pub fn median_filter(series: &[f32], width: usize) -> Result<Vec<f32>> {
    let half = check_width("median_filter", width)?;
    let mut window = Vec::with_capacity(width);
    Ok((0..series.len())
        .map(|i| {
            window.clear();
            window.extend_from_slice(
                &series[i.saturating_sub(half)..(i + half + 1).min(series.len())],
            );
            window.sort_by(f32::total_cmp);
            let n = window.len();
            if n % 2 == 1 {
                window[n / 2]
            } else {
                (window[n / 2 - 1] + window[n / 2]) / 2.0
            }
        })
        .collect())
}

/// The mean of the `width` values centred on each point (odd `width`); the window is cut at
/// the ends, so the output has the input's length.
///
/// ```
/// let y = strata_data::series::moving_average(&[0.0, 3.0, 6.0, 3.0], 3).unwrap();
/// assert_eq!(y, vec![1.5, 3.0, 4.0, 4.5]);
/// ```
pub fn moving_average(series: &[f32], width: usize) -> Result<Vec<f32>> {
    let half = check_width("moving_average", width)?;
    Ok((0..series.len())
        .map(|i| {
            let w = &series[i.saturating_sub(half)..(i + half + 1).min(series.len())];
            (w.iter().map(|&x| f64::from(x)).sum::<f64>() / w.len() as f64) as f32
        })
        .collect())
}

/// Supervised windows of a series: inputs and targets, row after row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Windows {
    /// `count × input_len` values.
    pub inputs: Vec<f32>,
    /// `count × horizon` values: the values right after each input window.
    pub targets: Vec<f32>,
    /// Number of windows.
    pub count: usize,
}

/// Cuts `series` into windows of `input_len` values, each followed by the `horizon` values
/// to predict, starting every `stride` values. A series too short for one window gives none.
///
/// ```
/// let w = strata_data::series::windows(&[1.0, 2.0, 3.0, 4.0, 5.0], 2, 1, 2).unwrap();
/// assert_eq!((w.inputs, w.targets, w.count), (vec![1.0, 2.0, 3.0, 4.0], vec![3.0, 5.0], 2));
/// ```
pub fn windows(series: &[f32], input_len: usize, horizon: usize, stride: usize) -> Result<Windows> {
    if input_len == 0 || horizon == 0 || stride == 0 {
        return Err(DataError::invalid(
            "windows",
            "input length, horizon and stride all >= 1",
            format!("input length {input_len}, horizon {horizon}, stride {stride}"),
        ));
    }
    let span = input_len + horizon;
    let mut out = Windows::default();
    let mut start = 0;
    while start + span <= series.len() {
        out.inputs
            .extend_from_slice(&series[start..start + input_len]);
        out.targets
            .extend_from_slice(&series[start + input_len..start + span]);
        out.count += 1;
        start += stride;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f32 = f32::NAN;

    #[test]
    fn fills_keep_present_values_and_all_missing_series() {
        assert_eq!(forward_fill(&[1.0, NAN, 3.0]), vec![1.0, 1.0, 3.0]);
        assert!(forward_fill(&[NAN, NAN]).iter().all(|x| x.is_nan()));
        assert!(interpolate_linear(&[NAN]).iter().all(|x| x.is_nan()));
        assert!(forward_fill(&[]).is_empty());
        assert_eq!(
            interpolate_linear(&[0.0, NAN, NAN, NAN, 8.0]),
            vec![0.0, 2.0, 4.0, 6.0, 8.0]
        );
    }

    #[test]
    fn median_filter_removes_a_spike_and_keeps_a_step() {
        let y = median_filter(&[0.0, 0.0, 50.0, 0.0, 0.0, 1.0, 1.0, 1.0], 3).unwrap();
        assert_eq!(y, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        assert_eq!(median_filter(&[4.0], 5).unwrap(), vec![4.0]);
    }

    #[test]
    fn filters_reject_even_or_zero_widths() {
        assert!(median_filter(&[1.0], 2).is_err());
        assert!(moving_average(&[1.0], 0).is_err());
        assert_eq!(moving_average(&[2.0, 4.0], 1).unwrap(), vec![2.0, 4.0]);
    }

    #[test]
    fn windows_with_horizon_and_stride() {
        let s: Vec<f32> = (0..7).map(|i| i as f32).collect();
        let w = windows(&s, 3, 2, 1).unwrap();
        assert_eq!(w.count, 3);
        assert_eq!(w.inputs, vec![0.0, 1.0, 2.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
        assert_eq!(w.targets, vec![3.0, 4.0, 4.0, 5.0, 5.0, 6.0]);
        assert_eq!(windows(&s, 7, 1, 1).unwrap().count, 0);
        assert!(windows(&s, 0, 1, 1).is_err());
    }
}
