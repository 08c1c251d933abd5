//! `BatchSource`: what the trainer reads batches from, epoch by epoch. A `DataLoader` over any
//! dataset is one; the trait keeps `Trainer::fit` free of the dataset's type parameter.

use strata_data::{Batch, DataLoader, Dataset};

/// Batches of an epoch, in the order the epoch visits them. The order must depend only on
/// the epoch number (and the source's own settings), so that a run resumed at epoch `e`, batch
/// `k` sees exactly the batches an uninterrupted run would — `DataLoader` guarantees this.
pub trait BatchSource {
    /// Batches per epoch.
    fn num_batches(&self) -> usize;

    /// The batch size (the last batch of an epoch may be smaller).
    fn batch_size(&self) -> usize;

    /// The batches of epoch `epoch` (counted from 0), starting at batch `skip`.
    fn batches_from(
        &self,
        epoch: u64,
        skip: usize,
    ) -> Box<dyn Iterator<Item = strata_data::Result<Batch>> + '_>;
}

impl<D: Dataset + ?Sized> BatchSource for DataLoader<'_, D> {
    fn num_batches(&self) -> usize {
        DataLoader::num_batches(self)
    }

    fn batch_size(&self) -> usize {
        DataLoader::batch_size(self)
    }

    fn batches_from(
        &self,
        epoch: u64,
        skip: usize,
    ) -> Box<dyn Iterator<Item = strata_data::Result<Batch>> + '_> {
        let mut batches = self.epoch(epoch);
        // Skipped batches are assembled and dropped: resuming is rare, and this keeps the
        // loader's augmentation streams (indexed by position in the epoch) exactly aligned.
        let mut skipped = 0;
        let mut scratch = Batch::default();
        while skipped < skip {
            match batches.next_into(&mut scratch) {
                Ok(true) => skipped += 1,
                Ok(false) => break,
                Err(e) => return Box::new(std::iter::once(Err(e))),
            }
        }
        Box::new(batches)
    }
}
