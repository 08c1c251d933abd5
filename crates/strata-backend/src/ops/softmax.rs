//! Softmax, log-softmax and the fused softmax cross-entropy, over the last axis.
//!
//! Every op here views its input as `[rows, cols]` and normalises each row.

use crate::{BufferOps, Result};

/// Softmax op family.
pub trait SoftmaxOps: BufferOps {
    /// Row-wise softmax, computed stably (max subtracted).
    fn softmax(&self, x: &Self::Buffer, rows: usize, cols: usize) -> Result<Self::Buffer>;
    /// Row-wise log-softmax, computed stably.
    fn log_softmax(&self, x: &Self::Buffer, rows: usize, cols: usize) -> Result<Self::Buffer>;
    /// Given `y = softmax(x)` and `dy`: `dx = y ⊙ (dy − Σ_j dy_j y_j)`.
    fn softmax_backward(
        &self,
        y: &Self::Buffer,
        dy: &Self::Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Self::Buffer>;
    /// Given `y = log_softmax(x)` and `dy`: `dx = dy − e^y · Σ_j dy_j`.
    fn log_softmax_backward(
        &self,
        y: &Self::Buffer,
        dy: &Self::Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Self::Buffer>;
    /// Fused cross-entropy from logits. `labels` holds one class index per row (as `f32`).
    /// With label smoothing `ε` the target is `(1 − ε)·onehot + ε/cols`.
    /// Returns `(loss_per_row [rows], probabilities [rows, cols])`; the probabilities are
    /// what the backward pass needs. A label outside `0..cols` is an error.
    fn softmax_cross_entropy(
        &self,
        logits: &Self::Buffer,
        labels: &Self::Buffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<(Self::Buffer, Self::Buffer)>;
    /// `dlogits[r, c] = dloss[r] · (p[r, c] − target[r, c])`.
    fn softmax_cross_entropy_backward(
        &self,
        probs: &Self::Buffer,
        labels: &Self::Buffer,
        dloss: &Self::Buffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<Self::Buffer>;
}
