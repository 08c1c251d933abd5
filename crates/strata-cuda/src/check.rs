//! Argument validation shared by the op families: element counts that cannot overflow, and
//! integer indices (class labels, row indices) carried in `f32` buffers, checked without
//! waiting for the GPU.
//!
//! Index checks: a buffer uploaded from the host carries an [`IndexSummary`] computed during the
//! upload (the first value that is not a non-negative whole number, and the largest value), so
//! checking its values against a bound is free and needs no device read. A buffer computed on
//! the device has no summary; checking it copies it to the host (a synchronization), which only
//! happens when indices are produced on the GPU, never for labels or token ids from a loader.

use std::ffi::c_int;

use strata_backend::{BackendError, Result};

use crate::{CudaBackend, CudaBuffer};

/// The number of elements of `shape`, or an error when the product overflows `usize`.
pub(crate) fn elem_count(op: &'static str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            invalid(
                op,
                format!("shape {shape:?} has more elements than fit in memory"),
            )
        })
}

/// Checks that `len` is the element count of `shape`.
pub(crate) fn check_shape(op: &'static str, shape: &[usize], len: usize) -> Result<()> {
    BackendError::check_len(op, elem_count(op, shape)?, len)
}

/// `rows · cols`, or an error when it overflows.
pub(crate) fn matrix_len(op: &'static str, rows: usize, cols: usize) -> Result<usize> {
    elem_count(op, &[rows, cols])
}

/// An `InvalidArgument` error for `op`.
pub(crate) fn invalid(op: &'static str, message: String) -> BackendError {
    BackendError::InvalidArgument { op, message }
}

/// Checks that a `usize` dimension fits the `c_int` cuBLAS and the kernels take.
pub(crate) fn int_dim(op: &'static str, name: &str, d: usize) -> Result<c_int> {
    c_int::try_from(d).map_err(|_| {
        invalid(
            op,
            format!(
                "{name} = {d} is larger than the CUDA backend supports ({})",
                c_int::MAX
            ),
        )
    })
}

/// What the host saw of a buffer's values when it uploaded them, enough to check them as
/// indices against any bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct IndexSummary {
    /// The first value that is not a whole number ≥ 0 (negative, fractional, NaN, infinite),
    /// with its position.
    first_bad: Option<(usize, f32)>,
    /// The largest value and its first position (`None` for an empty buffer).
    max: Option<(usize, f32)>,
}

impl IndexSummary {
    /// The summary of values known to be whole numbers in `0..bound` (written by a kernel that
    /// guarantees it), without reading them: it accepts exactly the bounds `≥ bound`.
    pub(crate) fn whole_below(bound: usize) -> Self {
        IndexSummary {
            first_bad: None,
            max: bound.checked_sub(1).map(|m| (0, m as f32)),
        }
    }

    /// Summarises `data` in one pass.
    pub(crate) fn of(data: &[f32]) -> Self {
        let mut first_bad = None;
        let mut max: Option<(usize, f32)> = None;
        for (i, &v) in data.iter().enumerate() {
            if first_bad.is_none() && !(v >= 0.0 && v.is_finite() && v.fract() == 0.0) {
                first_bad = Some((i, v));
            }
            if max.is_none_or(|(_, m)| v > m) {
                max = Some((i, v));
            }
        }
        IndexSummary { first_bad, max }
    }

    /// The first offending `(position, value)` against `0..bound`, if any.
    fn offender(&self, bound: usize) -> Option<(usize, f32)> {
        if let Some(bad) = self.first_bad {
            return Some(bad);
        }
        // Every value is a whole number ≥ 0; the largest decides. Integers below 2^24 are exact.
        self.max.filter(|&(_, m)| m >= bound as f32)
    }
}

/// The error for an index `value` found at `at` number `pos` ("label 12 at row 3 is outside
/// 0..10"), worded as the CPU backend words it.
fn index_error(
    op: &'static str,
    what: &str,
    at: &str,
    pos: usize,
    value: f32,
    bound: usize,
) -> BackendError {
    let reason = if value.is_finite() && value.fract() == 0.0 {
        format!("is outside 0..{bound}")
    } else {
        format!("is not an integer in 0..{bound}")
    };
    invalid(op, format!("{what} {value} at {at} {pos} {reason}"))
}

impl CudaBackend {
    /// Checks that every value of `buf` is a whole number in `0..bound` (see the module docs
    /// for when this reads the device).
    pub(crate) fn check_indices(
        &self,
        op: &'static str,
        what: &str,
        at: &str,
        buf: &CudaBuffer,
        bound: usize,
    ) -> Result<()> {
        let summary = match buf.summary() {
            Some(s) => s,
            None => IndexSummary::of(&strata_backend::BufferOps::to_host(self, buf)?),
        };
        match summary.offender(bound) {
            None => Ok(()),
            Some((pos, value)) => Err(index_error(op, what, at, pos, value, bound)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_below_accepts_exactly_the_bounds_it_promises() {
        let s = IndexSummary::whole_below(16);
        assert_eq!(s.offender(16), None);
        assert_eq!(s.offender(100), None);
        assert_eq!(s.offender(15), Some((0, 15.0)));
        assert_eq!(IndexSummary::whole_below(0).offender(0), None);
    }

    #[test]
    fn summary_accepts_whole_values_in_range() {
        let s = IndexSummary::of(&[0.0, 3.0, 9.0]);
        assert_eq!(s.offender(10), None);
        assert_eq!(s.offender(9), Some((2, 9.0)));
        assert_eq!(IndexSummary::of(&[]).offender(0), None);
    }

    #[test]
    fn summary_reports_negative_fractional_and_nan() {
        assert_eq!(IndexSummary::of(&[1.0, -1.0]).offender(5), Some((1, -1.0)));
        assert_eq!(IndexSummary::of(&[0.5, 1.0]).offender(5), Some((0, 0.5)));
        let nan = IndexSummary::of(&[1.0, f32::NAN]).offender(5);
        assert!(nan.is_some_and(|(p, v)| p == 1 && v.is_nan()));
        assert!(IndexSummary::of(&[f32::INFINITY]).offender(5).is_some());
    }

    #[test]
    fn messages_match_the_cpu_wording() {
        let e = index_error("op", "label", "row", 3, 12.0, 10);
        assert_eq!(e.to_string(), "op: label 12 at row 3 is outside 0..10");
        let e = index_error("op", "index", "position", 0, 0.5, 4);
        assert_eq!(
            e.to_string(),
            "op: index 0.5 at position 0 is not an integer in 0..4"
        );
    }

    #[test]
    fn int_dim_rejects_huge_dimensions() {
        assert_eq!(int_dim("op", "m", 7), Ok(7));
        assert!(int_dim("op", "m", usize::MAX).is_err());
    }
}
