//! Reference optimizer updates: `torch.optim`'s formulas per element, in `f64`, with the
//! parameter and state rounded back to `f32` after the step.

use strata_backend::{
    AdagradSpec, AdamSpec, BackendError, OptimizerOps, Result, RmspropSpec, SgdSpec,
};

use super::{RefBuffer, ReferenceBackend, invalid, round};

impl OptimizerOps for ReferenceBackend {
    fn sgd_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        velocity: Option<&mut RefBuffer>,
        spec: SgdSpec,
    ) -> Result<()> {
        const OP: &str = "sgd_step";
        BackendError::check_len(OP, param.0.len(), grad.0.len())?;
        let lr = f64::from(spec.lr);
        let wd = f64::from(spec.weight_decay);
        let momentum = f64::from(spec.momentum);
        let dampening = f64::from(spec.dampening);
        let mut velocity = momentum_state(OP, "velocity", param.0.len(), momentum, velocity)?;
        for i in 0..param.0.len() {
            let p = f64::from(param.0[i]);
            let mut g = f64::from(grad.0[i]) + wd * p;
            if let Some(velocity) = velocity.as_deref_mut() {
                let buf = if spec.first_step {
                    g
                } else {
                    momentum * f64::from(velocity[i]) + (1.0 - dampening) * g
                };
                velocity[i] = round(buf);
                g = if spec.nesterov {
                    g + momentum * buf
                } else {
                    buf
                };
            }
            param.0[i] = round(p - lr * g);
        }
        Ok(())
    }

    fn adam_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        m: &mut RefBuffer,
        v: &mut RefBuffer,
        spec: AdamSpec,
    ) -> Result<()> {
        const OP: &str = "adam_step";
        BackendError::check_len(OP, param.0.len(), grad.0.len())?;
        BackendError::check_len(OP, param.0.len(), m.0.len())?;
        BackendError::check_len(OP, param.0.len(), v.0.len())?;
        check_step(OP, spec.step)?;
        let lr = f64::from(spec.lr);
        let wd = f64::from(spec.weight_decay);
        let (beta1, beta2) = (f64::from(spec.beta1), f64::from(spec.beta2));
        let eps = f64::from(spec.eps);
        let bias_correction1 = 1.0 - beta1.powf(spec.step as f64);
        let bias_correction2 = 1.0 - beta2.powf(spec.step as f64);
        for i in 0..param.0.len() {
            let mut p = f64::from(param.0[i]);
            let mut g = f64::from(grad.0[i]);
            if spec.decoupled_weight_decay {
                p *= 1.0 - lr * wd;
            } else {
                g += wd * p;
            }
            let m_new = beta1 * f64::from(m.0[i]) + (1.0 - beta1) * g;
            let v_new = beta2 * f64::from(v.0[i]) + (1.0 - beta2) * g * g;
            let denom = v_new.sqrt() / bias_correction2.sqrt() + eps;
            p -= (lr / bias_correction1) * m_new / denom;
            m.0[i] = round(m_new);
            v.0[i] = round(v_new);
            param.0[i] = round(p);
        }
        Ok(())
    }

    fn rmsprop_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        square_avg: &mut RefBuffer,
        momentum_buf: Option<&mut RefBuffer>,
        spec: RmspropSpec,
    ) -> Result<()> {
        const OP: &str = "rmsprop_step";
        BackendError::check_len(OP, param.0.len(), grad.0.len())?;
        BackendError::check_len(OP, param.0.len(), square_avg.0.len())?;
        let lr = f64::from(spec.lr);
        let alpha = f64::from(spec.alpha);
        let eps = f64::from(spec.eps);
        let wd = f64::from(spec.weight_decay);
        let momentum = f64::from(spec.momentum);
        let mut buffer =
            momentum_state(OP, "momentum buffer", param.0.len(), momentum, momentum_buf)?;
        for i in 0..param.0.len() {
            let p = f64::from(param.0[i]);
            let g = f64::from(grad.0[i]) + wd * p;
            let sq = alpha * f64::from(square_avg.0[i]) + (1.0 - alpha) * g * g;
            square_avg.0[i] = round(sq);
            let avg = sq.sqrt() + eps;
            let step = match buffer.as_deref_mut() {
                Some(buffer) => {
                    let buf = momentum * f64::from(buffer[i]) + g / avg;
                    buffer[i] = round(buf);
                    buf
                }
                None => g / avg,
            };
            param.0[i] = round(p - lr * step);
        }
        Ok(())
    }

    fn adagrad_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        sum: &mut RefBuffer,
        spec: AdagradSpec,
    ) -> Result<()> {
        const OP: &str = "adagrad_step";
        BackendError::check_len(OP, param.0.len(), grad.0.len())?;
        BackendError::check_len(OP, param.0.len(), sum.0.len())?;
        check_step(OP, spec.step)?;
        let lr = f64::from(spec.lr);
        let wd = f64::from(spec.weight_decay);
        let eps = f64::from(spec.eps);
        let clr = lr / (1.0 + (spec.step - 1) as f64 * f64::from(spec.lr_decay));
        for i in 0..param.0.len() {
            let p = f64::from(param.0[i]);
            let g = f64::from(grad.0[i]) + wd * p;
            let s = f64::from(sum.0[i]) + g * g;
            sum.0[i] = round(s);
            param.0[i] = round(p - clr * g / (s.sqrt() + eps));
        }
        Ok(())
    }

    fn scale_in_place(&self, x: &mut RefBuffer, s: f32) -> Result<()> {
        for v in &mut x.0 {
            *v = round(f64::from(*v) * f64::from(s));
        }
        Ok(())
    }

    fn clamp_in_place(&self, x: &mut RefBuffer, limit: f32) -> Result<()> {
        if limit.is_nan() || limit < 0.0 {
            return Err(invalid(
                "clamp_in_place",
                format!("limit {limit} must be a non-negative number"),
            ));
        }
        for v in &mut x.0 {
            *v = v.clamp(-limit, limit);
        }
        Ok(())
    }
}

/// The momentum state as a slice: required (and of the parameter's length) when `momentum`
/// is non-zero, ignored otherwise.
fn momentum_state<'a>(
    op: &'static str,
    what: &str,
    len: usize,
    momentum: f64,
    state: Option<&'a mut RefBuffer>,
) -> Result<Option<&'a mut [f32]>> {
    if momentum == 0.0 {
        return Ok(None);
    }
    let Some(state) = state else {
        return Err(invalid(
            op,
            format!("momentum is {momentum} but no {what} was given"),
        ));
    };
    BackendError::check_len(op, len, state.0.len())?;
    Ok(Some(&mut state.0))
}

fn check_step(op: &'static str, step: u64) -> Result<()> {
    if step == 0 {
        Err(invalid(op, "step must start at 1".to_string()))
    } else {
        Ok(())
    }
}
