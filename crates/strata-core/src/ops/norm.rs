//! Per-channel statistics and affine maps of `[batch, channels, ...]` tensors, with backward
//! rules, and batch normalization composed from them (two passes forward: statistics, then
//! one fused normalize-scale-shift; the per-channel arithmetic in between is on `[C]` vectors).

use strata_backend::{ChannelSpec, NormOps, Shape};

use crate::autograd::record;
use crate::storage::{map_buffer_pair, map_buffers2_pair, map_buffers3};
use crate::{Error, Result, Tensor};

impl Tensor {
    /// The `[batch, channels, spatial]` view of a tensor of rank ≥ 2.
    fn channel_spec(&self, op: &'static str) -> Result<ChannelSpec> {
        if self.rank() < 2 {
            return Err(Error::shape(
                op,
                format!(
                    "input must be [batch, channels, ...] (rank 2 or more); got {}",
                    self.shape()
                ),
            ));
        }
        let d = self.dims();
        Ok(ChannelSpec {
            batch: d[0],
            channels: d[1],
            spatial: d[2..].iter().product(),
        })
    }

    /// `(mean, var)` of each channel of `[N, C, ...]` over the batch and the positions, each
    /// `[C]`; the variance is the biased one (divided by the count), as batch norm uses.
    pub fn channel_stats(&self) -> Result<(Tensor, Tensor)> {
        let spec = self.channel_spec("channel_stats")?;
        let (mean, var) = map_buffer_pair!(&*self.read(), |be, x| be.channel_stats(x, spec));
        let c = Shape::new(vec![spec.channels]);
        let m = spec.per_channel().max(1) as f32;
        let mean = Tensor::from_storage(mean, c.clone(), None);
        // d mean / dx = 1/M: x·0 + g/M per channel.
        let mean_node = record("channel_mean", &[self], || {
            move |g: &Tensor, inp: &[Tensor]| {
                let zeros = Tensor::zeros([spec.channels], &g.device())?;
                let dx = inp[0].channel_affine_raw(&zeros, &g.div_scalar(m)?, spec)?;
                Ok(vec![Some(dx)])
            }
        });
        // d var / dx = 2(x − mean)/M (the mean's own dependence on x cancels).
        let var_node = record("channel_var", &[self], || {
            let mean = mean.detach();
            move |g: &Tensor, inp: &[Tensor]| {
                let a = g.mul_scalar(2.0 / m)?;
                let b = a.mul(&mean)?.neg()?;
                Ok(vec![Some(inp[0].channel_affine_raw(&a, &b, spec)?)])
            }
        });
        let var = Tensor::from_storage(var, c, var_node);
        let mean = match mean_node {
            Some(n) => Tensor::from_parts_shared(&mean, n),
            None => mean,
        };
        Ok((mean, var))
    }

    /// `y[n, c, ...] = x[n, c, ...] · scale[c] + shift[c]` for `[N, C, ...]` and `[C]` vectors
    /// (batch norm's normalize step; with `scale = 1`, a bias over channels).
    pub fn channel_affine(&self, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
        let spec = self.channel_spec("channel_affine")?;
        for (name, t) in [("scale", scale), ("shift", shift)] {
            if t.dims() != [spec.channels] {
                return Err(Error::shape(
                    "channel_affine",
                    format!(
                        "input {} has {} channels so {name} must be [{}]; got {}",
                        self.shape(),
                        spec.channels,
                        spec.channels,
                        t.shape()
                    ),
                ));
            }
        }
        let y = self.channel_affine_raw(scale, shift, spec)?;
        let node = record("channel_affine", &[self, scale, shift], || {
            move |g: &Tensor, inp: &[Tensor]| {
                let (x, scale, shift) = (&inp[0], &inp[1], &inp[2]);
                let dx = if x.requires_grad() {
                    let zeros = Tensor::zeros([spec.channels], &g.device())?;
                    Some(g.channel_affine_raw(scale, &zeros, spec)?)
                } else {
                    None
                };
                let (ds, db) = if scale.requires_grad() || shift.requires_grad() {
                    let (ds, db) = map_buffers2_pair!(
                        "channel_affine_backward",
                        &*g.read(),
                        &*x.read(),
                        |be, gg, xx| be.channel_affine_backward(gg, xx, spec)
                    );
                    let c = Shape::new(vec![spec.channels]);
                    (
                        scale
                            .requires_grad()
                            .then(|| Tensor::from_storage(ds, c.clone(), None)),
                        shift
                            .requires_grad()
                            .then(|| Tensor::from_storage(db, c, None)),
                    )
                } else {
                    (None, None)
                };
                Ok(vec![dx, ds, db])
            }
        });
        Ok(match node {
            Some(n) => Tensor::from_parts_shared(&y, n),
            None => y,
        })
    }

    /// The affine map without recording (shapes already checked).
    fn channel_affine_raw(
        &self,
        scale: &Tensor,
        shift: &Tensor,
        spec: ChannelSpec,
    ) -> Result<Tensor> {
        let s = map_buffers3!(
            "channel_affine",
            &*self.read(),
            &*scale.read(),
            &*shift.read(),
            |be, x, a, b| be.channel_affine(x, a, b, spec)
        );
        Ok(Tensor::from_storage(s, self.shape().clone(), None))
    }

    /// Batch normalization of `[N, C, ...]` with the given per-channel `mean` and `var`
    /// (`[C]`; the batch's own for training, running estimates for evaluation):
    /// `γ·(x − mean)/√(var + ε) + β`, computed as one fused `channel_affine` pass.
    /// Gradients flow to `x`, `gamma`, `beta`, and to `mean`/`var` when they depend on `x`.
    pub fn batch_norm(
        &self,
        mean: &Tensor,
        var: &Tensor,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        eps: f32,
    ) -> Result<Tensor> {
        let spec = self.channel_spec("batch_norm")?;
        for (name, t) in [
            ("mean", Some(mean)),
            ("var", Some(var)),
            ("gamma", gamma),
            ("beta", beta),
        ] {
            if let Some(t) = t
                && t.dims() != [spec.channels]
            {
                return Err(Error::shape(
                    "batch_norm",
                    format!(
                        "input {} has {} channels so {name} must be [{}]; got {}",
                        self.shape(),
                        spec.channels,
                        spec.channels,
                        t.shape()
                    ),
                ));
            }
        }
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(Error::invalid(
                "batch_norm",
                format!("eps must be positive and finite; got {eps}"),
            ));
        }
        let inv_std = var.add_scalar(eps)?.sqrt()?.recip()?;
        let scale = match gamma {
            Some(g) => g.mul(&inv_std)?,
            None => inv_std,
        };
        let shift = mean.mul(&scale)?.neg()?;
        let shift = match beta {
            Some(b) => shift.add(b)?,
            None => shift,
        };
        self.channel_affine(&scale, &shift)
    }
}
