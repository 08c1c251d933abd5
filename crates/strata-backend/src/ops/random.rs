//! Seeded random buffers. Every backend draws element `i` as `crate::random::uniform_at(seed, i)`
//! (or `normal_at`), so the same seed gives the same tensor on every device.

use crate::{BufferOps, Result};

/// Random op family.
pub trait RandomOps: BufferOps {
    /// `len` draws uniform in `[low, high)`.
    fn random_uniform(&self, len: usize, low: f32, high: f32, seed: u64) -> Result<Self::Buffer>;
    /// `len` draws from `N(mean, std²)`.
    fn random_normal(&self, len: usize, mean: f32, std: f32, seed: u64) -> Result<Self::Buffer>;
    /// Inverted dropout in one pass: `mask[i] = uniform_at(seed, i) >= p ? 1/(1−p) : 0` and
    /// `y = x ⊙ mask`. Returns `(y, mask)`; the mask is what the backward pass multiplies by.
    fn dropout(&self, x: &Self::Buffer, p: f32, seed: u64) -> Result<(Self::Buffer, Self::Buffer)>;
}
