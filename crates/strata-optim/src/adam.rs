//! Adam and AdamW: the updates of `torch.optim.Adam` (L2 weight decay added to the gradient)
//! and `torch.optim.AdamW` (decoupled weight decay), with their defaults.

use strata_core::{AdamSpec, Gradients, Param, Result, Tensor, adam_step};

use crate::check;
use crate::optimizer::Optimizer;
use crate::state::StateStore;

/// First and second moment estimates, as PyTorch names them.
const SLOTS: &[&str] = &["exp_avg", "exp_avg_sq"];

/// `torch.optim.Adam`: `g ← g + λθ`, `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`, then
/// `θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)`, with `t` the parameter's update
/// count.
///
/// Defaults as in PyTorch: betas (0.9, 0.999), eps 1e-8, weight decay 0.
///
/// ```
/// # use strata_optim::Adam;
/// let opt = Adam::new(1e-3).betas(0.9, 0.98).eps(1e-6);
/// ```
#[derive(Debug)]
pub struct Adam {
    name: &'static str,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decoupled: bool,
    state: StateStore,
    steps: u64,
}

impl Adam {
    /// Adam with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Adam::with_decay_mode("Adam", lr, 0.0, false)
    }

    fn with_decay_mode(name: &'static str, lr: f32, weight_decay: f32, decoupled: bool) -> Self {
        Adam {
            name,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decoupled,
            state: StateStore::default(),
            steps: 0,
        }
    }

    /// Decay rates of the first and second moments (default 0.9, 0.999); each in `[0, 1)`.
    pub fn betas(mut self, beta1: f32, beta2: f32) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// Term added to the denominator for stability (default 1e-8).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// L2 penalty `λ` added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    fn validate(&self) -> Result<()> {
        check::non_negative(self.name, "lr", self.lr)?;
        check::non_negative(self.name, "eps", self.eps)?;
        check::non_negative(self.name, "weight_decay", self.weight_decay)?;
        check::unit_interval(self.name, "beta1", self.beta1)?;
        check::unit_interval(self.name, "beta2", self.beta2)
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &[Param], grads: &Gradients) -> Result<()> {
        self.validate()?;
        let base = AdamSpec {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            decoupled_weight_decay: self.decoupled,
            step: 0,
        };
        self.state.update(
            self.name,
            params,
            grads,
            SLOTS,
            0.0,
            |param, grad, buffers, step| {
                adam_step(
                    param,
                    grad,
                    &buffers[0],
                    &buffers[1],
                    AdamSpec { step, ..base },
                )
            },
        )?;
        self.steps += 1;
        Ok(())
    }

    fn learning_rate(&self) -> f32 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        self.state.export(SLOTS, self.steps)
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        self.steps = self.state.import(self.name, state, SLOTS)?;
        Ok(())
    }

    fn step_count(&self) -> u64 {
        self.steps
    }
}

/// `torch.optim.AdamW`: Adam with decoupled weight decay, `θ ← θ − lr·λ·θ` before the Adam
/// update (the gradient itself is not decayed).
///
/// Defaults as in PyTorch: betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
///
/// ```
/// # use strata_optim::AdamW;
/// let opt = AdamW::new(3e-4).weight_decay(0.05);
/// ```
#[derive(Debug)]
pub struct AdamW {
    inner: Adam,
}

impl AdamW {
    /// AdamW with learning rate `lr` and weight decay 0.01.
    pub fn new(lr: f32) -> Self {
        AdamW {
            inner: Adam::with_decay_mode("AdamW", lr, 0.01, true),
        }
    }

    /// Decay rates of the first and second moments (default 0.9, 0.999); each in `[0, 1)`.
    pub fn betas(self, beta1: f32, beta2: f32) -> Self {
        AdamW {
            inner: self.inner.betas(beta1, beta2),
        }
    }

    /// Term added to the denominator for stability (default 1e-8).
    pub fn eps(self, eps: f32) -> Self {
        AdamW {
            inner: self.inner.eps(eps),
        }
    }

    /// Decoupled weight decay `λ` (default 0.01).
    pub fn weight_decay(self, weight_decay: f32) -> Self {
        AdamW {
            inner: self.inner.weight_decay(weight_decay),
        }
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, params: &[Param], grads: &Gradients) -> Result<()> {
        self.inner.step(params, grads)
    }

    fn learning_rate(&self) -> f32 {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.inner.set_learning_rate(lr);
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        self.inner.state()
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        self.inner.load_state(state)
    }

    fn step_count(&self) -> u64 {
        self.inner.step_count()
    }
}
