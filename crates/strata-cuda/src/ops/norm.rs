//! Per-channel statistics and affine maps on the GPU (`kernels/norm.cu`): the reductions run
//! one block per channel (two passes for the variance, mean first, as on the CPU), the affine
//! map one thread per element.

use strata_backend::{BackendError, ChannelSpec, NormOps, Result};

use crate::check::int_dim as dim;
use crate::kernels::{launch, launch_config, rows_config};
use crate::{CudaBackend, CudaBuffer};

/// Threads per block of a per-channel reduction over `per_channel` values: one block works on
/// one channel at a time, so long channels (a batch-norm over a large batch of images, with
/// few channels) get the largest blocks to keep more of the GPU busy.
pub(super) fn channel_threads(per_channel: usize) -> u32 {
    match per_channel {
        0..=8191 => 256,
        8192..=32767 => 512,
        _ => 1024,
    }
}

fn check(op: &'static str, lens: &[(usize, usize)]) -> Result<()> {
    for &(expected, found) in lens {
        BackendError::check_len(op, expected, found)?;
    }
    Ok(())
}

/// `(batch, channels, spatial)` as kernel `int`s.
fn dims(op: &'static str, spec: &ChannelSpec) -> Result<(i32, i32, i32)> {
    Ok((
        dim(op, "batch", spec.batch)?,
        dim(op, "channels", spec.channels)?,
        dim(op, "spatial", spec.spatial)?,
    ))
}

impl NormOps for CudaBackend {
    fn channel_stats(&self, x: &CudaBuffer, spec: ChannelSpec) -> Result<(CudaBuffer, CudaBuffer)> {
        let op = "channel_stats";
        check(op, &[(spec.len(), x.len())])?;
        let (n, c, s) = dims(op, &spec)?;
        let (mean, var) = (self.alloc(spec.channels)?, self.alloc(spec.channels)?);
        if spec.channels == 0 {
            return Ok((mean, var));
        }
        let (px, pm, pv) = (self.addr(x, 0), self.addr(&mean, 0), self.addr(&var, 0));
        launch!(
            self,
            Norm,
            "norm_channel_stats",
            rows_config(spec.channels, channel_threads(spec.per_channel())),
            &px,
            &pm,
            &pv,
            &n,
            &c,
            &s
        )?;
        Ok((mean, var))
    }

    fn channel_affine(
        &self,
        x: &CudaBuffer,
        scale: &CudaBuffer,
        shift: &CudaBuffer,
        spec: ChannelSpec,
    ) -> Result<CudaBuffer> {
        let op = "channel_affine";
        let ch = spec.channels;
        check(
            op,
            &[(spec.len(), x.len()), (ch, scale.len()), (ch, shift.len())],
        )?;
        let (_, c, s) = dims(op, &spec)?;
        let total = spec.len();
        let y = self.alloc(total)?;
        if total == 0 {
            return Ok(y);
        }
        let (px, psc, psh, py, t) = (
            self.addr(x, 0),
            self.addr(scale, 0),
            self.addr(shift, 0),
            self.addr(&y, 0),
            total as u64,
        );
        launch!(
            self,
            Norm,
            "norm_channel_affine",
            launch_config(total),
            &px,
            &psc,
            &psh,
            &py,
            &t,
            &c,
            &s
        )?;
        Ok(y)
    }

    fn channel_affine_backward(
        &self,
        dy: &CudaBuffer,
        x: &CudaBuffer,
        spec: ChannelSpec,
    ) -> Result<(CudaBuffer, CudaBuffer)> {
        let op = "channel_affine_backward";
        check(op, &[(spec.len(), dy.len()), (spec.len(), x.len())])?;
        let (n, c, s) = dims(op, &spec)?;
        let (dscale, dshift) = (self.alloc(spec.channels)?, self.alloc(spec.channels)?);
        if spec.channels == 0 {
            return Ok((dscale, dshift));
        }
        let (pd, px, ps, pb) = (
            self.addr(dy, 0),
            self.addr(x, 0),
            self.addr(&dscale, 0),
            self.addr(&dshift, 0),
        );
        launch!(
            self,
            Norm,
            "norm_channel_affine_backward",
            rows_config(spec.channels, channel_threads(spec.per_channel())),
            &pd,
            &px,
            &ps,
            &pb,
            &n,
            &c,
            &s
        )?;
        Ok((dscale, dshift))
    }
}

#[cfg(test)]
mod tests {
    use super::channel_threads;

    #[test]
    fn channel_threads_are_whole_warps_within_the_block_limit() {
        for n in [0, 1, 8191, 8192, 32767, 32768, usize::MAX] {
            let t = channel_threads(n);
            assert!(
                t.is_multiple_of(32) && (32..=1024).contains(&t),
                "{n} -> {t}"
            );
        }
        assert!(channel_threads(1 << 20) > channel_threads(100));
    }
}
