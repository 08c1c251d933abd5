//! 2-D convolution of NCHW tensors: shape checks with errors a person can act on, the backend
//! call, and the backward rule (input, weight and bias gradients through the backend's
//! primitives). 1-D convolution is this op on a height-1 input (see `strata-layers`).

use strata_backend::{Conv2dSpec, ConvOps, Shape};

use crate::autograd::record;
use crate::storage::{map_buffer, map_buffers2, map_buffers3};
use crate::{Error, Result, Tensor};

/// Stride, padding, dilation and groups of a 2-D convolution (PyTorch's defaults: stride 1,
/// no padding, dilation 1, one group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// `[vertical, horizontal]` step between windows.
    pub stride: [usize; 2],
    /// Zeros added `[top, bottom, left, right]`.
    pub padding: [usize; 4],
    /// `[vertical, horizontal]` spacing of kernel taps.
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels are split into `groups` independent parts.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: [0; 4],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch) of `self` `[N, C, H, W]` with `weight`
    /// `[O, C / groups, kh, kw]` plus an optional `bias` `[O]`; the output is
    /// `[N, O, H', W']` with `H' = (H + pads − dilation·(kh − 1) − 1) / stride + 1`.
    ///
    /// Errors name the shapes: an input that is not 4-D, a channel count that does not match
    /// the weight, groups that do not divide the channels, a kernel larger than the padded
    /// input, a zero stride or dilation.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dOptions,
    ) -> Result<Tensor> {
        let spec = conv2d_spec(self, weight, bias, options)?;
        let out = vec![spec.batch, spec.out_channels, spec.out_h(), spec.out_w()];
        let storage = match bias {
            Some(b) => map_buffers3!(
                "conv2d",
                &*self.read(),
                &*weight.read(),
                &*b.read(),
                |be, x, w, bb| be.conv2d(x, w, Some(bb), spec)
            ),
            None => map_buffers2!("conv2d", &*self.read(), &*weight.read(), |be, x, w| be
                .conv2d(x, w, None, spec)),
        };
        let mut inputs = vec![self, weight];
        if let Some(b) = bias {
            inputs.push(b);
        }
        let node = record("conv2d", &inputs, || {
            move |g: &Tensor, inp: &[Tensor]| {
                let (x, w) = (&inp[0], &inp[1]);
                let dx = if x.requires_grad() {
                    let s = map_buffers2!(
                        "conv2d_backward_input",
                        &*g.read(),
                        &*w.read(),
                        |be, gg, ww| be.conv2d_backward_input(gg, ww, spec)
                    );
                    Some(Tensor::from_storage(s, x.shape().clone(), None))
                } else {
                    None
                };
                let dw = if w.requires_grad() {
                    let s = map_buffers2!(
                        "conv2d_backward_weight",
                        &*x.read(),
                        &*g.read(),
                        |be, xx, gg| be.conv2d_backward_weight(xx, gg, spec)
                    );
                    Some(Tensor::from_storage(s, w.shape().clone(), None))
                } else {
                    None
                };
                let mut grads = vec![dx, dw];
                if let Some(b) = inp.get(2) {
                    grads.push(if b.requires_grad() {
                        let s = map_buffer!(&*g.read(), |be, gg| be.conv2d_backward_bias(gg, spec));
                        Some(Tensor::from_storage(s, b.shape().clone(), None))
                    } else {
                        None
                    });
                }
                Ok(grads)
            }
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }
}

/// Checks the shapes of a convolution once, with messages naming both shapes, and builds the
/// backend spec.
fn conv2d_spec(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    o: Conv2dOptions,
) -> Result<Conv2dSpec> {
    const OP: &str = "conv2d";
    if x.rank() != 4 {
        let hint = if x.rank() == 3 {
            "; a 3-D input is one image without the batch dimension (reshape to [1, C, H, W]) \
             or a sequence (use Conv1d)"
        } else {
            ""
        };
        return Err(Error::shape(
            OP,
            format!(
                "input must be 4-D [batch, channels, height, width]; got {}{hint}",
                x.shape()
            ),
        ));
    }
    if weight.rank() != 4 {
        return Err(Error::shape(
            OP,
            format!(
                "weight must be 4-D [out_channels, in_channels / groups, kh, kw]; got {}",
                weight.shape()
            ),
        ));
    }
    let (xd, wd) = (x.dims(), weight.dims());
    let (c, o_ch) = (xd[1], wd[0]);
    if o.groups == 0 || !c.is_multiple_of(o.groups) || !o_ch.is_multiple_of(o.groups) {
        return Err(Error::shape(
            OP,
            format!(
                "groups = {} must divide the input channels ({c}, input {}) and the output \
                 channels ({o_ch}, weight {})",
                o.groups,
                x.shape(),
                weight.shape()
            ),
        ));
    }
    if wd[1] * o.groups != c {
        return Err(Error::shape(
            OP,
            format!(
                "input {} has {c} channels but weight {} expects {} (= {} per group × {} groups)",
                x.shape(),
                weight.shape(),
                wd[1] * o.groups,
                wd[1],
                o.groups
            ),
        ));
    }
    if let Some(b) = bias
        && b.dims() != [o_ch]
    {
        return Err(Error::shape(
            OP,
            format!(
                "weight {} has {o_ch} output channels so bias must be [{o_ch}]; got {}",
                weight.shape(),
                b.shape()
            ),
        ));
    }
    if o.stride.contains(&0) || o.dilation.contains(&0) {
        return Err(Error::invalid(
            OP,
            format!(
                "stride {:?} and dilation {:?} must be at least 1",
                o.stride, o.dilation
            ),
        ));
    }
    let spec = Conv2dSpec {
        batch: xd[0],
        in_channels: c,
        in_h: xd[2],
        in_w: xd[3],
        out_channels: o_ch,
        kernel_h: wd[2],
        kernel_w: wd[3],
        stride_h: o.stride[0],
        stride_w: o.stride[1],
        pad_top: o.padding[0],
        pad_bottom: o.padding[1],
        pad_left: o.padding[2],
        pad_right: o.padding[3],
        dilation_h: o.dilation[0],
        dilation_w: o.dilation[1],
        groups: o.groups,
    };
    let (ph, pw) = (
        spec.in_h + spec.pad_top + spec.pad_bottom,
        spec.in_w + spec.pad_left + spec.pad_right,
    );
    if spec.effective_kernel_h() > ph || spec.effective_kernel_w() > pw || wd[2] == 0 || wd[3] == 0
    {
        return Err(Error::shape(
            OP,
            format!(
                "kernel {}x{} (dilated {}x{}) of weight {} does not fit the padded input \
                 {ph}x{pw} (input {}, padding {:?}); use a smaller kernel or more padding",
                wd[2],
                wd[3],
                spec.effective_kernel_h(),
                spec.effective_kernel_w(),
                weight.shape(),
                x.shape(),
                o.padding
            ),
        ));
    }
    Ok(spec)
}
