//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` do it, on the
//! gradients of a given list of parameters.

use strata_core::{Error, Gradients, Param, Result, Tensor, no_grad};

/// PyTorch's guard against dividing by a zero norm.
const NORM_EPS: f64 = 1e-6;

/// Rescales the gradients of `params` so that their global L2 norm is at most `max_norm`, and
/// returns the norm before clipping. When the norm exceeds `max_norm` every gradient is
/// multiplied by `max_norm / (norm + 1e-6)`, exactly as `torch.nn.utils.clip_grad_norm_`.
/// Parameters without a gradient are ignored.
///
/// A non-finite norm (a NaN or infinite gradient) is returned as is and the gradients are left
/// unchanged, so the caller can skip the step (PyTorch would instead fill them with NaN).
///
/// Each clipped gradient is replaced in `grads` by a scaled copy rather than scaled in place:
/// autograd may hand the same storage to several gradients (the two inputs of an `add`), and
/// scaling it in place once per parameter would scale it more than once.
pub fn clip_grad_norm(grads: &mut Gradients, params: &[Param], max_norm: f32) -> Result<f32> {
    if !(max_norm.is_finite() && max_norm >= 0.0) {
        return Err(Error::invalid(
            "clip_grad_norm",
            format!("max_norm must be finite and >= 0; got {max_norm}"),
        ));
    }
    // Summed on the device: one host read for the whole norm, not one per parameter.
    let mut total: Option<Tensor> = None;
    for param in params {
        if let Some(grad) = grads.get(param.tensor()) {
            let squares = grad.sum_squares()?;
            total = Some(match total {
                Some(t) => no_grad(|| t.add(&squares))?,
                None => squares,
            });
        }
    }
    let norm = match total {
        Some(t) => f64::from(t.to_scalar()?).sqrt(),
        None => 0.0,
    };
    let coef = f64::from(max_norm) / (norm + NORM_EPS);
    if norm.is_finite() && coef < 1.0 {
        let coef = coef as f32;
        for param in params {
            if let Some(grad) = grads.get(param.tensor()) {
                let scaled = no_grad(|| grad.mul_scalar(coef))?;
                grads.insert(param.tensor(), scaled);
            }
        }
    }
    Ok(norm as f32)
}

/// Clamps every gradient of `params` to `[-limit, limit]` in place
/// (`torch.nn.utils.clip_grad_value_`). Clamping twice changes nothing, so gradients that
/// share storage are handled correctly.
pub fn clip_grad_value(grads: &mut Gradients, params: &[Param], limit: f32) -> Result<()> {
    if !(limit.is_finite() && limit >= 0.0) {
        return Err(Error::invalid(
            "clip_grad_value",
            format!("limit must be finite and >= 0; got {limit}"),
        ));
    }
    for param in params {
        if let Some(grad) = grads.get(param.tensor()) {
            grad.clamp_in_place(limit)?;
        }
    }
    Ok(())
}
