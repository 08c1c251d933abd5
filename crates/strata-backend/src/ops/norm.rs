//! Per-channel statistics and affine maps of NCHW-like tensors: the pieces batch
//! normalization is made of, and the bias add over channels.
//!
//! A tensor is viewed as `[batch, channels, spatial]` (`spatial` = H·W, L, or 1 for
//! `[batch, features]`); "per channel" means over the batch and spatial positions.

use crate::{BufferOps, Result};

/// The `[batch, channels, spatial]` view of a per-channel op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSpec {
    /// Samples.
    pub batch: usize,
    /// Channels (features).
    pub channels: usize,
    /// Positions per sample and channel.
    pub spatial: usize,
}

impl ChannelSpec {
    /// Elements of the tensor.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.spatial
    }
    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Values per channel: `batch · spatial`.
    pub fn per_channel(&self) -> usize {
        self.batch * self.spatial
    }
}

/// Per-channel op family (batch normalization, bias over channels).
pub trait NormOps: BufferOps {
    /// `(mean, var)`, each `[channels]`: the mean and the biased variance (divided by
    /// `batch · spatial`) of each channel. An empty channel gives mean 0 and variance 0.
    fn channel_stats(
        &self,
        x: &Self::Buffer,
        spec: ChannelSpec,
    ) -> Result<(Self::Buffer, Self::Buffer)>;
    /// `y[n, c, s] = x[n, c, s] · scale[c] + shift[c]`: batch norm's fused normalize (with
    /// `scale = γ/√(var + ε)`, `shift = β − mean·scale`) and, with `scale = 1`, a bias add.
    fn channel_affine(
        &self,
        x: &Self::Buffer,
        scale: &Self::Buffer,
        shift: &Self::Buffer,
        spec: ChannelSpec,
    ) -> Result<Self::Buffer>;
    /// `(Σ dy·x, Σ dy)` per channel, each `[channels]`: the gradients of `scale` and `shift`
    /// in [`NormOps::channel_affine`], in one pass over `dy` and `x`.
    fn channel_affine_backward(
        &self,
        dy: &Self::Buffer,
        x: &Self::Buffer,
        spec: ChannelSpec,
    ) -> Result<(Self::Buffer, Self::Buffer)>;
}
