//! Adagrad: the update of `torch.optim.Adagrad`, with its defaults.

use strata_core::{AdagradSpec, Gradients, Param, Result, Tensor, adagrad_step};

use crate::check;
use crate::optimizer::Optimizer;
use crate::state::StateStore;

const NAME: &str = "Adagrad";
/// The running sum of squared gradients, as PyTorch names it.
const SLOTS: &[&str] = &["sum"];

/// `torch.optim.Adagrad`: `g ← g + λθ`, `lr_t = lr / (1 + (t − 1)·lr_decay)`, `s ← s + g²`,
/// then `θ ← θ − lr_t·g / (√s + ε)`, with `t` the parameter's update count.
///
/// Defaults as in PyTorch: lr_decay 0, eps 1e-10, no weight decay, initial accumulator 0.
///
/// ```
/// # use strata_optim::Adagrad;
/// let opt = Adagrad::new(1e-2).lr_decay(1e-4).initial_accumulator_value(0.1);
/// ```
#[derive(Debug)]
pub struct Adagrad {
    lr: f32,
    lr_decay: f32,
    eps: f32,
    weight_decay: f32,
    initial_accumulator_value: f32,
    state: StateStore,
    steps: u64,
}

impl Adagrad {
    /// Adagrad with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Adagrad {
            lr,
            lr_decay: 0.0,
            eps: 1e-10,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            state: StateStore::default(),
            steps: 0,
        }
    }

    /// Learning-rate decay per update (default 0).
    pub fn lr_decay(mut self, lr_decay: f32) -> Self {
        self.lr_decay = lr_decay;
        self
    }

    /// Term added to the denominator for stability (default 1e-10).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// L2 penalty `λ` added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Starting value of the sum of squared gradients (default 0).
    pub fn initial_accumulator_value(mut self, value: f32) -> Self {
        self.initial_accumulator_value = value;
        self
    }

    fn validate(&self) -> Result<()> {
        check::non_negative(NAME, "lr", self.lr)?;
        check::non_negative(NAME, "lr_decay", self.lr_decay)?;
        check::non_negative(NAME, "eps", self.eps)?;
        check::non_negative(NAME, "weight_decay", self.weight_decay)?;
        check::non_negative(
            NAME,
            "initial_accumulator_value",
            self.initial_accumulator_value,
        )
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self, params: &[Param], grads: &Gradients) -> Result<()> {
        self.validate()?;
        let base = AdagradSpec {
            lr: self.lr,
            lr_decay: self.lr_decay,
            weight_decay: self.weight_decay,
            eps: self.eps,
            step: 0,
        };
        let init = self.initial_accumulator_value;
        self.state.update(
            NAME,
            params,
            grads,
            SLOTS,
            init,
            |param, grad, buffers, step| {
                adagrad_step(param, grad, &buffers[0], AdagradSpec { step, ..base })
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
        self.steps = self.state.import(NAME, state, SLOTS)?;
        Ok(())
    }

    fn step_count(&self) -> u64 {
        self.steps
    }
}
