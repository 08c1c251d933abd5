//! `DataLoader`: the order in which an epoch visits a dataset (sequential, or shuffled with a
//! seed derived from the loader's seed and the epoch number), the assembly of batches with
//! optional augmentations, and (in `prefetch`) assembling the next batch on a worker thread.
//!
//! An epoch's order depends only on `(seed, epoch)`, so a run resumed from a checkpoint at
//! epoch `e` sees exactly the batches it would have seen. Batches are filled through
//! [`Dataset::copy_sample`]; [`Batches::next_into`] refills a caller's batch in place, so a
//! training loop can run without allocating per batch.

mod batch;
mod prefetch;

pub use batch::Batch;

use std::sync::Arc;

use crate::augment::{Augment, SampleRng};
use crate::dataset::{Dataset, elem_count};
use crate::error::{DataError, Result};
use crate::rng::SplitMix64;

/// Cuts a dataset into batches, epoch by epoch.
///
/// ```
/// use strata_data::{DataLoader, InMemoryDataset};
/// let data = InMemoryDataset::new((0..10).map(|i| i as f32).collect(), vec![1],
///                                 vec![0.0; 10], vec![]).unwrap();
/// let loader = DataLoader::new(&data, 4).unwrap().shuffle(42).drop_last(true);
/// assert_eq!(loader.num_batches(), 2);
/// for batch in loader.epoch(0) {
///     let batch = batch.unwrap();
///     assert_eq!(batch.feature_shape, vec![4, 1]);
/// }
/// ```
#[derive(Debug)]
pub struct DataLoader<'a, D: Dataset + ?Sized> {
    dataset: &'a D,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
    augmentations: Vec<Arc<dyn Augment>>,
    prefetch: usize,
}

// Not derived: the derive would require `D: Clone`, but only the reference is cloned.
impl<D: Dataset + ?Sized> Clone for DataLoader<'_, D> {
    fn clone(&self) -> Self {
        DataLoader {
            augmentations: self.augmentations.clone(),
            ..*self
        }
    }
}

impl<'a, D: Dataset + ?Sized> DataLoader<'a, D> {
    /// A loader over `dataset` with batches of `batch_size` (> 0), in dataset order, keeping
    /// the last partial batch.
    pub fn new(dataset: &'a D, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::invalid(
                "DataLoader::new",
                "a batch size > 0",
                "0",
            ));
        }
        Ok(DataLoader {
            dataset,
            batch_size,
            shuffle_seed: None,
            drop_last: false,
            augmentations: Vec::new(),
            prefetch: 0,
        })
    }

    /// Shuffles every epoch: epoch `e` uses an order drawn from `(seed, e)`, so epochs differ
    /// from each other and the same seed gives the same orders.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Whether to leave out a last batch smaller than the batch size (default: keep it).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Adds an augmentation, applied to every sample's features in the order added. Its
    /// random draws come from the shuffle seed (0 without one), the epoch and the sample's
    /// place in the epoch.
    pub fn augment(mut self, augmentation: impl Augment + 'static) -> Self {
        self.augmentations.push(Arc::new(augmentation));
        self
    }

    /// Assemble up to `depth` batches ahead on a worker thread in
    /// [`DataLoader::for_each_batch`] and [`DataLoader::for_each_batch_from`] (the path
    /// `strata-train`'s `Trainer` reads batches through); 0, the default, assembles each
    /// batch on the caller's thread when it is needed.
    pub fn prefetch(mut self, depth: usize) -> Self {
        self.prefetch = depth;
        self
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// The sample indices epoch `epoch` visits, in order (all of them, before `drop_last`).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle_seed {
            SplitMix64::for_round(seed, epoch).shuffle(&mut order);
        }
        order
    }

    /// The batches of epoch `epoch` (counted from 0).
    pub fn epoch(&self, epoch: u64) -> Batches<'a, D> {
        let mut order = self.order(epoch);
        order.truncate(
            self.num_batches()
                .saturating_mul(self.batch_size)
                .min(order.len()),
        );
        let augment_seed =
            SplitMix64::for_round(self.shuffle_seed.unwrap_or(0) ^ AUGMENT_SALT, epoch).next_u64();
        Batches {
            dataset: self.dataset,
            order,
            batch_size: self.batch_size,
            next: 0,
            augmentations: self.augmentations.clone(),
            augment_seed,
        }
    }
}

/// The batches of one epoch, in order. Iterating yields new batches; [`Batches::next_into`]
/// reuses the caller's.
#[derive(Debug)]
pub struct Batches<'a, D: Dataset + ?Sized> {
    dataset: &'a D,
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    augmentations: Vec<Arc<dyn Augment>>,
    augment_seed: u64,
}

/// Keeps the augmentation streams apart from the shuffle streams of the same seed.
const AUGMENT_SALT: u64 = 0xA076_1D64_78BD_642F;

impl<D: Dataset + ?Sized> Batches<'_, D> {
    /// Moves past the next `count` batches without assembling them (a resumed epoch starts
    /// in its middle). The batches after them are the same as if the skipped ones had been
    /// read: augmentations draw from each sample's place in the epoch, not from a stream
    /// that reading advances.
    pub fn skip_batches(&mut self, count: usize) {
        self.next = count
            .saturating_mul(self.batch_size)
            .saturating_add(self.next)
            .min(self.order.len());
    }

    /// Fills `batch` with the next batch, reusing its buffers, and returns `Ok(true)`; returns
    /// `Ok(false)` (leaving `batch` as it was) when the epoch is over.
    pub fn next_into(&mut self, batch: &mut Batch) -> Result<bool> {
        if self.next >= self.order.len() {
            return Ok(false);
        }
        let start = self.next;
        let end = (start + self.batch_size).min(self.order.len());
        let indices = &self.order[start..end];
        self.next = end;
        let (sample_shape, target_shape) =
            (self.dataset.sample_shape(), self.dataset.target_shape());
        let (f, t) = (elem_count(sample_shape), elem_count(target_shape));
        if f == 0 || t == 0 {
            return Err(DataError::invalid(
                "DataLoader",
                "sample and target shapes without a zero dimension",
                format!("sample shape {sample_shape:?}, target shape {target_shape:?}"),
            ));
        }
        let n = indices.len();
        batch.features.resize(n * f, 0.0);
        batch.targets.resize(n * t, 0.0);
        for ((&index, x), y) in indices
            .iter()
            .zip(batch.features.chunks_exact_mut(f))
            .zip(batch.targets.chunks_exact_mut(t))
        {
            self.dataset.copy_sample(index, x, y)?;
        }
        if !self.augmentations.is_empty() {
            for (k, x) in batch.features.chunks_exact_mut(f).enumerate() {
                let mut rng = SampleRng::new(self.augment_seed, (start + k) as u64);
                for a in &self.augmentations {
                    a.apply(x, sample_shape, &mut rng);
                }
            }
        }
        set_shape(&mut batch.feature_shape, n, sample_shape);
        set_shape(&mut batch.target_shape, n, target_shape);
        Ok(true)
    }
}

impl<D: Dataset + ?Sized> Iterator for Batches<'_, D> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        let mut batch = Batch::default();
        match self.next_into(&mut batch) {
            Ok(true) => Some(Ok(batch)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl<D: Dataset + ?Sized> ExactSizeIterator for Batches<'_, D> {}

/// `shape ← [n, ..sample]`, reusing `shape`'s allocation.
fn set_shape(shape: &mut Vec<usize>, n: usize, sample: &[usize]) {
    shape.clear();
    shape.push(n);
    shape.extend_from_slice(sample);
}
