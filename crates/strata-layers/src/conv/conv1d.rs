//! `Conv1d`: 1-D convolution over `[batch, channels, length]`, run as a height-1 `Conv2d`.

use strata_core::{Error, Param, Result, Tensor};

use super::Padding;
use super::core::ConvCore;
use crate::init::Init;
use crate::module::{BuildContext, Mode, Module};

/// A 1-D convolution layer (PyTorch's `nn.Conv1d`, Keras' `Conv1D`).
///
/// Per-sample input `[C, L]`; `C` is inferred at build. The weight has PyTorch's layout
/// `[filters, C / groups, kernel]` and PyTorch's default initialization.
///
/// ```
/// use strata_layers::{Conv1d, Padding};
/// let layer = Conv1d::new(128, 5).padding(Padding::Same);
/// ```
#[derive(Debug)]
pub struct Conv1d {
    core: ConvCore,
}

impl Conv1d {
    /// An unbuilt layer with `filters` output channels and a `kernel`-tap window, stride 1,
    /// no padding, dilation 1, one group, with bias.
    pub fn new(filters: usize, kernel: usize) -> Self {
        Conv1d {
            core: ConvCore::new("Conv1d", filters, [1, kernel]),
        }
    }
    /// Stride (default 1).
    pub fn stride(mut self, stride: usize) -> Self {
        self.core.stride = [1, stride];
        self
    }
    /// Padding: `Padding::Valid` (default), `Padding::Same`, or a number of zeros per side.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.core.padding = padding.into();
        self
    }
    /// Dilation (default 1).
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.core.dilation = [1, dilation];
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
    /// The weight `[filters, C / groups, kernel]`, once built.
    pub fn weight(&self) -> Option<&Tensor> {
        self.core.weight.as_ref()
    }
    /// The bias `[filters]`, once built with a bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.core.bias.as_ref()
    }
}

impl Module for Conv1d {
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
        let &[c, l] = input else {
            return Err(Error::shape(
                "Conv1d",
                format!("expects per-sample input [channels, length]; got {input:?}"),
            ));
        };
        let (filters, k) = (self.core.filters, self.core.kernel[1]);
        let [o, _, lout] = self.core.build(c, 1, l, |cg| vec![filters, cg, k], ctx)?;
        Ok(vec![o, lout])
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        let &[n, c, l] = x.dims() else {
            return Err(Error::shape(
                "Conv1d",
                format!(
                    "expects a batch [batch, channels, length]; got {}",
                    x.shape()
                ),
            ));
        };
        let y = self.core.forward(&x.reshape([n, c, 1, l])?)?;
        let d = y.dims().to_vec();
        y.reshape([d[0], d[1], d[3]])
    }

    fn parameters(&self) -> Vec<Param> {
        self.core.parameters()
    }

    fn kind(&self) -> String {
        let c = &self.core;
        let mut s = format!("Conv1d({}, {}", c.filters, c.kernel[1]);
        if c.stride[1] != 1 {
            s += &format!(", stride {}", c.stride[1]);
        }
        match c.padding {
            Padding::Valid => {}
            Padding::Same => s += ", same",
            Padding::Explicit(p) => s += &format!(", padding {}", p[1]),
        }
        if c.dilation[1] != 1 {
            s += &format!(", dilation {}", c.dilation[1]);
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

    #[test]
    fn conv1d_shapes_follow_pytorch() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        let mut layer = Conv1d::new(8, 5).stride(2).padding(2);
        assert_eq!(layer.build(&[4, 11], &mut ctx).unwrap(), vec![8, 6]);
        assert_eq!(layer.weight().unwrap().dims(), &[8, 4, 5]);
        let x = Tensor::zeros([3, 4, 11], &Device::best()).unwrap();
        assert_eq!(layer.forward(&x, Mode::Train).unwrap().dims(), &[3, 8, 6]);
        let mut same = Conv1d::new(2, 4).padding(Padding::Same);
        assert_eq!(same.build(&[1, 10], &mut ctx).unwrap(), vec![2, 10]);
    }

    #[test]
    fn conv1d_rejects_a_2d_batch() {
        let mut layer = Conv1d::new(2, 3);
        layer
            .build(&[1, 8], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        let e = layer
            .forward(&Tensor::zeros([1, 8], &Device::best()).unwrap(), Mode::Eval)
            .unwrap_err();
        assert!(e.to_string().contains("[batch, channels, length]"), "{e}");
    }
}
