//! One training step with the guard every training loop needs: a loss that is not finite
//! stops training before the optimizer touches the weights. It is the trainer's own step
//! ([`strata_train::step::TrainStep`]), run on one batch with one update.

use strata_core::{Error, Param, Result, Tensor};
use strata_layers::{Loss, Module};
use strata_optim::Optimizer;
use strata_train::step::{LossStep, StepBatch, TrainStep};

/// Forward, loss, backward and one optimizer update; returns the loss.
///
/// If the loss is NaN or infinite the step returns [`Error::NonFinite`] *before* the
/// update, so the model keeps the weights of the last good step.
pub fn train_step(
    model: &dyn Module,
    params: &[Param],
    loss_fn: &dyn Loss,
    optimizer: &mut dyn Optimizer,
    inputs: &Tensor,
    targets: &Tensor,
) -> Result<f32> {
    let batch = StepBatch::new(inputs.clone(), targets.clone());
    let report = TrainStep::new().run(
        &mut LossStep::new(loss_fn),
        model,
        params,
        optimizer,
        &batch,
        true,
    )?;
    if !report.loss_is_finite() {
        return Err(Error::NonFinite {
            what: "loss".into(),
            value: report.loss(),
            context: format!("optimizer step {}", optimizer.step_count() + 1),
        });
    }
    Ok(report.loss())
}

/// docs/training.md, compiled by `cargo test --doc` so its examples cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/training.md")]
pub struct TrainingDocDoctests;
