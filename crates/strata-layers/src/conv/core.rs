//! What `Conv1d` and `Conv2d` share: the 2-D view of their settings, build-time shape
//! inference and parameter creation, and the forward call through `Tensor::conv2d`. The
//! weight is stored in the layer's own PyTorch layout (`[O, C/g, k]` for 1-D,
//! `[O, C/g, kh, kw]` for 2-D) and viewed as 4-D to run.

use strata_core::{Conv2dOptions, Error, Param, Result, Tensor};

use super::{Padding, axis_padding};
use crate::init::Init;
use crate::module::BuildContext;

/// A convolution's settings seen as 2-D (a 1-D layer's have height 1).
#[derive(Debug, Clone)]
pub(crate) struct ConvSettings {
    pub name: &'static str,
    pub filters: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: Padding,
    pub dilation: [usize; 2],
    pub groups: usize,
    pub use_bias: bool,
    pub init: Init,
}

impl ConvSettings {
    /// The options for an input plane of `h × w`.
    pub fn options(&self, h: usize, w: usize) -> Conv2dOptions {
        let explicit = match self.padding {
            Padding::Explicit(p) => p,
            _ => [0, 0],
        };
        // A 1-D layer runs on a height-1 plane, which is never padded.
        let explicit_h = if self.name == "Conv1d" {
            0
        } else {
            explicit[0]
        };
        let eff = |a: usize| self.dilation[a] * (self.kernel[a].max(1) - 1) + 1;
        let (top, bottom) = axis_padding(self.padding, explicit_h, h, eff(0), self.stride[0]);
        let (left, right) = axis_padding(self.padding, explicit[1], w, eff(1), self.stride[1]);
        Conv2dOptions {
            stride: self.stride,
            padding: [top, bottom, left, right],
            dilation: self.dilation,
            groups: self.groups,
        }
    }

    /// Checks the settings and the per-sample input `[C, H, W]`; returns the per-sample
    /// output `[filters, H', W']`.
    pub fn output(&self, c: usize, h: usize, w: usize) -> Result<[usize; 3]> {
        if self.filters == 0 {
            return Err(Error::invalid(self.name, "needs at least one filter"));
        }
        if self.kernel.contains(&0) || self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err(Error::invalid(
                self.name,
                format!(
                    "kernel {:?}, stride {:?} and dilation {:?} must be at least 1",
                    self.kernel, self.stride, self.dilation
                ),
            ));
        }
        if self.groups == 0
            || !c.is_multiple_of(self.groups)
            || !self.filters.is_multiple_of(self.groups)
        {
            return Err(Error::shape(
                self.name,
                format!(
                    "groups = {} must divide the input channels ({c}) and the filters ({})",
                    self.groups, self.filters
                ),
            ));
        }
        let o = self.options(h, w);
        let padded = [
            h + o.padding[0] + o.padding[1],
            w + o.padding[2] + o.padding[3],
        ];
        let eff = |a: usize| self.dilation[a] * (self.kernel[a] - 1) + 1;
        if eff(0) > padded[0] || eff(1) > padded[1] {
            return Err(Error::shape(
                self.name,
                format!(
                    "kernel {}x{} (dilated {}x{}) is larger than the padded input {}x{}",
                    self.kernel[0],
                    self.kernel[1],
                    eff(0),
                    eff(1),
                    padded[0],
                    padded[1]
                ),
            ));
        }
        let out = |a: usize| (padded[a] - eff(a)) / self.stride[a] + 1;
        Ok([self.filters, out(0), out(1)])
    }

    /// Checks the input `[C, H, W]` and creates the parameters (weight in
    /// `weight_shape(C / groups)`).
    pub fn build(
        self,
        c: usize,
        h: usize,
        w: usize,
        weight_shape: impl Fn(usize) -> Vec<usize>,
        ctx: &mut BuildContext,
    ) -> Result<ConvCore> {
        self.output(c, h, w)?;
        let cg = c / self.groups;
        let (weight_seed, bias_seed) = (ctx.next_seed(), ctx.next_seed());
        let fan_in = cg * self.kernel[0] * self.kernel[1];
        let fan_out = self.filters / self.groups * self.kernel[0] * self.kernel[1];
        let device = ctx.device();
        let weight = self
            .init
            .tensor(&weight_shape(cg), fan_in, fan_out, weight_seed, &device)?;
        let bias = if self.use_bias {
            let init = match self.init {
                Init::TorchLinearDefault => Init::TorchLinearDefault,
                _ => Init::Zeros,
            };
            Some(
                init.tensor(&[self.filters], fan_in, fan_out, bias_seed, &device)?
                    .variable(),
            )
        } else {
            None
        };
        Ok(ConvCore {
            settings: self,
            weight: weight.variable(),
            bias,
        })
    }
}

/// A built convolution: its settings and parameters.
#[derive(Debug)]
pub(crate) struct ConvCore {
    pub settings: ConvSettings,
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl ConvCore {
    /// The per-sample output for the input `[C, H, W]`, which must have the channels the
    /// layer was built for.
    pub fn output(&self, c: usize, h: usize, w: usize) -> Result<[usize; 3]> {
        let built = self.weight.dims()[1] * self.settings.groups;
        if built != c {
            return Err(Error::shape(
                self.settings.name,
                format!("the layer was built for {built} input channels but the input has {c}"),
            ));
        }
        self.settings.output(c, h, w)
    }

    /// Runs the convolution on a 4-D batch.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let wd = self.weight.dims();
        let k = self.settings.kernel;
        let w4 = self.weight.reshape([wd[0], wd[1], k[0], k[1]])?;
        let o = self.settings.options(x.dims()[2], x.dims()[3]);
        x.conv2d(&w4, self.bias.as_ref(), o)
    }

    pub fn parameters(&self) -> Vec<Param> {
        let mut params = vec![Param::new("weight", self.weight.clone())];
        if let Some(b) = &self.bias {
            params.push(Param::new("bias", b.clone()));
        }
        params
    }
}
