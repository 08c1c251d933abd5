//! Scalar math written for auto-vectorization: no calls into libm and no data-dependent
//! branches (only selects), so a loop that uses these functions compiles to SIMD code.
//!
//! Also the lane-wise reductions (`sum`, `max`, `dot`): a plain `iter().sum()` over `f32` is a
//! serial chain LLVM may not reorder; sixteen independent accumulators let it vectorize.

use std::f32::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI, LOG2_E};

/// Independent accumulators in the lane-wise reductions (enough for AVX-512 and to hide FP
/// add latency on narrower vectors).
const LANES: usize = 16;

/// `e^x`, within about 2 ulp of the exact result; 0 below `ln(f32::MIN_POSITIVE)` (no
/// subnormal results), `inf` above `ln(f32::MAX)`, NaN for NaN.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const HI: f32 = 88.722_83;
    const LO: f32 = -87.336_55;
    // Adding 1.5·2^23 rounds to an integer, which then sits in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    // ln 2 split in two so that `n · LN2_HI` is exact (Cody-Waite reduction).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let xc = x.clamp(LO, HI);
    let t = xc * LOG2_E + MAGIC;
    let n = t - MAGIC;
    let r = xc - n * LN2_HI - n * LN2_LO;
    // Cephes' minimax polynomial for e^r on |r| <= ln2 / 2.
    let p = (((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2)
        * r
        + 1.666_666_5e-1)
        * r
        + 0.5)
        * (r * r)
        + r
        + 1.0;
    // 2^n as two factors 2^h · 2^(n-h), each a normal float for every n in [-126, 128].
    let ni = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let h = ni >> 1;
    let s1 = f32::from_bits((h.wrapping_add(127) << 23) as u32);
    let s2 = f32::from_bits((ni.wrapping_sub(h).wrapping_add(127) << 23) as u32);
    let y = p * s1 * s2;
    if x > HI {
        f32::INFINITY
    } else if x < LO {
        0.0
    } else {
        y
    }
}

/// `(erf a, erfc a)` for `a >= 0`, each with absolute error below about 2e-7; `erfc` keeps
/// its relative accuracy for large `a`, where `1 − erf` would cancel.
#[inline(always)]
fn erf_erfc_nonneg(a: f32) -> (f32, f32) {
    let z = a * a;
    // Maclaurin series up to a^13, truncation error below 1e-9 for a < 0.5.
    let series = a
        * FRAC_2_SQRT_PI
        * (1.0
            + z * (-1.0 / 3.0
                + z * (1.0 / 10.0
                    + z * (-1.0 / 42.0
                        + z * (1.0 / 216.0 + z * (-1.0 / 1320.0 + z * (1.0 / 9360.0)))))));
    // Numerical Recipes' `erfcc` Chebyshev fit: fractional error below 1.2e-7 for a >= 0.
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -1.265_512_2
        + t * (1.000_023_7
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_204
                                + t * (1.488_515_9 + t * (-0.822_152_2 + t * 0.170_872_77))))))));
    let erfc = t * exp(poly - z);
    if a < 0.5 {
        (series, 1.0 - series)
    } else {
        (1.0 - erfc, erfc)
    }
}

/// The error function (GELU uses `normal_cdf`, which shares its kernel; this form is tested).
#[cfg(test)]
pub(crate) fn erf(x: f32) -> f32 {
    erf_erfc_nonneg(x.abs()).0.copysign(x)
}

/// `Φ(x)`, the standard normal CDF, accurate in relative terms in the lower tail too.
#[inline(always)]
pub(crate) fn normal_cdf(x: f32) -> f32 {
    let (erf_a, erfc_a) = erf_erfc_nonneg(x.abs() * FRAC_1_SQRT_2);
    if x >= 0.0 {
        0.5 + 0.5 * erf_a
    } else {
        0.5 * erfc_a
    }
}

/// `φ(x)`, the standard normal density.
#[inline(always)]
pub(crate) fn normal_pdf(x: f32) -> f32 {
    // 1 / √(2π)
    const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
    FRAC_1_SQRT_2PI * exp(-0.5 * x * x)
}

/// `tanh x`, within about 4 ulp: Eigen's 13/6 rational minimax fit on `|x| <= 7.9`, and ±1
/// beyond 9, where `tanh` rounds to ±1 in `f32`.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    let c = x.clamp(-CLAMP, CLAMP);
    let z = c * c;
    let p = ((((((-2.760_768_5e-16 * z + 2.000_188e-13) * z - 8.604_672e-11) * z + 5.122_297e-8)
        * z
        + 1.485_722_4e-5)
        * z
        + 6.372_619_3e-4)
        * z
        + 4.893_524_6e-3)
        * c;
    let q = ((1.198_258_4e-6 * z + 1.185_347_1e-4) * z + 2.268_434_6e-3) * z + 4.893_525e-3;
    if x.abs() >= 9.0 {
        1.0f32.copysign(x)
    } else {
        p / q
    }
}

/// `1 / (1 + e^−x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// Folds `map(x)` with `f` over sixteen independent lanes, then across the lanes.
#[inline(always)]
fn fold_lanes(x: &[f32], init: f32, map: impl Fn(f32) -> f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut acc = [init; LANES];
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = f(*a, map(v));
        }
    }
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] = f(acc[i], acc[i + width]);
        }
        width /= 2;
    }
    rest.iter().fold(acc[0], |a, &v| f(a, map(v)))
}

/// `Σ x`.
#[inline(always)]
pub(crate) fn sum(x: &[f32]) -> f32 {
    fold_lanes(x, 0.0, |v| v, |a, v| a + v)
}

/// `Σ (x + c)`, adding `c` before summing (exact where `sum(x) + n·c` would round).
#[inline(always)]
pub(crate) fn sum_offset(x: &[f32], c: f32) -> f32 {
    fold_lanes(x, 0.0, |v| v + c, |a, v| a + v)
}

/// The largest element (`-inf` for an empty slice; NaN elements are skipped).
#[inline(always)]
pub(crate) fn max(x: &[f32]) -> f32 {
    fold_lanes(x, f32::NEG_INFINITY, |v| v, f32::max)
}

/// The smallest element (`inf` for an empty slice; NaN elements are skipped).
#[inline(always)]
pub(crate) fn min(x: &[f32]) -> f32 {
    fold_lanes(x, f32::INFINITY, |v| v, f32::min)
}

/// `Σ a·b` over two slices of the same length.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, ra) = a.as_chunks::<LANES>();
    let (cb, rb) = b.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.iter().zip(cb) {
        for ((s, &p), &q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    sum(&acc) + ra.iter().zip(rb).map(|(&p, &q)| p * q).sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_backend::ops::elementwise::erf_f64;

    fn grid(lo: f32, hi: f32, n: usize) -> impl Iterator<Item = f32> {
        (0..=n).map(move |i| lo + (hi - lo) * i as f32 / n as f32)
    }

    #[test]
    fn exp_is_within_three_ulp_of_f64_exp() {
        for x in grid(-87.0, 88.7, 200_000) {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            assert!(
                ((got - want) / want).abs() < 3.0 * f32::EPSILON as f64,
                "exp({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn exp_handles_extremes_and_nan() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e4), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(1e4), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(88.72).is_finite());
    }

    #[test]
    fn tanh_is_within_five_ulp_of_f64_tanh() {
        for x in grid(-12.0, 12.0, 400_001) {
            let want = (x as f64).tanh();
            let got = tanh(x) as f64;
            let tol = 5.0 * f32::EPSILON as f64 * want.abs().max(f32::MIN_POSITIVE as f64);
            assert!((got - want).abs() <= tol, "tanh({x}) = {got}, want {want}");
        }
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert!(tanh(f32::NAN).is_nan());
        assert!((tanh(1e-30) / 1e-30 - 1.0).abs() < 2.0 * f32::EPSILON);
    }

    #[test]
    fn erf_matches_reference_to_2e7() {
        assert_eq!(erf(0.0), 0.0);
        for x in grid(-6.0, 6.0, 100_000) {
            let want = erf_f64(x as f64);
            let got = erf(x) as f64;
            assert!((got - want).abs() < 2e-7, "erf({x}) = {got}, want {want}");
        }
        assert_eq!(erf(f32::INFINITY), 1.0);
        assert_eq!(erf(f32::NEG_INFINITY), -1.0);
        assert!(erf(f32::NAN).is_nan());
    }

    #[test]
    fn normal_cdf_keeps_relative_accuracy_in_the_lower_tail() {
        for x in grid(-9.0, 0.0, 10_000) {
            let want = 0.5 * (1.0 - erf_f64(-(x as f64) / std::f64::consts::SQRT_2));
            let got = normal_cdf(x) as f64;
            // The reference computes 1 − erf and so cancels in f64 far out; stop at 1e-8.
            if want > 1e-8 {
                assert!(
                    ((got - want) / want).abs() < 1e-5,
                    "cdf({x}) = {got}, want {want}"
                );
            }
        }
    }

    #[test]
    fn lane_reductions_match_serial_folds() {
        let x: Vec<f32> = (0..37).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        assert_eq!(sum(&x), x.iter().sum::<f32>());
        assert_eq!(max(&x), 5.0);
        assert_eq!(min(&x), -5.0);
        assert_eq!(dot(&x, &x), x.iter().map(|v| v * v).sum::<f32>());
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(sum(&[]), 0.0);
        assert_eq!(sum_offset(&x, -1.0), x.iter().map(|v| v - 1.0).sum::<f32>());
    }
}
