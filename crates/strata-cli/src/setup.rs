//! Turning a [`Config`] into the pieces of a run: the config with `--set` overrides, the
//! device, the loss and the metrics. Everything that names a key reports it.

use std::path::Path;

use strata_core::{Device, Result};
use strata_layers::{
    BceWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, Loss, MseLoss, Sequential,
};
use strata_train::metrics::{
    Accuracy, F1, Mae, Metric, Mse, Precision, R2, Recall, Rmse, TopKAccuracy,
};

use crate::config::error::key_error;
use crate::config::{Config, LossKind, PreparedData};

/// Reads the config at `path` with `overrides` applied first.
pub fn load_config(path: &Path, overrides: &[(String, toml::Value)]) -> Result<Config> {
    let table = Config::with_overrides(Config::read_table(path)?, overrides, path)?;
    Config::from_table(table, path)
}

/// `train.device`, or the best compiled-in device.
pub fn device(config: &Config) -> Result<Device> {
    match &config.train.device {
        Some(name) => Device::parse(name).map_err(|e| key_error(&config.file, "train.device", e)),
        None => Ok(Device::best()),
    }
}

/// `train.loss`.
pub fn loss(config: &Config) -> Result<Box<dyn Loss>> {
    let smoothing = config.train.label_smoothing;
    if smoothing.is_some() && config.train.loss != LossKind::CrossEntropy {
        return Err(key_error(
            &config.file,
            "train.label_smoothing",
            "only used with loss = \"cross_entropy\"",
        ));
    }
    Ok(match config.train.loss {
        LossKind::CrossEntropy => {
            Box::new(CrossEntropyLoss::new().label_smoothing(smoothing.unwrap_or(0.0)))
        }
        LossKind::BceWithLogits => Box::new(BceWithLogitsLoss),
        LossKind::Mse => Box::new(MseLoss),
        LossKind::L1 => Box::new(L1Loss),
        LossKind::Huber => Box::new(HuberLoss::new(1.0)),
    })
}

/// The metric names a config may list.
pub const METRICS: &str =
    "accuracy, topK_accuracy (e.g. top5_accuracy), precision, recall, f1, mse, rmse, mae, r2";

/// `train.metrics`, for `classes` classes (classification) or none (regression).
pub fn metrics(config: &Config, classes: Option<usize>) -> Result<Vec<Box<dyn Metric>>> {
    config
        .train
        .metrics
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let top_k = name
                .strip_prefix("top")
                .and_then(|r| r.strip_suffix("_accuracy"))
                .and_then(|k| k.parse::<usize>().ok());
            Ok(match (name.as_str(), top_k) {
                (_, Some(k)) if k >= 1 => Box::new(TopKAccuracy::new(k)) as Box<dyn Metric>,
                ("accuracy", _) => Box::new(Accuracy::new()),
                ("precision", _) => {
                    Box::new(classes.map_or_else(Precision::new, Precision::with_classes))
                }
                ("recall", _) => Box::new(classes.map_or_else(Recall::new, Recall::with_classes)),
                ("f1", _) => Box::new(classes.map_or_else(F1::new, F1::with_classes)),
                ("mse", _) => Box::new(Mse::new()),
                ("rmse", _) => Box::new(Rmse::new()),
                ("mae", _) => Box::new(Mae::new()),
                ("r2", _) => Box::new(R2::new()),
                (other, _) => {
                    return Err(key_error(
                        &config.file,
                        &format!("train.metrics[{i}]"),
                        format!("unknown metric \"{other}\"; expected one of {METRICS}"),
                    ));
                }
            })
        })
        .collect()
}

/// The model of `config` for the data's samples, on `device`, seeded by `train.seed`.
pub fn model(config: &Config, data: &PreparedData, device: &Device) -> Result<Sequential> {
    config.model.build(
        &config.file,
        data.train.sample_shape(),
        device,
        config.train.seed,
    )
}

/// `config`'s data, prepared (read, split, preprocessing fitted on the training rows).
pub fn data(config: &Config) -> Result<PreparedData> {
    config
        .data
        .prepare(&config.file, &config.base_dir(), config.train.seed)
}

/// The file at `path` as a raw table with `overrides` applied (what the run really used).
pub fn load_table(path: &Path, overrides: &[(String, toml::Value)]) -> Result<toml::Table> {
    Config::with_overrides(Config::read_table(path)?, overrides, path)
}
