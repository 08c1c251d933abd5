//! Reference per-channel statistics and affine maps: the definitions, in `f64`.

use strata_backend::{BackendError, ChannelSpec, NormOps, Result};

use super::{RefBuffer, ReferenceBackend, round};

/// The channel of flat position `i`.
fn channel(i: usize, spec: &ChannelSpec) -> usize {
    (i / spec.spatial.max(1)) % spec.channels.max(1)
}

impl NormOps for ReferenceBackend {
    fn channel_stats(&self, x: &RefBuffer, spec: ChannelSpec) -> Result<(RefBuffer, RefBuffer)> {
        BackendError::check_len("channel_stats", spec.len(), x.0.len())?;
        let m = spec.per_channel().max(1) as f64;
        let mut mean = vec![0.0f64; spec.channels];
        for (i, &v) in x.0.iter().enumerate() {
            mean[channel(i, &spec)] += f64::from(v) / m;
        }
        let mut var = vec![0.0f64; spec.channels];
        for (i, &v) in x.0.iter().enumerate() {
            let c = channel(i, &spec);
            var[c] += (f64::from(v) - mean[c]).powi(2) / m;
        }
        Ok((
            RefBuffer(mean.into_iter().map(round).collect()),
            RefBuffer(var.into_iter().map(round).collect()),
        ))
    }

    fn channel_affine(
        &self,
        x: &RefBuffer,
        scale: &RefBuffer,
        shift: &RefBuffer,
        spec: ChannelSpec,
    ) -> Result<RefBuffer> {
        BackendError::check_len("channel_affine", spec.len(), x.0.len())?;
        BackendError::check_len("channel_affine", spec.channels, scale.0.len())?;
        BackendError::check_len("channel_affine", spec.channels, shift.0.len())?;
        let y =
            x.0.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let c = channel(i, &spec);
                    round(f64::from(v) * f64::from(scale.0[c]) + f64::from(shift.0[c]))
                })
                .collect();
        Ok(RefBuffer(y))
    }

    fn channel_affine_backward(
        &self,
        dy: &RefBuffer,
        x: &RefBuffer,
        spec: ChannelSpec,
    ) -> Result<(RefBuffer, RefBuffer)> {
        BackendError::check_len("channel_affine_backward", spec.len(), dy.0.len())?;
        BackendError::check_len("channel_affine_backward", spec.len(), x.0.len())?;
        let (mut ds, mut db) = (vec![0.0f64; spec.channels], vec![0.0f64; spec.channels]);
        for (i, (&g, &v)) in dy.0.iter().zip(&x.0).enumerate() {
            let c = channel(i, &spec);
            ds[c] += f64::from(g) * f64::from(v);
            db[c] += f64::from(g);
        }
        Ok((
            RefBuffer(ds.into_iter().map(round).collect()),
            RefBuffer(db.into_iter().map(round).collect()),
        ))
    }
}
