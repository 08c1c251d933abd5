//! Seeded random buffers and dropout, drawn with `strata_backend::random` so that element `i`
//! is a pure function of `(seed, i)` and every device produces the same numbers.

use strata_backend::random::{normal_at, uniform_at};
use strata_backend::{RandomOps, Result};

use crate::check::invalid;
use crate::{CpuBackend, CpuBuffer};

impl RandomOps for CpuBackend {
    fn random_uniform(&self, len: usize, low: f32, high: f32, seed: u64) -> Result<CpuBuffer> {
        let span = high - low;
        let out = (0..len)
            .map(|i| low + span * uniform_at(seed, i as u64))
            .collect();
        Ok(CpuBuffer::from_vec(out))
    }

    fn random_normal(&self, len: usize, mean: f32, std: f32, seed: u64) -> Result<CpuBuffer> {
        let out = (0..len)
            .map(|i| mean + std * normal_at(seed, i as u64))
            .collect();
        Ok(CpuBuffer::from_vec(out))
    }

    fn dropout(&self, x: &CpuBuffer, p: f32, seed: u64) -> Result<(CpuBuffer, CpuBuffer)> {
        if !(0.0..1.0).contains(&p) {
            return Err(invalid(
                "dropout",
                format!("probability {p} is outside [0, 1)"),
            ));
        }
        let keep = 1.0 / (1.0 - p);
        let mut mask = Vec::with_capacity(x.len());
        let mut y = Vec::with_capacity(x.len());
        for (i, &v) in x.as_slice().iter().enumerate() {
            let m = if uniform_at(seed, i as u64) >= p {
                keep
            } else {
                0.0
            };
            mask.push(m);
            y.push(v * m);
        }
        Ok((CpuBuffer::from_vec(y), CpuBuffer::from_vec(mask)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> CpuBackend {
        CpuBackend::new()
    }

    #[test]
    fn uniform_element_i_is_the_counter_based_draw() {
        let got = cpu().random_uniform(5, -2.0, 2.0, 42).unwrap();
        for (i, &v) in got.as_slice().iter().enumerate() {
            assert_eq!(v, -2.0 + 4.0 * uniform_at(42, i as u64));
            assert!((-2.0..2.0).contains(&v));
        }
    }

    #[test]
    fn normal_element_i_is_the_counter_based_draw() {
        let got = cpu().random_normal(5, 1.0, 0.5, 7).unwrap();
        for (i, &v) in got.as_slice().iter().enumerate() {
            assert_eq!(v, 1.0 + 0.5 * normal_at(7, i as u64));
        }
    }

    #[test]
    fn dropout_scales_kept_elements_and_zeroes_the_rest() {
        let x = CpuBuffer::from_vec((0..1000).map(|i| i as f32).collect());
        let (y, mask) = cpu().dropout(&x, 0.25, 9).unwrap();
        let mut kept = 0;
        for i in 0..1000 {
            let keep = uniform_at(9, i as u64) >= 0.25;
            let m = mask.as_slice()[i];
            assert_eq!(m, if keep { 1.0 / 0.75 } else { 0.0 });
            assert_eq!(y.as_slice()[i], i as f32 * m);
            kept += keep as usize;
        }
        assert!((700..800).contains(&kept), "{kept}");
    }

    #[test]
    fn dropout_with_zero_probability_keeps_everything() {
        let x = CpuBuffer::from_vec(vec![1.0, 2.0]);
        let (y, mask) = cpu().dropout(&x, 0.0, 1).unwrap();
        assert_eq!(y.as_slice(), &[1.0, 2.0]);
        assert_eq!(mask.as_slice(), &[1.0, 1.0]);
    }

    #[test]
    fn dropout_rejects_probability_outside_unit_interval() {
        let x = CpuBuffer::from_vec(vec![1.0]);
        for p in [1.0, -0.1, f32::NAN] {
            assert!(cpu().dropout(&x, p, 1).is_err(), "{p}");
        }
    }
}
