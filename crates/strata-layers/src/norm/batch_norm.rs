//! `BatchNorm1d` and `BatchNorm2d` (PyTorch's `nn.BatchNorm1d/2d`): normalize each channel
//! with the batch's statistics in training (updating running estimates with `momentum`) and
//! with the running estimates in evaluation, then scale by `weight` (γ) and shift by `bias` (β).

use strata_core::{Error, Param, Result, Tensor, no_grad};

use crate::module::{BuildContext, Mode, Module};

/// What both layers share.
#[derive(Debug)]
struct Core {
    name: &'static str,
    momentum: f32,
    eps: f32,
    affine: bool,
    channels: Option<usize>,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: Option<Tensor>,
    running_var: Option<Tensor>,
}

impl Core {
    fn new(name: &'static str) -> Self {
        Core {
            name,
            momentum: 0.1,
            eps: 1e-5,
            affine: true,
            channels: None,
            weight: None,
            bias: None,
            running_mean: None,
            running_var: None,
        }
    }

    fn build(&mut self, c: usize, ctx: &mut BuildContext) -> Result<()> {
        if let Some(built) = self.channels {
            if built != c {
                return Err(Error::shape(
                    self.name,
                    format!("the layer was built for {built} channels but the input has {c}"),
                ));
            }
            return Ok(());
        }
        if self.eps.is_nan() || self.eps <= 0.0 || !(0.0..=1.0).contains(&self.momentum) {
            return Err(Error::invalid(
                self.name,
                format!(
                    "needs eps > 0 and momentum in [0, 1]; got eps {}, momentum {}",
                    self.eps, self.momentum
                ),
            ));
        }
        let device = ctx.device();
        if self.affine {
            self.weight = Some(Tensor::ones([c], &device)?.variable());
            self.bias = Some(Tensor::zeros([c], &device)?.variable());
        }
        self.running_mean = Some(Tensor::zeros([c], &device)?);
        self.running_var = Some(Tensor::ones([c], &device)?);
        self.channels = Some(c);
        Ok(())
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let (Some(c), Some(rm), Some(rv)) = (self.channels, &self.running_mean, &self.running_var)
        else {
            return Err(Error::invalid(
                "forward",
                format!(
                    "{} was not built: call Sequential::build or Module::build with the input shape",
                    self.name
                ),
            ));
        };
        if x.dims().get(1) != Some(&c) {
            return Err(Error::shape(
                self.name,
                format!(
                    "expects a batch [batch, {c}, ...] ({c} channels on axis 1); got {}",
                    x.shape()
                ),
            ));
        }
        if !mode.is_train() {
            return x.batch_norm(rm, rv, self.weight.as_ref(), self.bias.as_ref(), self.eps);
        }
        let count = x.elem_count() / c.max(1);
        if count < 2 {
            return Err(Error::shape(
                self.name,
                format!(
                    "training needs more than one value per channel to estimate a variance; got \
                     input {}",
                    x.shape()
                ),
            ));
        }
        let (mean, var) = x.channel_stats()?;
        no_grad(|| -> Result<()> {
            let m = self.momentum;
            // The running variance is the unbiased estimate, as in PyTorch.
            let unbiased = var.detach().mul_scalar(count as f32 / (count - 1) as f32)?;
            rm.assign(&rm.mul_scalar(1.0 - m)?.add(&mean.detach().mul_scalar(m)?)?)?;
            rv.assign(&rv.mul_scalar(1.0 - m)?.add(&unbiased.mul_scalar(m)?)?)?;
            Ok(())
        })?;
        x.batch_norm(
            &mean,
            &var,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )
    }

    fn parameters(&self) -> Vec<Param> {
        let mut p = Vec::new();
        if let Some(w) = &self.weight {
            p.push(Param::new("weight", w.clone()));
        }
        if let Some(b) = &self.bias {
            p.push(Param::new("bias", b.clone()));
        }
        p
    }

    fn buffers(&self) -> Vec<Param> {
        let mut p = Vec::new();
        if let Some(m) = &self.running_mean {
            p.push(Param::new("running_mean", m.clone()));
        }
        if let Some(v) = &self.running_var {
            p.push(Param::new("running_var", v.clone()));
        }
        p
    }

    fn kind(&self) -> String {
        match self.channels {
            Some(c) => format!("{}({c})", self.name),
            None => format!("{}()", self.name),
        }
    }
}

macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $shapes:literal, |$input:ident| $channels:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(Core);

        impl $name {
            /// An unbuilt layer (channels inferred), momentum 0.1, eps 1e-5, with γ and β.
            pub fn new() -> Self {
                $name(Core::new(stringify!($name)))
            }
            /// Weight of the newest batch in the running estimates (default 0.1).
            pub fn momentum(mut self, momentum: f32) -> Self {
                self.0.momentum = momentum;
                self
            }
            /// Added to the variance before the square root (default 1e-5).
            pub fn eps(mut self, eps: f32) -> Self {
                self.0.eps = eps;
                self
            }
            /// Whether the layer learns γ and β (default `true`).
            pub fn affine(mut self, affine: bool) -> Self {
                self.0.affine = affine;
                self
            }
            /// The running mean `[C]`, once built.
            pub fn running_mean(&self) -> Option<&Tensor> {
                self.0.running_mean.as_ref()
            }
            /// The running (unbiased) variance `[C]`, once built.
            pub fn running_var(&self) -> Option<&Tensor> {
                self.0.running_var.as_ref()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl Module for $name {
            fn build(&mut self, $input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
                let Some(c) = ($channels) else {
                    return Err(Error::shape(
                        stringify!($name),
                        format!("expects per-sample input {}; got {:?}", $shapes, $input),
                    ));
                };
                self.0.build(c, ctx)?;
                Ok($input.to_vec())
            }
            fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
                self.0.forward(x, mode)
            }
            fn parameters(&self) -> Vec<Param> {
                self.0.parameters()
            }
            fn buffers(&self) -> Vec<Param> {
                self.0.buffers()
            }
            fn kind(&self) -> String {
                self.0.kind()
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalization of `[batch, C]` or `[batch, C, L]` (per channel `C`).
    ///
    /// ```
    /// use strata_layers::BatchNorm1d;
    /// let bn = BatchNorm1d::new().momentum(0.1).eps(1e-5);
    /// ```
    BatchNorm1d,
    "[channels] or [channels, length]",
    |input| match input {
        [c] | [c, _] => Some(*c),
        _ => None,
    }
);

batch_norm_layer!(
    /// Batch normalization of `[batch, C, H, W]` (per channel `C`).
    BatchNorm2d,
    "[channels, height, width]",
    |input| match input {
        [c, _, _] => Some(*c),
        _ => None,
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    #[test]
    fn training_updates_the_running_statistics_and_eval_uses_them() {
        let dev = Device::best();
        let mut bn = BatchNorm2d::new().momentum(0.5);
        assert_eq!(
            bn.build(&[2, 1, 2], &mut BuildContext::new(dev, 0))
                .unwrap(),
            vec![2, 1, 2]
        );
        // Channel 0: 1, 3, 5, 7 (mean 4, unbiased var 20/3); channel 1: all 2.
        let x = Tensor::from_vec(
            vec![1.0, 3.0, 2.0, 2.0, 5.0, 7.0, 2.0, 2.0],
            [2, 2, 1, 2],
            &dev,
        )
        .unwrap();
        bn.forward(&x, Mode::Train).unwrap();
        let rm = bn.running_mean().unwrap().to_vec().unwrap();
        let rv = bn.running_var().unwrap().to_vec().unwrap();
        assert_eq!(rm, vec![2.0, 1.0]);
        assert!((rv[0] - (0.5 + 10.0 / 3.0)).abs() < 1e-5 && (rv[1] - 0.5).abs() < 1e-6);
        let y = bn.forward(&x, Mode::Eval).unwrap().to_vec().unwrap();
        let want = (1.0 - 2.0) / (rv[0] + 1e-5).sqrt();
        assert!((y[0] - want).abs() < 1e-5, "{} vs {want}", y[0]);
        assert_eq!(bn.buffers().len(), 2);
        assert_eq!(bn.parameters().len(), 2);
        assert_eq!(bn.kind(), "BatchNorm2d(2)");
    }

    #[test]
    fn batch_norm_1d_accepts_features_and_sequences() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        assert_eq!(BatchNorm1d::new().build(&[16], &mut ctx).unwrap(), vec![16]);
        assert_eq!(
            BatchNorm1d::new().build(&[16, 9], &mut ctx).unwrap(),
            vec![16, 9]
        );
        assert!(BatchNorm2d::new().build(&[16], &mut ctx).is_err());
    }
}
