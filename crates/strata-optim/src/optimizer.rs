//! The `Optimizer` trait: what a training loop needs from any optimizer.

use strata_core::{Gradients, Param, Result, Tensor};

/// Updates parameters in place from their gradients and owns whatever state that needs
/// (momentum buffers, moment estimates), keyed by parameter name.
pub trait Optimizer {
    /// One update of every parameter in `params` that has a gradient in `grads`. A parameter
    /// without a gradient is skipped and its state left untouched (as in PyTorch). A gradient
    /// whose shape differs from its parameter's, or an invalid hyperparameter, is an error,
    /// reported before any parameter is changed.
    fn step(&mut self, params: &[Param], grads: &Gradients) -> Result<()>;

    /// The learning rate the next [`Optimizer::step`] will use.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate (a [`crate::Scheduler`] calls this). A negative or non-finite
    /// value is reported by the next [`Optimizer::step`].
    fn set_learning_rate(&mut self, lr: f32);

    /// The optimizer's state as named tensors, for checkpoints: `"{param}.{buffer}"` for each
    /// state buffer (`"0.weight.exp_avg"`), `"{param}.step"` for the number of updates that
    /// parameter received, and `"step"` for [`Optimizer::step_count`].
    ///
    /// Buffers are handles to the live state, not copies: save them (or `deep_clone` them)
    /// before the next step if a snapshot is wanted. Counts are two-element tensors
    /// `[high, low]` meaning `high · 2²⁴ + low`, exact in `f32` up to 2⁴⁸ steps.
    fn state(&self) -> Vec<(String, Tensor)>;

    /// Replaces the whole state with `state` as returned by [`Optimizer::state`] (of an
    /// optimizer of the same kind and settings). The tensors are copied. Unknown or missing
    /// keys are an error and leave the current state unchanged; a buffer whose shape does not
    /// match its parameter is reported by the first step that updates that parameter.
    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()>;

    /// How many times [`Optimizer::step`] has succeeded (restored by
    /// [`Optimizer::load_state`]).
    fn step_count(&self) -> u64;
}
