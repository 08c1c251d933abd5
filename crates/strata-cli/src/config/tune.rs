//! `[tune]`: the hyperparameter search. The space maps a parameter path of this same file
//! (`"optimizer.lr"`, `"data.batch_size"`, `"model.layers.1.units"`) to a list of values or a
//! range (`{ log_uniform = [1e-4, 1e-2] }`, `{ uniform = [a, b] }`, `{ int_uniform = [a, b] }`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::train::MonitorMode;

/// Grid or random search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Every combination of the lists.
    #[default]
    Grid,
    /// `trials` seeded draws.
    Random,
}

/// `[tune.halving]`: successive halving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalvingConfig {
    /// Keep the best `1/eta` of the trials at each rung (default 2).
    #[serde(default = "default_eta")]
    pub eta: usize,
    /// Epochs of the first rung (default 1); each rung multiplies it by `eta`.
    #[serde(default = "default_min_epochs")]
    pub min_epochs: usize,
}

fn default_eta() -> usize {
    2
}

fn default_min_epochs() -> usize {
    1
}

/// `[tune]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuneConfig {
    /// Grid (default) or random.
    #[serde(default)]
    pub strategy: StrategyKind,
    /// Random search: number of trials (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<usize>,
    /// Seed of the random draws (default `train.seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The history key ranking the trials (default `val_accuracy`).
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Whether higher (default `max`) or lower is better.
    #[serde(default = "default_mode")]
    pub mode: MonitorMode,
    /// Epochs of a trial that runs to the end (default `train.epochs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Successive halving; absent: every trial trains for `epochs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halving: Option<HalvingConfig>,
    /// Parameter path → list of values or range table.
    pub space: BTreeMap<String, toml::Value>,
}

fn default_metric() -> String {
    "val_accuracy".to_string()
}

fn default_mode() -> MonitorMode {
    MonitorMode::Max
}
