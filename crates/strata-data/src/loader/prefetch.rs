//! Background prefetch: a worker thread assembles (and augments) the next batches while the
//! caller trains on the current one. Batches arrive in the same order, with the same
//! contents, as without prefetch.

use std::sync::mpsc;

use super::{Batch, DataLoader};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};

impl<D: Dataset + Sync + ?Sized> DataLoader<'_, D> {
    /// Calls `f` with every batch of `epoch`, in order. With [`DataLoader::prefetch`] set, a
    /// worker thread assembles up to that many batches ahead; otherwise each batch is
    /// assembled on this thread when needed. Stops at the first error, from the data or
    /// from `f`, and returns it: `f` may return any error type a [`DataError`] converts into
    /// (`strata_core::Error` in a training loop).
    ///
    /// ```
    /// use strata_data::{DataLoader, InMemoryDataset};
    /// let data = InMemoryDataset::new((0..10).map(|i| i as f32).collect(), vec![1],
    ///                                 vec![0.0; 10], vec![]).unwrap();
    /// let mut seen = 0;
    /// DataLoader::new(&data, 4).unwrap().prefetch(2)
    ///     .for_each_batch(0, |batch| { seen += batch.len(); Ok::<_, strata_data::DataError>(()) })
    ///     .unwrap();
    /// assert_eq!(seen, 10);
    /// ```
    pub fn for_each_batch<E, F>(&self, epoch: u64, mut f: F) -> std::result::Result<(), E>
    where
        E: From<DataError>,
        F: FnMut(Batch) -> std::result::Result<(), E>,
    {
        let mut batches = self.epoch(epoch);
        if self.prefetch == 0 {
            return batches.try_for_each(|b| f(b?));
        }
        let (to_trainer, from_worker) = mpsc::sync_channel::<Result<Batch>>(self.prefetch);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for batch in batches {
                    let failed = batch.is_err();
                    // A closed channel means the trainer stopped early: stop too.
                    if to_trainer.send(batch).is_err() || failed {
                        return;
                    }
                }
            });
            // Dropping the receiver on an early return ends the worker's next send.
            from_worker.into_iter().try_for_each(|b| f(b?))
        })
    }
}
