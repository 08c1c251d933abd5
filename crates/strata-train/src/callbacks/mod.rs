//! Callbacks: code the trainer runs at fixed points of `fit` (train begin, epoch begin,
//! batch end, epoch end, train end) with a [`Context`] that reads the history and the
//! latest values, stops training, changes the learning rate, snapshots and restores weights,
//! and writes checkpoints.
//!
//! Callbacks keep no state a checkpoint would lose: those that track a best value rebuild it
//! from the history in [`Callback::on_train_begin`], so a resumed run behaves like an
//! uninterrupted one.
//!
//! Module map: `early_stopping`, `checkpoint` (ModelCheckpoint), `plateau`
//! (ReduceLrOnPlateau), `nan` (TerminateOnNan), `csv_logger`, `monitor` (the shared
//! "is this value better" rule).

mod checkpoint;
mod csv_logger;
mod early_stopping;
mod monitor;
mod nan;
mod plateau;

pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use monitor::MonitorMode;
pub use nan::TerminateOnNan;
pub use plateau::ReduceLrOnPlateau;

pub use crate::trainer::{Context, WeightsSnapshot};

use strata_core::Result;

/// Code run by the trainer during `fit`. Every method does nothing by default; an error
/// stops training and is returned by `fit`.
pub trait Callback {
    /// Before the first batch of `fit` (also after resuming from a checkpoint).
    fn on_train_begin(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Before the first batch of an epoch (not called when resuming mid-epoch).
    fn on_epoch_begin(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// After each batch: [`Context::batch_loss`] is its loss, NaN or infinite when the
    /// trainer refused to update the weights from it.
    fn on_batch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// After an epoch and its validation pass: [`Context::logs`] holds its values.
    fn on_epoch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// After the last epoch, or when training stopped.
    fn on_train_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }
}
