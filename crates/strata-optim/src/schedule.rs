//! Learning-rate schedules as values: each gives the learning rate at a step in closed form
//! (the formulas of `torch.optim.lr_scheduler`), and serializes with serde so a training
//! configuration can record it. Schedules never touch an optimizer; [`crate::Scheduler`] does.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

/// A function from (base learning rate, step) to the learning rate of that step.
pub trait LrSchedule {
    /// The learning rate at `step` (0 before the first `Scheduler::step`) for a schedule
    /// starting from `base_lr`.
    fn lr_at(&self, base_lr: f32, step: u64) -> f32;
}

/// The schedules Strata knows, with PyTorch's closed forms. Serialized as an object with a
/// `"kind"` tag, e.g. `{"kind": "step_lr", "step_size": 30, "gamma": 0.1}`.
///
/// ```
/// use strata_optim::{LrSchedule, Schedule};
/// let warm_cosine = Schedule::cosine_annealing(1000, 0.0).with_warmup(100, 0.01);
/// assert!((warm_cosine.lr_at(0.1, 0) - 0.001).abs() < 1e-9); // start_factor · base
/// assert_eq!(warm_cosine.lr_at(0.1, 100), 0.1); // the cosine starts at the base rate
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The base learning rate at every step.
    Constant,
    /// `StepLR`: `base · γ^⌊step / step_size⌋`.
    StepLr {
        /// Steps between two decays (> 0).
        step_size: u64,
        /// Multiplicative decay.
        gamma: f32,
    },
    /// `ExponentialLR`: `base · γ^step`.
    ExponentialLr {
        /// Multiplicative decay per step.
        gamma: f32,
    },
    /// `CosineAnnealingLR`'s closed form:
    /// `η_min + (base − η_min) · (1 + cos(π · step / t_max)) / 2`. As in PyTorch the cosine
    /// goes on past `t_max` (the rate climbs back towards `base` over the next `t_max` steps),
    /// so set `t_max` to the length of the run.
    CosineAnnealing {
        /// Steps of the half cosine from `base` down to `eta_min` (> 0).
        t_max: u64,
        /// The lowest learning rate.
        eta_min: f32,
    },
    /// `LinearLR` from `start_factor · base` to `base` over `warmup_steps`, then `then`
    /// counted from the end of the warmup: `SequentialLR([LinearLR(start_factor, 1.0,
    /// warmup_steps), then], milestones=[warmup_steps])`.
    LinearWarmup {
        /// Length of the warmup (0: no warmup).
        warmup_steps: u64,
        /// Fraction of the base rate at step 0, in `(0, 1]`.
        start_factor: f32,
        /// The schedule after the warmup; its step 0 is the first step after the warmup.
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// [`Schedule::Constant`].
    pub fn constant() -> Self {
        Schedule::Constant
    }

    /// [`Schedule::StepLr`].
    pub fn step_lr(step_size: u64, gamma: f32) -> Self {
        Schedule::StepLr { step_size, gamma }
    }

    /// [`Schedule::ExponentialLr`].
    pub fn exponential(gamma: f32) -> Self {
        Schedule::ExponentialLr { gamma }
    }

    /// [`Schedule::CosineAnnealing`].
    pub fn cosine_annealing(t_max: u64, eta_min: f32) -> Self {
        Schedule::CosineAnnealing { t_max, eta_min }
    }

    /// This schedule preceded by a linear warmup ([`Schedule::LinearWarmup`]).
    pub fn with_warmup(self, warmup_steps: u64, start_factor: f32) -> Self {
        Schedule::LinearWarmup {
            warmup_steps,
            start_factor,
            then: Box::new(self),
        }
    }

    /// Checks the parameters: a zero `step_size` or `t_max`, a non-finite or negative factor,
    /// or a `start_factor` outside `(0, 1]` is an error naming the field.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::invalid("lr schedule", message));
        let non_negative = |name: &str, v: f32| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                invalid(format!("{name} must be finite and >= 0; got {v}"))
            }
        };
        match self {
            Schedule::Constant => Ok(()),
            Schedule::StepLr { step_size, gamma } => {
                if *step_size == 0 {
                    return invalid("StepLr: step_size must be > 0".into());
                }
                non_negative("StepLr: gamma", *gamma)
            }
            Schedule::ExponentialLr { gamma } => non_negative("ExponentialLr: gamma", *gamma),
            Schedule::CosineAnnealing { t_max, eta_min } => {
                if *t_max == 0 {
                    return invalid("CosineAnnealing: t_max must be > 0".into());
                }
                non_negative("CosineAnnealing: eta_min", *eta_min)
            }
            Schedule::LinearWarmup {
                start_factor, then, ..
            } => {
                if !(*start_factor > 0.0 && *start_factor <= 1.0) {
                    return invalid(format!(
                        "LinearWarmup: start_factor must be in (0, 1]; got {start_factor}"
                    ));
                }
                then.validate()
            }
        }
    }
}

impl LrSchedule for Schedule {
    /// Computed in `f64` and rounded once. An invalid schedule (see [`Schedule::validate`])
    /// still returns a number: a zero `step_size` or `t_max` counts as 1.
    fn lr_at(&self, base_lr: f32, step: u64) -> f32 {
        let base = f64::from(base_lr);
        let lr = match self {
            Schedule::Constant => base,
            Schedule::StepLr { step_size, gamma } => {
                base * f64::from(*gamma).powf((step / (*step_size).max(1)) as f64)
            }
            Schedule::ExponentialLr { gamma } => base * f64::from(*gamma).powf(step as f64),
            Schedule::CosineAnnealing { t_max, eta_min } => {
                let eta_min = f64::from(*eta_min);
                let phase = PI * step as f64 / (*t_max).max(1) as f64;
                eta_min + (base - eta_min) * (1.0 + phase.cos()) / 2.0
            }
            Schedule::LinearWarmup {
                warmup_steps,
                start_factor,
                then,
            } => {
                if step >= *warmup_steps {
                    return then.lr_at(base_lr, step - warmup_steps);
                }
                let start = f64::from(*start_factor);
                base * (start + (1.0 - start) * step as f64 / *warmup_steps as f64)
            }
        };
        lr as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() <= 1e-7 * b.abs().max(1e-3)
    }

    #[test]
    fn constant_is_the_base_rate_at_every_step() {
        for step in [0, 1, 1000, u64::MAX] {
            assert_eq!(Schedule::constant().lr_at(0.3, step), 0.3);
        }
    }

    #[test]
    fn step_lr_decays_by_gamma_every_step_size_steps() {
        let s = Schedule::step_lr(3, 0.5);
        // 0.1·0.5^⌊t/3⌋ for t = 0..7: 0.1 0.1 0.1 0.05 0.05 0.05 0.025
        let expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025];
        for (t, want) in expected.iter().enumerate() {
            assert!(
                close(s.lr_at(0.1, t as u64), *want),
                "step {t}: {}",
                s.lr_at(0.1, t as u64)
            );
        }
    }

    #[test]
    fn exponential_lr_is_base_times_gamma_to_the_step() {
        let s = Schedule::exponential(0.9);
        // 0.2·0.9^t: 0.2, 0.18, 0.162, 0.1458
        for (t, want) in [0.2, 0.18, 0.162, 0.1458].iter().enumerate() {
            assert!(close(s.lr_at(0.2, t as u64), *want));
        }
    }

    #[test]
    fn cosine_annealing_matches_the_closed_form() {
        let s = Schedule::cosine_annealing(4, 0.01);
        // 0.01 + 0.09·(1 + cos(πt/4))/2 for t = 0..=8:
        // cos = 1, √2/2, 0, −√2/2, −1, −√2/2, 0, √2/2, 1
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let expected = [
            0.1,
            0.01 + 0.045 * (1.0 + h),
            0.055,
            0.01 + 0.045 * (1.0 - h),
            0.01,
            0.01 + 0.045 * (1.0 - h),
            0.055,
            0.01 + 0.045 * (1.0 + h),
            0.1,
        ];
        for (t, want) in expected.iter().enumerate() {
            assert!(close(s.lr_at(0.1, t as u64), *want), "step {t}");
        }
    }

    #[test]
    fn linear_warmup_ramps_then_hands_over_counting_from_zero() {
        let s = Schedule::step_lr(2, 0.1).with_warmup(4, 0.2);
        // warmup: 1.0·(0.2 + 0.8·t/4) = 0.2, 0.4, 0.6, 0.8; then StepLr at t−4: 1, 1, 0.1, 0.1
        let expected = [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 0.1, 0.1];
        for (t, want) in expected.iter().enumerate() {
            assert!(
                close(s.lr_at(1.0, t as u64), *want),
                "step {t}: {}",
                s.lr_at(1.0, t as u64)
            );
        }
    }

    #[test]
    fn zero_step_warmup_is_the_inner_schedule() {
        let s = Schedule::exponential(0.5).with_warmup(0, 0.1);
        assert_eq!(s.lr_at(1.0, 0), 1.0);
        assert_eq!(s.lr_at(1.0, 2), 0.25);
    }

    #[test]
    fn invalid_parameters_are_named() {
        let cases = [
            (Schedule::step_lr(0, 0.1), "step_size"),
            (Schedule::exponential(-1.0), "gamma"),
            (Schedule::cosine_annealing(0, 0.0), "t_max"),
            (Schedule::constant().with_warmup(10, 0.0), "start_factor"),
            (
                Schedule::cosine_annealing(5, f32::NAN).with_warmup(10, 0.5),
                "eta_min",
            ),
        ];
        for (schedule, field) in cases {
            let err = schedule.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
        assert!(
            Schedule::cosine_annealing(10, 0.0)
                .with_warmup(2, 1.0)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn serializes_with_a_kind_tag_and_round_trips() {
        let s = Schedule::cosine_annealing(100, 1e-5).with_warmup(10, 0.1);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""kind":"linear_warmup""#), "{json}");
        assert!(json.contains(r#""kind":"cosine_annealing""#), "{json}");
        let back: Schedule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
