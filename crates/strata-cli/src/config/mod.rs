//! Training runs described in TOML: `[data]`, `[model]`, `[optimizer]`, `[schedule]`,
//! `[train]`, `[callbacks]` and `[tune]`, read into [`Config`] with errors that name the key
//! (`model.layers[2].type: unknown layer "densse"; expected one of dense, conv2d, ...`).
//!
//! ```
//! let text = r#"
//! [data]
//! source = "mnist"
//! [model]
//! layers = [{ type = "flatten" }, { type = "dense", units = 10 }]
//! [optimizer]
//! type = "adam"
//! lr = 0.001
//! "#;
//! let config = strata_cli::config::Config::from_toml_str(text, "inline.toml").unwrap();
//! assert_eq!(config.model.layers.len(), 2);
//! ```
//!
//! This module owns the file format and turning it into models, optimizers, schedules and
//! data; running them belongs to the command modules of this crate and `strata-train`. Parameter paths used by
//! the search (`model.layers.1.units`) address the same file: [`Config::with_overrides`]
//! sets them on the raw TOML before it is read, so an override is checked like a value
//! typed into the file.

mod data;
pub(crate) mod error;
mod model;
mod optim;
mod train;
mod tune;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

pub use data::{
    DataConfig, ImageScaler, PreparedData, Preprocessing, SourceKind, StepConfig, StepKind, Task,
    default_mnist_dir,
};
pub use model::{LayerEntry, ModelConfig};
pub use optim::{OptimizerConfig, OptimizerKind, ScheduleConfig, ScheduleKind, StepEvery};
pub use train::{
    CallbacksConfig, CheckpointConfig, EarlyStoppingConfig, LossKind, MonitorMode, ReduceLrConfig,
    TrainConfig,
};
pub use tune::{HalvingConfig, StrategyKind, TuneConfig};

use error::key_error;

/// A whole training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[data]`.
    pub data: DataConfig,
    /// `[model]`.
    pub model: ModelConfig,
    /// `[optimizer]`.
    pub optimizer: OptimizerConfig,
    /// `[schedule]` (default: constant learning rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleConfig>,
    /// `[train]`.
    #[serde(default)]
    pub train: TrainConfig,
    /// `[callbacks]`.
    #[serde(default)]
    pub callbacks: CallbacksConfig,
    /// `[tune]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<TuneConfig>,
    /// The file it was read from (names it in errors; relative data paths start at its
    /// directory).
    #[serde(skip)]
    pub file: PathBuf,
}

impl Config {
    /// Reads the config at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        Config::from_table(Config::read_table(path)?, path)
    }

    /// The file at `path` as a raw TOML table (for [`Config::with_overrides`]).
    pub fn read_table(path: &Path) -> Result<toml::Table> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        parse_table(&text, path)
    }

    /// Reads a config from `text`, calling it `name` in errors.
    pub fn from_toml_str(text: &str, name: impl AsRef<Path>) -> Result<Config> {
        let name = name.as_ref();
        Config::from_table(parse_table(text, name)?, name)
    }

    /// Reads a config from a raw table (after overrides), calling it `file` in errors.
    pub fn from_table(table: toml::Table, file: &Path) -> Result<Config> {
        let mut config: Config = error::deserialize(toml::Value::Table(table), file, "")?;
        config.file = file.to_path_buf();
        config.model.validate(file)?;
        Ok(config)
    }

    /// Sets each `(path, value)` in `table`: `path` is dotted, a number addresses an array
    /// element (`model.layers.1.units`). The key must exist up to its parent table; an
    /// index must be inside its array.
    pub fn with_overrides(
        mut table: toml::Table,
        overrides: &[(String, toml::Value)],
        file: &Path,
    ) -> Result<toml::Table> {
        for (path, value) in overrides {
            set_path(&mut table, path, value.clone())
                .map_err(|message| key_error(file, path, message))?;
        }
        Ok(table)
    }

    /// The directory relative data paths start at.
    pub fn base_dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The run's output directory: `train.output_dir`, else `runs/<config file stem>`.
    pub fn output_dir(&self) -> PathBuf {
        self.train.output_dir.clone().unwrap_or_else(|| {
            let stem = self
                .file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".to_string());
            Path::new("runs").join(stem)
        })
    }
}

fn parse_table(text: &str, file: &Path) -> Result<toml::Table> {
    text.parse::<toml::Table>()
        .map_err(|e| Error::format(file, format!("not valid TOML: {}", e.to_string().trim())))
}

/// Sets `path` in `table` to `value`; the message says what is missing.
fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("expected a dotted key such as optimizer.lr".to_string());
    }
    let mut root = toml::Value::Table(std::mem::take(table));
    let result = set_in(&mut root, &parts, 0, value);
    if let toml::Value::Table(t) = root {
        *table = t;
    }
    result
}

/// Sets `parts[depth..]` below `node`, which `parts[..depth]` names.
fn set_in(
    node: &mut toml::Value,
    parts: &[&str],
    depth: usize,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let part = parts[depth];
    let last = depth + 1 == parts.len();
    let here = || parts[..depth].join(".");
    let child = match node {
        toml::Value::Table(t) => {
            if last {
                t.insert(part.to_string(), value);
                return Ok(());
            }
            t.get_mut(part)
                .ok_or_else(|| format!("no `{}` in the config", parts[..=depth].join(".")))?
        }
        toml::Value::Array(a) => {
            let index: usize = part
                .parse()
                .map_err(|_| format!("`{}` is an array; expected an index", here()))?;
            let len = a.len();
            let slot = a.get_mut(index).ok_or_else(|| {
                format!(
                    "index {index} is past the end of `{}` ({len} entries)",
                    here()
                )
            })?;
            if last {
                *slot = value;
                return Ok(());
            }
            slot
        }
        _ => return Err(format!("`{}` is a value, not a table", here())),
    };
    set_in(child, parts, depth + 1, value)
}
