//! The two contracts every layer meets: a [`LayerConfig`] (plain serde data, the layer's
//! settings) builds a [`Module`] (the layer with its parameters) for a per-sample input shape,
//! with a [`BuildContext`] handing out the device and seeds; plus the train/eval [`Mode`].
//!
//! This file owns the contracts only; layers live in their own files, and the list of layer
//! kinds a config file can name lives in `spec.rs`.

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

/// A layer's settings: plain data (serde) that builds the layer for a per-sample input shape.
///
/// `Dense::new(128)` is a [`crate::DenseConfig`]; [`LayerConfig::build`] is given the
/// per-sample input shape (no batch dimension) and creates the layer with its parameters, so
/// input sizes are inferred (like Keras) and a built layer always has its parameters. Layers
/// without parameters (`Relu`, `Flatten`, pools) are their own config.
pub trait LayerConfig: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The layer this config builds.
    type Layer: Module + 'static;

    /// Creates the layer for the per-sample input shape `input`, drawing its parameters on
    /// `ctx`'s device from `ctx`'s seed stream. Settings that cannot work (zero units, a
    /// probability outside its range) and inputs the layer cannot take are errors naming the
    /// layer and the shape.
    fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<Self::Layer>;
}

/// Makes a layer without parameters its own config: building checks the input shape (through
/// `Module::output_shape`) and returns a copy.
macro_rules! own_config {
    ($($name:ident),* $(,)?) => {$(
        impl $crate::module::LayerConfig for $name {
            type Layer = $name;
            fn build(
                &self,
                input: &[usize],
                _ctx: &mut $crate::module::BuildContext,
            ) -> strata_core::Result<$name> {
                $crate::module::Module::output_shape(self, input)?;
                Ok(self.clone())
            }
        }
    )*};
}

pub(crate) use own_config;

/// A built layer or a container of layers.
///
/// Modules come from a [`LayerConfig`] (or, for a layer holding given tensors, a constructor
/// such as `Dense::from_tensors`). `forward` takes a batch: its input has a leading batch
/// dimension.
pub trait Module: Send + Sync {
    /// The per-sample output shape for the per-sample input shape `input` (no batch
    /// dimension), or an error naming the layer when `input` does not fit it (a `Dense` built
    /// for 784 features given 100). This is how a stack infers shapes, and how a layer used a
    /// second time checks its new input.
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>>;

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
