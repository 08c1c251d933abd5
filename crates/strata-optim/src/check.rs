//! Validation shared by the optimizers: hyperparameter ranges and gradient shapes, checked
//! before any parameter is touched so that a failed step changes nothing.

use strata_core::{Error, Param, Result, Tensor};

/// `value` must be finite and `>= 0` (learning rates, eps, weight decay, momentum).
pub(crate) fn non_negative(optimizer: &'static str, name: &str, value: f32) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            optimizer,
            format!("{name} must be finite and >= 0; got {value}"),
        ))
    }
}

/// `value` must lie in `[0, 1)` (Adam's betas).
pub(crate) fn unit_interval(optimizer: &'static str, name: &str, value: f32) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            optimizer,
            format!("{name} must be in [0, 1); got {value}"),
        ))
    }
}

/// `grad` has the shape of `param`.
pub(crate) fn gradient_shape(optimizer: &'static str, param: &Param, grad: &Tensor) -> Result<()> {
    if grad.shape() == param.tensor().shape() {
        return Ok(());
    }
    Err(Error::shape(
        optimizer,
        format!(
            "the gradient of `{}` is {} but the parameter is {}",
            param.name(),
            grad.shape(),
            param.tensor().shape()
        ),
    ))
}
