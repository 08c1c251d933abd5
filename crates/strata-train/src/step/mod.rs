//! One training step, shared by [`crate::Trainer::fit`] and the facade's
//! `strata::train_step`, and the hook through which a user supplies its forward pass and
//! loss.
//!
//! Module map: `hook` (what a step computes: [`StepHook`], its input [`StepBatch`] and its
//! result [`StepOutput`]; [`LossStep`], the hook of a one-input, one-loss model), `run`
//! ([`TrainStep`]: the non-finite guard, backward, accumulation, clipping and the update,
//! the same for every hook). Nothing here reads batches or keeps epochs: that is the
//! trainer's.

mod hook;
mod run;

pub use hook::{LossStep, NamedOutput, StepBatch, StepHook, StepOutput};
pub use run::{Clip, StepReport, TrainStep};
