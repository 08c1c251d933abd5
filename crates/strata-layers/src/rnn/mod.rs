//! Recurrent layers: [`SimpleRnn`] (tanh), [`Lstm`] and [`Gru`].
//!
//! All three are multi-layer, optionally bidirectional, return every step's output or the
//! final state, take initial states and report final states ([`RnnOutput`]), apply dropout
//! between layers in training, and take per-sequence lengths ([`RnnState::lengths`]) so that
//! padding never changes a result. Each direction of each layer is one recorded op
//! ([`strata_core::Tensor::rnn`]): one GEMM for the input projection of all steps, one GEMM
//! plus one fused cell pass per step, and backpropagation through time in reverse inside the
//! backend. Equations, gate order (LSTM i, f, g, o; GRU r, z, n), parameter names
//! (`weight_ih_l0`, `bias_hh_l1_reverse`, ...) and initialization (`U(−1/√H, 1/√H)`) are
//! PyTorch's, so weights load across.

#[cfg(test)]
mod dropout_check;
mod layers;
mod recurrent;

pub use layers::{Gru, GruConfig, Lstm, LstmConfig, SimpleRnn, SimpleRnnConfig};
pub use recurrent::{RecurrentConfig, RnnOutput, RnnState};
