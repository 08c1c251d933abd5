//! One training run from a config: data, model, optimizer, schedule, metrics and callbacks
//! handed to `strata-train`'s [`Trainer`]. `train` and every trial of `tune` go through
//! [`fit`]; what they write afterwards is theirs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use strata_core::Result;
use strata_data::DataLoader;
use strata_layers::Sequential;
use strata_train::callbacks::{
    CsvLogger, EarlyStopping, ModelCheckpoint, MonitorMode, ReduceLrOnPlateau, TerminateOnNan,
};
use strata_train::metrics::ConfusionMatrix;
use strata_train::{BatchSource, Clip, History, ScheduleUnit, Trainer};

use super::setup;
use crate::config::{self, Config, PreparedData, StepEvery, Task};

/// Batch size of validation and test passes (no gradients, so larger is cheaper).
pub(crate) const EVAL_BATCH: usize = 1000;

/// How to run one fit.
#[derive(Debug, Clone)]
pub(crate) struct FitPlan {
    /// Total epochs to reach (counting those of a resumed checkpoint).
    pub epochs: usize,
    /// Epochs the schedule spans (the run's full length; a tuning trial stopped early still
    /// follows the schedule of a full trial).
    pub schedule_epochs: usize,
    /// Resume from this checkpoint when it exists.
    pub resume: Option<PathBuf>,
    /// Write a checkpoint here at the end.
    pub save_checkpoint: Option<PathBuf>,
    /// Progress bar and per-epoch lines.
    pub verbose: bool,
    /// Run the config's callbacks (with their files in this directory).
    pub callbacks_dir: Option<PathBuf>,
    /// Compute the test split's confusion matrix (classifiers).
    pub confusion: bool,
}

/// What a fit produced.
pub(crate) struct Fitted {
    /// The trained model.
    pub model: Sequential,
    /// The data it was trained on, with the fitted preprocessing.
    pub data: PreparedData,
    /// One row per epoch.
    pub history: History,
    /// Loss and metrics on the test split, when there is one.
    pub test: Option<BTreeMap<String, f64>>,
    /// The classifier's confusion matrix on the test split (when asked for).
    pub confusion: Option<ConfusionMatrix>,
}

fn monitor_mode(mode: Option<config::MonitorMode>) -> MonitorMode {
    match mode {
        Some(config::MonitorMode::Min) => MonitorMode::Min,
        Some(config::MonitorMode::Max) => MonitorMode::Max,
        None => MonitorMode::Auto,
    }
}

/// Trains the model `config` describes as `plan` says.
pub(crate) fn fit(config: &Config, plan: &FitPlan) -> Result<Fitted> {
    let device = setup::device(config)?;
    let data = setup::data(config)?;
    let model = setup::model(config, &data, &device)?;
    let (history, test, confusion) = {
        let seed = config.data.seed.unwrap_or(config.train.seed);
        let mut train = DataLoader::new(&data.train, config.data.batch_size)?;
        if config.data.shuffle {
            train = train.shuffle(seed);
        }
        let valid = data
            .validation
            .as_ref()
            .map(|v| DataLoader::new(v, EVAL_BATCH))
            .transpose()?;
        let mut trainer = Trainer::with_boxed(
            &model,
            setup::loss(config)?,
            config.optimizer.build(&config.file)?,
        )
        .epochs(plan.epochs as u64)
        .device(device)
        .seed(config.train.seed)
        .verbose(plan.verbose)
        .config(serde_json::to_value(config).unwrap_or_default());
        if let Some(s) = &config.schedule {
            let (total, unit) = match s.every {
                StepEvery::Batch => (
                    (plan.schedule_epochs * train.num_batches()) as u64,
                    ScheduleUnit::Step,
                ),
                StepEvery::Epoch => (plan.schedule_epochs as u64, ScheduleUnit::Epoch),
            };
            trainer = trainer
                .schedule(s.build(&config.file, total)?)
                .schedule_unit(unit);
        }
        for metric in setup::metrics(config, data.classes)? {
            trainer = trainer.boxed_metric(metric);
        }
        if let Some(norm) = config.train.clip_grad_norm {
            trainer = trainer.clip(Clip::Norm(norm));
        }
        if let Some(n) = config.train.accumulate_steps {
            trainer = trainer.accumulate(n);
        }
        let cb = &config.callbacks;
        if cb.terminate_on_nan {
            trainer = trainer.callback(TerminateOnNan::new());
        }
        if let Some(dir) = &plan.callbacks_dir {
            if let Some(e) = &cb.early_stopping {
                trainer = trainer.callback(
                    EarlyStopping::new(&e.monitor)
                        .mode(monitor_mode(e.mode))
                        .patience(e.patience)
                        .min_delta(e.min_delta)
                        .restore_best_weights(e.restore_best_weights),
                );
            }
            if let Some(r) = &cb.reduce_lr_on_plateau {
                trainer = trainer.callback(
                    ReduceLrOnPlateau::new(&r.monitor)
                        .mode(monitor_mode(r.mode))
                        .factor(r.factor)
                        .patience(r.patience)
                        .min_lr(r.min_lr),
                );
            }
            if let Some(c) = &cb.checkpoint {
                let mut m = ModelCheckpoint::new(dir.join("checkpoints"));
                if c.save_best_only {
                    m = m.save_best(&c.monitor).mode(monitor_mode(c.mode));
                }
                if let Some(n) = c.every_epochs {
                    m = m.every_epochs(n as u64);
                }
                trainer = trainer.callback(m);
            }
            if cb.csv_logger {
                trainer = trainer.callback(CsvLogger::new(dir.join("history.log.csv")));
            }
        }
        if let Some(path) = plan.resume.as_ref().filter(|p| p.exists()) {
            trainer.resume(path)?;
        }
        let history = trainer.fit(&train, valid.as_ref().map(|v| v as &dyn BatchSource))?;
        if let Some(path) = &plan.save_checkpoint {
            trainer.save_checkpoint(path)?;
        }
        let (mut test, mut confusion) = (None, None);
        if let Some(t) = &data.test {
            let loader = DataLoader::new(t, EVAL_BATCH)?;
            test = Some(trainer.evaluate(&loader)?);
            if plan.confusion && data.task == Task::Classification {
                let scores = trainer.predict_source(&loader)?;
                let predicted = if scores.elem_count() == t.len() {
                    // One logit per sample: class 1 above 0.
                    let v = scores.to_vec()?;
                    v.iter().map(|&x| if x > 0.0 { 1.0 } else { 0.0 }).collect()
                } else {
                    scores.argmax(1)?.to_vec()?
                };
                let mut m = ConfusionMatrix::with_classes(data.classes.unwrap_or(0));
                for (&actual, &p) in t.targets().iter().zip(&predicted) {
                    m.add(actual as usize, p as usize);
                }
                confusion = Some(m);
            }
        }
        (history, test, confusion)
    };
    Ok(Fitted {
        model,
        data,
        history,
        test,
        confusion,
    })
}

/// `name value` pairs of `values` (4 decimals), prefixed by `prefix`; per-class values
/// (`f1_0`, `f1_1`, ...) are left out.
pub(crate) fn format_metrics<'a>(
    values: impl IntoIterator<Item = (&'a String, &'a f64)>,
    prefix: &str,
) -> String {
    let per_class = |name: &str| {
        name.rsplit_once('_')
            .is_some_and(|(_, tail)| tail.chars().all(|c| c.is_ascii_digit()))
    };
    values
        .into_iter()
        .filter(|(k, _)| !per_class(k))
        .map(|(k, v)| format!("{prefix}{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join("  ")
}
