//! Recurrent layers, one direction of one layer over a whole batch of sequences at a time.
//!
//! A backend runs a whole sequence in one call, the way cuDNN does: the input projection for
//! all time steps is one GEMM, each step is one GEMM (`h · W_hhᵀ`) plus the fused cell (gate
//! non-linearities and the state update in one pass), and the backward pass runs the steps in
//! reverse and accumulates the weight gradients in one GEMM each. Keeping the loop inside the
//! backend is what makes a recurrent layer fast: no per-step tensor, no per-step autograd node.
//!
//! Conventions (identical to PyTorch's `nn.RNN`/`nn.LSTM`/`nn.GRU`):
//! - `x` is batch-first, `[batch, seq_len, input_size]`; `W_ih` is `[gates·H, input_size]`,
//!   `W_hh` is `[gates·H, H]`, `b_ih` and `b_hh` are `[gates·H]`; states are `[batch, H]`.
//! - [`RnnCell::Tanh`]: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
//! - [`RnnCell::Lstm`], gate order i, f, g, o: `i, f, o = σ(·)`, `g = tanh(·)` of
//!   `W_ih x + b_ih + W_hh h + b_hh`; `c' = f ⊙ c + i ⊙ g`; `h' = o ⊙ tanh(c')`.
//! - [`RnnCell::Gru`], gate order r, z, n: `r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})`,
//!   `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
//!
//! Variable lengths: with `lengths` (one integer per batch row, stored as `f32`, each in
//! `0..=seq_len`), row `b` runs only over steps `0..lengths[b]` (in reverse order when
//! `reverse`); outside them its output is zero and its state passes through unchanged, so
//! padding never changes a result, exactly like PyTorch's packed sequences.

use crate::{BufferOps, Result};

/// The recurrence a layer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RnnCell {
    /// Elman RNN with tanh: one gate.
    Tanh,
    /// LSTM: four gates (i, f, g, o) and a cell state.
    Lstm,
    /// GRU: three gates (r, z, n).
    Gru,
}

impl RnnCell {
    /// Number of gate blocks of `hidden_size` rows in the weights (1, 4, 3).
    pub fn gates(self) -> usize {
        match self {
            RnnCell::Tanh => 1,
            RnnCell::Lstm => 4,
            RnnCell::Gru => 3,
        }
    }

    /// Whether the cell carries a second state (the LSTM's `c`).
    pub fn has_cell_state(self) -> bool {
        matches!(self, RnnCell::Lstm)
    }

    /// Number of state rows appended after the outputs in the packed result (1, or 2 for LSTM).
    pub fn state_count(self) -> usize {
        if self.has_cell_state() { 2 } else { 1 }
    }

    /// A short lowercase name for messages ("rnn", "lstm", "gru").
    pub fn name(self) -> &'static str {
        match self {
            RnnCell::Tanh => "rnn",
            RnnCell::Lstm => "lstm",
            RnnCell::Gru => "gru",
        }
    }
}

/// One direction of one recurrent layer over a batch of sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RnnSpec {
    /// The recurrence.
    pub cell: RnnCell,
    /// Sequences in the batch.
    pub batch: usize,
    /// Time steps of every (padded) sequence.
    pub seq_len: usize,
    /// Features per step of the input.
    pub input_size: usize,
    /// Features of the hidden state.
    pub hidden_size: usize,
    /// Run from the last valid step to the first (the backward half of a bidirectional layer).
    pub reverse: bool,
}

impl RnnSpec {
    /// Elements of `x`: `batch · seq_len · input_size`.
    pub fn input_len(&self) -> usize {
        self.batch * self.seq_len * self.input_size
    }
    /// Elements of `W_ih`: `gates · H · input_size`.
    pub fn w_ih_len(&self) -> usize {
        self.cell.gates() * self.hidden_size * self.input_size
    }
    /// Elements of `W_hh`: `gates · H · H`.
    pub fn w_hh_len(&self) -> usize {
        self.cell.gates() * self.hidden_size * self.hidden_size
    }
    /// Elements of each bias: `gates · H`.
    pub fn bias_len(&self) -> usize {
        self.cell.gates() * self.hidden_size
    }
    /// Elements of one state: `batch · H`.
    pub fn state_len(&self) -> usize {
        self.batch * self.hidden_size
    }
    /// Elements of the packed result `[batch, seq_len + state_count, H]`.
    pub fn packed_len(&self) -> usize {
        self.batch * (self.seq_len + self.cell.state_count()) * self.hidden_size
    }
}

/// The operands of a recurrent forward pass. `c0` is used by the LSTM only (pass any buffer,
/// it is ignored, for the other cells); `lengths` is `None` for full-length sequences.
#[derive(Debug)]
pub struct RnnOperands<'a, B> {
    /// Input `[batch, seq_len, input_size]`.
    pub x: &'a B,
    /// Input weights `[gates·H, input_size]`.
    pub w_ih: &'a B,
    /// Recurrent weights `[gates·H, H]`.
    pub w_hh: &'a B,
    /// Input bias `[gates·H]`.
    pub b_ih: &'a B,
    /// Recurrent bias `[gates·H]`.
    pub b_hh: &'a B,
    /// Initial hidden state `[batch, H]`.
    pub h0: &'a B,
    /// Initial cell state `[batch, H]` (LSTM).
    pub c0: &'a B,
    /// Valid steps per batch row (`[batch]`, integers as `f32`), or `None` for all `seq_len`.
    pub lengths: Option<&'a B>,
}

// Copy whatever `B` is: the struct only holds references (a derive would demand `B: Copy`).
impl<B> Clone for RnnOperands<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B> Copy for RnnOperands<'_, B> {}

/// What a forward pass returns: the packed result and the backend's saved state.
#[derive(Debug)]
pub struct RnnForward<B> {
    /// `[batch, seq_len + state_count, H]`: per batch row, the output of every step (zero at
    /// padded steps), then the final hidden state `h_n`, then (LSTM) the final cell state `c_n`.
    pub packed: B,
    /// Whatever the backend saved for [`RecurrentOps::rnn_backward`] (layout is private to it).
    pub workspace: B,
}

/// The gradients of every operand of a forward pass.
#[derive(Debug)]
pub struct RnnGrads<B> {
    /// `d x`, `[batch, seq_len, input_size]`.
    pub dx: B,
    /// `d W_ih`.
    pub dw_ih: B,
    /// `d W_hh`.
    pub dw_hh: B,
    /// `d b_ih`.
    pub db_ih: B,
    /// `d b_hh`.
    pub db_hh: B,
    /// `d h0`, `[batch, H]`.
    pub dh0: B,
    /// `d c0`, `[batch, H]` (zeros for the cells without one).
    pub dc0: B,
}

/// Recurrent op family.
pub trait RecurrentOps: BufferOps {
    /// Runs one direction of one layer over the whole batch (see the module docs for the
    /// equations). A length outside `0..=seq_len` is an error.
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, Self::Buffer>,
    ) -> Result<RnnForward<Self::Buffer>>;

    /// Backpropagation through time: given the operands and workspace of a forward pass and
    /// the gradient `dpacked` of its packed result (same layout: step outputs, then `h_n`,
    /// then `c_n`), the gradient of every operand.
    fn rnn_backward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, Self::Buffer>,
        workspace: &Self::Buffer,
        dpacked: &Self::Buffer,
    ) -> Result<RnnGrads<Self::Buffer>>;
}
