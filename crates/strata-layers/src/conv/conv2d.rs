//! `Conv2d`: 2-D convolution over `[batch, channels, height, width]`, input channels inferred.

use strata_core::{Error, Param, Result, Tensor};

use super::Padding;
use super::core::ConvCore;
use crate::init::Init;
use crate::module::{BuildContext, Mode, Module};

/// A 2-D convolution layer (PyTorch's `nn.Conv2d`, Keras' `Conv2D`).
///
/// Per-sample input `[C, H, W]`; `C` is inferred at build. The weight has PyTorch's layout
/// `[filters, C / groups, kh, kw]` and, like the bias `[filters]`, PyTorch's default
/// initialization (`U(±1/√fan_in)`).
///
/// ```
/// use strata_layers::{Conv2d, Padding};
/// let layer = Conv2d::new(32, 3).padding(Padding::Same).stride(1);
/// let strided = Conv2d::new(64, 3).padding(1).stride(2).dilation(1).groups(1);
/// ```
#[derive(Debug)]
pub struct Conv2d {
    core: ConvCore,
}

impl Conv2d {
    /// An unbuilt layer with `filters` output channels and a square `kernel`, stride 1, no
    /// padding, dilation 1, one group, with bias.
    pub fn new(filters: usize, kernel: usize) -> Self {
        Conv2d {
            core: ConvCore::new("Conv2d", filters, [kernel, kernel]),
        }
    }
    /// A rectangular kernel `[height, width]`.
    pub fn kernel_size(mut self, kernel: [usize; 2]) -> Self {
        self.core.kernel = kernel;
        self
    }
    /// The same stride on both axes (default 1).
    pub fn stride(mut self, stride: usize) -> Self {
        self.core.stride = [stride, stride];
        self
    }
    /// A stride per axis `[vertical, horizontal]`.
    pub fn strides(mut self, stride: [usize; 2]) -> Self {
        self.core.stride = stride;
        self
    }
    /// Padding: `Padding::Valid` (default), `Padding::Same`, `Padding::Explicit([h, w])`,
    /// or a number of zeros on every side.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.core.padding = padding.into();
        self
    }
    /// The same dilation on both axes (default 1).
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.core.dilation = [dilation, dilation];
        self
    }
    /// Channel groups (default 1); must divide the input channels and the filters.
    pub fn groups(mut self, groups: usize) -> Self {
        self.core.groups = groups;
        self
    }
    /// Whether the layer adds a bias (default `true`).
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.core.use_bias = use_bias;
        self
    }
    /// The weight initializer (default PyTorch's); the bias is zero unless it is PyTorch's.
    pub fn init(mut self, init: Init) -> Self {
        self.core.init = init;
        self
    }
    /// The weight `[filters, C / groups, kh, kw]`, once built.
    pub fn weight(&self) -> Option<&Tensor> {
        self.core.weight.as_ref()
    }
    /// The bias `[filters]`, once built with a bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.core.bias.as_ref()
    }
}

impl Module for Conv2d {
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
        let &[c, h, w] = input else {
            return Err(Error::shape(
                "Conv2d",
                format!(
                    "expects per-sample input [channels, height, width]; got {input:?}{}",
                    if input.len() == 2 {
                        " (add a channel axis: [1, height, width])"
                    } else {
                        ""
                    }
                ),
            ));
        };
        let [kh, kw] = self.core.kernel;
        let filters = self.core.filters;
        Ok(self
            .core
            .build(c, h, w, |cg| vec![filters, cg, kh, kw], ctx)?
            .to_vec())
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        if x.rank() != 4 {
            return Err(Error::shape(
                "Conv2d",
                format!(
                    "expects a batch [batch, channels, height, width]; got {}{}",
                    x.shape(),
                    if x.rank() == 3 {
                        " (a 3-D input: add the batch dimension, or use Conv1d for sequences)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        self.core.forward(x)
    }

    fn parameters(&self) -> Vec<Param> {
        self.core.parameters()
    }

    fn kind(&self) -> String {
        let c = &self.core;
        let mut s = format!("Conv2d({}, {}x{}", c.filters, c.kernel[0], c.kernel[1]);
        if c.stride != [1, 1] {
            s += &format!(", stride {}x{}", c.stride[0], c.stride[1]);
        }
        match c.padding {
            Padding::Valid => {}
            Padding::Same => s += ", same",
            Padding::Explicit(p) => s += &format!(", padding {}x{}", p[0], p[1]),
        }
        if c.dilation != [1, 1] {
            s += &format!(", dilation {}x{}", c.dilation[0], c.dilation[1]);
        }
        if c.groups != 1 {
            s += &format!(", groups {}", c.groups);
        }
        s + ")"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn ctx() -> BuildContext {
        BuildContext::new(Device::best(), 0)
    }

    #[test]
    fn build_infers_channels_and_computes_the_output_shape() {
        let mut layer = Conv2d::new(32, 3);
        assert_eq!(
            layer.build(&[1, 28, 28], &mut ctx()).unwrap(),
            vec![32, 26, 26]
        );
        assert_eq!(layer.weight().unwrap().dims(), &[32, 1, 3, 3]);
        let mut same = Conv2d::new(8, 3).padding(Padding::Same).stride(2);
        assert_eq!(same.build(&[3, 7, 8], &mut ctx()).unwrap(), vec![8, 4, 4]);
        let mut grouped = Conv2d::new(4, 3).groups(2).dilation(2).padding(2);
        assert_eq!(
            grouped.build(&[6, 9, 9], &mut ctx()).unwrap(),
            vec![4, 9, 9]
        );
        assert_eq!(grouped.weight().unwrap().dims(), &[4, 3, 3, 3]);
    }

    #[test]
    fn forward_output_matches_the_built_shape() {
        let mut layer = Conv2d::new(5, 3).padding(Padding::Same);
        let out = layer.build(&[2, 6, 7], &mut ctx()).unwrap();
        let x = Tensor::zeros([3, 2, 6, 7], &Device::best()).unwrap();
        let y = layer.forward(&x, Mode::Eval).unwrap();
        assert_eq!(&y.dims()[1..], &out[..]);
    }

    #[test]
    fn build_rejects_a_2d_sample_and_groups_not_dividing_channels() {
        let e = Conv2d::new(4, 3).build(&[28, 28], &mut ctx()).unwrap_err();
        assert!(e.to_string().contains("[28, 28]"), "{e}");
        let e = Conv2d::new(4, 3)
            .groups(2)
            .build(&[3, 8, 8], &mut ctx())
            .unwrap_err();
        assert!(e.to_string().contains("groups = 2"), "{e}");
        let e = Conv2d::new(4, 5).build(&[1, 4, 4], &mut ctx()).unwrap_err();
        assert!(
            e.to_string().contains("larger than the padded input"),
            "{e}"
        );
    }

    #[test]
    fn forward_rejects_a_3d_input_and_a_channel_mismatch() {
        let mut layer = Conv2d::new(4, 3);
        layer.build(&[3, 8, 8], &mut ctx()).unwrap();
        let e = layer
            .forward(
                &Tensor::zeros([3, 8, 8], &Device::best()).unwrap(),
                Mode::Eval,
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("Conv2d") && e.to_string().contains("[3, 8, 8]"),
            "{e}"
        );
        let e = layer
            .forward(
                &Tensor::zeros([1, 2, 8, 8], &Device::best()).unwrap(),
                Mode::Eval,
            )
            .unwrap_err();
        assert!(e.to_string().contains("2 channels"), "{e}");
    }
}
