//! `Batch`: a run of samples stacked along a leading batch dimension, in host memory, and its
//! conversion to tensors (with the `tensor` feature).

/// Samples stacked along a new first dimension: `features` has shape `feature_shape`
/// (`[batch, ..sample_shape]`) and `targets` has shape `target_shape`
/// (`[batch, ..target_shape]`), both row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The features of every sample, one after the other.
    pub features: Vec<f32>,
    /// `[batch, ..sample_shape]`.
    pub feature_shape: Vec<usize>,
    /// The targets of every sample, one after the other.
    pub targets: Vec<f32>,
    /// `[batch, ..target_shape]`.
    pub target_shape: Vec<usize>,
}

impl Batch {
    /// Number of samples in the batch.
    pub fn len(&self) -> usize {
        self.feature_shape.first().copied().unwrap_or(0)
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The features and targets as tensors on `device`: one host-to-device copy each.
    #[cfg(feature = "tensor")]
    pub fn to_tensors(
        &self,
        device: &strata_core::Device,
    ) -> strata_core::Result<(strata_core::Tensor, strata_core::Tensor)> {
        Ok((
            strata_core::Tensor::from_slice(&self.features, self.feature_shape.clone(), device)?,
            strata_core::Tensor::from_slice(&self.targets, self.target_shape.clone(), device)?,
        ))
    }

    /// Like [`Batch::to_tensors`] but gives the buffers to the tensors: on the CPU the data is
    /// not copied at all.
    #[cfg(feature = "tensor")]
    pub fn into_tensors(
        self,
        device: &strata_core::Device,
    ) -> strata_core::Result<(strata_core::Tensor, strata_core::Tensor)> {
        Ok((
            strata_core::Tensor::from_vec(self.features, self.feature_shape, device)?,
            strata_core::Tensor::from_vec(self.targets, self.target_shape, device)?,
        ))
    }
}
