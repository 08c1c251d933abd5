//! The outcome of a search: every trial with its results per rung, the best one, a
//! pretty-printed table and a CSV file.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

use super::search::Direction;
use super::trial::{TrialConfig, TrialResult};

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrialStatus {
    /// It ran its whole budget.
    Completed,
    /// Successive halving stopped it after this many epochs.
    Stopped {
        /// Epochs it had.
        epochs: usize,
    },
    /// Its objective returned this error.
    Failed(String),
}

impl fmt::Display for TrialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrialStatus::Completed => write!(f, "completed"),
            TrialStatus::Stopped { epochs } => write!(f, "stopped after {epochs}"),
            TrialStatus::Failed(e) => write!(f, "failed: {e}"),
        }
    }
}

/// One trial of a finished search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// What it tried.
    pub config: TrialConfig,
    /// `(total epochs, result)` after each rung it ran.
    pub results: Vec<(usize, TrialResult)>,
    /// How it ended.
    pub status: TrialStatus,
    /// Time spent in its objective.
    pub seconds: f64,
}

impl TrialRecord {
    /// The last result reported, if any.
    pub fn last(&self) -> Option<&TrialResult> {
        self.results.last().map(|(_, r)| r)
    }

    /// The last metric reported, if any.
    pub fn last_metric(&self) -> Option<f64> {
        self.last().map(|r| r.metric)
    }

    /// Epochs it was trained for in total.
    pub fn epochs(&self) -> usize {
        self.results.last().map_or(0, |(e, _)| *e)
    }
}

/// Every trial and the best one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneReport {
    /// The trials, in the order they were defined.
    pub trials: Vec<TrialRecord>,
    /// The parameter names (the table's columns).
    pub params: Vec<String>,
    /// The metric's name.
    pub metric: String,
    /// Which way is better.
    pub direction: Direction,
    best: usize,
}

impl TuneReport {
    /// A report over `trials`; the best is the trial with the best last metric among those
    /// that did not fail (ties: more epochs, then the earlier trial).
    pub fn new(
        trials: Vec<TrialRecord>,
        params: Vec<String>,
        metric: String,
        direction: Direction,
    ) -> Self {
        let candidates: Vec<usize> = {
            let ok: Vec<usize> = (0..trials.len())
                .filter(|&i| {
                    trials[i].last().is_some()
                        && !matches!(trials[i].status, TrialStatus::Failed(_))
                })
                .collect();
            if ok.is_empty() {
                (0..trials.len())
                    .filter(|&i| trials[i].last().is_some())
                    .collect()
            } else {
                ok
            }
        };
        let mut best = candidates.first().copied().unwrap_or(0);
        for &i in &candidates {
            let (a, b) = (
                trials[i].last_metric().unwrap_or(f64::NAN),
                trials[best].last_metric().unwrap_or(f64::NAN),
            );
            let tie = a == b && trials[i].epochs() > trials[best].epochs();
            if direction.better(a, b) || tie {
                best = i;
            }
        }
        TuneReport {
            trials,
            params,
            metric,
            direction,
            best,
        }
    }

    /// The best trial.
    pub fn best(&self) -> &TrialRecord {
        &self.trials[self.best]
    }

    /// Names of the extra figures any trial reported, sorted.
    fn extra_columns(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self
            .trials
            .iter()
            .filter_map(TrialRecord::last)
            .flat_map(|r| r.metrics.keys())
            .filter(|k| **k != self.metric)
            .collect();
        set.into_iter().cloned().collect()
    }

    fn rows(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let extra = self.extra_columns();
        let mut header = vec!["trial".to_string()];
        header.extend(self.params.iter().cloned());
        header.push("epochs".into());
        header.push(self.metric.clone());
        header.extend(extra.iter().cloned());
        header.push("seconds".into());
        header.push("status".into());
        let rows = self
            .trials
            .iter()
            .map(|t| {
                let mut row = vec![t.config.id.to_string()];
                row.extend(
                    self.params
                        .iter()
                        .map(|p| t.config.get(p).map(|v| v.to_string()).unwrap_or_default()),
                );
                row.push(t.epochs().to_string());
                row.push(t.last_metric().map(fmt_metric).unwrap_or_default());
                for k in &extra {
                    row.push(
                        t.last()
                            .and_then(|r| r.metrics.get(k))
                            .map(|v| fmt_metric(*v))
                            .unwrap_or_default(),
                    );
                }
                row.push(format!("{:.1}", t.seconds));
                row.push(t.status.to_string());
                row
            })
            .collect();
        (header, rows)
    }

    /// The table as text: one row per trial, the best marked with `*`.
    pub fn table(&self) -> String {
        let (header, rows) = self.rows();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String], mark: &str| {
            let body: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("{mark} {}", body.join("  ")).trim_end().to_string()
        };
        let mut out = vec![line(&header, " ")];
        out.push(format!(
            "  {}",
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
        ));
        for (i, row) in rows.iter().enumerate() {
            out.push(line(row, if i == self.best { "*" } else { " " }));
        }
        out.join("\n")
    }

    /// Writes the table as CSV (with the checkpoint column) to `path`.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let (mut header, rows) = self.rows();
        header.push("checkpoint".into());
        header.push("best".into());
        let mut text = csv_line(&header);
        for (i, (row, t)) in rows.iter().zip(&self.trials).enumerate() {
            let mut row = row.clone();
            row.push(
                t.last()
                    .and_then(|r| r.checkpoint.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            );
            row.push((i == self.best).to_string());
            text.push_str(&csv_line(&row));
        }
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }
}

impl fmt::Display for TuneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table())
    }
}

fn fmt_metric(x: f64) -> String {
    format!("{x:.4}")
}

/// One CSV record, quoting fields that need it.
fn csv_line(cells: &[String]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}
