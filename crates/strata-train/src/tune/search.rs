//! The [`Tuner`]: enumerates or draws the trials, runs the objective on each for a budget of
//! epochs, and with successive halving keeps only the best `1/eta` at each rung, giving the
//! survivors a larger budget (the losers stop early).

use std::time::Instant;

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

use super::report::{TrialRecord, TrialStatus, TuneReport};
use super::space::SearchSpace;
use super::trial::{TrialConfig, TrialResult};

/// How trials are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Every combination of the lists.
    Grid,
    /// This many seeded draws.
    Random {
        /// Number of trials.
        trials: usize,
    },
}

/// Whether a higher or a lower metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Higher is better (accuracy).
    Maximize,
    /// Lower is better (loss).
    Minimize,
}

impl Direction {
    /// Whether `a` is strictly better than `b`; NaN is worse than anything.
    pub fn better(self, a: f64, b: f64) -> bool {
        match (a.is_nan(), b.is_nan()) {
            (true, _) => false,
            (false, true) => true,
            _ => match self {
                Direction::Maximize => a > b,
                Direction::Minimize => a < b,
            },
        }
    }
}

/// Successive halving: budgets `min_epochs · eta^k` epochs (the last rung the full budget);
/// after each rung but the last, the best `⌈n / eta⌉` trials go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halving {
    /// Reduction factor (≥ 2).
    pub eta: usize,
    /// Epochs of the first rung (≥ 1).
    pub min_epochs: usize,
}

/// A hyperparameter search.
///
/// ```
/// use strata_train::tune::{Direction, SearchSpace, TrialResult, Tuner};
/// let space = SearchSpace::new().choice("lr", [0.1, 0.01, 0.001]);
/// let report = Tuner::new(space)
///     .metric("val_accuracy", Direction::Maximize)
///     .epochs(4)
///     .successive_halving(2, 1)
///     .run(|trial, epochs| {
///         let lr = trial.f64("lr")?;
///         Ok(TrialResult::new(1.0 - (lr - 0.01).abs() - 0.1 / epochs as f64))
///     })?;
/// assert_eq!(report.best().config.f64("lr")?, 0.01);
/// # Ok::<(), strata_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tuner {
    space: SearchSpace,
    strategy: Strategy,
    seed: u64,
    metric: String,
    direction: Direction,
    epochs: usize,
    halving: Option<Halving>,
    verbose: bool,
}

impl Tuner {
    /// A grid search over `space`, maximizing `val_accuracy`, one epoch per trial.
    pub fn new(space: SearchSpace) -> Self {
        Tuner {
            space,
            strategy: Strategy::Grid,
            seed: 0,
            metric: "val_accuracy".to_string(),
            direction: Direction::Maximize,
            epochs: 1,
            halving: None,
            verbose: false,
        }
    }

    /// Grid or random search.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Seed of random search's draws.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The metric's name (for the table) and which way is better.
    pub fn metric(mut self, name: impl Into<String>, direction: Direction) -> Self {
        self.metric = name.into();
        self.direction = direction;
        self
    }

    /// Epochs of a trial that runs to the end.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Turns on successive halving.
    pub fn successive_halving(mut self, eta: usize, min_epochs: usize) -> Self {
        self.halving = Some(Halving { eta, min_epochs });
        self
    }

    /// Prints a line per trial and rung to stderr.
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }

    /// The search space.
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// The trials the search will run, in order.
    pub fn trials(&self) -> Result<Vec<TrialConfig>> {
        let combos = match self.strategy {
            Strategy::Grid => self.space.grid()?,
            Strategy::Random { trials: 0 } => {
                return Err(Error::invalid(
                    "random search",
                    "expected at least 1 trial, found 0",
                ));
            }
            Strategy::Random { trials } => self.space.sample(trials, self.seed)?,
        };
        Ok(combos
            .into_iter()
            .enumerate()
            .map(|(id, values)| TrialConfig { id, values })
            .collect())
    }

    /// The epoch budget of each rung (one rung without halving).
    pub fn rungs(&self) -> Result<Vec<usize>> {
        if self.epochs == 0 {
            return Err(Error::invalid(
                "Tuner",
                "expected at least 1 epoch, found 0",
            ));
        }
        let Some(h) = self.halving else {
            return Ok(vec![self.epochs]);
        };
        if h.eta < 2 || h.min_epochs == 0 {
            return Err(Error::invalid(
                "successive halving",
                format!(
                    "expected eta >= 2 and min_epochs >= 1, found eta {} and min_epochs {}",
                    h.eta, h.min_epochs
                ),
            ));
        }
        let mut rungs = Vec::new();
        let mut budget = h.min_epochs;
        while budget < self.epochs {
            rungs.push(budget);
            budget *= h.eta;
        }
        rungs.push(self.epochs);
        Ok(rungs)
    }

    /// Runs the search. `objective(trial, epochs)` trains `trial` until it has had `epochs`
    /// epochs in total (it may continue from the previous rung or start over) and reports
    /// the metric. A trial whose objective fails is recorded as failed and dropped; the
    /// search fails only when every trial does.
    pub fn run<F>(&self, mut objective: F) -> Result<TuneReport>
    where
        F: FnMut(&TrialConfig, usize) -> Result<TrialResult>,
    {
        let rungs = self.rungs()?;
        let mut records: Vec<TrialRecord> = self
            .trials()?
            .into_iter()
            .map(|config| TrialRecord {
                config,
                results: Vec::new(),
                status: TrialStatus::Completed,
                seconds: 0.0,
            })
            .collect();
        let mut active: Vec<usize> = (0..records.len()).collect();
        let mut first_error: Option<Error> = None;
        for (rung, &budget) in rungs.iter().enumerate() {
            for &i in &active {
                let clock = Instant::now();
                let outcome = objective(&records[i].config, budget);
                let record = &mut records[i];
                record.seconds += clock.elapsed().as_secs_f64();
                match outcome {
                    Ok(result) => {
                        if self.verbose {
                            eprintln!(
                                "trial {} ({}) after {budget} epoch(s): {} {:.4}",
                                record.config.id,
                                record.config.describe(),
                                self.metric,
                                result.metric
                            );
                        }
                        record.results.push((budget, result));
                    }
                    Err(e) => {
                        if self.verbose {
                            eprintln!("trial {} failed: {e}", record.config.id);
                        }
                        record.status = TrialStatus::Failed(e.to_string());
                        first_error.get_or_insert(e);
                    }
                }
            }
            active.retain(|&i| !matches!(records[i].status, TrialStatus::Failed(_)));
            if rung + 1 == rungs.len() || active.is_empty() {
                break;
            }
            let eta = self.halving.map_or(1, |h| h.eta);
            let keep = active.len().div_ceil(eta).max(1);
            let metric = |i: usize| records[i].last_metric().unwrap_or(f64::NAN);
            active.sort_by(|&a, &b| {
                if self.direction.better(metric(a), metric(b)) {
                    std::cmp::Ordering::Less
                } else if self.direction.better(metric(b), metric(a)) {
                    std::cmp::Ordering::Greater
                } else {
                    a.cmp(&b)
                }
            });
            for &i in &active[keep..] {
                records[i].status = TrialStatus::Stopped { epochs: budget };
            }
            active.truncate(keep);
            active.sort_unstable();
        }
        if records.iter().all(|r| r.results.is_empty()) {
            return Err(first_error.unwrap_or_else(|| {
                Error::invalid("Tuner::run", "the search space gave no trial")
            }));
        }
        Ok(TuneReport::new(
            records,
            self.space.names().iter().map(|s| s.to_string()).collect(),
            self.metric.clone(),
            self.direction,
        ))
    }
}
