//! The counter-based random generator every backend must use, so that the same seed gives the
//! same numbers on every device (initializers, dropout masks).
//!
//! Element `i` of a stream with seed `s` is a pure function of `(s, i)`: a SplitMix64 hash of
//! `s + (i + 1) * φ`. A GPU kernel computes the same 64-bit integer arithmetic per thread, so
//! uniform draws are bit-identical across backends; normal draws go through `ln`/`cos` and agree
//! to the precision of those functions.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The 64-bit hash of element `index` of the stream `seed`.
#[inline]
pub fn hash_at(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in `[0, 1)` with 24 random bits (exact in `f32`).
#[inline]
pub fn uniform_at(seed: u64, index: u64) -> f32 {
    (hash_at(seed, index) >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// A standard normal draw (Box-Muller on the uniforms at `2 * index` and `2 * index + 1`).
#[inline]
pub fn normal_at(seed: u64, index: u64) -> f32 {
    // Shift u1 into (0, 1] so that ln never sees zero.
    let u1 = 1.0 - uniform_at(seed, 2 * index);
    let u2 = uniform_at(seed, 2 * index + 1);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Derives an independent seed from a base seed and a stream number (for per-layer seeds).
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    hash_at(seed ^ 0xA076_1D64_78BD_642F, stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_in_unit_interval_and_roughly_flat() {
        let n = 100_000u64;
        let mut sum = 0.0f64;
        for i in 0..n {
            let u = uniform_at(7, i);
            assert!((0.0..1.0).contains(&u));
            sum += u as f64;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.01);
    }

    #[test]
    fn normal_has_unit_variance() {
        let n = 100_000u64;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for i in 0..n {
            let z = normal_at(3, i) as f64;
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        assert!(mean.abs() < 0.02);
        assert!((s2 / n as f64 - mean * mean - 1.0).abs() < 0.03);
    }

    #[test]
    fn different_seeds_give_different_streams() {
        assert_ne!(uniform_at(1, 0), uniform_at(2, 0));
        assert_eq!(uniform_at(1, 5), uniform_at(1, 5));
    }
}
