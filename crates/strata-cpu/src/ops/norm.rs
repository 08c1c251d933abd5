//! Per-channel statistics and affine maps on the CPU: one pass per op over contiguous
//! `spatial`-long runs, so every inner loop is a plain vectorizable slice loop.

use strata_backend::{BackendError, ChannelSpec, NormOps, Result};

use crate::{CpuBackend, CpuBuffer};

fn check(op: &'static str, lens: &[(usize, usize)]) -> Result<()> {
    for &(expected, found) in lens {
        BackendError::check_len(op, expected, found)?;
    }
    Ok(())
}

/// The `spatial`-long runs of `x` with their channel.
fn runs<'a>(x: &'a [f32], spec: &ChannelSpec) -> impl Iterator<Item = (usize, &'a [f32])> {
    let c = spec.channels.max(1);
    x.chunks_exact(spec.spatial.max(1))
        .enumerate()
        .map(move |(i, r)| (i % c, r))
}

impl NormOps for CpuBackend {
    fn channel_stats(&self, x: &CpuBuffer, spec: ChannelSpec) -> Result<(CpuBuffer, CpuBuffer)> {
        check("channel_stats", &[(spec.len(), x.len())])?;
        let c = spec.channels;
        // Sums in f64 per run: a channel of a large batch holds ~10⁵ values.
        let (mut sum, mut sq) = (vec![0.0f64; c], vec![0.0f64; c]);
        if spec.spatial > 0 {
            for (ch, r) in runs(x.as_slice(), &spec) {
                sum[ch] += f64::from(crate::math::sum(r));
            }
        }
        let m = spec.per_channel().max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / m).collect();
        if spec.spatial > 0 {
            for (ch, r) in runs(x.as_slice(), &spec) {
                let mu = mean[ch] as f32;
                let s: f32 = r.iter().map(|&v| (v - mu) * (v - mu)).sum();
                sq[ch] += f64::from(s);
            }
        }
        Ok((
            CpuBuffer::from_vec(mean.iter().map(|&v| v as f32).collect()),
            CpuBuffer::from_vec(sq.iter().map(|&v| (v / m) as f32).collect()),
        ))
    }

    fn channel_affine(
        &self,
        x: &CpuBuffer,
        scale: &CpuBuffer,
        shift: &CpuBuffer,
        spec: ChannelSpec,
    ) -> Result<CpuBuffer> {
        let c = spec.channels;
        check(
            "channel_affine",
            &[(spec.len(), x.len()), (c, scale.len()), (c, shift.len())],
        )?;
        let (sc, sh) = (scale.as_slice(), shift.as_slice());
        let mut y = vec![0.0f32; spec.len()];
        if spec.spatial > 0 {
            for ((ch, r), out) in runs(x.as_slice(), &spec).zip(y.chunks_exact_mut(spec.spatial)) {
                let (a, b) = (sc[ch], sh[ch]);
                for (o, &v) in out.iter_mut().zip(r) {
                    *o = v * a + b;
                }
            }
        }
        Ok(CpuBuffer::from_vec(y))
    }

    fn channel_affine_backward(
        &self,
        dy: &CpuBuffer,
        x: &CpuBuffer,
        spec: ChannelSpec,
    ) -> Result<(CpuBuffer, CpuBuffer)> {
        check(
            "channel_affine_backward",
            &[(spec.len(), dy.len()), (spec.len(), x.len())],
        )?;
        let c = spec.channels;
        let (mut dscale, mut dshift) = (vec![0.0f32; c], vec![0.0f32; c]);
        if spec.spatial > 0 {
            for ((ch, g), (_, v)) in runs(dy.as_slice(), &spec).zip(runs(x.as_slice(), &spec)) {
                dscale[ch] += crate::math::dot(g, v);
                dshift[ch] += crate::math::sum(g);
            }
        }
        Ok((CpuBuffer::from_vec(dscale), CpuBuffer::from_vec(dshift)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_stats_affine_and_backward_by_hand() {
        let cpu = CpuBackend::new();
        // [batch 2, channels 2, spatial 2]: channel 0 holds 1, 3, 5, 7; channel 1 holds 2, 2, 2, 2.
        let x = CpuBuffer::from_vec(vec![1.0, 3.0, 2.0, 2.0, 5.0, 7.0, 2.0, 2.0]);
        let spec = ChannelSpec {
            batch: 2,
            channels: 2,
            spatial: 2,
        };
        let (mean, var) = cpu.channel_stats(&x, spec).unwrap();
        assert_eq!(mean.as_slice(), &[4.0, 2.0]);
        assert_eq!(var.as_slice(), &[5.0, 0.0]);
        let y = cpu
            .channel_affine(
                &x,
                &CpuBuffer::from_vec(vec![2.0, 1.0]),
                &CpuBuffer::from_vec(vec![-1.0, 0.5]),
                spec,
            )
            .unwrap();
        assert_eq!(y.as_slice(), &[1.0, 5.0, 2.5, 2.5, 9.0, 13.0, 2.5, 2.5]);
        let dy = CpuBuffer::from_vec(vec![1.0; 8]);
        let (ds, db) = cpu.channel_affine_backward(&dy, &x, spec).unwrap();
        assert_eq!(ds.as_slice(), &[16.0, 8.0]);
        assert_eq!(db.as_slice(), &[4.0, 4.0]);
    }
}
