//! `Conv1d`: 1-D convolution over `[batch, channels, length]`, run as a height-1 `Conv2d`.

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor};

use super::Padding;
use super::core::{ConvCore, ConvSettings};
use crate::config_serde::{one, yes};
use crate::init::Init;
use crate::module::{BuildContext, LayerConfig, Mode, Module};

/// The settings of a [`Conv1d`] (`type = "conv1d"` in a config).
///
/// ```
/// use strata_layers::{Conv1d, Padding};
/// let config = Conv1d::new(128, 5).padding(Padding::Same);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv1dConfig {
    /// Output channels.
    pub filters: usize,
    /// Window length.
    pub kernel_size: usize,
    /// Step (default 1).
    #[serde(default = "one")]
    pub stride: usize,
    /// Padding (default [`Padding::Valid`]; of `Explicit([h, w])` only `w` is used).
    #[serde(default)]
    pub padding: Padding,
    /// Dilation (default 1).
    #[serde(default = "one")]
    pub dilation: usize,
    /// Channel groups (default 1); must divide the input channels and the filters.
    #[serde(default = "one")]
    pub groups: usize,
    /// Whether the layer adds a bias (default `true`).
    #[serde(default = "yes")]
    pub bias: bool,
    /// The weight initializer (default PyTorch's); the bias is zero unless it is PyTorch's.
    #[serde(default)]
    pub init: Init,
}

impl Conv1dConfig {
    /// `filters` output channels and a `kernel`-tap window, stride 1, no padding, dilation 1,
    /// one group, with bias.
    pub fn new(filters: usize, kernel: usize) -> Self {
        Conv1dConfig {
            filters,
            kernel_size: kernel,
            stride: 1,
            padding: Padding::Valid,
            dilation: 1,
            groups: 1,
            bias: true,
            init: Init::TorchLinearDefault,
        }
    }
    /// Stride (default 1).
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }
    /// Padding: `Padding::Valid` (default), `Padding::Same`, or a number of zeros per side.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }
    /// Dilation (default 1).
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }
    /// Channel groups (default 1); must divide the input channels and the filters.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    /// Whether the layer adds a bias (default `true`).
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.bias = use_bias;
        self
    }
    /// The weight initializer (default PyTorch's); the bias is zero unless it is PyTorch's.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    fn settings(&self) -> ConvSettings {
        ConvSettings {
            name: "Conv1d",
            filters: self.filters,
            kernel: [1, self.kernel_size],
            stride: [1, self.stride],
            padding: self.padding,
            dilation: [1, self.dilation],
            groups: self.groups,
            use_bias: self.bias,
            init: self.init,
        }
    }
}

/// The per-sample `[C, L]` of `input`, or an error saying what a `Conv1d` reads.
fn cl(input: &[usize]) -> Result<[usize; 2]> {
    match *input {
        [c, l] => Ok([c, l]),
        _ => Err(Error::shape(
            "Conv1d",
            format!("expects per-sample input [channels, length]; got {input:?}"),
        )),
    }
}

impl LayerConfig for Conv1dConfig {
    type Layer = Conv1d;

    fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<Conv1d> {
        let [c, l] = cl(input)?;
        let (filters, k) = (self.filters, self.kernel_size);
        let core = self
            .settings()
            .build(c, 1, l, |cg| vec![filters, cg, k], ctx)?;
        Ok(Conv1d { core })
    }
}

/// A 1-D convolution layer (PyTorch's `nn.Conv1d`, Keras' `Conv1D`), built from a
/// [`Conv1dConfig`].
///
/// Per-sample input `[C, L]`; `C` comes from the input shape at build. The weight has
/// PyTorch's layout `[filters, C / groups, kernel]` and PyTorch's default initialization.
#[derive(Debug)]
pub struct Conv1d {
    core: ConvCore,
}

impl Conv1d {
    /// The config of a layer with `filters` output channels and a `kernel`-tap window,
    /// stride 1, no padding, dilation 1, one group, with bias: `Conv1d::new(128, 5)`.
    // The Keras spelling users look for; the built layer comes from `LayerConfig::build`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(filters: usize, kernel: usize) -> Conv1dConfig {
        Conv1dConfig::new(filters, kernel)
    }
    /// The weight `[filters, C / groups, kernel]`.
    pub fn weight(&self) -> &Tensor {
        &self.core.weight
    }
    /// The bias `[filters]`, when the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.core.bias.as_ref()
    }
}

impl Module for Conv1d {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let [c, l] = cl(input)?;
        let [o, _, lout] = self.core.output(c, 1, l)?;
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
        let c = &self.core.settings;
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
        let layer = Conv1d::new(8, 5)
            .stride(2)
            .padding(2)
            .build(&[4, 11], &mut ctx)
            .unwrap();
        assert_eq!(layer.output_shape(&[4, 11]).unwrap(), vec![8, 6]);
        assert_eq!(layer.weight().dims(), &[8, 4, 5]);
        let x = Tensor::zeros([3, 4, 11], &Device::best()).unwrap();
        assert_eq!(layer.forward(&x, Mode::Train).unwrap().dims(), &[3, 8, 6]);
        let same = Conv1d::new(2, 4)
            .padding(Padding::Same)
            .build(&[1, 10], &mut ctx)
            .unwrap();
        assert_eq!(same.output_shape(&[1, 10]).unwrap(), vec![2, 10]);
    }

    #[test]
    fn conv1d_rejects_a_2d_batch() {
        let layer = Conv1d::new(2, 3)
            .build(&[1, 8], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        let e = layer
            .forward(&Tensor::zeros([1, 8], &Device::best()).unwrap(), Mode::Eval)
            .unwrap_err();
        assert!(e.to_string().contains("[batch, channels, length]"), "{e}");
    }
}
