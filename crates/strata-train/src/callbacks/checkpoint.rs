//! `ModelCheckpoint`: write checkpoints into a directory — the latest state after every
//! epoch (and optionally every N steps), the best epoch, and numbered epochs.

use std::path::{Path, PathBuf};

use strata_core::Result;

use super::monitor::{Monitor, MonitorMode};
use super::{Callback, Context};

/// Writes checkpoints (see [`crate::Checkpoint`]) into a directory:
///
/// - `last.safetensors` after every epoch, and every `n` optimizer steps with
///   [`ModelCheckpoint::every_steps`] (mid-epoch: the resume point after a crash);
/// - `best.safetensors` when the monitored value improves ([`ModelCheckpoint::save_best`]);
/// - `epoch-NNNN.safetensors` every `n` epochs ([`ModelCheckpoint::every_epochs`]).
///
/// Every file is written atomically. A batch whose loss was not finite writes nothing, so the
/// files always hold the last good state.
#[derive(Debug, Clone)]
pub struct ModelCheckpoint {
    dir: PathBuf,
    best: Option<Monitor>,
    best_value: Option<f64>,
    every_epochs: Option<u64>,
    every_steps: Option<u64>,
    last_saved_step: Option<u64>,
}

impl ModelCheckpoint {
    /// Checkpoints in `dir` (created when needed): `last.safetensors` after every epoch.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelCheckpoint {
            dir: dir.into(),
            best: None,
            best_value: None,
            every_epochs: None,
            every_steps: None,
            last_saved_step: None,
        }
    }

    /// Also keeps `best.safetensors`, the epoch with the best `monitor` value (direction by
    /// name, [`MonitorMode::Auto`]).
    pub fn save_best(mut self, monitor: &str) -> Self {
        self.best = Some(Monitor::new(monitor, MonitorMode::Auto));
        self
    }

    /// Sets whether smaller or larger is better for [`ModelCheckpoint::save_best`].
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        if let Some(m) = &self.best {
            self.best = Some(Monitor::new(&m.name, mode));
        }
        self
    }

    /// Also writes `epoch-NNNN.safetensors` (1-based) every `n` epochs.
    pub fn every_epochs(mut self, n: u64) -> Self {
        self.every_epochs = Some(n.max(1));
        self
    }

    /// Also rewrites `last.safetensors` every `n` optimizer steps.
    pub fn every_steps(mut self, n: u64) -> Self {
        self.every_steps = Some(n.max(1));
        self
    }

    /// The latest checkpoint in `dir`: the file to resume from.
    pub fn last_path(dir: impl AsRef<Path>) -> PathBuf {
        dir.as_ref().join("last.safetensors")
    }

    /// The best epoch's checkpoint in `dir`.
    pub fn best_path(dir: impl AsRef<Path>) -> PathBuf {
        dir.as_ref().join("best.safetensors")
    }

    /// The checkpoint of epoch `epoch` (1-based) in `dir`.
    pub fn epoch_path(dir: impl AsRef<Path>, epoch: u64) -> PathBuf {
        dir.as_ref().join(format!("epoch-{epoch:04}.safetensors"))
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        if let Some(m) = &self.best {
            self.best_value = m.replay(ctx.history()).0;
        }
        self.last_saved_step = None;
        Ok(())
    }

    fn on_batch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let Some(n) = self.every_steps else {
            return Ok(());
        };
        let finite = ctx.batch_loss().is_some_and(f64::is_finite);
        let step = ctx.step();
        if finite && step > 0 && step.is_multiple_of(n) && self.last_saved_step != Some(step) {
            ctx.save_checkpoint(ModelCheckpoint::last_path(&self.dir))?;
            self.last_saved_step = Some(step);
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let checkpoint = ctx.checkpoint()?;
        checkpoint.save(ModelCheckpoint::last_path(&self.dir))?;
        self.last_saved_step = Some(ctx.step());
        let finished = ctx.epoch() + 1;
        if let Some(n) = self.every_epochs
            && finished.is_multiple_of(n)
        {
            checkpoint.save(ModelCheckpoint::epoch_path(&self.dir, finished))?;
        }
        if let (Some(monitor), Some(log)) = (&self.best, ctx.logs()) {
            let value = monitor.read("ModelCheckpoint", log)?;
            if monitor.improves(value, self.best_value) {
                self.best_value = Some(value);
                checkpoint.save(ModelCheckpoint::best_path(&self.dir))?;
            }
        }
        Ok(())
    }
}
