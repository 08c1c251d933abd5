//! RMSprop: the update of `torch.optim.RMSprop` (not centered), with its defaults.

use strata_core::{Gradients, Param, Result, RmspropSpec, Tensor, rmsprop_step};

use crate::check;
use crate::optimizer::Optimizer;
use crate::state::StateStore;

const NAME: &str = "RMSprop";
/// Without momentum only the running average of squared gradients is kept.
const SLOTS: &[&str] = &["square_avg"];
/// With momentum, PyTorch's `momentum_buffer` as well.
const MOMENTUM_SLOTS: &[&str] = &["square_avg", "momentum_buffer"];

/// `torch.optim.RMSprop` (not centered): `g ← g + λθ`, `s ← αs + (1 − α)g²`, then
/// `θ ← θ − lr·g / (√s + ε)`, or with momentum `μ`: `b ← μb + g / (√s + ε)`, `θ ← θ − lr·b`.
///
/// Defaults as in PyTorch: alpha 0.99, eps 1e-8, no momentum, no weight decay.
///
/// ```
/// # use strata_optim::RmsProp;
/// let opt = RmsProp::new(1e-2).alpha(0.9).momentum(0.5);
/// ```
#[derive(Debug)]
pub struct RmsProp {
    lr: f32,
    alpha: f32,
    eps: f32,
    momentum: f32,
    weight_decay: f32,
    state: StateStore,
    steps: u64,
}

impl RmsProp {
    /// RMSprop with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            weight_decay: 0.0,
            state: StateStore::default(),
            steps: 0,
        }
    }

    /// Smoothing constant `α` of the squared-gradient average (default 0.99).
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// Term added to the denominator for stability (default 1e-8).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// Momentum factor `μ` (default 0: no momentum buffer).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// L2 penalty `λ` added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    fn validate(&self) -> Result<()> {
        check::non_negative(NAME, "lr", self.lr)?;
        check::non_negative(NAME, "alpha", self.alpha)?;
        check::non_negative(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "momentum", self.momentum)?;
        check::non_negative(NAME, "weight_decay", self.weight_decay)
    }

    fn slots(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            MOMENTUM_SLOTS
        } else {
            SLOTS
        }
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, params: &[Param], grads: &Gradients) -> Result<()> {
        self.validate()?;
        let spec = RmspropSpec {
            lr: self.lr,
            alpha: self.alpha,
            eps: self.eps,
            weight_decay: self.weight_decay,
            momentum: self.momentum,
        };
        let slots = self.slots();
        self.state.update(
            NAME,
            params,
            grads,
            slots,
            0.0,
            |param, grad, buffers, _| rmsprop_step(param, grad, &buffers[0], buffers.get(1), spec),
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
        self.state.export(self.slots(), self.steps)
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        self.steps = self.state.import(NAME, state, self.slots())?;
        Ok(())
    }

    fn step_count(&self) -> u64 {
        self.steps
    }
}
