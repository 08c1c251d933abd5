//! One trial: the parameter values it tries ([`TrialConfig`]) and what its objective
//! reported ([`TrialResult`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

use super::space::ParamValue;

/// The values one trial tries, in the search space's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialConfig {
    /// Position of the trial in the search (0-based).
    pub id: usize,
    /// `(parameter name, value)` pairs.
    pub values: Vec<(String, ParamValue)>,
}

impl TrialConfig {
    /// The value of `name`, if the search varies it.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The value of `name` as a float, or an error naming the parameter.
    pub fn f64(&self, name: &str) -> Result<f64> {
        self.need(name)?
            .as_f64()
            .ok_or_else(|| self.wrong(name, "a number"))
    }

    /// The value of `name` as a non-negative integer, or an error naming the parameter.
    pub fn usize(&self, name: &str) -> Result<usize> {
        self.need(name)?
            .as_i64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| self.wrong(name, "a non-negative integer"))
    }

    fn need(&self, name: &str) -> Result<&ParamValue> {
        self.get(name).ok_or_else(|| {
            Error::invalid(
                "TrialConfig",
                format!(
                    "trial {} has no parameter `{name}`; it has {:?}",
                    self.id,
                    self.values.iter().map(|(n, _)| n).collect::<Vec<_>>()
                ),
            )
        })
    }

    fn wrong(&self, name: &str, expected: &str) -> Error {
        Error::invalid(
            "TrialConfig",
            format!(
                "trial {}: `{name}` should be {expected}, found {}",
                self.id,
                self.get(name).map(ToString::to_string).unwrap_or_default()
            ),
        )
    }

    /// `name=value` pairs joined by spaces, for messages.
    pub fn describe(&self) -> String {
        self.values
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What an objective reports for a trial after a budget of epochs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrialResult {
    /// The value of the search's metric (compared between trials).
    pub metric: f64,
    /// Other figures worth showing (`val_loss`, `train_loss`, ...).
    pub metrics: BTreeMap<String, f64>,
    /// Where the trial's weights were saved, if they were.
    pub checkpoint: Option<PathBuf>,
}

impl TrialResult {
    /// A result with only the search's metric.
    pub fn new(metric: f64) -> Self {
        TrialResult {
            metric,
            ..TrialResult::default()
        }
    }

    /// Adds another figure (builder style).
    pub fn with(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.insert(name.into(), value);
        self
    }

    /// Records the checkpoint path (builder style).
    pub fn with_checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }
}
