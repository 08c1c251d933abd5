//! `Scheduler`: a schedule, its base learning rate and the current step, applied to an
//! optimizer. The step is readable and settable so that a checkpoint can restore it.

use serde::{Deserialize, Serialize};

use strata_core::Result;

use crate::optimizer::Optimizer;
use crate::schedule::{LrSchedule, Schedule};

/// Drives an optimizer's learning rate along a [`Schedule`]: call [`Scheduler::step`] once per
/// optimizer step (or per epoch, if the schedule counts epochs).
///
/// ```
/// # use strata_optim::{Adam, Optimizer, Schedule, Scheduler};
/// # fn main() -> strata_core::Result<()> {
/// let mut opt = Adam::new(1e-3);
/// let mut sched = Scheduler::attach(Schedule::cosine_annealing(10_000, 0.0), &mut opt)?;
/// // each training step: opt.step(&params, &grads)?; sched.step(&mut opt);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheduler {
    schedule: Schedule,
    base_lr: f32,
    step: u64,
}

impl Scheduler {
    /// A scheduler at step 0 from `base_lr`. The schedule is validated; a negative or
    /// non-finite `base_lr` is an error.
    pub fn new(schedule: Schedule, base_lr: f32) -> Result<Self> {
        schedule.validate()?;
        if !(base_lr.is_finite() && base_lr >= 0.0) {
            return Err(strata_core::Error::invalid(
                "Scheduler",
                format!("base_lr must be finite and >= 0; got {base_lr}"),
            ));
        }
        Ok(Scheduler {
            schedule,
            base_lr,
            step: 0,
        })
    }

    /// A scheduler whose base rate is `optimizer`'s current learning rate, which it then sets
    /// to the schedule's rate at step 0 (as constructing a PyTorch scheduler does).
    pub fn attach<O: Optimizer + ?Sized>(schedule: Schedule, optimizer: &mut O) -> Result<Self> {
        let scheduler = Scheduler::new(schedule, optimizer.learning_rate())?;
        scheduler.apply(optimizer);
        Ok(scheduler)
    }

    /// Advances one step and sets `optimizer`'s learning rate to the new step's rate.
    pub fn step<O: Optimizer + ?Sized>(&mut self, optimizer: &mut O) {
        self.step += 1;
        self.apply(optimizer);
    }

    /// Sets `optimizer`'s learning rate to the current step's rate without advancing (after
    /// [`Scheduler::set_current_step`] when resuming).
    pub fn apply<O: Optimizer + ?Sized>(&self, optimizer: &mut O) {
        optimizer.set_learning_rate(self.learning_rate());
    }

    /// The learning rate at the current step.
    pub fn learning_rate(&self) -> f32 {
        self.schedule.lr_at(self.base_lr, self.step)
    }

    /// The current step (how many times [`Scheduler::step`] was called, or the value set).
    pub fn current_step(&self) -> u64 {
        self.step
    }

    /// Moves to `step` (restoring a checkpoint); call [`Scheduler::apply`] to set the rate.
    pub fn set_current_step(&mut self, step: u64) {
        self.step = step;
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The base learning rate the schedule scales.
    pub fn base_lr(&self) -> f32 {
        self.base_lr
    }
}
