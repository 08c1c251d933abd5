//! Layout ops: the few that move data (reshape is free and never reaches a backend).

use crate::{BackendError, BufferOps, Result};

/// Checks the operands of [`LayoutOps::concat`] for every backend: as many shapes as buffers
/// (`lens` holds each buffer's length), at least one, `axis` inside the rank, the shapes equal
/// except along `axis`, each buffer as long as its shape. Returns the output shape.
pub fn concat_shape(lens: &[usize], shapes: &[&[usize]], axis: usize) -> Result<Vec<usize>> {
    let invalid = |message: String| BackendError::InvalidArgument {
        op: "concat",
        message,
    };
    if lens.len() != shapes.len() {
        return Err(invalid(format!(
            "{} buffers but {} shapes",
            lens.len(),
            shapes.len()
        )));
    }
    let Some(first) = shapes.first() else {
        return Err(invalid("nothing to concatenate".to_string()));
    };
    if axis >= first.len() {
        return Err(invalid(format!(
            "axis {axis} is out of range for shape {first:?}"
        )));
    }
    for (&len, s) in lens.iter().zip(shapes) {
        let agrees = s.len() == first.len()
            && s.iter()
                .zip(first.iter())
                .enumerate()
                .all(|(i, (a, b))| i == axis || a == b);
        if !agrees {
            return Err(invalid(format!(
                "shapes {first:?} and {s:?} differ outside axis {axis}"
            )));
        }
        let count = s
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| invalid(format!("shape {s:?} has more elements than fit in memory")))?;
        BackendError::check_len("concat", count, len)?;
    }
    let mut out = first.to_vec();
    out[axis] = shapes.iter().map(|s| s[axis]).sum();
    Ok(out)
}

/// Layout op family.
pub trait LayoutOps: BufferOps {
    /// Materializes `x` (of shape `shape`) with its axes permuted: output axis `i` is input axis
    /// `axes[i]`.
    fn permute(&self, x: &Self::Buffer, shape: &[usize], axes: &[usize]) -> Result<Self::Buffer>;
    /// Materializes `x` broadcast from `shape` to `out_shape` (same rank; dims equal or 1).
    fn broadcast_to(
        &self,
        x: &Self::Buffer,
        shape: &[usize],
        out_shape: &[usize],
    ) -> Result<Self::Buffer>;
    /// Copies `len` elements along `axis` starting at `start`: input shape `shape`, output
    /// shape `shape` with `shape[axis] = len`.
    fn slice_axis(
        &self,
        x: &Self::Buffer,
        shape: &[usize],
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<Self::Buffer>;
    /// Concatenates buffers along `axis`; `shapes[i]` is the shape of `parts[i]` (equal except
    /// along `axis`).
    fn concat(
        &self,
        parts: &[&Self::Buffer],
        shapes: &[&[usize]],
        axis: usize,
    ) -> Result<Self::Buffer>;
    /// Gathers rows: `out[i, :] = x[indices[i], :]` for `x` of shape `[rows, cols]`.
    /// Indices are integers stored as `f32`; one out of range is an error.
    fn index_select_rows(
        &self,
        x: &Self::Buffer,
        rows: usize,
        cols: usize,
        indices: &Self::Buffer,
    ) -> Result<Self::Buffer>;
    /// The adjoint of `index_select_rows`: `out[indices[i], :] += src[i, :]` into a zero
    /// buffer of shape `[rows, cols]`. An index that is not an integer in `0..rows` is an
    /// error, whatever `cols` is.
    fn index_add_rows(
        &self,
        src: &Self::Buffer,
        indices: &Self::Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Self::Buffer>;
}
