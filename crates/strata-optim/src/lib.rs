//! `strata-optim`: the optimizers that update a model's parameters from their gradients,
//! learning-rate schedules, and gradient clipping.
//!
//! - [`Optimizer`] is the trait every optimizer implements: [`Sgd`], [`Adam`], [`AdamW`],
//!   [`RmsProp`] and [`Adagrad`], each with `torch.optim`'s defaults and update rule. Each
//!   update is one fused, in-place pass per parameter through `strata-core`
//!   ([`strata_core::adam_step`] and friends); state buffers are allocated on a parameter's
//!   first update and reused after.
//! - Optimizer state is exported and restored as named tensors (`"0.weight.exp_avg"`) so a
//!   checkpoint can save it next to the weights (see [`Optimizer::state`]).
//! - [`Schedule`] values give the learning rate at each step (PyTorch's closed forms);
//!   a [`Scheduler`] applies one to an optimizer.
//! - [`clip_grad_norm`] and [`clip_grad_value`] rescale gradients before a step.
//!
//! Module map: `optimizer` (the trait), `state` (per-parameter buffers and their
//! export/import), one file per optimizer (`sgd`, `adam`, `rmsprop`, `adagrad`), `check`
//! (hyperparameter validation), `schedule` and `scheduler`, `clip`. This crate never touches
//! a backend directly: every tensor operation goes through `strata-core`.

mod adagrad;
mod adam;
mod check;
mod clip;
mod optimizer;
mod rmsprop;
mod schedule;
mod scheduler;
mod sgd;
mod state;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use optimizer::Optimizer;
pub use rmsprop::RmsProp;
pub use schedule::{LrSchedule, Schedule};
pub use scheduler::Scheduler;
pub use sgd::Sgd;
