//! Argument validation shared by the op families: element counts that cannot overflow, and
//! integer indices (class labels, row indices) carried in `f32` buffers.

use strata_backend::{BackendError, Result};

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

/// Reads `value`, found at `at` number `pos`, as an integer index in `0..bound`; the error
/// names all of them ("label 12 at row 3 is outside 0..10").
pub(crate) fn index(
    op: &'static str,
    what: &str,
    at: &str,
    pos: usize,
    value: f32,
    bound: usize,
) -> Result<usize> {
    // Every integer below 2^24 is exact in f32, so a whole, in-range value converts exactly.
    if value >= 0.0 && value < bound as f32 && value.fract() == 0.0 {
        let i = value as usize;
        if i < bound {
            return Ok(i);
        }
    }
    let reason = if value.is_finite() && value.fract() == 0.0 {
        format!("is outside 0..{bound}")
    } else {
        format!("is not an integer in 0..{bound}")
    };
    Err(invalid(
        op,
        format!("{what} {value} at {at} {pos} {reason}"),
    ))
}

/// Checks that a `usize` dimension fits the `c_int` BLAS takes.
pub(crate) fn blas_dim(op: &'static str, name: &str, d: usize) -> Result<std::ffi::c_int> {
    std::ffi::c_int::try_from(d).map_err(|_| {
        invalid(
            op,
            format!("{name} = {d} is larger than BLAS supports ({})", i32::MAX),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_accepts_whole_values_in_range() {
        assert_eq!(index("t", "label", "row", 0, 3.0, 10), Ok(3));
        assert_eq!(index("t", "label", "row", 0, 0.0, 1), Ok(0));
    }

    #[test]
    fn index_names_value_row_and_range() {
        let err = index("softmax_cross_entropy", "label", "row", 3, 12.0, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "softmax_cross_entropy: label 12 at row 3 is outside 0..10"
        );
        let err = index("t", "index", "position", 1, 2.5, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t: index 2.5 at position 1 is not an integer in 0..10"
        );
        assert!(index("t", "index", "position", 0, -1.0, 10).is_err());
        assert!(index("t", "index", "position", 0, f32::NAN, 10).is_err());
    }

    #[test]
    fn elem_count_reports_overflow() {
        assert_eq!(elem_count("t", &[2, 3, 4]), Ok(24));
        assert_eq!(elem_count("t", &[]), Ok(1));
        assert!(elem_count("t", &[usize::MAX, 2]).is_err());
    }
}
