//! Vectorization support: runtime AVX2 dispatch and the output-writing loops it relies on.
//!
//! The crate builds for the default x86-64 target (SSE2), where LLVM vectorizes 4 floats at a
//! time. [`multiversion!`] compiles a kernel twice, once as is and once with AVX2 enabled (8
//! floats at a time), and picks the AVX2 copy at run time when the CPU has it. Neither copy uses
//! FMA, and LLVM never reassociates float math, so both copies give bit-identical results.
//!
//! For the AVX2 copy to be vectorized, its loops must be compiled inside it: every helper a
//! kernel calls is `#[inline(always)]`, closures are written in the kernel's body (closures
//! inherit its target features), and outputs are written by explicit loops ([`map`],
//! [`zip_map`]) rather than `collect`, whose loop lives in a separately compiled std function.

use std::mem::MaybeUninit;

/// Defines `fn $name` running `$body` compiled with AVX2 when the CPU supports it, and `fn
/// $baseline` running the same body compiled for the default target (what `$name` falls back
/// to, and what tests compare against).
macro_rules! multiversion {
    (
        $(#[$attr:meta])*
        fn $name:ident / $baseline:ident ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        /// The baseline (SSE2) build of the kernel of the same name without the suffix.
        #[inline(always)]
        fn $baseline($($arg: $ty),*) $(-> $ret)? $body

        $(#[$attr])*
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? $body
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked on the line above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $baseline($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Writes `f(value)` for every element of `x` into a new vector.
#[inline(always)]
pub(crate) fn map(x: &[f32], f: impl Fn(f32) -> f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for (o, &v) in out.spare_capacity_mut().iter_mut().zip(x) {
        o.write(f(v));
    }
    // SAFETY: the capacity is at least `x.len()`, so the loop wrote all of the first
    // `x.len()` elements.
    unsafe { out.set_len(x.len()) };
    out
}

/// Writes `f(x[i])` into `out[i]` for every element; `x` and `out` have the same length.
#[inline(always)]
pub(crate) fn map_into(x: &[f32], out: &mut [MaybeUninit<f32>], f: impl Fn(f32) -> f32) {
    assert_eq!(
        x.len(),
        out.len(),
        "map_into: input and output lengths differ"
    );
    for (o, &v) in out.iter_mut().zip(x) {
        o.write(f(v));
    }
}

/// Writes `f(a[i], b[i])` into `out[i]` for every element; all three have the same length.
#[inline(always)]
pub(crate) fn zip_map_into(
    a: &[f32],
    b: &[f32],
    out: &mut [MaybeUninit<f32>],
    f: impl Fn(f32, f32) -> f32,
) {
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "zip_map_into: input and output lengths differ"
    );
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        o.write(f(x, y));
    }
}

/// Writes `f(a, b)` for every pair of elements into a new vector (as long as the shorter).
#[inline(always)]
pub(crate) fn zip_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> Vec<f32> {
    let n = a.len().min(b.len());
    let mut out = Vec::with_capacity(n);
    let spare: &mut [MaybeUninit<f32>] = &mut out.spare_capacity_mut()[..n];
    for ((o, &x), &y) in spare.iter_mut().zip(&a[..n]).zip(&b[..n]) {
        o.write(f(x, y));
    }
    // SAFETY: the loop wrote each of the first `n` elements (all three slices have length n).
    unsafe { out.set_len(n) };
    out
}

/// Writes `f(s, v)` (when `SCALAR_LEFT`) or `f(v, s)` for every element `v` of `x` into a new
/// vector. `f` is called directly in the loop so that it inlines into a kernel's AVX2 build.
#[inline(always)]
pub(crate) fn map_scalar<const SCALAR_LEFT: bool>(
    x: &[f32],
    s: f32,
    f: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for (o, &v) in out.spare_capacity_mut().iter_mut().zip(x) {
        o.write(if SCALAR_LEFT { f(s, v) } else { f(v, s) });
    }
    // SAFETY: the capacity is at least `x.len()`, so the loop wrote all of the first
    // `x.len()` elements.
    unsafe { out.set_len(x.len()) };
    out
}

/// Writes `f(row[j], full[i, j])` (when `ROW_LEFT`) or `f(full[i, j], row[j])` for `full`
/// viewed as rows of `row.len()`; a trailing partial row is dropped, and an empty `row` gives
/// an empty vector.
#[inline(always)]
pub(crate) fn map_rows<const ROW_LEFT: bool>(
    full: &[f32],
    row: &[f32],
    f: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    let c = row.len();
    if c == 0 {
        return Vec::new();
    }
    let n = full.len() - full.len() % c;
    let mut out = Vec::with_capacity(n);
    let spare: &mut [MaybeUninit<f32>] = &mut out.spare_capacity_mut()[..n];
    for (o_row, x_row) in spare.chunks_exact_mut(c).zip(full.chunks_exact(c)) {
        for ((o, &a), &b) in o_row.iter_mut().zip(x_row).zip(row) {
            o.write(if ROW_LEFT { f(b, a) } else { f(a, b) });
        }
    }
    // SAFETY: `n` is a whole number of rows of `c` elements, and each output row was written
    // in full (`o_row`, `x_row` and `row` all have `c` elements).
    unsafe { out.set_len(n) };
    out
}

/// Writes `f(a, b, c)` for every triple of elements into a new vector (as long as the
/// shortest input).
#[inline(always)]
pub(crate) fn zip3_map(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    f: impl Fn(f32, f32, f32) -> f32,
) -> Vec<f32> {
    let n = a.len().min(b.len()).min(c.len());
    let mut out = Vec::with_capacity(n);
    let spare: &mut [MaybeUninit<f32>] = &mut out.spare_capacity_mut()[..n];
    for (((o, &x), &y), &z) in spare.iter_mut().zip(&a[..n]).zip(&b[..n]).zip(&c[..n]) {
        o.write(f(x, y, z));
    }
    // SAFETY: the loop wrote each of the first `n` elements (all four slices have length n).
    unsafe { out.set_len(n) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    multiversion! {
        /// Doubles every element (a probe for the macro).
        fn double / double_baseline(x: &[f32]) -> Vec<f32> {
            map(x, |v| 2.0 * v)
        }
    }

    #[test]
    fn both_builds_of_a_kernel_agree() {
        let x: Vec<f32> = (0..37).map(|i| i as f32).collect();
        assert_eq!(double(&x), double_baseline(&x));
        assert_eq!(double(&x)[36], 72.0);
    }

    #[test]
    fn zip_map_stops_at_the_shorter_input() {
        assert_eq!(
            zip_map(&[1.0, 2.0, 3.0], &[10.0, 20.0], |a, b| a + b),
            vec![11.0, 22.0]
        );
        assert!(map(&[], |v| v).is_empty());
    }
}
