//! `BatchSource`: what the trainer reads batches from, epoch by epoch. A `DataLoader` over any
//! dataset is one; the trait keeps `Trainer::fit` free of the dataset's type parameter.

use std::ops::ControlFlow;

use strata_core::{Error, Result};
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

    /// Calls `f` with the batches of epoch `epoch` from batch `skip` on, in order, until they
    /// end, `f` returns [`ControlFlow::Break`], or either fails (that error is returned). The
    /// trainer reads every batch through this method. By default it walks
    /// [`BatchSource::batches_from`] on the calling thread; a `DataLoader` with
    /// `.prefetch(n)` assembles the batches on its worker thread, `n` ahead.
    fn for_each_batch(
        &self,
        epoch: u64,
        skip: usize,
        f: &mut dyn FnMut(Batch) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        for batch in self.batches_from(epoch, skip) {
            if f(batch.map_err(Error::from)?)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// A dataset must be `Sync` to train on: the loader's prefetch worker reads it from its own
/// thread.
impl<D: Dataset + Sync + ?Sized> BatchSource for DataLoader<'_, D> {
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
        batches.skip_batches(skip);
        Box::new(batches)
    }

    fn for_each_batch(
        &self,
        epoch: u64,
        skip: usize,
        f: &mut dyn FnMut(Batch) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.for_each_batch_from(epoch, skip, f)
    }
}
