//! Reference random buffers: element `i` is a pure function of `(seed, i)` through
//! `strata_backend::random`, so every backend must produce the same draws.

use strata_backend::random::{normal_at, uniform_at};
use strata_backend::{RandomOps, Result};

use super::{RefBuffer, ReferenceBackend, invalid, round};

impl RandomOps for ReferenceBackend {
    fn random_uniform(&self, len: usize, low: f32, high: f32, seed: u64) -> Result<RefBuffer> {
        let (low, high) = (f64::from(low), f64::from(high));
        let out = (0..len as u64)
            .map(|i| round(low + (high - low) * f64::from(uniform_at(seed, i))))
            .collect();
        Ok(RefBuffer(out))
    }

    fn random_normal(&self, len: usize, mean: f32, std: f32, seed: u64) -> Result<RefBuffer> {
        let (mean, std) = (f64::from(mean), f64::from(std));
        let out = (0..len as u64)
            .map(|i| round(mean + std * f64::from(normal_at(seed, i))))
            .collect();
        Ok(RefBuffer(out))
    }

    fn dropout(&self, x: &RefBuffer, p: f32, seed: u64) -> Result<(RefBuffer, RefBuffer)> {
        if !(0.0..=1.0).contains(&p) {
            return Err(invalid(
                "dropout",
                format!("probability {p} is outside [0, 1]"),
            ));
        }
        // The contract states the mask in f32 terms (`uniform_at(seed, i) >= p ? 1/(1−p) : 0`),
        // and f32 division is correctly rounded on every device, so the mask is computed
        // exactly as written rather than in f64: backends must match it bit for bit.
        let keep_scale = 1.0f32 / (1.0f32 - p);
        let mask: Vec<f32> = (0..x.0.len() as u64)
            .map(|i| {
                if uniform_at(seed, i) >= p {
                    keep_scale
                } else {
                    0.0
                }
            })
            .collect();
        let y =
            x.0.iter()
                .zip(&mask)
                .map(|(&x, &m)| round(f64::from(x) * f64::from(m)))
                .collect();
        Ok((RefBuffer(y), RefBuffer(mask)))
    }
}
