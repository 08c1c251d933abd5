//! Column statistics that skip missing values (`NaN`): present values, median, quantiles and
//! the most frequent value, shared by the imputers, the robust scaler and the clipper.

/// The present (non-NaN) values of column `c` of a `cols`-wide row-major array, sorted.
pub(super) fn sorted_present(data: &[f32], cols: usize, c: usize) -> Vec<f64> {
    let mut v: Vec<f64> = data
        .iter()
        .skip(c)
        .step_by(cols)
        .filter(|x| !x.is_nan())
        .map(|&x| f64::from(x))
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The `q`-quantile (0..=1) of sorted, non-empty `v` with linear interpolation between
/// order statistics (numpy's default, `method="linear"`).
pub(super) fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The most frequent value of sorted, non-empty `v`; ties go to the smallest (as
/// scikit-learn's `SimpleImputer`).
pub(super) fn mode(v: &[f64]) -> f64 {
    let (mut best, mut best_count) = (v[0], 0usize);
    let mut i = 0;
    while i < v.len() {
        let j = v[i..]
            .iter()
            .position(|&x| x != v[i])
            .map_or(v.len(), |k| i + k);
        if j - i > best_count {
            best = v[i];
            best_count = j - i;
        }
        i = j;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn mode_breaks_ties_to_the_smallest() {
        assert_eq!(mode(&[1.0, 2.0, 2.0, 3.0, 3.0]), 2.0);
        assert_eq!(mode(&[5.0]), 5.0);
    }

    #[test]
    fn sorted_present_skips_nan() {
        assert_eq!(
            sorted_present(&[3.0, 0.0, f32::NAN, 0.0, 1.0, 0.0], 2, 0),
            vec![1.0, 3.0]
        );
    }
}
