//! Layout ops: the few that move data (reshape is free and never reaches a backend).

use crate::{BufferOps, Result};

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
