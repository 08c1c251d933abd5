//! `InMemoryDataset`: features and targets of every sample in two contiguous `Vec<f32>`.

use super::{Dataset, elem_count};
use crate::error::{DataError, Result};
use crate::rng::SplitMix64;

/// A dataset held in memory: sample `i`'s features are `features[i·F .. (i+1)·F]` and its
/// targets `targets[i·T .. (i+1)·T]`, with `F` and `T` the element counts of the sample and
/// target shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct InMemoryDataset {
    features: Vec<f32>,
    sample_shape: Vec<usize>,
    targets: Vec<f32>,
    target_shape: Vec<usize>,
    len: usize,
}

impl InMemoryDataset {
    /// Mutable access to the features, for in-place preprocessing (e.g. a scaler's
    /// `transform_in_place`).
    pub fn features_mut(&mut self) -> &mut [f32] {
        &mut self.features
    }

    /// A dataset from features and targets laid out sample after sample. The sample and target
    /// shapes must have no zero dimension, and both arrays must hold the same number of whole
    /// samples.
    pub fn new(
        features: Vec<f32>,
        sample_shape: Vec<usize>,
        targets: Vec<f32>,
        target_shape: Vec<usize>,
    ) -> Result<Self> {
        const CONTEXT: &str = "InMemoryDataset::new";
        let (f, t) = (elem_count(&sample_shape), elem_count(&target_shape));
        if f == 0 || t == 0 {
            return Err(DataError::invalid(
                CONTEXT,
                "sample and target shapes without a zero dimension",
                format!("sample shape {sample_shape:?}, target shape {target_shape:?}"),
            ));
        }
        if !features.len().is_multiple_of(f)
            || !targets.len().is_multiple_of(t)
            || features.len() / f != targets.len() / t
        {
            return Err(DataError::invalid(
                CONTEXT,
                format!(
                    "features and targets for the same number of samples of shapes \
                     {sample_shape:?} ({f} values each) and {target_shape:?} ({t} each)"
                ),
                format!(
                    "{} feature values and {} target values",
                    features.len(),
                    targets.len()
                ),
            ));
        }
        let len = features.len() / f;
        Ok(InMemoryDataset {
            features,
            sample_shape,
            targets,
            target_shape,
            len,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Shape of one sample's features.
    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    /// Shape of one sample's targets.
    pub fn target_shape(&self) -> &[usize] {
        &self.target_shape
    }

    /// All features, sample after sample.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// All targets, sample after sample.
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// Sample `index` as (features, targets), or `None` past the end.
    pub fn get(&self, index: usize) -> Option<(&[f32], &[f32])> {
        if index >= self.len {
            return None;
        }
        let (f, t) = (
            elem_count(&self.sample_shape),
            elem_count(&self.target_shape),
        );
        Some((
            &self.features[index * f..(index + 1) * f],
            &self.targets[index * t..(index + 1) * t],
        ))
    }

    /// A new dataset of the samples at `indices`, in that order (repeats allowed).
    pub fn subset(&self, indices: &[usize]) -> Result<InMemoryDataset> {
        let (f, t) = (
            elem_count(&self.sample_shape),
            elem_count(&self.target_shape),
        );
        let mut features = Vec::with_capacity(indices.len() * f);
        let mut targets = Vec::with_capacity(indices.len() * t);
        for &i in indices {
            let (x, y) = self.get(i).ok_or_else(|| {
                DataError::invalid(
                    "InMemoryDataset::subset",
                    format!("sample indices below {}", self.len),
                    format!("index {i}"),
                )
            })?;
            features.extend_from_slice(x);
            targets.extend_from_slice(y);
        }
        Ok(InMemoryDataset {
            features,
            sample_shape: self.sample_shape.clone(),
            targets,
            target_shape: self.target_shape.clone(),
            len: indices.len(),
        })
    }

    /// Splits into two datasets after a shuffle seeded by `seed`: the first holds
    /// `round(fraction · len)` samples, the second the rest (a train/validation split).
    /// `fraction` must be in `[0, 1]`.
    pub fn split(&self, fraction: f32, seed: u64) -> Result<(InMemoryDataset, InMemoryDataset)> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(DataError::invalid(
                "InMemoryDataset::split",
                "a fraction in [0, 1]",
                fraction.to_string(),
            ));
        }
        let mut order: Vec<usize> = (0..self.len).collect();
        SplitMix64::new(seed).shuffle(&mut order);
        let first = ((f64::from(fraction) * self.len as f64).round() as usize).min(self.len);
        let (a, b) = order.split_at(first);
        Ok((self.subset(a)?, self.subset(b)?))
    }

    /// The same data with each sample viewed as `sample_shape` (same element count), e.g.
    /// `[784]` instead of `[1, 28, 28]` for a dense network.
    pub fn reshape_samples(mut self, sample_shape: Vec<usize>) -> Result<InMemoryDataset> {
        if elem_count(&sample_shape) != elem_count(&self.sample_shape) {
            return Err(DataError::invalid(
                "InMemoryDataset::reshape_samples",
                format!(
                    "a shape of {} elements like {:?}",
                    elem_count(&self.sample_shape),
                    self.sample_shape
                ),
                format!("{sample_shape:?}"),
            ));
        }
        self.sample_shape = sample_shape;
        Ok(self)
    }
}

impl Dataset for InMemoryDataset {
    fn len(&self) -> usize {
        self.len
    }

    fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    fn target_shape(&self) -> &[usize] {
        &self.target_shape
    }

    fn copy_sample(&self, index: usize, features: &mut [f32], targets: &mut [f32]) -> Result<()> {
        let (x, y) = self.get(index).ok_or_else(|| {
            DataError::invalid(
                "InMemoryDataset::copy_sample",
                format!("an index below {}", self.len),
                format!("index {index}"),
            )
        })?;
        if features.len() != x.len() || targets.len() != y.len() {
            return Err(DataError::invalid(
                "InMemoryDataset::copy_sample",
                format!(
                    "buffers of {} feature and {} target values",
                    x.len(),
                    y.len()
                ),
                format!("{} and {}", features.len(), targets.len()),
            ));
        }
        features.copy_from_slice(x);
        targets.copy_from_slice(y);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five samples of shape [2] holding (i, −i), target i.
    fn five() -> InMemoryDataset {
        let features = (0..5).flat_map(|i| [i as f32, -(i as f32)]).collect();
        let targets = (0..5).map(|i| i as f32).collect();
        InMemoryDataset::new(features, vec![2], targets, vec![]).unwrap()
    }

    #[test]
    fn get_returns_the_sample_slices() {
        let d = five();
        assert_eq!(d.len(), 5);
        assert_eq!(d.get(3), Some((&[3.0, -3.0][..], &[3.0][..])));
        assert_eq!(d.get(5), None);
    }

    #[test]
    fn mismatched_sample_counts_are_refused() {
        let err = InMemoryDataset::new(vec![0.0; 6], vec![2], vec![0.0; 4], vec![]).unwrap_err();
        assert!(
            err.to_string()
                .contains("6 feature values and 4 target values"),
            "{err}"
        );
        assert!(InMemoryDataset::new(vec![0.0; 5], vec![2], vec![0.0; 2], vec![]).is_err());
        assert!(InMemoryDataset::new(vec![], vec![0], vec![], vec![]).is_err());
    }

    #[test]
    fn subset_takes_samples_in_the_given_order() {
        let s = five().subset(&[4, 1, 1]).unwrap();
        assert_eq!(s.features(), &[4.0, -4.0, 1.0, -1.0, 1.0, -1.0]);
        assert_eq!(s.targets(), &[4.0, 1.0, 1.0]);
        assert!(five().subset(&[5]).is_err());
    }

    #[test]
    fn split_partitions_all_samples_reproducibly() {
        let d = five();
        let (a, b) = d.split(0.6, 9).unwrap();
        assert_eq!((a.len(), b.len()), (3, 2));
        let mut all: Vec<f32> = a.targets().iter().chain(b.targets()).copied().collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(d.split(0.6, 9).unwrap(), (a, b));
        assert!(d.split(1.5, 9).is_err());
    }

    #[test]
    fn copy_sample_checks_index_and_buffer_lengths() {
        let d = five();
        let (mut x, mut y) = ([0.0; 2], [0.0; 1]);
        d.copy_sample(2, &mut x, &mut y).unwrap();
        assert_eq!((x, y), ([2.0, -2.0], [2.0]));
        assert!(d.copy_sample(5, &mut x, &mut y).is_err());
        assert!(d.copy_sample(0, &mut [0.0; 3], &mut y).is_err());
    }

    #[test]
    fn reshape_samples_keeps_data_and_checks_count() {
        let d = five().reshape_samples(vec![1, 2]).unwrap();
        assert_eq!(d.sample_shape(), &[1, 2]);
        assert!(d.reshape_samples(vec![3]).is_err());
    }
}
