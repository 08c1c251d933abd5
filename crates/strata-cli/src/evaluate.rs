//! `strata evaluate <config> [--weights path]`: saved weights scored on the test split (or
//! the validation split when there is no test split), with the config's loss and metrics.
//! The data is split as `train` split it (same seed) and goes through the preprocessing that
//! `train` fitted and saved (`pipeline.json` beside the weights, else in the output
//! directory), not through steps fitted anew.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_core::{Error, Result};
use strata_data::DataLoader;
use strata_layers::load_weights;
use strata_train::Trainer;

use super::args::CliArgs;
use super::fit::{EVAL_BATCH, format_metrics};
use super::setup;
use crate::config::{Config, Preprocessing};

/// The weights `args` names, else `model.safetensors` in the config's output directory.
pub(crate) fn weights_path(args: &CliArgs, config: &Config) -> PathBuf {
    args.weights
        .clone()
        .unwrap_or_else(|| config.output_dir().join("model.safetensors"))
}

/// `pipeline.json` beside `weights`, else in the config's output directory, if either exists.
fn saved_pipeline(weights: &Path, config: &Config) -> Option<PathBuf> {
    let beside = weights.parent().map(|dir| dir.join("pipeline.json"));
    beside
        .into_iter()
        .chain([config.output_dir().join("pipeline.json")])
        .find(|p| p.exists())
}

/// Runs `strata evaluate`; returns the loss and metrics.
pub fn evaluate(args: &CliArgs) -> Result<BTreeMap<String, f64>> {
    let config = setup::load_config(&args.config, &args.overrides)?;
    let device = setup::device(&config)?;
    let weights = weights_path(args, &config);
    let pipeline = saved_pipeline(&weights, &config).ok_or_else(|| {
        Error::invalid(
            "evaluate",
            format!(
                "no fitted preprocessing (pipeline.json) beside {} or in {}; train first                  (strata train {})",
                weights.display(),
                config.output_dir().display(),
                args.config.display()
            ),
        )
    })?;
    let fitted = Preprocessing::load(&pipeline)?;
    let data = config.data.prepare_fitted(
        &config.file,
        &config.base_dir(),
        config.train.seed,
        Some(&fitted),
    )?;
    let model = setup::model(&config, &data, &device)?;
    if !weights.exists() {
        return Err(Error::invalid(
            "evaluate",
            format!(
                "no weights at {}; train first (strata train {}) or pass --weights",
                weights.display(),
                args.config.display()
            ),
        ));
    }
    load_weights(&model, &weights)?;
    let (split, set) = match (&data.test, &data.validation) {
        (Some(t), _) => ("test", t),
        (None, Some(v)) => ("validation", v),
        (None, None) => {
            return Err(Error::invalid(
                "evaluate",
                "the config holds out no test or validation rows (data.test_split and \
                 data.validation_split are 0)",
            ));
        }
    };
    let mut trainer = Trainer::with_boxed(
        &model,
        setup::loss(&config)?,
        config.optimizer.build(&config.file)?,
    )
    .device(device)
    .verbose(false);
    for metric in setup::metrics(&config, data.classes)? {
        trainer = trainer.boxed_metric(metric);
    }
    let scores = trainer.evaluate(&DataLoader::new(set, EVAL_BATCH)?)?;
    println!(
        "{split} ({} samples, weights {}): {}",
        set.len(),
        weights.display(),
        format_metrics(&scores, "")
    );
    Ok(scores)
}
