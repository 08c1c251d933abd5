//! 2-D max and average pooling (NCHW), forward and backward. 1-D pooling is 2-D pooling of
//! height 1, and global pooling is a window the size of the input.
//!
//! Layouts: input `[batch, channels, in_h, in_w]`, output `[batch, channels, out_h, out_w]`.
//! Padding is implicit: a max window ignores padded positions, an average window counts them
//! as zeros and divides by the full window size (PyTorch's `count_include_pad=True`).

use crate::{BackendError, BufferOps, Result};

/// Everything that fixes the shapes of one 2-D pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dSpec {
    /// Samples in the batch.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Implicit rows added above and below.
    pub pad_h: usize,
    /// Implicit columns added left and right.
    pub pad_w: usize,
}

impl Pool2dSpec {
    /// Output height: `(in_h + 2·pad_h − kernel_h) / stride_h + 1` (0 if the window does not fit).
    pub fn out_h(&self) -> usize {
        (self.in_h + 2 * self.pad_h)
            .checked_sub(self.kernel_h)
            .map_or(0, |d| d / self.stride_h.max(1) + 1)
    }
    /// Output width.
    pub fn out_w(&self) -> usize {
        (self.in_w + 2 * self.pad_w)
            .checked_sub(self.kernel_w)
            .map_or(0, |d| d / self.stride_w.max(1) + 1)
    }
    /// Elements of the input.
    pub fn input_len(&self) -> usize {
        self.batch * self.channels * self.in_h * self.in_w
    }
    /// Elements of the output.
    pub fn output_len(&self) -> usize {
        self.batch * self.channels * self.out_h() * self.out_w()
    }

    /// Checks positive window and strides, padding at most half the window (so every window
    /// holds at least one real element, as PyTorch requires) and a window that fits the
    /// padded input.
    pub fn validate(&self, op: &'static str) -> Result<()> {
        let bad = |message: String| Err(BackendError::InvalidArgument { op, message });
        if self.kernel_h == 0 || self.kernel_w == 0 {
            return bad(format!(
                "window must be at least 1x1; got {}x{}",
                self.kernel_h, self.kernel_w
            ));
        }
        if self.stride_h == 0 || self.stride_w == 0 {
            return bad(format!(
                "stride must be at least 1; got ({}, {})",
                self.stride_h, self.stride_w
            ));
        }
        if 2 * self.pad_h > self.kernel_h || 2 * self.pad_w > self.kernel_w {
            return bad(format!(
                "padding ({}, {}) must be at most half the window {}x{}",
                self.pad_h, self.pad_w, self.kernel_h, self.kernel_w
            ));
        }
        let (ph, pw) = (self.in_h + 2 * self.pad_h, self.in_w + 2 * self.pad_w);
        if self.kernel_h > ph || self.kernel_w > pw {
            return bad(format!(
                "window {}x{} is larger than the padded input {ph}x{pw}",
                self.kernel_h, self.kernel_w
            ));
        }
        Ok(())
    }
}

/// Pooling op family.
pub trait PoolOps: BufferOps {
    /// Max pooling. Returns `(y, indices)`: `indices` (output-shaped) holds, as `f32`, the
    /// position `row · in_w + col` inside its input plane of the element each output took
    /// (the first maximum of its window in row-major order).
    fn max_pool2d(
        &self,
        x: &Self::Buffer,
        spec: Pool2dSpec,
    ) -> Result<(Self::Buffer, Self::Buffer)>;
    /// The input gradient of max pooling: each `dy` is added to the input position its
    /// index names.
    fn max_pool2d_backward(
        &self,
        dy: &Self::Buffer,
        indices: &Self::Buffer,
        spec: Pool2dSpec,
    ) -> Result<Self::Buffer>;
    /// Average pooling, padded positions counted as zeros (divisor `kernel_h · kernel_w`).
    fn avg_pool2d(&self, x: &Self::Buffer, spec: Pool2dSpec) -> Result<Self::Buffer>;
    /// The input gradient of average pooling.
    fn avg_pool2d_backward(&self, dy: &Self::Buffer, spec: Pool2dSpec) -> Result<Self::Buffer>;
}
