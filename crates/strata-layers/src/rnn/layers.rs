//! The public recurrent layers and their configs: thin, named wrappers over the shared
//! [`Recurrent`] engine and [`RecurrentConfig`] settings.

use serde::{Deserialize, Serialize};
use strata_core::{Param, Result, RnnCell, Tensor};

use super::recurrent::{Recurrent, RecurrentConfig, RnnOutput, RnnState};
use crate::module::{BuildContext, LayerConfig, Mode, Module, check_rng_state_len};

macro_rules! recurrent_layer {
    ($(#[$doc:meta])* $name:ident, $config:ident, $cell:expr) => {
        #[doc = concat!(
            "The settings of a [`", stringify!($name), "`]: `hidden` features, `num_layers`, ",
            "`bidirectional`, `return_sequences`, `dropout` between layers."
        )]
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $config(pub RecurrentConfig);

        impl $config {
            /// Stacks `n` layers (default 1).
            pub fn num_layers(mut self, n: usize) -> Self {
                self.0.num_layers = n;
                self
            }
            /// Runs a second direction over each sequence in reverse and concatenates the two
            /// (default `false`).
            pub fn bidirectional(mut self, on: bool) -> Self {
                self.0.bidirectional = on;
                self
            }
            /// Returns every step's output `[batch, seq_len, directions·hidden]` from
            /// `Module::forward` instead of the final state `[batch, directions·hidden]`.
            pub fn return_sequences(mut self, on: bool) -> Self {
                self.0.return_sequences = on;
                self
            }
            /// Dropout probability on the input of every layer but the first, in training.
            pub fn dropout(mut self, p: f32) -> Self {
                self.0.dropout = p;
                self
            }
        }

        impl LayerConfig for $config {
            type Layer = $name;
            fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<$name> {
                Ok($name(Recurrent::build($cell, self.0, input, ctx)?))
            }
        }

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(Recurrent);

        impl $name {
            /// The config of a single-layer, unidirectional layer with `hidden` features that
            /// returns its final hidden state; the input size is inferred at build.
            // The Keras spelling users look for; the built layer comes from
            // `LayerConfig::build`.
            #[allow(clippy::new_ret_no_self)]
            pub fn new(hidden: usize) -> $config {
                $config(RecurrentConfig::new(hidden))
            }
            /// The full forward pass: outputs of every step and final states, with optional
            /// initial states and per-sequence lengths.
            pub fn forward_seq(&self, x: &Tensor, state: &RnnState, mode: Mode) -> Result<RnnOutput> {
                self.0.forward_seq(x, state, mode)
            }
            /// Replaces the parameter PyTorch calls `name` (`weight_ih_l0`, ...) by `value`.
            pub fn set_parameter(&mut self, name: &str, value: Tensor) -> Result<()> {
                self.0.set_parameter(name, value)
            }
        }

        impl Module for $name {
            fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
                self.0.output_shape(input)
            }
            fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
                self.0.module_forward(x, mode)
            }
            fn parameters(&self) -> Vec<Param> {
                self.0.parameters()
            }
            fn kind(&self) -> String {
                self.0.kind()
            }
            fn rng_state(&self) -> Vec<u64> {
                vec![self.0.rng_seed(), self.0.rng_counter()]
            }
            fn set_rng_state(&self, state: &[u64]) -> Result<()> {
                check_rng_state_len(&self.kind(), 2, state)?;
                self.0.set_rng_seed(state[0]);
                self.0.set_rng_counter(state[1]);
                Ok(())
            }
        }
    };
}

recurrent_layer!(
    /// Elman RNN: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`, as PyTorch's `nn.RNN`.
    SimpleRnn,
    SimpleRnnConfig,
    RnnCell::Tanh
);
recurrent_layer!(
    /// LSTM with PyTorch's gate order i, f, g, o (`nn.LSTM`).
    Lstm,
    LstmConfig,
    RnnCell::Lstm
);
recurrent_layer!(
    /// GRU with PyTorch's gate order r, z, n and `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`
    /// (`nn.GRU`).
    Gru,
    GruConfig,
    RnnCell::Gru
);
