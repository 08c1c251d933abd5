//! Gradient checking by central finite differences.
//!
//! [`check_gradients`] compares the gradients autograd computes for a function of several
//! tensors with `(f(x + h) − f(x − h)) / 2h`, element by element. To exercise the whole
//! Jacobian rather than its row sums, the function's output is contracted with fixed random
//! weights before differentiating. Tensors are `f32`, so the step and tolerances are chosen
//! for single precision: `h = 1e-2` by default and a mixed absolute/relative tolerance.

use crate::{Device, Error, Result, Tensor};

/// Step and tolerances of a gradient check.
#[derive(Debug, Clone, Copy)]
pub struct GradCheckConfig {
    /// Finite-difference step.
    pub step: f32,
    /// Allowed absolute difference.
    pub abs_tol: f32,
    /// Allowed difference relative to the larger magnitude.
    pub rel_tol: f32,
}

impl Default for GradCheckConfig {
    fn default() -> Self {
        GradCheckConfig {
            step: 1e-2,
            abs_tol: 2e-3,
            rel_tol: 2e-2,
        }
    }
}

/// Checks autograd's gradients of `f` at `inputs` against central differences. Returns the
/// largest absolute difference found, or an error naming the input, the element and both
/// values.
pub fn check_gradients(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    config: GradCheckConfig,
) -> Result<f32> {
    let device = inputs
        .first()
        .map(|t| t.device())
        .unwrap_or_else(Device::best);
    let vars: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.detach().deep_clone().map(|c| c.variable()))
        .collect::<Result<_>>()?;
    let probe_out = crate::no_grad(|| f(&vars))?;
    let weights = Tensor::rand_uniform(probe_out.shape().clone(), 0.5, 1.5, 0x5eed, &device)?;
    let scalar = |xs: &[Tensor]| -> Result<f64> {
        let y = crate::no_grad(|| f(xs))?;
        let (yv, wv) = (y.to_vec()?, weights.to_vec()?);
        Ok(yv.iter().zip(&wv).map(|(a, b)| *a as f64 * *b as f64).sum())
    };
    let loss = f(&vars)?.mul(&weights)?.sum_all()?;
    let grads = loss.backward()?;
    let mut worst = 0.0f32;
    for (which, var) in vars.iter().enumerate() {
        let analytic = match grads.get(var) {
            Some(g) => g.to_vec()?,
            None => vec![0.0; var.elem_count()],
        };
        let base = var.to_vec()?;
        for i in 0..base.len() {
            let mut plus = base.clone();
            plus[i] += config.step;
            let mut minus = base.clone();
            minus[i] -= config.step;
            let with = |data: Vec<f32>| -> Result<f64> {
                let mut xs = vars.clone();
                xs[which] = Tensor::from_vec(data, var.shape().clone(), &device)?;
                scalar(&xs)
            };
            let numeric = ((with(plus)? - with(minus)?) / (2.0 * config.step as f64)) as f32;
            let diff = (numeric - analytic[i]).abs();
            let allowed = config.abs_tol + config.rel_tol * numeric.abs().max(analytic[i].abs());
            if diff.is_nan() || diff > allowed {
                return Err(Error::Autograd(format!(
                    "gradient check failed for input {which} (shape {}) at element {i}: \
                     autograd gives {} but finite differences give {numeric}",
                    var.shape(),
                    analytic[i]
                )));
            }
            worst = worst.max(diff);
        }
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_gradient_is_caught() {
        // Autograd treats the detached factor as a constant (gradient x), while the function
        // really is x² (gradient 2x): the check must notice.
        let x = Tensor::from_slice(&[0.5, -1.0, 2.0], [3], &Device::Cpu).unwrap();
        let result = check_gradients(
            |v| v[0].detach().mul(&v[0]),
            &[x],
            GradCheckConfig::default(),
        );
        assert!(matches!(result, Err(Error::Autograd(m)) if m.contains("finite differences")));
    }
}
