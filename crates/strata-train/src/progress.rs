//! The per-epoch progress bar (`indicatif`): loss, metrics and samples/s, drawn on stderr
//! only when stderr is a terminal and the trainer is verbose. When it is hidden a verbose
//! trainer prints one line per epoch instead, so logs stay readable.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::trainer::MetricSet;

/// The progress of one epoch.
pub(crate) struct EpochProgress {
    bar: Option<ProgressBar>,
    verbose: bool,
    started: Instant,
    samples: usize,
    prefix: String,
}

impl EpochProgress {
    /// Starts epoch `epoch` (0-based) of `epochs`, `batches` long, `done` batches already
    /// done (a resumed epoch).
    pub(crate) fn start(
        verbose: bool,
        epoch: u64,
        epochs: u64,
        batches: usize,
        done: usize,
    ) -> Self {
        let prefix = format!("epoch {}/{epochs}", epoch + 1);
        let bar = (verbose && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(batches as u64);
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta} {msg}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(prefix.clone());
            bar.set_position(done as u64);
            bar
        });
        EpochProgress {
            bar,
            verbose,
            started: Instant::now(),
            samples: 0,
            prefix,
        }
    }

    /// Records a batch of `samples` and shows the running loss and metrics.
    pub(crate) fn batch(&mut self, samples: usize, loss: f64, metrics: &MetricSet) {
        self.samples += samples;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let mut message = format!("loss {}", format_value(loss));
            for (name, value) in metrics.running() {
                message.push_str(&format!("  {name} {}", format_value(value)));
            }
            message.push_str(&format!("  {:.0} samples/s", self.samples_per_sec()));
            bar.set_message(message);
        }
    }

    /// Training samples per second since the epoch (or its resumed part) started.
    pub(crate) fn samples_per_sec(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.samples as f64 / secs
        } else {
            0.0
        }
    }

    /// Seconds since the epoch started.
    pub(crate) fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Ends the epoch with its logged values (`name value` pairs).
    pub(crate) fn finish(self, values: &[(String, f64)]) {
        let line = values
            .iter()
            .map(|(k, v)| format!("{k} {}", format_value(*v)))
            .collect::<Vec<_>>()
            .join("  ");
        match self.bar {
            Some(bar) => bar.finish_with_message(line),
            None if self.verbose => eprintln!("{}  {line}", self.prefix),
            None => {}
        }
    }

    /// Ends an epoch cut short (a stop request or an error).
    pub(crate) fn abandon(self) {
        if let Some(bar) = self.bar {
            bar.abandon();
        }
    }
}

/// A logged value for a person: integers above 100, scientific below 0.001, else 4 decimals.
pub(crate) fn format_value(v: f64) -> String {
    let abs = v.abs();
    if abs >= 100.0 {
        format!("{v:.0}")
    } else if abs != 0.0 && abs < 1e-3 {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// The order values are shown in: loss, training metrics, validation values, then the
/// learning rate and throughput.
pub(crate) fn display_order(name: &str) -> (u8, &str) {
    let rank = match name {
        "loss" => 0,
        "val_loss" => 2,
        "lr" => 4,
        "samples_per_sec" => 5,
        n if n.starts_with("val_") => 3,
        _ => 1,
    };
    (rank, name)
}
