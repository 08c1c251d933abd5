//! Datasets: indexed samples, each a features array and a targets array of fixed shapes,
//! held in host memory. The `Dataset` trait is what a [`crate::DataLoader`] reads;
//! [`InMemoryDataset`] is the plain implementation over two `Vec<f32>`.

mod in_memory;

pub use in_memory::InMemoryDataset;

use crate::error::Result;

/// Samples addressable by index, each with features of [`Dataset::sample_shape`] and targets
/// of [`Dataset::target_shape`] (an empty shape is one scalar, like a class label).
///
/// Copying into caller-owned slices keeps a loader's batch assembly free of per-sample
/// allocation.
pub trait Dataset {
    /// Number of samples.
    fn len(&self) -> usize;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape of one sample's features (`[1, 28, 28]` for an MNIST image).
    fn sample_shape(&self) -> &[usize];

    /// Shape of one sample's targets (`[]` for a class label).
    fn target_shape(&self) -> &[usize];

    /// Copies sample `index` into `features` (length: the product of
    /// [`Dataset::sample_shape`]) and `targets` (the product of [`Dataset::target_shape`]).
    /// An index out of range or a slice of the wrong length is an error.
    fn copy_sample(&self, index: usize, features: &mut [f32], targets: &mut [f32]) -> Result<()>;
}

/// Number of values in an array of `shape` (1 for the empty shape of a scalar).
pub(crate) fn elem_count(shape: &[usize]) -> usize {
    shape.iter().product()
}
