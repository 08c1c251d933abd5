//! One training step with the guard every training loop needs: a loss that is not finite
//! stops training before the optimizer touches the weights.

use strata_core::{Error, Param, Result, Tensor};
use strata_layers::{Loss, Mode, Module};
use strata_optim::Optimizer;

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
    let prediction = model.forward(inputs, Mode::Train)?;
    let loss = loss_fn.forward(&prediction, targets)?;
    let value = loss.to_scalar()?;
    if !value.is_finite() {
        return Err(Error::NonFinite {
            what: "loss".into(),
            value,
            context: format!("optimizer step {}", optimizer.step_count() + 1),
        });
    }
    let grads = loss.backward()?;
    optimizer.step(params, &grads)?;
    Ok(value)
}
