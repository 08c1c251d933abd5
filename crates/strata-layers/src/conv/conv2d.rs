//! `Conv2d`: 2-D convolution over `[batch, channels, height, width]`, input channels inferred
//! at build from the input shape.

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor};

use super::Padding;
use super::core::{ConvCore, ConvSettings};
use crate::config_serde::{one, ones, yes};
use crate::init::Init;
use crate::module::{BuildContext, LayerConfig, Mode, Module};

/// The settings of a [`Conv2d`] (`type = "conv2d"` in a config). Sizes read `3` or `[3, 5]`
/// (`[height, width]`).
///
/// ```
/// use strata_layers::{Conv2d, Padding};
/// let config = Conv2d::new(32, 3).padding(Padding::Same).stride(1);
/// let strided = Conv2d::new(64, 3).padding(1).stride(2).dilation(1).groups(1);
/// # let _ = (config, strided);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv2dConfig {
    /// Output channels.
    pub filters: usize,
    /// Window `[height, width]`.
    #[serde(with = "crate::config_serde::pair")]
    pub kernel_size: [usize; 2],
    /// Step `[vertical, horizontal]` (default 1).
    #[serde(default = "ones", with = "crate::config_serde::pair")]
    pub stride: [usize; 2],
    /// Padding (default [`Padding::Valid`]).
    #[serde(default)]
    pub padding: Padding,
    /// Dilation `[vertical, horizontal]` (default 1).
    #[serde(default = "ones", with = "crate::config_serde::pair")]
    pub dilation: [usize; 2],
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

impl Conv2dConfig {
    /// `filters` output channels and a square `kernel`, stride 1, no padding, dilation 1, one
    /// group, with bias.
    pub fn new(filters: usize, kernel: usize) -> Self {
        Conv2dConfig {
            filters,
            kernel_size: [kernel, kernel],
            stride: [1, 1],
            padding: Padding::Valid,
            dilation: [1, 1],
            groups: 1,
            bias: true,
            init: Init::TorchLinearDefault,
        }
    }
    /// A rectangular kernel `[height, width]`.
    pub fn kernel_size(mut self, kernel: [usize; 2]) -> Self {
        self.kernel_size = kernel;
        self
    }
    /// The same stride on both axes (default 1).
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = [stride, stride];
        self
    }
    /// A stride per axis `[vertical, horizontal]`.
    pub fn strides(mut self, stride: [usize; 2]) -> Self {
        self.stride = stride;
        self
    }
    /// Padding: `Padding::Valid` (default), `Padding::Same`, `Padding::Explicit([h, w])`,
    /// or a number of zeros on every side.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }
    /// The same dilation on both axes (default 1).
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = [dilation, dilation];
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
            name: "Conv2d",
            filters: self.filters,
            kernel: self.kernel_size,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: self.groups,
            use_bias: self.bias,
            init: self.init,
        }
    }
}

/// The per-sample `[C, H, W]` of `input`, or an error saying what a `Conv2d` reads.
fn chw(input: &[usize]) -> Result<[usize; 3]> {
    match *input {
        [c, h, w] => Ok([c, h, w]),
        _ => Err(Error::shape(
            "Conv2d",
            format!(
                "expects per-sample input [channels, height, width]; got {input:?}{}",
                if input.len() == 2 {
                    " (add a channel axis: [1, height, width])"
                } else {
                    ""
                }
            ),
        )),
    }
}

impl LayerConfig for Conv2dConfig {
    type Layer = Conv2d;

    fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<Conv2d> {
        let [c, h, w] = chw(input)?;
        let ([kh, kw], filters) = (self.kernel_size, self.filters);
        let core = self
            .settings()
            .build(c, h, w, |cg| vec![filters, cg, kh, kw], ctx)?;
        Ok(Conv2d { core })
    }
}

/// A 2-D convolution layer (PyTorch's `nn.Conv2d`, Keras' `Conv2D`), built from a
/// [`Conv2dConfig`].
///
/// Per-sample input `[C, H, W]`; `C` comes from the input shape at build. The weight has
/// PyTorch's layout `[filters, C / groups, kh, kw]` and, like the bias `[filters]`, PyTorch's
/// default initialization (`U(±1/√fan_in)`).
#[derive(Debug)]
pub struct Conv2d {
    core: ConvCore,
}

impl Conv2d {
    /// The config of a layer with `filters` output channels and a square `kernel`, stride 1,
    /// no padding, dilation 1, one group, with bias: `Conv2d::new(32, 3).padding(1)`.
    // The Keras spelling users look for; the built layer comes from `LayerConfig::build`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(filters: usize, kernel: usize) -> Conv2dConfig {
        Conv2dConfig::new(filters, kernel)
    }
    /// The weight `[filters, C / groups, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.core.weight
    }
    /// The bias `[filters]`, when the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.core.bias.as_ref()
    }
}

impl Module for Conv2d {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let [c, h, w] = chw(input)?;
        Ok(self.core.output(c, h, w)?.to_vec())
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
        let c = &self.core.settings;
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
        let layer = Conv2d::new(32, 3).build(&[1, 28, 28], &mut ctx()).unwrap();
        assert_eq!(layer.output_shape(&[1, 28, 28]).unwrap(), vec![32, 26, 26]);
        assert_eq!(layer.weight().dims(), &[32, 1, 3, 3]);
        let same = Conv2d::new(8, 3).padding(Padding::Same).stride(2);
        let same = same.build(&[3, 7, 8], &mut ctx()).unwrap();
        assert_eq!(same.output_shape(&[3, 7, 8]).unwrap(), vec![8, 4, 4]);
        let grouped = Conv2d::new(4, 3).groups(2).dilation(2).padding(2);
        let grouped = grouped.build(&[6, 9, 9], &mut ctx()).unwrap();
        assert_eq!(grouped.output_shape(&[6, 9, 9]).unwrap(), vec![4, 9, 9]);
        assert_eq!(grouped.weight().dims(), &[4, 3, 3, 3]);
    }

    #[test]
    fn forward_output_matches_the_built_shape() {
        let layer = Conv2d::new(5, 3)
            .padding(Padding::Same)
            .build(&[2, 6, 7], &mut ctx())
            .unwrap();
        let out = layer.output_shape(&[2, 6, 7]).unwrap();
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
        let layer = Conv2d::new(4, 3).build(&[3, 8, 8], &mut ctx()).unwrap();
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
        let e = layer.output_shape(&[2, 8, 8]).unwrap_err();
        assert!(e.to_string().contains("built for 3 input channels"), "{e}");
    }

    #[test]
    fn the_config_reads_sizes_as_a_number_or_a_pair() {
        let c: Conv2dConfig = serde_json::from_str(
            r#"{"filters": 4, "kernel_size": [3, 5], "stride": 2, "padding": "same"}"#,
        )
        .unwrap();
        assert_eq!(
            c,
            Conv2d::new(4, 3)
                .kernel_size([3, 5])
                .stride(2)
                .padding(Padding::Same)
        );
        let e = serde_json::from_str::<Conv2dConfig>(r#"{"filters": 4, "kernel_size": -3}"#)
            .unwrap_err();
        assert!(e.to_string().contains("a pair [height, width]"), "{e}");
    }
}
