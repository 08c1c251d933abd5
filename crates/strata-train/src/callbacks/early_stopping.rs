//! `EarlyStopping`: stop when a monitored value has not improved for `patience` epochs, and
//! optionally put back the weights of the best epoch.

use strata_core::Result;

use super::monitor::{Monitor, MonitorMode};
use super::{Callback, Context, WeightsSnapshot};

/// Stops training when `monitor` (a logged name such as `"val_loss"`) has not improved by
/// more than `min_delta` for `patience` epochs in a row.
///
/// With `restore_best_weights(true)` it keeps a copy of the weights of the best epoch and
/// puts it back when training ends (by this stop or otherwise) after a worse epoch. After a
/// resume the best value is rebuilt from the history, but weights from before the resume
/// cannot be restored (keep them with [`super::ModelCheckpoint::save_best`]).
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    restore_best: bool,
    best: Option<f64>,
    wait: usize,
    best_weights: Option<WeightsSnapshot>,
}

impl EarlyStopping {
    /// Watches `monitor` with the direction guessed from its name ([`MonitorMode::Auto`]),
    /// patience 0 and min_delta 0, keeping the last weights.
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: Monitor::new(monitor, MonitorMode::Auto),
            patience: 0,
            restore_best: false,
            best: None,
            wait: 0,
            best_weights: None,
        }
    }

    /// Whether smaller or larger is better.
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        let delta = self.monitor.min_delta;
        self.monitor = Monitor::new(&self.monitor.name, mode);
        self.monitor.min_delta = delta;
        self
    }

    /// Epochs without improvement before stopping (Keras: 0 stops at the first one).
    pub fn patience(mut self, epochs: usize) -> Self {
        self.patience = epochs;
        self
    }

    /// The smallest change that counts as an improvement (absolute).
    pub fn min_delta(mut self, delta: f64) -> Self {
        self.monitor.min_delta = delta.abs();
        self
    }

    /// Whether to restore the best epoch's weights at the end.
    pub fn restore_best_weights(mut self, on: bool) -> Self {
        self.restore_best = on;
        self
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let (best, _, wait) = self.monitor.replay(ctx.history());
        self.best = best;
        self.wait = wait;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let Some(log) = ctx.logs() else {
            return Ok(());
        };
        let value = self.monitor.read("EarlyStopping", log)?;
        if self.monitor.improves(value, self.best) {
            self.best = Some(value);
            self.wait = 0;
            if self.restore_best {
                self.best_weights = Some(ctx.snapshot_weights()?);
            }
        } else {
            self.wait += 1;
            if self.wait >= self.patience {
                ctx.stop();
            }
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        if self.restore_best
            && self.wait > 0
            && let Some(weights) = &self.best_weights
        {
            ctx.restore_weights(weights)?;
        }
        Ok(())
    }
}
