//! The keys of `[data]` and of each `[[data.preprocess]]` entry, with their defaults: plain
//! serde data, read with `deny_unknown_fields` so a misspelt key is an error naming it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A delimited text file with a header; one column is the target.
    Csv,
    /// A directory holding MNIST-layout IDX files (train/t10k images and labels).
    Idx,
    /// MNIST: `path`, else `$STRATA_DATA/mnist`, else `../shared/data/mnist`, else the
    /// subset committed in strata-data.
    Mnist,
}

/// Classification or regression (default: classification for a categorical target or an
/// image source, regression for a numeric CSV target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Class labels.
    Classification,
    /// Real-valued target.
    Regression,
}

/// A preprocessing step kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Fill missing values (`strategy`: mean, median, most_frequent, constant + `value`).
    Impute,
    /// Scale numeric columns (`method`: standard, minmax, robust).
    Scale,
    /// Encode categorical columns (`method`: one_hot, ordinal; `unknown`: error, ignore).
    Encode,
    /// Clip outliers (`method`: percentile with `low`/`high`, zscore with `k`).
    Clip,
}

/// One `[[data.preprocess]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// The step.
    pub step: StepKind,
    /// The columns it applies to (default: every feature column it can apply to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Impute: `mean`, `median`, `most_frequent` or `constant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Impute with `constant`: the fill value (a number or a category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<toml::Value>,
    /// Scale, encode, clip: the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Clip (percentile): lower percentile; scale (minmax): range low.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f32>,
    /// Clip (percentile): upper percentile; scale (minmax): range high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f32>,
    /// Clip (zscore): deviations kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<f32>,
    /// Encode: what an unseen category becomes (`error` or `ignore`, default `ignore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The reader.
    pub source: SourceKind,
    /// CSV file or IDX directory, relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// CSV: the target column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// CSV: the field separator, one character (default `,`; `\t` for TSV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// CSV: the values meaning "missing" (default `["", "NA"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub na_values: Option<Vec<String>>,
    /// CSV: columns left out.
    #[serde(default)]
    pub drop: Vec<String>,
    /// CSV: columns read as categories even when they hold numbers.
    #[serde(default)]
    pub categorical: Vec<String>,
    /// CSV: drop rows equal to an earlier row (default false).
    #[serde(default)]
    pub drop_duplicates: bool,
    /// Classification or regression (default: inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Preprocessing steps, in order.
    #[serde(default)]
    pub preprocess: Vec<StepConfig>,
    /// Fraction of the training rows held out for validation (default 0.1).
    #[serde(default = "default_validation")]
    pub validation_split: f64,
    /// CSV: fraction of the rows held out for testing (default 0.2). Image sources use
    /// their own test split.
    #[serde(default = "default_test")]
    pub test_split: f64,
    /// Splits keep each class's share (classification; default true).
    #[serde(default = "default_true")]
    pub stratify: bool,
    /// Training batch size (default 32).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Shuffle the training rows each epoch (default true).
    #[serde(default = "default_true")]
    pub shuffle: bool,
    /// Seed of the splits and shuffles (default: `train.seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Use only the first N training samples (quick runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Use only the first N test samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_limit: Option<usize>,
    /// Image sources: the per-sample shape (default `[1, rows, cols]`; `[784]` for an MLP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_shape: Option<Vec<usize>>,
}

fn default_validation() -> f64 {
    0.1
}

fn default_test() -> f64 {
    0.2
}

fn default_batch() -> usize {
    32
}

fn default_true() -> bool {
    true
}
