//! `ReduceLrOnPlateau`: lower the learning rate when a monitored value stops improving.

use strata_core::Result;

use super::monitor::{Monitor, MonitorMode};
use super::{Callback, Context};

/// Multiplies the learning rate by `factor` when `monitor` has not improved by more than
/// `min_delta` for `patience` epochs, then waits `cooldown` epochs before counting again;
/// never below `min_lr`. Keras's rule; the factor applies on top of any schedule and is
/// saved in checkpoints.
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau {
    monitor: Monitor,
    factor: f32,
    patience: usize,
    cooldown: usize,
    min_lr: f32,
    best: Option<f64>,
    wait: usize,
    cooldown_left: usize,
}

impl ReduceLrOnPlateau {
    /// Watches `monitor` (direction from its name), factor 0.1, patience 10, min_delta 1e-4,
    /// no cooldown, min_lr 0.
    pub fn new(monitor: &str) -> Self {
        let mut monitor = Monitor::new(monitor, MonitorMode::Auto);
        monitor.min_delta = 1e-4;
        ReduceLrOnPlateau {
            monitor,
            factor: 0.1,
            patience: 10,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            wait: 0,
            cooldown_left: 0,
        }
    }

    /// Whether smaller or larger is better.
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        let delta = self.monitor.min_delta;
        self.monitor = Monitor::new(&self.monitor.name, mode);
        self.monitor.min_delta = delta;
        self
    }

    /// The multiplier, in `(0, 1)`.
    pub fn factor(mut self, factor: f32) -> Self {
        self.factor = factor;
        self
    }

    /// Epochs without improvement before reducing.
    pub fn patience(mut self, epochs: usize) -> Self {
        self.patience = epochs;
        self
    }

    /// The smallest change that counts as an improvement.
    pub fn min_delta(mut self, delta: f64) -> Self {
        self.monitor.min_delta = delta.abs();
        self
    }

    /// Epochs to wait after a reduction before counting again.
    pub fn cooldown(mut self, epochs: usize) -> Self {
        self.cooldown = epochs;
        self
    }

    /// The lowest learning rate.
    pub fn min_lr(mut self, lr: f32) -> Self {
        self.min_lr = lr;
        self
    }

    /// Feeds one epoch's value; returns whether to reduce now.
    fn observe(&mut self, value: Option<f64>) -> bool {
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.wait = 0;
        }
        match value {
            Some(v) if self.monitor.improves(v, self.best) => {
                self.best = Some(v);
                self.wait = 0;
                false
            }
            _ if self.cooldown_left == 0 => {
                self.wait += 1;
                if self.wait >= self.patience {
                    self.cooldown_left = self.cooldown;
                    self.wait = 0;
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }
}

impl Callback for ReduceLrOnPlateau {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(strata_core::Error::invalid(
                "ReduceLrOnPlateau",
                format!("factor must be in (0, 1); got {}", self.factor),
            ));
        }
        (self.best, self.wait, self.cooldown_left) = (None, 0, 0);
        for log in &ctx.history().epochs {
            // The learning rates of past epochs are in the checkpoint: only the counters
            // are rebuilt here.
            self.observe(log.get(&self.monitor.name));
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        let Some(log) = ctx.logs() else {
            return Ok(());
        };
        let value = self.monitor.read("ReduceLrOnPlateau", log)?;
        if self.observe(Some(value)) {
            let lr = ctx.learning_rate();
            if lr > self.min_lr {
                let target = (lr * self.factor).max(self.min_lr);
                ctx.scale_learning_rate(target / lr);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_after_patience_epochs_without_improvement_then_cools_down() {
        let mut r = ReduceLrOnPlateau::new("loss").patience(2).cooldown(1);
        let reduced: Vec<bool> = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
            .iter()
            .map(|&v| r.observe(Some(v)))
            .collect();
        // Improves at 0.5; 0.6 and 0.7 wait 1, 2 → reduce; 0.8 ends the one-epoch cooldown and
        // (as in Keras) already counts as wait 1; 0.9 is wait 2 → reduce.
        assert_eq!(reduced, [false, false, false, true, false, true, false]);
    }
}
