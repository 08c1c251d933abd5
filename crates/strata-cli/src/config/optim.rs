//! `[optimizer]` and `[schedule]`: flat tables (a `type` and that kind's fields) turned into a
//! boxed [`Optimizer`] and a [`Schedule`]. A field the chosen kind does not use is an error
//! naming the key, so a typo never silently does nothing.

use std::path::Path;

use serde::{Deserialize, Serialize};
use strata_core::Result;
use strata_optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Schedule, Sgd};

use super::error::key_error;

/// Optimizer kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
    Rmsprop,
    Adagrad,
}

/// `[optimizer]`: `type`, `lr` and the kind's own fields (PyTorch's names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Which optimizer.
    #[serde(rename = "type")]
    pub kind: OptimizerKind,
    /// Learning rate.
    pub lr: f32,
    /// SGD, RMSprop: momentum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f32>,
    /// SGD: dampening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dampening: Option<f32>,
    /// SGD: Nesterov momentum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nesterov: Option<bool>,
    /// Every kind: L2 penalty (decoupled for AdamW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f32>,
    /// Adam, AdamW: `[beta1, beta2]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub betas: Option<[f32; 2]>,
    /// Adam, AdamW, RMSprop, Adagrad: epsilon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<f32>,
    /// RMSprop: smoothing constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    /// Adagrad: learning-rate decay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_decay: Option<f32>,
}

impl OptimizerConfig {
    /// The optimizer this table describes.
    pub fn build(&self, file: &Path) -> Result<Box<dyn Optimizer>> {
        use OptimizerKind as K;
        let allowed: &[&str] = match self.kind {
            K::Sgd => &["momentum", "dampening", "nesterov", "weight_decay"],
            K::Adam | K::Adamw => &["betas", "eps", "weight_decay"],
            K::Rmsprop => &["alpha", "eps", "momentum", "weight_decay"],
            K::Adagrad => &["lr_decay", "eps", "weight_decay"],
        };
        let set = [
            ("momentum", self.momentum.is_some()),
            ("dampening", self.dampening.is_some()),
            ("nesterov", self.nesterov.is_some()),
            ("weight_decay", self.weight_decay.is_some()),
            ("betas", self.betas.is_some()),
            ("eps", self.eps.is_some()),
            ("alpha", self.alpha.is_some()),
            ("lr_decay", self.lr_decay.is_some()),
        ];
        for (name, _) in set.iter().filter(|(_, on)| *on) {
            if !allowed.contains(name) {
                return Err(key_error(
                    file,
                    &format!("optimizer.{name}"),
                    format!(
                        "not used by {:?} (it takes lr, {})",
                        self.kind,
                        allowed.join(", ")
                    )
                    .to_lowercase(),
                ));
            }
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(key_error(
                file,
                "optimizer.lr",
                format!("expected a positive float, found {}", self.lr),
            ));
        }
        let lr = self.lr;
        Ok(match self.kind {
            K::Sgd => {
                let o = with(Sgd::new(lr), self.momentum, Sgd::momentum);
                let o = with(o, self.dampening, Sgd::dampening);
                let o = with(o, self.nesterov, Sgd::nesterov);
                Box::new(with(o, self.weight_decay, Sgd::weight_decay))
            }
            K::Adam => {
                let o = with(Adam::new(lr), self.betas, |o, [b1, b2]| o.betas(b1, b2));
                let o = with(o, self.eps, Adam::eps);
                Box::new(with(o, self.weight_decay, Adam::weight_decay))
            }
            K::Adamw => {
                let o = with(AdamW::new(lr), self.betas, |o, [b1, b2]| o.betas(b1, b2));
                let o = with(o, self.eps, AdamW::eps);
                Box::new(with(o, self.weight_decay, AdamW::weight_decay))
            }
            K::Rmsprop => {
                let o = with(RmsProp::new(lr), self.alpha, RmsProp::alpha);
                let o = with(o, self.eps, RmsProp::eps);
                let o = with(o, self.momentum, RmsProp::momentum);
                Box::new(with(o, self.weight_decay, RmsProp::weight_decay))
            }
            K::Adagrad => {
                let o = with(Adagrad::new(lr), self.lr_decay, Adagrad::lr_decay);
                let o = with(o, self.eps, Adagrad::eps);
                Box::new(with(o, self.weight_decay, Adagrad::weight_decay))
            }
        })
    }
}

/// Schedule kinds (strata-optim's [`Schedule`] variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ScheduleKind {
    Constant,
    StepLr,
    Exponential,
    CosineAnnealing,
}

/// When a schedule advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEvery {
    /// After every optimizer step (batch).
    #[default]
    Batch,
    /// After every epoch.
    Epoch,
}

/// `[schedule]`: `type`, the kind's fields, an optional linear warmup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Which schedule.
    #[serde(rename = "type")]
    pub kind: ScheduleKind,
    /// Whether the schedule counts batches (default) or epochs.
    #[serde(default)]
    pub every: StepEvery,
    /// Step LR: steps between decays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_size: Option<u64>,
    /// Step LR and exponential: decay factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f32>,
    /// Cosine: length of the half cosine in steps; absent: the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_max: Option<u64>,
    /// Cosine: the lowest rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_min: Option<f32>,
    /// Warmup steps before the schedule (0: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<u64>,
    /// Fraction of the base rate the warmup starts at (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_factor: Option<f32>,
}

impl ScheduleConfig {
    /// The schedule, for a run of `total_steps` steps (batches or epochs, as `every` says).
    pub fn build(&self, file: &Path, total_steps: u64) -> Result<Schedule> {
        let need = |name: &str, v: Option<f32>| {
            v.ok_or_else(|| {
                key_error(
                    file,
                    &format!("schedule.{name}"),
                    format!("missing key ({} needs it)", self.kind_name()),
                )
            })
        };
        let schedule = match self.kind {
            ScheduleKind::Constant => Schedule::constant(),
            ScheduleKind::StepLr => Schedule::step_lr(
                self.step_size.ok_or_else(|| {
                    key_error(file, "schedule.step_size", "missing key (step_lr needs it)")
                })?,
                need("gamma", self.gamma)?,
            ),
            ScheduleKind::Exponential => Schedule::exponential(need("gamma", self.gamma)?),
            ScheduleKind::CosineAnnealing => {
                let warm = self.warmup_steps.unwrap_or(0);
                Schedule::cosine_annealing(
                    self.t_max
                        .unwrap_or_else(|| total_steps.saturating_sub(warm).max(1)),
                    self.eta_min.unwrap_or(0.0),
                )
            }
        };
        let schedule = match self.warmup_steps {
            Some(w) if w > 0 => schedule.with_warmup(w, self.start_factor.unwrap_or(0.1)),
            _ => schedule,
        };
        schedule
            .validate()
            .map_err(|e| key_error(file, "schedule", e))?;
        Ok(schedule)
    }

    fn kind_name(&self) -> String {
        toml::Value::try_from(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// `set(builder, value)` when the key was given, else the builder unchanged.
fn with<O, T>(builder: O, value: Option<T>, set: impl FnOnce(O, T) -> O) -> O {
    match value {
        Some(v) => set(builder, v),
        None => builder,
    }
}
