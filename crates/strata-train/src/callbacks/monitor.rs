//! `Monitor`: which logged value a callback watches and which direction is better.

use strata_core::{Error, Result};

use crate::history::{EpochLog, History};

/// Whether a smaller or a larger monitored value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorMode {
    /// Smaller is better (losses, errors).
    Min,
    /// Larger is better (accuracy, F1).
    Max,
    /// `Max` for names containing `acc`, `f1`, `precision`, `recall`, `r2` or `auc`;
    /// otherwise `Min` (as Keras decides).
    Auto,
}

/// A monitored value name, its direction and the smallest change that counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Monitor {
    pub(crate) name: String,
    maximize: bool,
    pub(crate) min_delta: f64,
}

impl Monitor {
    pub(crate) fn new(name: &str, mode: MonitorMode) -> Self {
        let maximize = match mode {
            MonitorMode::Min => false,
            MonitorMode::Max => true,
            MonitorMode::Auto => ["acc", "f1", "precision", "recall", "r2", "auc"]
                .iter()
                .any(|k| name.contains(k)),
        };
        Monitor {
            name: name.to_string(),
            maximize,
            min_delta: 0.0,
        }
    }

    /// Whether `value` improves on `best` by more than `min_delta` (anything finite beats
    /// no best yet).
    pub(crate) fn improves(&self, value: f64, best: Option<f64>) -> bool {
        if value.is_nan() {
            return false;
        }
        match best {
            None => true,
            Some(best) if self.maximize => value > best + self.min_delta,
            Some(best) => value < best - self.min_delta,
        }
    }

    /// The value in `log`, or an error listing the names that were logged.
    pub(crate) fn read(&self, callback: &str, log: &EpochLog) -> Result<f64> {
        log.get(&self.name).ok_or_else(|| {
            Error::invalid(
                callback.to_string(),
                format!(
                    "monitors `{}` but epoch {} logged only {:?}; add the metric (or a \
                     validation loader for `val_*` names)",
                    self.name,
                    log.epoch,
                    log.values.keys().collect::<Vec<_>>()
                ),
            )
        })
    }

    /// Replays the history: the best value, its epoch, and the epochs since it improved.
    pub(crate) fn replay(&self, history: &History) -> (Option<f64>, Option<u64>, usize) {
        let (mut best, mut best_epoch, mut wait) = (None, None, 0);
        for log in &history.epochs {
            match log.get(&self.name) {
                Some(v) if self.improves(v, best) => {
                    best = Some(v);
                    best_epoch = Some(log.epoch);
                    wait = 0;
                }
                _ => wait += 1,
            }
        }
        (best, best_epoch, wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_mode_maximizes_accuracy_and_minimizes_loss() {
        assert!(Monitor::new("val_accuracy", MonitorMode::Auto).improves(0.9, Some(0.8)));
        assert!(!Monitor::new("val_loss", MonitorMode::Auto).improves(0.9, Some(0.8)));
    }

    #[test]
    fn min_delta_requires_a_large_enough_change() {
        let mut m = Monitor::new("loss", MonitorMode::Min);
        m.min_delta = 0.1;
        assert!(!m.improves(0.95, Some(1.0)));
        assert!(m.improves(0.85, Some(1.0)));
        assert!(!m.improves(f64::NAN, None));
    }
}
