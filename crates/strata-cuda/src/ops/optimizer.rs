//! Fused optimizer updates on the GPU (`kernels/optimizer.cu`): one kernel per optimizer, one
//! pass over parameter, gradient and state. The step-dependent constants are computed here in
//! `f64` exactly as the CPU backend computes them.

use strata_backend::{
    AdagradSpec, AdamSpec, BackendError, OptimizerOps, Result, RmspropSpec, SgdSpec,
};

use crate::check::invalid;
use crate::kernels::{launch, launch_config};
use crate::{CudaBackend, CudaBuffer};

fn check_state(op: &'static str, param: &CudaBuffer, others: &[usize]) -> Result<()> {
    others
        .iter()
        .try_for_each(|&n| BackendError::check_len(op, param.len(), n))
}

fn check_step(op: &'static str, step: u64) -> Result<()> {
    if step == 0 {
        Err(invalid(op, "step numbers start at 1".to_string()))
    } else {
        Ok(())
    }
}

/// The momentum buffer when momentum is on (checked), `None` when it is off.
fn momentum_state<'a>(
    op: &'static str,
    momentum: f32,
    buf: Option<&'a mut CudaBuffer>,
    len: usize,
) -> Result<Option<&'a mut CudaBuffer>> {
    if momentum == 0.0 {
        return Ok(None);
    }
    let Some(buf) = buf else {
        return Err(invalid(
            op,
            "momentum is set but no momentum buffer was given".to_string(),
        ));
    };
    BackendError::check_len(op, len, buf.len())?;
    Ok(Some(buf))
}

impl OptimizerOps for CudaBackend {
    fn sgd_step(
        &self,
        param: &mut CudaBuffer,
        grad: &CudaBuffer,
        velocity: Option<&mut CudaBuffer>,
        spec: SgdSpec,
    ) -> Result<()> {
        check_state("sgd_step", param, &[grad.len()])?;
        let buf = momentum_state("sgd_step", spec.momentum, velocity, param.len())?;
        let len = param.len();
        if len == 0 {
            return Ok(());
        }
        let flags = i32::from(buf.is_some())
            | (i32::from(spec.weight_decay != 0.0) << 1)
            | (i32::from(spec.first_step) << 2)
            | (i32::from(spec.nesterov) << 3);
        let damp = (1.0 - spec.dampening as f64) as f32;
        let n = len as u64;
        let cfg = launch_config(len);
        match buf {
            Some(buf) => launch!(
                self,
                Optimizer,
                "optimizer_sgd",
                cfg,
                param.slice_mut(),
                grad.slice(),
                buf.slice_mut(),
                &n,
                &spec.lr,
                &spec.momentum,
                &damp,
                &spec.weight_decay,
                &flags
            ),
            // Without momentum the kernel never touches `buf`; pass the gradient in its place.
            None => launch!(
                self,
                Optimizer,
                "optimizer_sgd",
                cfg,
                param.slice_mut(),
                grad.slice(),
                grad.slice(),
                &n,
                &spec.lr,
                &spec.momentum,
                &damp,
                &spec.weight_decay,
                &flags
            ),
        }
    }

    fn adam_step(
        &self,
        param: &mut CudaBuffer,
        grad: &CudaBuffer,
        m: &mut CudaBuffer,
        v: &mut CudaBuffer,
        spec: AdamSpec,
    ) -> Result<()> {
        check_state("adam_step", param, &[grad.len(), m.len(), v.len()])?;
        check_step("adam_step", spec.step)?;
        let len = param.len();
        if len == 0 {
            return Ok(());
        }
        let shrink = if spec.decoupled_weight_decay {
            (1.0 - spec.lr as f64 * spec.weight_decay as f64) as f32
        } else {
            1.0
        };
        let l2 = i32::from(!spec.decoupled_weight_decay && spec.weight_decay != 0.0);
        let w1 = (1.0 - spec.beta1 as f64) as f32;
        let w2 = (1.0 - spec.beta2 as f64) as f32;
        let bias_c1 = 1.0 - (spec.beta1 as f64).powf(spec.step as f64);
        let bias_c2 = 1.0 - (spec.beta2 as f64).powf(spec.step as f64);
        let neg_step_size = (-(spec.lr as f64) / bias_c1) as f32;
        let bias_c2_sqrt = bias_c2.sqrt() as f32;
        let n = len as u64;
        launch!(
            self,
            Optimizer,
            "optimizer_adam",
            launch_config(len),
            param.slice_mut(),
            grad.slice(),
            m.slice_mut(),
            v.slice_mut(),
            &n,
            &spec.beta2,
            &w1,
            &w2,
            &spec.eps,
            &spec.weight_decay,
            &l2,
            &shrink,
            &neg_step_size,
            &bias_c2_sqrt
        )
    }

    fn rmsprop_step(
        &self,
        param: &mut CudaBuffer,
        grad: &CudaBuffer,
        square_avg: &mut CudaBuffer,
        momentum_buf: Option<&mut CudaBuffer>,
        spec: RmspropSpec,
    ) -> Result<()> {
        check_state("rmsprop_step", param, &[grad.len(), square_avg.len()])?;
        let buf = momentum_state("rmsprop_step", spec.momentum, momentum_buf, param.len())?;
        let len = param.len();
        if len == 0 {
            return Ok(());
        }
        let w = (1.0 - spec.alpha as f64) as f32;
        let use_wd = i32::from(spec.weight_decay != 0.0);
        let use_momentum = i32::from(buf.is_some());
        let n = len as u64;
        let cfg = launch_config(len);
        match buf {
            Some(buf) => launch!(
                self,
                Optimizer,
                "optimizer_rmsprop",
                cfg,
                param.slice_mut(),
                grad.slice(),
                square_avg.slice_mut(),
                buf.slice_mut(),
                &n,
                &spec.lr,
                &spec.alpha,
                &w,
                &spec.eps,
                &spec.weight_decay,
                &spec.momentum,
                &use_wd,
                &use_momentum
            ),
            // Without momentum the kernel never touches `buf`; pass the gradient in its place.
            None => launch!(
                self,
                Optimizer,
                "optimizer_rmsprop",
                cfg,
                param.slice_mut(),
                grad.slice(),
                square_avg.slice_mut(),
                grad.slice(),
                &n,
                &spec.lr,
                &spec.alpha,
                &w,
                &spec.eps,
                &spec.weight_decay,
                &spec.momentum,
                &use_wd,
                &use_momentum
            ),
        }
    }

    fn adagrad_step(
        &self,
        param: &mut CudaBuffer,
        grad: &CudaBuffer,
        sum: &mut CudaBuffer,
        spec: AdagradSpec,
    ) -> Result<()> {
        check_state("adagrad_step", param, &[grad.len(), sum.len()])?;
        check_step("adagrad_step", spec.step)?;
        let len = param.len();
        if len == 0 {
            return Ok(());
        }
        let clr = spec.lr as f64 / (1.0 + (spec.step - 1) as f64 * spec.lr_decay as f64);
        let neg_clr = (-clr) as f32;
        let use_wd = i32::from(spec.weight_decay != 0.0);
        let n = len as u64;
        launch!(
            self,
            Optimizer,
            "optimizer_adagrad",
            launch_config(len),
            param.slice_mut(),
            grad.slice(),
            sum.slice_mut(),
            &n,
            &neg_clr,
            &spec.eps,
            &spec.weight_decay,
            &use_wd
        )
    }

    fn scale_in_place(&self, x: &mut CudaBuffer, s: f32) -> Result<()> {
        let len = x.len();
        if len == 0 {
            return Ok(());
        }
        let n = len as u64;
        launch!(
            self,
            Optimizer,
            "optimizer_scale",
            launch_config(len),
            x.slice_mut(),
            &n,
            &s
        )
    }

    fn clamp_in_place(&self, x: &mut CudaBuffer, limit: f32) -> Result<()> {
        if limit.is_nan() || limit < 0.0 {
            return Err(invalid(
                "clamp_in_place",
                format!("limit {limit} must be non-negative"),
            ));
        }
        let len = x.len();
        if len == 0 {
            return Ok(());
        }
        let n = len as u64;
        launch!(
            self,
            Optimizer,
            "optimizer_clamp",
            launch_config(len),
            x.slice_mut(),
            &n,
            &limit
        )
    }
}
