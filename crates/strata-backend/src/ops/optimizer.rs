//! Fused optimizer updates: one pass over a parameter, its gradient and its state.
//!
//! Each update follows PyTorch's `torch.optim` definitions exactly (same order of operations),
//! so golden values from PyTorch can be compared.

use crate::{BufferOps, Result};

/// SGD with optional momentum, Nesterov momentum and L2 weight decay (`torch.optim.SGD`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdSpec {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor (0 disables the velocity buffer).
    pub momentum: f32,
    /// Dampening for momentum.
    pub dampening: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// True on the first step, when PyTorch initialises the velocity to the gradient.
    pub first_step: bool,
}

/// Adam and AdamW (`torch.optim.Adam`, `torch.optim.AdamW`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamSpec {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// Weight decay: L2 added to the gradient (Adam) or decoupled (AdamW).
    pub weight_decay: f32,
    /// AdamW's decoupled weight decay instead of L2.
    pub decoupled_weight_decay: bool,
    /// The step number, starting at 1, for bias correction. The corrections `1 − β^t` are
    /// computed in `f64`, as torch does (`1 − 0.999²` in `f32` already errs by 3e-5).
    pub step: u64,
}

/// RMSprop (`torch.optim.RMSprop`, not centered).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmspropSpec {
    /// Learning rate.
    pub lr: f32,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// Momentum factor (0 disables the momentum buffer).
    pub momentum: f32,
}

/// Adagrad (`torch.optim.Adagrad`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdagradSpec {
    /// Learning rate.
    pub lr: f32,
    /// Learning-rate decay.
    pub lr_decay: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// The step number, starting at 1.
    pub step: u64,
}

/// Optimizer op family. Every method updates `param` and the state buffers in place.
pub trait OptimizerOps: BufferOps {
    /// One SGD step. `velocity` must be given when `spec.momentum != 0`.
    fn sgd_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        velocity: Option<&mut Self::Buffer>,
        spec: SgdSpec,
    ) -> Result<()>;
    /// One Adam/AdamW step with first moment `m` and second moment `v`.
    fn adam_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        m: &mut Self::Buffer,
        v: &mut Self::Buffer,
        spec: AdamSpec,
    ) -> Result<()>;
    /// One RMSprop step. `momentum_buf` must be given when `spec.momentum != 0`.
    fn rmsprop_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        square_avg: &mut Self::Buffer,
        momentum_buf: Option<&mut Self::Buffer>,
        spec: RmspropSpec,
    ) -> Result<()>;
    /// One Adagrad step with the running sum of squared gradients.
    fn adagrad_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        sum: &mut Self::Buffer,
        spec: AdagradSpec,
    ) -> Result<()>;
    /// `x *= s` in place (gradient clipping by norm).
    fn scale_in_place(&self, x: &mut Self::Buffer, s: f32) -> Result<()>;
    /// `x = clamp(x, -limit, limit)` in place (gradient clipping by value).
    fn clamp_in_place(&self, x: &mut Self::Buffer, limit: f32) -> Result<()>;
}
