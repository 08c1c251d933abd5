//! The reference backend: every op of the `Backend` trait written as a plain loop that
//! computes in `f64` and rounds to `f32` once, at the end.
//!
//! This module is the executable specification the suite compares every backend against.
//! It favours the obvious over the fast: N-d ops walk the output by flat index and unravel it
//! into an index vector. It owns the buffer type and the index helpers; each op family lives
//! in the file of the same name, as in `strata-backend`.

mod conv;
mod elementwise;
mod layout;
mod linalg;
mod norm;
mod optimizer;
mod pool;
mod random;
mod recurrent;
mod reduce;
mod softmax;

use strata_backend::{BackendError, BufferOps, Result};

/// The specification backend: plain loops in `f64` over host memory.
///
/// It validates every length and argument the trait's contract names, so the suite's
/// error properties hold for it too.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReferenceBackend;

impl ReferenceBackend {
    /// The reference backend (it has no state).
    pub fn new() -> Self {
        ReferenceBackend
    }
}

/// A reference buffer: `f32` elements in host memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefBuffer(pub Vec<f32>);

impl RefBuffer {
    /// The elements.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
    /// The elements, by value.
    pub fn into_vec(self) -> Vec<f32> {
        self.0
    }
}

impl From<Vec<f32>> for RefBuffer {
    fn from(data: Vec<f32>) -> Self {
        RefBuffer(data)
    }
}

impl BufferOps for ReferenceBackend {
    type Buffer = RefBuffer;

    fn name(&self) -> String {
        "reference".to_string()
    }

    fn from_host(&self, data: &[f32]) -> Result<RefBuffer> {
        Ok(RefBuffer(data.to_vec()))
    }

    fn full(&self, len: usize, value: f32) -> Result<RefBuffer> {
        Ok(RefBuffer(vec![value; len]))
    }

    fn to_host(&self, buf: &RefBuffer) -> Result<Vec<f32>> {
        Ok(buf.0.clone())
    }

    fn len(&self, buf: &RefBuffer) -> usize {
        buf.0.len()
    }

    fn copy(&self, buf: &RefBuffer) -> Result<RefBuffer> {
        Ok(buf.clone())
    }

    fn add_assign(&self, dst: &mut RefBuffer, src: &RefBuffer) -> Result<()> {
        BackendError::check_len("add_assign", dst.0.len(), src.0.len())?;
        for (d, &s) in dst.0.iter_mut().zip(&src.0) {
            *d = round(f64::from(*d) + f64::from(s));
        }
        Ok(())
    }
}

/// Rounds an `f64` result to the buffer's `f32` (the one rounding every op is allowed).
pub(crate) fn round(value: f64) -> f32 {
    value as f32
}

/// Number of elements of a tensor with dimensions `dims`.
pub(crate) fn elem_count(dims: &[usize]) -> usize {
    dims.iter().product()
}

/// The index vector of row-major flat position `flat` in a tensor with dimensions `dims`.
pub(crate) fn unravel(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for axis in (0..dims.len()).rev() {
        index[axis] = flat % dims[axis];
        flat /= dims[axis];
    }
    index
}

/// The row-major flat position of `index` in a tensor with dimensions `dims`.
pub(crate) fn ravel(index: &[usize], dims: &[usize]) -> usize {
    index
        .iter()
        .zip(dims)
        .fold(0, |flat, (&i, &d)| flat * d + i)
}

/// The flat position in a broadcast operand of dimensions `dims` (each equal to the output's
/// or 1) that output element `out_index` reads.
pub(crate) fn broadcast_source(out_index: &[usize], dims: &[usize]) -> usize {
    let index: Vec<usize> = out_index
        .iter()
        .zip(dims)
        .map(|(&i, &d)| if d == 1 { 0 } else { i })
        .collect();
    ravel(&index, dims)
}

/// Checks that an operand of dimensions `dims` broadcasts to `out` without changing rank.
pub(crate) fn check_broadcast(op: &'static str, dims: &[usize], out: &[usize]) -> Result<()> {
    let compatible =
        dims.len() == out.len() && dims.iter().zip(out).all(|(&d, &o)| d == o || d == 1);
    if compatible {
        Ok(())
    } else {
        Err(invalid(
            op,
            format!("shape {dims:?} does not broadcast to {out:?} at the same rank"),
        ))
    }
}

/// An `InvalidArgument` error.
pub(crate) fn invalid(op: &'static str, message: String) -> BackendError {
    BackendError::InvalidArgument { op, message }
}

/// Reads an integer stored as `f32` (a label or a row index) and checks it lies in `0..bound`.
pub(crate) fn index_below(op: &'static str, what: &str, value: f32, bound: usize) -> Result<usize> {
    let in_range = value >= 0.0 && value.fract() == 0.0 && f64::from(value) < bound as f64;
    if in_range {
        Ok(value as usize)
    } else {
        Err(invalid(
            op,
            format!("{what} {value} is not an integer in 0..{bound}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unravel_and_ravel_are_inverse() {
        let dims = [2, 3, 4];
        for flat in 0..24 {
            assert_eq!(ravel(&unravel(flat, &dims), &dims), flat);
        }
        assert_eq!(unravel(23, &dims), vec![1, 2, 3]);
    }

    #[test]
    fn broadcast_source_pins_size_one_axes() {
        assert_eq!(broadcast_source(&[1, 2], &[2, 1]), 1);
        assert_eq!(broadcast_source(&[1, 2], &[1, 3]), 2);
    }

    #[test]
    fn index_below_rejects_fractions_and_out_of_range() {
        assert_eq!(index_below("t", "label", 2.0, 3), Ok(2));
        assert!(index_below("t", "label", 3.0, 3).is_err());
        assert!(index_below("t", "label", -1.0, 3).is_err());
        assert!(index_below("t", "label", 0.5, 3).is_err());
        assert!(index_below("t", "label", f32::NAN, 3).is_err());
    }
}
