//! `strata tune <config>`: the `[tune]` table's search, each trial a training run of the
//! config with the trial's values set at their paths. With successive halving a trial that
//! goes on to the next rung resumes from its checkpoint instead of starting over. Prints the
//! trials table, writes `trials.csv`, and keeps the best trial's weights, pipeline and
//! config in `<output_dir>/best/`.

use std::path::{Path, PathBuf};

use strata_core::{Error, Result};
use strata_layers::save_weights;
use strata_train::tune::{
    Direction, Domain, ParamValue, SearchSpace, Strategy, TrialConfig, TrialResult, TuneReport,
    Tuner,
};

use super::args::CliArgs;
use super::fit::{FitPlan, fit};
use super::setup;
use super::train::create_dir;
use crate::config::error::key_error;
use crate::config::{Config, MonitorMode, StrategyKind, TuneConfig};

/// The finished search and where its files are.
#[derive(Debug, Clone)]
pub struct TuneOutcome {
    /// Every trial and the best.
    pub report: TuneReport,
    /// `trials.csv`.
    pub csv: PathBuf,
    /// The best trial's files (`model.safetensors`, `pipeline.json`, `config.toml`).
    pub best_dir: PathBuf,
}

/// Runs `strata tune`.
pub fn tune(args: &CliArgs) -> Result<TuneOutcome> {
    let file = args.config.as_path();
    let table = setup::load_table(file, &args.overrides)?;
    let base = Config::from_table(table.clone(), file)?;
    let tune = base
        .tune
        .clone()
        .ok_or_else(|| key_error(file, "tune", "missing table (strata tune needs [tune])"))?;
    let space = search_space(file, &tune)?;
    // Every path must name a key the config reads: try each parameter's first value.
    for (name, domain) in space.params() {
        let value = match domain {
            Domain::Choice(v) => v[0].clone(),
            Domain::Uniform { low, .. } | Domain::LogUniform { low, .. } => ParamValue::Float(*low),
            Domain::IntUniform { low, .. } => ParamValue::Int(*low),
        };
        let key = format!("tune.space.\"{name}\"");
        let t = Config::with_overrides(table.clone(), &[(name.clone(), to_toml(&value))], file)
            .map_err(|e| nested(file, &key, e))?;
        Config::from_table(t, file).map_err(|e| nested(file, &key, e))?;
    }
    let epochs = tune.epochs.unwrap_or(base.train.epochs);
    let mut tuner = Tuner::new(space)
        .strategy(match tune.strategy {
            StrategyKind::Grid => Strategy::Grid,
            StrategyKind::Random => Strategy::Random {
                trials: tune.trials.unwrap_or(10),
            },
        })
        .seed(tune.seed.unwrap_or(base.train.seed))
        .metric(
            tune.metric.clone(),
            match tune.mode {
                MonitorMode::Max => Direction::Maximize,
                MonitorMode::Min => Direction::Minimize,
            },
        )
        .epochs(epochs)
        .verbose(!args.quiet);
    if let Some(h) = &tune.halving {
        tuner = tuner.successive_halving(h.eta, h.min_epochs);
    }
    tuner
        .rungs()
        .and_then(|_| tuner.trials())
        .map_err(|e| key_error(file, "tune", e))?;

    let out = base.output_dir();
    let trials_dir = out.join("trials");
    if trials_dir.exists() {
        // Checkpoints of an earlier search must not be resumed by this one.
        std::fs::remove_dir_all(&trials_dir).map_err(|e| Error::io(&trials_dir, e))?;
    }
    let report = tuner.run(|trial, budget| {
        run_trial(
            &table,
            file,
            &tune.metric,
            trial,
            budget,
            epochs,
            &trials_dir,
        )
    })?;

    println!("{}", report.table());
    let csv = out.join("trials.csv");
    report.write_csv(&csv)?;
    let best = report.best();
    let best_dir = out.join("best");
    create_dir(&best_dir)?;
    let trial_dir = trial_dir(&trials_dir, best.config.id);
    for name in ["model.safetensors", "pipeline.json", "config.toml"] {
        let (from, to) = (trial_dir.join(name), best_dir.join(name));
        std::fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
    }
    println!(
        "best: trial {} ({}) {} {:.4} after {} epoch(s); weights, pipeline and config in {}",
        best.config.id,
        best.config.describe(),
        report.metric,
        best.last_metric().unwrap_or(f64::NAN),
        best.epochs(),
        best_dir.display()
    );
    println!("trials table: {}", csv.display());
    Ok(TuneOutcome {
        report,
        csv,
        best_dir,
    })
}

/// An error about the config file, reported under `key` (the file named once).
fn nested(file: &Path, key: &str, e: Error) -> Error {
    match e {
        Error::Format { message, .. } => key_error(file, key, message),
        other => key_error(file, key, other),
    }
}

fn trial_dir(trials: &Path, id: usize) -> PathBuf {
    trials.join(format!("{id:03}"))
}

/// Trains `trial` to `budget` epochs (resuming its previous rung) and reports `metric`.
fn run_trial(
    table: &toml::Table,
    file: &Path,
    metric: &str,
    trial: &TrialConfig,
    budget: usize,
    epochs: usize,
    trials_dir: &Path,
) -> Result<TrialResult> {
    let overrides: Vec<(String, toml::Value)> = trial
        .values
        .iter()
        .map(|(k, v)| (k.clone(), to_toml(v)))
        .collect();
    let table = Config::with_overrides(table.clone(), &overrides, file)?;
    let config = Config::from_table(table.clone(), file)?;
    let dir = trial_dir(trials_dir, trial.id);
    create_dir(&dir)?;
    let checkpoint = dir.join("last.safetensors");
    let plan = FitPlan {
        epochs: budget,
        schedule_epochs: epochs,
        resume: Some(checkpoint.clone()),
        save_checkpoint: Some(checkpoint),
        verbose: false,
        callbacks_dir: None,
        confusion: false,
    };
    let fitted = fit(&config, &plan)?;
    let last = fitted
        .history
        .last()
        .ok_or_else(|| Error::invalid("tune", "the trial trained no epoch"))?;
    let value = last.get(metric).ok_or_else(|| {
        key_error(
            file,
            "tune.metric",
            format!(
                "the history has no \"{metric}\"; it has {:?}",
                last.values.keys().collect::<Vec<_>>()
            ),
        )
    })?;
    save_weights(&fitted.model, dir.join("model.safetensors"))?;
    fitted.data.preprocessing.save(&dir.join("pipeline.json"))?;
    let text = toml::to_string(&table).map_err(|e| Error::format(file, e.to_string()))?;
    let path = dir.join("config.toml");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    let mut result = TrialResult::new(value).with_checkpoint(&dir);
    for (k, v) in &last.values {
        if k != metric && (k.ends_with("loss") || k.ends_with("accuracy")) {
            result = result.with(k.clone(), *v);
        }
    }
    Ok(result)
}

/// The `[tune.space]` table as a [`SearchSpace`]: a list is a choice, `{ log_uniform = [a,
/// b] }`, `{ uniform = [a, b] }` or `{ int_uniform = [a, b] }` a range.
pub(crate) fn search_space(file: &Path, tune: &TuneConfig) -> Result<SearchSpace> {
    let mut space = SearchSpace::new();
    for (name, value) in &tune.space {
        let key = format!("tune.space.\"{name}\"");
        let err = |m: String| key_error(file, &key, m);
        let domain = match value {
            toml::Value::Array(values) => Domain::Choice(
                values
                    .iter()
                    .map(|v| from_toml(v).ok_or_else(|| err(format!("cannot search over {v}"))))
                    .collect::<Result<_>>()?,
            ),
            toml::Value::Table(t) if t.len() == 1 => {
                let (kind, range) = t.iter().next().ok_or_else(|| err("empty range".into()))?;
                let pair = match range.as_array().map(Vec::as_slice) {
                    Some([a, b]) => (a.clone(), b.clone()),
                    _ => return Err(err(format!("{kind}: expected [low, high], found {range}"))),
                };
                let float = |v: &toml::Value| {
                    v.as_float()
                        .or(v.as_integer().map(|i| i as f64))
                        .ok_or_else(|| err(format!("{kind}: expected numbers, found {v}")))
                };
                match kind.as_str() {
                    "uniform" => Domain::Uniform {
                        low: float(&pair.0)?,
                        high: float(&pair.1)?,
                    },
                    "log_uniform" => Domain::LogUniform {
                        low: float(&pair.0)?,
                        high: float(&pair.1)?,
                    },
                    "int_uniform" => match (pair.0.as_integer(), pair.1.as_integer()) {
                        (Some(low), Some(high)) => Domain::IntUniform { low, high },
                        _ => return Err(err(format!("{kind}: expected integers, found {range}"))),
                    },
                    other => {
                        return Err(err(format!(
                            "unknown range \"{other}\"; expected uniform, log_uniform, int_uniform"
                        )));
                    }
                }
            }
            other => {
                return Err(err(format!(
                    "expected a list of values or a range table such as {{ log_uniform = [1e-4, 1e-2] }}, found {other}"
                )));
            }
        };
        space = space.param(name.clone(), domain);
    }
    space
        .validate()
        .map_err(|e| key_error(file, "tune.space", e))?;
    Ok(space)
}

fn from_toml(v: &toml::Value) -> Option<ParamValue> {
    Some(match v {
        toml::Value::Integer(i) => ParamValue::Int(*i),
        toml::Value::Float(x) => ParamValue::Float(*x),
        toml::Value::Boolean(b) => ParamValue::Bool(*b),
        toml::Value::String(s) => ParamValue::Str(s.clone()),
        _ => return None,
    })
}

fn to_toml(v: &ParamValue) -> toml::Value {
    match v {
        ParamValue::Int(i) => toml::Value::Integer(*i),
        ParamValue::Float(x) => toml::Value::Float(*x),
        ParamValue::Bool(b) => toml::Value::Boolean(*b),
        ParamValue::Str(s) => toml::Value::String(s.clone()),
    }
}
