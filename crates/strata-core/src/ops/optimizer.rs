//! In-place fused optimizer updates on variables, and in-place gradient scaling/clamping.
//! None of these is recorded.

use strata_backend::{AdagradSpec, AdamSpec, OptimizerOps, RmspropSpec, SgdSpec};

use crate::storage::Storage;
use crate::{Error, Result, Tensor};

fn check(op: &'static str, param: &Tensor, others: &[&Tensor]) -> Result<()> {
    for t in others {
        if t.shape() != param.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "parameter is {} but state/gradient is {}",
                    param.shape(),
                    t.shape()
                ),
            ));
        }
        if t.shares_storage_with(param) {
            return Err(Error::invalid(
                op,
                "state or gradient shares storage with the parameter",
            ));
        }
    }
    Ok(())
}

/// One SGD step on `param` in place (`velocity` when momentum is non-zero).
pub fn sgd_step(
    param: &Tensor,
    grad: &Tensor,
    velocity: Option<&Tensor>,
    spec: SgdSpec,
) -> Result<()> {
    let mut others = vec![grad];
    others.extend(velocity);
    check("sgd_step", param, &others)?;
    let mut p = param.write();
    let g = grad.read();
    let mut v = velocity.map(|v| v.write());
    #[allow(unreachable_patterns)]
    match (&mut *p, &*g, v.as_deref_mut()) {
        #[cfg(feature = "cpu")]
        (Storage::Cpu(p), Storage::Cpu(g), None) => {
            crate::storage::cpu_backend().sgd_step(p, g, None, spec)?
        }
        #[cfg(feature = "cpu")]
        (Storage::Cpu(p), Storage::Cpu(g), Some(Storage::Cpu(v))) => {
            crate::storage::cpu_backend().sgd_step(p, g, Some(v), spec)?
        }
        #[cfg(feature = "cuda")]
        (Storage::Cuda(n, p), Storage::Cuda(m, g), None) if n == m => {
            crate::storage::cuda_backend(*n)?.sgd_step(p, g, None, spec)?
        }
        #[cfg(feature = "cuda")]
        (Storage::Cuda(n, p), Storage::Cuda(m, g), Some(Storage::Cuda(k, v)))
            if n == m && n == k =>
        {
            crate::storage::cuda_backend(*n)?.sgd_step(p, g, Some(v), spec)?
        }
        _ => return Err(device_mismatch("sgd_step", param)),
    }
    Ok(())
}

/// One Adam/AdamW step on `param` in place, with moments `m` and `v`.
pub fn adam_step(
    param: &Tensor,
    grad: &Tensor,
    m: &Tensor,
    v: &Tensor,
    spec: AdamSpec,
) -> Result<()> {
    check("adam_step", param, &[grad, m, v])?;
    let (mut p, g, mut mm, mut vv) = (param.write(), grad.read(), m.write(), v.write());
    #[allow(unreachable_patterns)]
    match (&mut *p, &*g, &mut *mm, &mut *vv) {
        #[cfg(feature = "cpu")]
        (Storage::Cpu(p), Storage::Cpu(g), Storage::Cpu(m), Storage::Cpu(v)) => {
            crate::storage::cpu_backend().adam_step(p, g, m, v, spec)?
        }
        #[cfg(feature = "cuda")]
        (Storage::Cuda(a, p), Storage::Cuda(b, g), Storage::Cuda(c, m), Storage::Cuda(d, v))
            if a == b && a == c && a == d =>
        {
            crate::storage::cuda_backend(*a)?.adam_step(p, g, m, v, spec)?
        }
        _ => return Err(device_mismatch("adam_step", param)),
    }
    Ok(())
}

/// One RMSprop step on `param` in place.
pub fn rmsprop_step(
    param: &Tensor,
    grad: &Tensor,
    square_avg: &Tensor,
    momentum_buf: Option<&Tensor>,
    spec: RmspropSpec,
) -> Result<()> {
    let mut others = vec![grad, square_avg];
    others.extend(momentum_buf);
    check("rmsprop_step", param, &others)?;
    let (mut p, g, mut sq) = (param.write(), grad.read(), square_avg.write());
    let mut mb = momentum_buf.map(|t| t.write());
    #[allow(unreachable_patterns)]
    match (&mut *p, &*g, &mut *sq, mb.as_deref_mut()) {
        #[cfg(feature = "cpu")]
        (Storage::Cpu(p), Storage::Cpu(g), Storage::Cpu(s), None) => {
            crate::storage::cpu_backend().rmsprop_step(p, g, s, None, spec)?
        }
        #[cfg(feature = "cpu")]
        (Storage::Cpu(p), Storage::Cpu(g), Storage::Cpu(s), Some(Storage::Cpu(b))) => {
            crate::storage::cpu_backend().rmsprop_step(p, g, s, Some(b), spec)?
        }
        #[cfg(feature = "cuda")]
        (Storage::Cuda(n, p), Storage::Cuda(m, g), Storage::Cuda(k, s), None)
            if n == m && n == k =>
        {
            crate::storage::cuda_backend(*n)?.rmsprop_step(p, g, s, None, spec)?
        }
        #[cfg(feature = "cuda")]
        (
            Storage::Cuda(n, p),
            Storage::Cuda(m, g),
            Storage::Cuda(k, s),
            Some(Storage::Cuda(j, b)),
        ) if n == m && n == k && n == j => {
            crate::storage::cuda_backend(*n)?.rmsprop_step(p, g, s, Some(b), spec)?
        }
        _ => return Err(device_mismatch("rmsprop_step", param)),
    }
    Ok(())
}

/// One Adagrad step on `param` in place.
pub fn adagrad_step(param: &Tensor, grad: &Tensor, sum: &Tensor, spec: AdagradSpec) -> Result<()> {
    check("adagrad_step", param, &[grad, sum])?;
    let (mut p, g, mut s) = (param.write(), grad.read(), sum.write());
    #[allow(unreachable_patterns)]
    match (&mut *p, &*g, &mut *s) {
        #[cfg(feature = "cpu")]
        (Storage::Cpu(p), Storage::Cpu(g), Storage::Cpu(s)) => {
            crate::storage::cpu_backend().adagrad_step(p, g, s, spec)?
        }
        #[cfg(feature = "cuda")]
        (Storage::Cuda(n, p), Storage::Cuda(m, g), Storage::Cuda(k, s)) if n == m && n == k => {
            crate::storage::cuda_backend(*n)?.adagrad_step(p, g, s, spec)?
        }
        _ => return Err(device_mismatch("adagrad_step", param)),
    }
    Ok(())
}

fn device_mismatch(op: &'static str, param: &Tensor) -> Error {
    Error::DeviceMismatch {
        op,
        lhs: param.device().to_string(),
        rhs: "another device".into(),
    }
}

impl Tensor {
    /// `self *= s` in place (not recorded).
    pub fn scale_in_place(&self, s: f32) -> Result<()> {
        let mut guard = self.write();
        match &mut *guard {
            #[cfg(feature = "cpu")]
            Storage::Cpu(x) => crate::storage::cpu_backend().scale_in_place(x, s)?,
            #[cfg(feature = "cuda")]
            Storage::Cuda(n, x) => crate::storage::cuda_backend(*n)?.scale_in_place(x, s)?,
        }
        Ok(())
    }

    /// Clamps every element to `[-limit, limit]` in place (not recorded).
    pub fn clamp_in_place(&self, limit: f32) -> Result<()> {
        let mut guard = self.write();
        match &mut *guard {
            #[cfg(feature = "cpu")]
            Storage::Cpu(x) => crate::storage::cpu_backend().clamp_in_place(x, limit)?,
            #[cfg(feature = "cuda")]
            Storage::Cuda(n, x) => crate::storage::cuda_backend(*n)?.clamp_in_place(x, limit)?,
        }
        Ok(())
    }
}
