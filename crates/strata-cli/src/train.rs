//! `strata train <config>`: fit the model the config describes, then write the run's files
//! into the output directory and report the final validation and test figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_core::{Error, Result};
use strata_layers::save_weights;
use strata_train::History;

use super::args::CliArgs;
use super::fit::{FitPlan, fit, format_metrics};
use super::setup;

/// The files a training run wrote and its final figures.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The output directory.
    pub output_dir: PathBuf,
    /// `model.safetensors`.
    pub weights: PathBuf,
    /// `pipeline.json`: the fitted preprocessing.
    pub pipeline: PathBuf,
    /// `history.json` (and `history.csv` beside it).
    pub history: PathBuf,
    /// `curves.png`.
    pub curves: PathBuf,
    /// The last epoch's values (`loss`, `val_accuracy`, ...).
    pub last_epoch: BTreeMap<String, f64>,
    /// Loss and metrics on the test split, when there is one.
    pub test: Option<BTreeMap<String, f64>>,
}

/// Runs `strata train`.
pub fn train(args: &CliArgs) -> Result<TrainOutcome> {
    let table = setup::load_table(&args.config, &args.overrides)?;
    let config = crate::config::Config::from_table(table.clone(), &args.config)?;
    let out = config.output_dir();
    create_dir(&out)?;
    let resume = if args.resume {
        let last = strata_train::callbacks::ModelCheckpoint::last_path(out.join("checkpoints"));
        if !last.is_file() {
            return Err(Error::invalid(
                "train --resume",
                format!(
                    "no checkpoint at {}; [callbacks.checkpoint] writes one after every epoch",
                    last.display()
                ),
            ));
        }
        Some(last)
    } else {
        None
    };
    let plan = FitPlan {
        epochs: config.train.epochs,
        schedule_epochs: config.train.epochs,
        resume,
        save_checkpoint: None,
        verbose: config.train.progress && !args.quiet,
        callbacks_dir: Some(out.clone()),
        confusion: true,
    };
    if !args.quiet {
        eprintln!("config: {}", args.config.display());
    }
    let fitted = fit(&config, &plan)?;
    let outcome = TrainOutcome {
        weights: out.join("model.safetensors"),
        pipeline: out.join("pipeline.json"),
        history: out.join("history.json"),
        curves: out.join("curves.png"),
        last_epoch: fitted
            .history
            .last()
            .map(|e| e.values.clone())
            .unwrap_or_default(),
        test: fitted.test.clone(),
        output_dir: out.clone(),
    };
    save_weights(&fitted.model, &outcome.weights)?;
    fitted.data.preprocessing.save(&outcome.pipeline)?;
    fitted.history.save_json(&outcome.history)?;
    fitted.history.save_csv(out.join("history.csv"))?;
    write_curves(&fitted.history, &outcome.curves)?;
    if let Some(matrix) = &fitted.confusion {
        strata_train::plot::save_confusion_matrix(matrix, out.join("confusion.png"), 40)?;
    }
    let text = toml::to_string(&table).map_err(|e| Error::format(&args.config, e.to_string()))?;
    let config_copy = out.join("config.toml");
    std::fs::write(&config_copy, text).map_err(|e| Error::io(&config_copy, e))?;

    let valid: BTreeMap<&String, &f64> = outcome
        .last_epoch
        .iter()
        .filter(|(k, _)| k.starts_with("val_"))
        .collect();
    if !valid.is_empty() {
        println!("validation: {}", format_metrics(valid, ""));
    }
    if let Some(test) = &outcome.test {
        println!("test: {}", format_metrics(test, ""));
    }
    println!(
        "wrote {} (model.safetensors, pipeline.json, history.json/csv, curves.png, config.toml)",
        out.display()
    );
    Ok(outcome)
}

/// Loss and metric curves of `history` as a PNG: two panels a row, 220 pixels a row.
fn write_curves(history: &History, path: &Path) -> Result<()> {
    let rows = strata_train::plot::curve_names(history)
        .len()
        .div_ceil(2)
        .max(1);
    strata_train::plot::save_curves(history, path, (1000, 220 * rows as u32))
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}
