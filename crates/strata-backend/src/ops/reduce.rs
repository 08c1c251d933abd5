//! Reductions along axes.

use crate::{BufferOps, Result};

/// A reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    /// Sum of the elements.
    Sum,
    /// Arithmetic mean.
    Mean,
    /// Largest element.
    Max,
    /// Smallest element.
    Min,
}

/// Reduction op family.
pub trait ReduceOps: BufferOps {
    /// Reduces `x` (shape `shape`) over `axes` (sorted, unique, non-empty); the output has the
    /// shape of `x` with each reduced axis set to 1.
    fn reduce(
        &self,
        op: ReduceOp,
        x: &Self::Buffer,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<Self::Buffer>;
    /// Index of the largest element along `axis` (the first one on ties), as `f32`; output
    /// shape is `shape` with `shape[axis] = 1`.
    fn argmax(&self, x: &Self::Buffer, shape: &[usize], axis: usize) -> Result<Self::Buffer>;
    /// `Σ x²` over the whole buffer, as a one-element buffer (for gradient norms).
    fn sum_squares(&self, x: &Self::Buffer) -> Result<Self::Buffer>;
}
