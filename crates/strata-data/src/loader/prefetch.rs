//! Background prefetch: a worker thread assembles (and augments) the next batches while the
//! caller trains on the current one. Batches arrive in the same order, with the same
//! contents, as without prefetch.

use std::ops::ControlFlow;
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
        self.for_each_batch_from(epoch, 0, |batch| {
            f(batch).map(|()| ControlFlow::Continue(()))
        })
    }

    /// [`DataLoader::for_each_batch`] from batch `first` of the epoch on (counted from 0; a
    /// resumed epoch starts in its middle), stopping early, without an error, when `f`
    /// returns [`ControlFlow::Break`]. The batches are those the same positions of
    /// [`DataLoader::epoch`] hold, with or without prefetch.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use strata_data::{DataLoader, InMemoryDataset};
    /// let data = InMemoryDataset::new((0..10).map(|i| i as f32).collect(), vec![1],
    ///                                 vec![0.0; 10], vec![]).unwrap();
    /// let mut firsts = Vec::new();
    /// DataLoader::new(&data, 3).unwrap().prefetch(2)
    ///     .for_each_batch_from(0, 1, |batch| {
    ///         firsts.push(batch.features[0]);
    ///         let flow = if firsts.len() == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
    ///         Ok::<_, strata_data::DataError>(flow)
    ///     })
    ///     .unwrap();
    /// assert_eq!(firsts, [3.0, 6.0]);
    /// ```
    pub fn for_each_batch_from<E, F>(
        &self,
        epoch: u64,
        first: usize,
        mut f: F,
    ) -> std::result::Result<(), E>
    where
        E: From<DataError>,
        F: FnMut(Batch) -> std::result::Result<ControlFlow<()>, E>,
    {
        let mut batches = self.epoch(epoch);
        batches.skip_batches(first);
        if self.prefetch == 0 {
            return feed(batches, &mut f);
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
            // `feed` consumes the receiver, so it is dropped on any return (an error or a
            // break) and the worker's next send fails: the scope's join never waits on it.
            feed(from_worker, &mut f)
        })
    }
}

/// Hands `batches` to `f` in order until they end, `f` breaks, or either fails.
fn feed<E, F>(
    batches: impl IntoIterator<Item = Result<Batch>>,
    f: &mut F,
) -> std::result::Result<(), E>
where
    E: From<DataError>,
    F: FnMut(Batch) -> std::result::Result<ControlFlow<()>, E>,
{
    for batch in batches {
        if f(batch?)?.is_break() {
            break;
        }
    }
    Ok(())
}
