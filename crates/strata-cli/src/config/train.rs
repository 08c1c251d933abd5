//! `[train]` and `[callbacks]`: how long and how to train, what to report, where to write,
//! and which callbacks run. Plain values; the CLI turns them into the trainer's pieces.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Loss functions a config can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Softmax cross-entropy from logits, integer class targets.
    #[default]
    CrossEntropy,
    /// Sigmoid binary cross-entropy from logits.
    BceWithLogits,
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    L1,
    /// Huber (delta 1).
    Huber,
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Epochs (default 10).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// The loss (default `cross_entropy`).
    #[serde(default)]
    pub loss: LossKind,
    /// Label smoothing for cross-entropy (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_smoothing: Option<f32>,
    /// Metrics reported each epoch besides the loss (`accuracy`, `top5_accuracy`, `f1`,
    /// `precision`, `recall`, `mse`, `rmse`, `mae`, `r2`).
    #[serde(default)]
    pub metrics: Vec<String>,
    /// `cpu`, `cuda` or `cuda:N` (default: the best compiled-in device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Seed of the weights, shuffles and dropout (default 42).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Where weights, pipeline, history and curves go (default `runs/<config name>`),
    /// relative to the current directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<PathBuf>,
    /// Gradient clipping by global norm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f32>,
    /// Batches whose gradients are summed before one optimizer step (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accumulate_steps: Option<usize>,
    /// Show a progress bar (default true; it is quiet anyway when stderr is not a terminal).
    #[serde(default = "default_true")]
    pub progress: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: default_epochs(),
            loss: LossKind::default(),
            label_smoothing: None,
            metrics: Vec::new(),
            device: None,
            seed: default_seed(),
            output_dir: None,
            clip_grad_norm: None,
            accumulate_steps: None,
            progress: true,
        }
    }
}

fn default_epochs() -> usize {
    10
}

fn default_seed() -> u64 {
    42
}

fn default_true() -> bool {
    true
}

/// Whether a monitored quantity should go up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    /// Lower is better (losses).
    #[default]
    Min,
    /// Higher is better (accuracy).
    Max,
}

/// `[callbacks.early_stopping]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    /// The history key watched (default `val_loss`).
    #[serde(default = "default_monitor")]
    pub monitor: String,
    /// Direction of improvement (default: `max` for accuracy-like names, else `min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MonitorMode>,
    /// Epochs without improvement before stopping (default 3).
    #[serde(default = "default_patience")]
    pub patience: usize,
    /// Smallest change that counts as an improvement (default 0).
    #[serde(default)]
    pub min_delta: f64,
    /// Put the best epoch's weights back when stopping (default true).
    #[serde(default = "default_true")]
    pub restore_best_weights: bool,
}

/// `[callbacks.checkpoint]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// The history key that decides "best" (default `val_loss`).
    #[serde(default = "default_monitor")]
    pub monitor: String,
    /// Direction of improvement (default: `max` for accuracy-like names, else `min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MonitorMode>,
    /// Keep only the best checkpoint (default true).
    #[serde(default = "default_true")]
    pub save_best_only: bool,
    /// Also write one every N epochs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_epochs: Option<usize>,
}

/// `[callbacks.reduce_lr_on_plateau]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReduceLrConfig {
    /// The history key watched (default `val_loss`).
    #[serde(default = "default_monitor")]
    pub monitor: String,
    /// Direction of improvement (default: `max` for accuracy-like names, else `min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MonitorMode>,
    /// Multiplier of the learning rate (default 0.1).
    #[serde(default = "default_factor")]
    pub factor: f32,
    /// Epochs without improvement before reducing (default 2).
    #[serde(default = "default_plateau_patience")]
    pub patience: usize,
    /// The lowest learning rate (default 0).
    #[serde(default)]
    pub min_lr: f32,
}

/// `[callbacks]`: each entry present turns that callback on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksConfig {
    /// Stop when the monitored value stops improving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Write checkpoints into the output directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointConfig>,
    /// Lower the learning rate on a plateau.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_lr_on_plateau: Option<ReduceLrConfig>,
    /// Append each epoch's history row to `history.log.csv` as it ends (default false).
    #[serde(default)]
    pub csv_logger: bool,
    /// Stop at the first non-finite loss, keeping the last good weights (default true).
    #[serde(default = "default_true")]
    pub terminate_on_nan: bool,
}

impl Default for CallbacksConfig {
    fn default() -> Self {
        CallbacksConfig {
            early_stopping: None,
            checkpoint: None,
            reduce_lr_on_plateau: None,
            csv_logger: false,
            terminate_on_nan: true,
        }
    }
}

fn default_monitor() -> String {
    "val_loss".to_string()
}

fn default_patience() -> usize {
    3
}

fn default_plateau_patience() -> usize {
    2
}

fn default_factor() -> f32 {
    0.1
}
