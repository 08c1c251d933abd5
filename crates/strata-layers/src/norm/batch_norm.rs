//! `BatchNorm1d` and `BatchNorm2d` (PyTorch's `nn.BatchNorm1d/2d`): normalize each channel
//! with the batch's statistics in training (updating running estimates with `momentum`) and
//! with the running estimates in evaluation, then scale by `weight` (γ) and shift by `bias` (β).

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor, no_grad};

use crate::config_serde::yes;
use crate::module::{BuildContext, LayerConfig, Mode, Module};

/// The settings both batch norms share (`momentum`, `eps`, `affine`; PyTorch's names and
/// defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormSettings {
    /// Weight of the newest batch in the running estimates (default 0.1).
    #[serde(default = "default_momentum")]
    pub momentum: f32,
    /// Added to the variance before the square root (default 1e-5).
    #[serde(default = "default_eps")]
    pub eps: f32,
    /// Whether the layer learns γ and β (default `true`).
    #[serde(default = "yes")]
    pub affine: bool,
}

fn default_momentum() -> f32 {
    0.1
}

fn default_eps() -> f32 {
    1e-5
}

impl Default for BatchNormSettings {
    fn default() -> Self {
        BatchNormSettings {
            momentum: default_momentum(),
            eps: default_eps(),
            affine: true,
        }
    }
}

/// What both layers share once built.
#[derive(Debug)]
struct Core {
    name: &'static str,
    settings: BatchNormSettings,
    channels: usize,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: Tensor,
    running_var: Tensor,
}

impl Core {
    fn build(
        name: &'static str,
        settings: BatchNormSettings,
        c: usize,
        ctx: &mut BuildContext,
    ) -> Result<Self> {
        let BatchNormSettings { momentum, eps, .. } = settings;
        if eps.is_nan() || eps <= 0.0 || !(0.0..=1.0).contains(&momentum) {
            return Err(Error::invalid(
                name,
                format!("needs eps > 0 and momentum in [0, 1]; got eps {eps}, momentum {momentum}"),
            ));
        }
        let device = ctx.device();
        let (weight, bias) = if settings.affine {
            (
                Some(Tensor::ones([c], &device)?.variable()),
                Some(Tensor::zeros([c], &device)?.variable()),
            )
        } else {
            (None, None)
        };
        Ok(Core {
            name,
            settings,
            channels: c,
            weight,
            bias,
            running_mean: Tensor::zeros([c], &device)?,
            running_var: Tensor::ones([c], &device)?,
        })
    }

    fn check_channels(&self, c: usize) -> Result<()> {
        if c == self.channels {
            return Ok(());
        }
        Err(Error::shape(
            self.name,
            format!(
                "the layer was built for {} channels but the input has {c}",
                self.channels
            ),
        ))
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let (c, rm, rv) = (self.channels, &self.running_mean, &self.running_var);
        if x.dims().get(1) != Some(&c) {
            return Err(Error::shape(
                self.name,
                format!(
                    "expects a batch [batch, {c}, ...] ({c} channels on axis 1); got {}",
                    x.shape()
                ),
            ));
        }
        let eps = self.settings.eps;
        if !mode.is_train() {
            return x.batch_norm(rm, rv, self.weight.as_ref(), self.bias.as_ref(), eps);
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
            let m = self.settings.momentum;
            // The running variance is the unbiased estimate, as in PyTorch.
            let unbiased = var.detach().mul_scalar(count as f32 / (count - 1) as f32)?;
            rm.assign(&rm.mul_scalar(1.0 - m)?.add(&mean.detach().mul_scalar(m)?)?)?;
            rv.assign(&rv.mul_scalar(1.0 - m)?.add(&unbiased.mul_scalar(m)?)?)?;
            Ok(())
        })?;
        x.batch_norm(&mean, &var, self.weight.as_ref(), self.bias.as_ref(), eps)
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
        vec![
            Param::new("running_mean", self.running_mean.clone()),
            Param::new("running_var", self.running_var.clone()),
        ]
    }
}

macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $config:ident, $shapes:literal, |$input:ident| $channels:expr) => {
        #[doc = concat!("The settings of a [`", stringify!($name), "`] (momentum, eps, affine).")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $config(pub BatchNormSettings);

        impl $config {
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
        }

        impl LayerConfig for $config {
            type Layer = $name;
            fn build(&self, $input: &[usize], ctx: &mut BuildContext) -> Result<$name> {
                let c = $name::channels($input)?;
                Ok($name(Core::build(stringify!($name), self.0, c, ctx)?))
            }
        }

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(Core);

        impl $name {
            /// The config of a layer (channels inferred at build), momentum 0.1, eps 1e-5,
            /// with γ and β.
            // The Keras spelling users look for; the built layer comes from
            // `LayerConfig::build`.
            #[allow(clippy::new_ret_no_self)]
            pub fn new() -> $config {
                $config::default()
            }
            /// The running mean `[C]`.
            pub fn running_mean(&self) -> &Tensor {
                &self.0.running_mean
            }
            /// The running (unbiased) variance `[C]`.
            pub fn running_var(&self) -> &Tensor {
                &self.0.running_var
            }
            fn channels($input: &[usize]) -> Result<usize> {
                ($channels).ok_or_else(|| {
                    Error::shape(
                        stringify!($name),
                        format!("expects per-sample input {}; got {:?}", $shapes, $input),
                    )
                })
            }
        }

        impl Module for $name {
            fn output_shape(&self, $input: &[usize]) -> Result<Vec<usize>> {
                self.0.check_channels($name::channels($input)?)?;
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
                format!("{}({})", stringify!($name), self.0.channels)
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalization of `[batch, C]` or `[batch, C, L]` (per channel `C`), built from a
    /// [`BatchNorm1dConfig`].
    ///
    /// ```
    /// use strata_layers::BatchNorm1d;
    /// let config = BatchNorm1d::new().momentum(0.1).eps(1e-5);
    /// # let _ = config;
    /// ```
    BatchNorm1d,
    BatchNorm1dConfig,
    "[channels] or [channels, length]",
    |input| match input {
        [c] | [c, _] => Some(*c),
        _ => None,
    }
);

batch_norm_layer!(
    /// Batch normalization of `[batch, C, H, W]` (per channel `C`), built from a
    /// [`BatchNorm2dConfig`].
    BatchNorm2d,
    BatchNorm2dConfig,
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
        let bn = BatchNorm2d::new()
            .momentum(0.5)
            .build(&[2, 1, 2], &mut BuildContext::new(dev, 0))
            .unwrap();
        assert_eq!(bn.output_shape(&[2, 1, 2]).unwrap(), vec![2, 1, 2]);
        // Channel 0: 1, 3, 5, 7 (mean 4, unbiased var 20/3); channel 1: all 2.
        let x = Tensor::from_vec(
            vec![1.0, 3.0, 2.0, 2.0, 5.0, 7.0, 2.0, 2.0],
            [2, 2, 1, 2],
            &dev,
        )
        .unwrap();
        bn.forward(&x, Mode::Train).unwrap();
        let rm = bn.running_mean().to_vec().unwrap();
        let rv = bn.running_var().to_vec().unwrap();
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
        let bn = BatchNorm1d::new().build(&[16], &mut ctx).unwrap();
        assert_eq!(bn.output_shape(&[16]).unwrap(), vec![16]);
        assert_eq!(bn.output_shape(&[16, 9]).unwrap(), vec![16, 9]);
        assert!(bn.output_shape(&[8]).is_err());
        assert!(BatchNorm2d::new().build(&[16], &mut ctx).is_err());
    }
}
