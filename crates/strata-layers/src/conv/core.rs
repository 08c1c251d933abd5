//! What `Conv1d` and `Conv2d` share: options, parameters, build-time shape inference and the
//! forward call through `Tensor::conv2d`. The weight is stored in the layer's own PyTorch
//! layout (`[O, C/g, k]` for 1-D, `[O, C/g, kh, kw]` for 2-D) and viewed as 4-D to run.

use strata_core::{Conv2dOptions, Error, Param, Result, Tensor};

use super::{Padding, axis_padding};
use crate::init::Init;
use crate::module::BuildContext;

#[derive(Debug)]
pub(crate) struct ConvCore {
    pub name: &'static str,
    pub filters: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: Padding,
    pub dilation: [usize; 2],
    pub groups: usize,
    pub use_bias: bool,
    pub init: Init,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
}

impl ConvCore {
    pub fn new(name: &'static str, filters: usize, kernel: [usize; 2]) -> Self {
        ConvCore {
            name,
            filters,
            kernel,
            stride: [1, 1],
            padding: Padding::Valid,
            dilation: [1, 1],
            groups: 1,
            use_bias: true,
            init: Init::TorchLinearDefault,
            weight: None,
            bias: None,
        }
    }

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

    /// Checks the layer's own settings and the per-sample input `[C, H, W]`, creates the
    /// parameters (weight in `weight_shape(C / groups)`), returns the per-sample output.
    pub fn build(
        &mut self,
        c: usize,
        h: usize,
        w: usize,
        weight_shape: impl Fn(usize) -> Vec<usize>,
        ctx: &mut BuildContext,
    ) -> Result<[usize; 3]> {
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
        let output = [self.filters, out(0), out(1)];
        let cg = c / self.groups;
        if let Some(weight) = &self.weight {
            let built = weight.dims()[1] * self.groups;
            if built != c {
                return Err(Error::shape(
                    self.name,
                    format!("the layer was built for {built} input channels but the input has {c}"),
                ));
            }
            return Ok(output);
        }
        let (weight_seed, bias_seed) = (ctx.next_seed(), ctx.next_seed());
        let fan_in = cg * self.kernel[0] * self.kernel[1];
        let fan_out = self.filters / self.groups * self.kernel[0] * self.kernel[1];
        let device = ctx.device();
        let weight = self
            .init
            .tensor(&weight_shape(cg), fan_in, fan_out, weight_seed, &device)?;
        self.bias = if self.use_bias {
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
        self.weight = Some(weight.variable());
        Ok(output)
    }

    /// Runs the convolution on a 4-D batch.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let Some(weight) = &self.weight else {
            return Err(Error::invalid(
                "forward",
                format!(
                    "{} was not built: call Sequential::build or Module::build with the input shape",
                    self.name
                ),
            ));
        };
        let wd = weight.dims();
        let w4 = weight.reshape([wd[0], wd[1], self.kernel[0], self.kernel[1]])?;
        let o = self.options(x.dims()[2], x.dims()[3]);
        x.conv2d(&w4, self.bias.as_ref(), o)
    }

    pub fn parameters(&self) -> Vec<Param> {
        let mut params = Vec::with_capacity(2);
        if let Some(w) = &self.weight {
            params.push(Param::new("weight", w.clone()));
        }
        if let Some(b) = &self.bias {
            params.push(Param::new("bias", b.clone()));
        }
        params
    }
}
