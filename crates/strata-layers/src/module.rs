//! The `Module` trait every layer implements, the train/eval [`Mode`], and the
//! [`BuildContext`] that hands layers their device and seeds when they create parameters.
//!
//! This file owns the contract only; layers live in their own files.

use strata_backend::random::derive_seed;
use strata_core::{Device, Param, Result, Tensor};

/// Whether a forward pass is part of training (dropout active; batch statistics later) or of
/// evaluation and inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Training: stochastic layers draw fresh randomness.
    Train,
    /// Evaluation and inference: every layer is deterministic.
    Eval,
}

impl Mode {
    /// Whether this is [`Mode::Train`].
    pub fn is_train(self) -> bool {
        self == Mode::Train
    }
}

/// What a layer needs to create its parameters: the device and a stream of seeds.
///
/// Each call to [`BuildContext::next_seed`] derives a new independent seed from the base seed
/// and a counter, so a model built twice with the same seed gets the same parameters, on every
/// device (initializers draw from the counter-based generator).
#[derive(Debug, Clone)]
pub struct BuildContext {
    device: Device,
    seed: u64,
    counter: u64,
}

impl BuildContext {
    /// A context creating parameters on `device` from the base seed `seed`.
    pub fn new(device: Device, seed: u64) -> Self {
        BuildContext {
            device,
            seed,
            counter: 0,
        }
    }

    /// The device parameters are created on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The base seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next seed of the stream: `derive_seed(seed, n)` for the `n`-th call.
    pub fn next_seed(&mut self) -> u64 {
        let s = derive_seed(self.seed, self.counter);
        self.counter += 1;
        s
    }
}

/// A layer or a container of layers.
///
/// A module is created unbuilt, knowing only its own settings (`Dense::new(128)`); `build`
/// is given the per-sample input shape (no batch dimension), creates the parameters and
/// returns the per-sample output shape, so input sizes are inferred (like Keras). `forward`
/// takes a batch: its input has a leading batch dimension.
pub trait Module: Send + Sync {
    /// Creates the parameters for a per-sample input shape (no batch dimension) and returns the
    /// per-sample output shape. Layers without parameters just compute the shape and validate
    /// it. Building a module that is already built keeps its parameters and only checks that
    /// `input` fits them.
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>>;

    /// Applies the module to a batch `x` (leading batch dimension) in `mode`.
    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor>;

    /// The trainable parameters, with names relative to this module (`"weight"`, `"bias"`;
    /// containers prefix their children's: `"0.weight"`). Each call returns the same variables.
    fn parameters(&self) -> Vec<Param>;

    /// Non-trainable state saved with the weights (running statistics of batch norm), named
    /// like [`Module::parameters`].
    fn buffers(&self) -> Vec<Param> {
        Vec::new()
    }

    /// A short description for summaries and messages: `"Dense(128)"`, `"ReLU"`.
    fn kind(&self) -> String;

    /// Number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters()
            .iter()
            .map(|p| p.tensor().elem_count())
            .sum()
    }

    /// The internal random-number state of the module (the mask counters of dropout layers),
    /// for checkpoints: restoring it with [`Module::set_rng_state`] makes the next training
    /// forwards draw the masks an uninterrupted run would. Containers concatenate their
    /// children's states in order. Deterministic modules keep the default: no state.
    fn rng_state(&self) -> Vec<u64> {
        Vec::new()
    }

    /// Restores a state returned by [`Module::rng_state`] of the same architecture. A state of
    /// the wrong length is an error and changes nothing.
    fn set_rng_state(&self, state: &[u64]) -> Result<()> {
        check_rng_state_len(&self.kind(), 0, state)
    }

    /// The table of layers, output shapes and parameter counts, for containers that keep one
    /// (`Sequential`); `None` for single layers. Training loops print it at start.
    fn model_summary(&self) -> Option<crate::Summary> {
        None
    }
}

/// Refuses an RNG state whose length differs from the `expected` one of `kind`.
pub(crate) fn check_rng_state_len(kind: &str, expected: usize, state: &[u64]) -> Result<()> {
    if state.len() == expected {
        return Ok(());
    }
    Err(strata_core::Error::invalid(
        "set_rng_state",
        format!(
            "{kind} keeps {expected} RNG state value(s) but the state has {}; was it saved from \
             another architecture?",
            state.len()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_seed_is_reproducible_and_changes_each_call() {
        let mut a = BuildContext::new(Device::best(), 42);
        let mut b = BuildContext::new(Device::best(), 42);
        let (a0, a1) = (a.next_seed(), a.next_seed());
        assert_eq!(a0, b.next_seed());
        assert_eq!(a1, b.next_seed());
        assert_ne!(a0, a1);
    }

    #[test]
    fn different_base_seeds_give_different_streams() {
        let mut a = BuildContext::new(Device::best(), 1);
        let mut b = BuildContext::new(Device::best(), 2);
        assert_ne!(a.next_seed(), b.next_seed());
    }
}
