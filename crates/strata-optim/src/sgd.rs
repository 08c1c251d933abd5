//! Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay: the
//! update of `torch.optim.SGD`, with its defaults.

use strata_core::{Error, Gradients, Param, Result, SgdSpec, Tensor, sgd_step};

use crate::check;
use crate::optimizer::Optimizer;
use crate::state::StateStore;

const NAME: &str = "SGD";
/// The velocity buffer, kept only when momentum is non-zero.
const MOMENTUM_SLOTS: &[&str] = &["momentum_buffer"];

/// `torch.optim.SGD`: with momentum `μ`, dampening `τ` and weight decay `λ`,
/// `g ← g + λθ`, `b ← μb + (1 − τ)g` (`b ← g` on the first step), then `θ ← θ − lr·b`, or
/// `θ ← θ − lr·(g + μb)` with Nesterov momentum.
///
/// Defaults as in PyTorch: no momentum, no dampening, no weight decay, no Nesterov.
///
/// ```
/// # use strata_optim::Sgd;
/// let opt = Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4);
/// ```
#[derive(Debug)]
pub struct Sgd {
    lr: f32,
    momentum: f32,
    dampening: f32,
    weight_decay: f32,
    nesterov: bool,
    state: StateStore,
    steps: u64,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            state: StateStore::default(),
            steps: 0,
        }
    }

    /// Momentum factor `μ` (default 0: no velocity buffer).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Dampening `τ` of the momentum (default 0).
    pub fn dampening(mut self, dampening: f32) -> Self {
        self.dampening = dampening;
        self
    }

    /// Nesterov momentum (default off); needs a momentum > 0 and zero dampening.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// L2 penalty `λ` added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    fn validate(&self) -> Result<()> {
        check::non_negative(NAME, "lr", self.lr)?;
        check::non_negative(NAME, "momentum", self.momentum)?;
        check::non_negative(NAME, "weight_decay", self.weight_decay)?;
        if !self.dampening.is_finite() {
            return Err(Error::invalid(
                NAME,
                format!("dampening must be finite; got {}", self.dampening),
            ));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                NAME,
                format!(
                    "Nesterov momentum needs momentum > 0 and dampening 0; got momentum {} and \
                     dampening {} (set `.momentum(0.9)`, or drop `.nesterov(true)`)",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }

    fn slots(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            MOMENTUM_SLOTS
        } else {
            &[]
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &[Param], grads: &Gradients) -> Result<()> {
        self.validate()?;
        let base = SgdSpec {
            lr: self.lr,
            momentum: self.momentum,
            dampening: self.dampening,
            weight_decay: self.weight_decay,
            nesterov: self.nesterov,
            first_step: false,
        };
        let slots = self.slots();
        self.state.update(
            NAME,
            params,
            grads,
            slots,
            0.0,
            |param, grad, buffers, step| {
                let spec = SgdSpec {
                    first_step: step == 1,
                    ..base
                };
                sgd_step(param, grad, buffers.first(), spec)
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
