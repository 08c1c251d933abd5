//! 2-D convolution (NCHW) with stride, asymmetric padding, dilation and groups, forward and
//! the three backward primitives. A 1-D convolution is a 2-D one of height 1.
//!
//! Layouts: input `[batch, in_channels, in_h, in_w]`, weight
//! `[out_channels, in_channels / groups, kernel_h, kernel_w]` (PyTorch's), bias
//! `[out_channels]`, output `[batch, out_channels, out_h, out_w]`.

use crate::{BackendError, BufferOps, Result};

/// Everything that fixes the shapes of one 2-D convolution.
///
/// Padding is given per side so that "same" padding with an even kernel (one more zero on the
/// bottom/right, as PyTorch does) is expressible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dSpec {
    /// Samples in the batch.
    pub batch: usize,
    /// Input channels (all groups together).
    pub in_channels: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Output channels (all groups together).
    pub out_channels: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Zero rows added above the input.
    pub pad_top: usize,
    /// Zero rows added below the input.
    pub pad_bottom: usize,
    /// Zero columns added left of the input.
    pub pad_left: usize,
    /// Zero columns added right of the input.
    pub pad_right: usize,
    /// Vertical dilation (≥ 1).
    pub dilation_h: usize,
    /// Horizontal dilation (≥ 1).
    pub dilation_w: usize,
    /// Groups (≥ 1, dividing both channel counts).
    pub groups: usize,
}

impl Conv2dSpec {
    /// A `[kernel_h, kernel_w]` convolution of a `[batch, in_channels, in_h, in_w]` input to
    /// `out_channels`, with stride 1, no padding, no dilation and one group; set the other
    /// fields with struct update syntax (`Conv2dSpec { pad_top: 1, ..Conv2dSpec::new(..) }`).
    pub fn new(
        [batch, in_channels, in_h, in_w]: [usize; 4],
        out_channels: usize,
        [kernel_h, kernel_w]: [usize; 2],
    ) -> Self {
        Conv2dSpec {
            batch,
            in_channels,
            in_h,
            in_w,
            out_channels,
            kernel_h,
            kernel_w,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_bottom: 0,
            pad_left: 0,
            pad_right: 0,
            dilation_h: 1,
            dilation_w: 1,
            groups: 1,
        }
    }

    /// Height of the dilated kernel: `dilation_h · (kernel_h − 1) + 1`.
    pub fn effective_kernel_h(&self) -> usize {
        self.dilation_h * (self.kernel_h.max(1) - 1) + 1
    }
    /// Width of the dilated kernel.
    pub fn effective_kernel_w(&self) -> usize {
        self.dilation_w * (self.kernel_w.max(1) - 1) + 1
    }
    /// Output height: `(in_h + pads − effective kernel) / stride + 1` (0 if it does not fit).
    pub fn out_h(&self) -> usize {
        let padded = self.in_h + self.pad_top + self.pad_bottom;
        padded
            .checked_sub(self.effective_kernel_h())
            .map_or(0, |d| d / self.stride_h.max(1) + 1)
    }
    /// Output width.
    pub fn out_w(&self) -> usize {
        let padded = self.in_w + self.pad_left + self.pad_right;
        padded
            .checked_sub(self.effective_kernel_w())
            .map_or(0, |d| d / self.stride_w.max(1) + 1)
    }
    /// Elements of the input.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_h * self.in_w
    }
    /// Elements of the weight.
    pub fn weight_len(&self) -> usize {
        self.out_channels * (self.in_channels / self.groups.max(1)) * self.kernel_h * self.kernel_w
    }
    /// Elements of the output.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_h() * self.out_w()
    }
    /// Input channels per group.
    pub fn group_in(&self) -> usize {
        self.in_channels / self.groups.max(1)
    }
    /// Output channels per group.
    pub fn group_out(&self) -> usize {
        self.out_channels / self.groups.max(1)
    }

    /// Checks the parts of the spec every backend relies on: positive strides, dilations,
    /// kernel sizes and groups, groups dividing both channel counts, and a dilated kernel
    /// that fits the padded input.
    pub fn validate(&self, op: &'static str) -> Result<()> {
        let bad = |message: String| Err(BackendError::InvalidArgument { op, message });
        if self.stride_h == 0 || self.stride_w == 0 {
            return bad(format!(
                "stride must be at least 1; got ({}, {})",
                self.stride_h, self.stride_w
            ));
        }
        if self.dilation_h == 0 || self.dilation_w == 0 {
            return bad(format!(
                "dilation must be at least 1; got ({}, {})",
                self.dilation_h, self.dilation_w
            ));
        }
        if self.kernel_h == 0 || self.kernel_w == 0 {
            return bad(format!(
                "kernel must be at least 1x1; got {}x{}",
                self.kernel_h, self.kernel_w
            ));
        }
        if self.groups == 0
            || !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return bad(format!(
                "groups = {} must divide in_channels = {} and out_channels = {}",
                self.groups, self.in_channels, self.out_channels
            ));
        }
        let (ph, pw) = (
            self.in_h + self.pad_top + self.pad_bottom,
            self.in_w + self.pad_left + self.pad_right,
        );
        if self.effective_kernel_h() > ph || self.effective_kernel_w() > pw {
            return bad(format!(
                "kernel {}x{} (dilated {}x{}) is larger than the padded input {ph}x{pw}",
                self.kernel_h,
                self.kernel_w,
                self.effective_kernel_h(),
                self.effective_kernel_w()
            ));
        }
        Ok(())
    }
}

/// Convolution op family.
pub trait ConvOps: BufferOps {
    /// `y = conv(x, w) + bias` (cross-correlation, as PyTorch), shapes as the module doc says.
    /// `bias`, when given, holds `out_channels` values added to every position of its channel.
    fn conv2d(
        &self,
        x: &Self::Buffer,
        w: &Self::Buffer,
        bias: Option<&Self::Buffer>,
        spec: Conv2dSpec,
    ) -> Result<Self::Buffer>;
    /// The input gradient `dx` (input-shaped) given `dy` (output-shaped) and the weight.
    fn conv2d_backward_input(
        &self,
        dy: &Self::Buffer,
        w: &Self::Buffer,
        spec: Conv2dSpec,
    ) -> Result<Self::Buffer>;
    /// The weight gradient `dw` (weight-shaped) given the input `x` and `dy`.
    fn conv2d_backward_weight(
        &self,
        x: &Self::Buffer,
        dy: &Self::Buffer,
        spec: Conv2dSpec,
    ) -> Result<Self::Buffer>;
    /// The bias gradient: `db[c] = Σ_{n, y, x} dy[n, c, y, x]`, `out_channels` values.
    fn conv2d_backward_bias(&self, dy: &Self::Buffer, spec: Conv2dSpec) -> Result<Self::Buffer>;
}
