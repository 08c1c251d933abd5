//! 2-D max and average pooling (NCHW), forward and backward. 1-D pooling is 2-D pooling of
//! height 1, and global pooling is a window the size of the input.
//!
//! Layouts: input `[batch, channels, in_h, in_w]`, output `[batch, channels, out_h, out_w]`.
//! Padding is implicit: a max window ignores padded positions. An average window divides by
//! its size within the padded input (PyTorch's `count_include_pad=True`, the default) or by
//! the count of real input elements it holds (`count_include_pad=False`). With `ceil_mode`
//! the output size rounds up, as in PyTorch: a last, partial window is kept when it starts
//! inside the input or its left padding.

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
    /// Round the output size up (keep a last, partial window) instead of down.
    pub ceil_mode: bool,
    /// Average pooling: divide by the window's size within the padded input (true) or by
    /// the number of real input elements in it (false). Max pooling ignores it.
    pub count_include_pad: bool,
}

/// The input positions one output window covers along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolWindow {
    /// First input position inside the window (clipped to the input).
    pub lo: usize,
    /// One past the last input position inside the window (clipped to the input).
    pub hi: usize,
    /// The window's length within the padded input (what `count_include_pad` divides by).
    pub padded: usize,
}

/// Output length along one axis: `(len + 2·pad − kernel) / stride + 1`, rounded down, or
/// with `ceil` rounded up unless that last window would start in the right padding.
pub fn pool_out_len(len: usize, pad: usize, kernel: usize, stride: usize, ceil: bool) -> usize {
    let stride = stride.max(1);
    let Some(span) = (len + 2 * pad).checked_sub(kernel) else {
        return 0;
    };
    if !ceil {
        return span / stride + 1;
    }
    let out = span.div_ceil(stride) + 1;
    if (out - 1) * stride >= len + pad {
        out - 1
    } else {
        out
    }
}

/// Window `o` along one axis: it starts at `o·stride − pad` and spans `kernel` positions,
/// clipped to the padded input (`padded`) and to the input (`lo..hi`).
pub fn pool_window(o: usize, stride: usize, pad: usize, kernel: usize, len: usize) -> PoolWindow {
    let start = (o * stride) as isize - pad as isize;
    let end = (start + kernel as isize).min((len + pad) as isize);
    let lo = start.max(0) as usize;
    let hi = (end.max(0) as usize).min(len).max(lo);
    PoolWindow {
        lo,
        hi,
        padded: (end - start).max(0) as usize,
    }
}

impl Pool2dSpec {
    /// A spec with PyTorch's defaults for the two options: floor mode, and an average that
    /// counts padded positions.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        [batch, channels, in_h, in_w]: [usize; 4],
        [kernel_h, kernel_w]: [usize; 2],
        [stride_h, stride_w]: [usize; 2],
        [pad_h, pad_w]: [usize; 2],
    ) -> Self {
        Pool2dSpec {
            batch,
            channels,
            in_h,
            in_w,
            kernel_h,
            kernel_w,
            stride_h,
            stride_w,
            pad_h,
            pad_w,
            ceil_mode: false,
            count_include_pad: true,
        }
    }

    /// Output height (0 if the window does not fit); see [`pool_out_len`].
    pub fn out_h(&self) -> usize {
        pool_out_len(
            self.in_h,
            self.pad_h,
            self.kernel_h,
            self.stride_h,
            self.ceil_mode,
        )
    }
    /// Output width.
    pub fn out_w(&self) -> usize {
        pool_out_len(
            self.in_w,
            self.pad_w,
            self.kernel_w,
            self.stride_w,
            self.ceil_mode,
        )
    }
    /// The input rows output row `oy` covers.
    pub fn rows(&self, oy: usize) -> PoolWindow {
        pool_window(oy, self.stride_h, self.pad_h, self.kernel_h, self.in_h)
    }
    /// The input columns output column `ox` covers.
    pub fn cols(&self, ox: usize) -> PoolWindow {
        pool_window(ox, self.stride_w, self.pad_w, self.kernel_w, self.in_w)
    }
    /// What average pooling divides the window `(rows, cols)` by.
    pub fn avg_divisor(&self, rows: PoolWindow, cols: PoolWindow) -> usize {
        if self.count_include_pad {
            rows.padded * cols.padded
        } else {
            (rows.hi - rows.lo) * (cols.hi - cols.lo)
        }
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
