//! The engine shared by `SimpleRnn`, `Lstm` and `Gru`: layers, directions, dropout between
//! layers, lengths and initial/final states, on top of the one-op-per-direction
//! [`Tensor::rnn`].

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use strata_backend::random::derive_seed;
use strata_core::{Error, Param, Result, RnnCell, RnnInputs, Tensor};

use crate::init::Init;
use crate::module::{BuildContext, Mode};

/// The settings every recurrent layer shares (PyTorch's names): `hidden` features, stacked
/// layers, directions, whether `forward` returns every step, and dropout between layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrentConfig {
    /// Features of the hidden state.
    pub hidden: usize,
    /// Stacked layers (default 1).
    #[serde(default = "crate::config_serde::one")]
    pub num_layers: usize,
    /// Run a second direction over each sequence in reverse and concatenate the two
    /// (default `false`).
    #[serde(default)]
    pub bidirectional: bool,
    /// `Module::forward` returns every step's output `[batch, seq_len, directions·hidden]`
    /// instead of the final state `[batch, directions·hidden]` (default `false`).
    #[serde(default)]
    pub return_sequences: bool,
    /// Dropout probability on the input of every layer but the first, in training
    /// (default 0).
    #[serde(default)]
    pub dropout: f32,
}

impl RecurrentConfig {
    /// One unidirectional layer of `hidden` features returning its final state.
    pub fn new(hidden: usize) -> Self {
        RecurrentConfig {
            hidden,
            num_layers: 1,
            bidirectional: false,
            return_sequences: false,
            dropout: 0.0,
        }
    }
}

/// Optional inputs of a recurrent forward pass beyond the sequences themselves.
#[derive(Debug, Clone, Default)]
pub struct RnnState {
    /// Initial hidden state `[layers · directions, batch, hidden]` (zeros when `None`).
    pub h0: Option<Tensor>,
    /// Initial cell state of an LSTM, same shape (zeros when `None`).
    pub c0: Option<Tensor>,
    /// Valid steps per sequence, `[batch]` (integers as `f32`): padding past a sequence's
    /// length never changes any result.
    pub lengths: Option<Tensor>,
}

/// What a recurrent layer computes.
#[derive(Debug, Clone)]
pub struct RnnOutput {
    /// The last layer's output at every step, `[batch, seq_len, directions · hidden]` (zero
    /// at padded steps).
    pub output: Tensor,
    /// Final hidden state of every layer and direction, `[layers · directions, batch, hidden]`
    /// (PyTorch's order: layer 0 forward, layer 0 reverse, layer 1 forward, ...).
    pub h_n: Tensor,
    /// Final cell state (LSTM only), same shape as `h_n`.
    pub c_n: Option<Tensor>,
}

/// The four parameters of one layer and direction, PyTorch's layout.
#[derive(Debug, Clone)]
struct Weights {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
}

/// A built multi-layer, optionally bidirectional recurrent stack of one cell kind.
#[derive(Debug)]
pub(crate) struct Recurrent {
    cell: RnnCell,
    config: RecurrentConfig,
    weights: Vec<Weights>,
    input_size: usize,
    dropout_seed: AtomicU64,
    calls: AtomicU64,
}

/// The description of a stack: `"Lstm(64, layers=2, bidirectional)"`.
fn describe(cell: RnnCell, c: &RecurrentConfig) -> String {
    let name = match cell {
        RnnCell::Tanh => "SimpleRnn",
        RnnCell::Lstm => "Lstm",
        RnnCell::Gru => "Gru",
    };
    let bi = if c.bidirectional {
        ", bidirectional"
    } else {
        ""
    };
    format!("{name}({}, layers={}{bi})", c.hidden, c.num_layers)
}

impl Recurrent {
    /// The number of training forwards that drew dropout masks: the next mask's stream.
    pub(crate) fn rng_counter(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The seed every inter-layer dropout mask derives from (with the call counter and the
    /// layer index).
    #[cfg(test)]
    pub(crate) fn dropout_seed(&self) -> u64 {
        self.rng_seed()
    }

    /// Sets the stream of the next dropout mask (restoring a checkpoint).
    pub(crate) fn set_rng_counter(&self, value: u64) {
        self.calls.store(value, Ordering::Relaxed);
    }

    /// The base seed of the dropout masks, as saved in checkpoints.
    pub(crate) fn rng_seed(&self) -> u64 {
        self.dropout_seed.load(Ordering::Relaxed)
    }

    /// Sets the base seed of the dropout masks (restoring a checkpoint into a layer built
    /// from another seed).
    pub(crate) fn set_rng_seed(&self, seed: u64) {
        self.dropout_seed.store(seed, Ordering::Relaxed);
    }

    fn directions(&self) -> usize {
        if self.config.bidirectional { 2 } else { 1 }
    }

    pub(crate) fn kind(&self) -> String {
        describe(self.cell, &self.config)
    }

    /// The per-sample output for `[seq_len, features]` samples.
    fn shape_for(c: &RecurrentConfig, kind: &str, input: &[usize]) -> Result<(usize, Vec<usize>)> {
        let [steps, features] = *input else {
            return Err(Error::shape(
                "rnn",
                format!("{kind} expects samples of shape [seq_len, features]; got {input:?}"),
            ));
        };
        let out_features = if c.bidirectional { 2 } else { 1 } * c.hidden;
        let output = if c.return_sequences {
            vec![steps, out_features]
        } else {
            vec![out_features]
        };
        Ok((features, output))
    }

    pub(crate) fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let kind = self.kind();
        let (features, output) = Self::shape_for(&self.config, &kind, input)?;
        if features != self.input_size {
            return Err(Error::shape(
                "rnn",
                format!(
                    "{kind} was built for {} input features but the input shape {input:?} has \
                     {features}",
                    self.input_size
                ),
            ));
        }
        Ok(output)
    }

    pub(crate) fn build(
        cell: RnnCell,
        config: RecurrentConfig,
        input: &[usize],
        ctx: &mut BuildContext,
    ) -> Result<Recurrent> {
        let kind = describe(cell, &config);
        let (features, _) = Self::shape_for(&config, &kind, input)?;
        if config.hidden == 0 || config.num_layers == 0 {
            return Err(Error::invalid(
                kind,
                "hidden size and layer count must be at least 1",
            ));
        }
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(Error::invalid(
                kind,
                format!("dropout must be in [0, 1); got {}", config.dropout),
            ));
        }
        let directions = if config.bidirectional { 2 } else { 1 };
        let out_features = directions * config.hidden;
        // PyTorch's default: every parameter U(−1/√H, 1/√H).
        let bound = 1.0 / (config.hidden as f32).sqrt();
        let init = Init::Uniform {
            low: -bound,
            high: bound,
        };
        let g = cell.gates() * config.hidden;
        let device = ctx.device();
        let mut weights = Vec::with_capacity(config.num_layers * directions);
        for layer in 0..config.num_layers {
            let in_size = if layer == 0 { features } else { out_features };
            for _ in 0..directions {
                let mut draw = |shape: &[usize]| -> Result<Tensor> {
                    Ok(init
                        .tensor(shape, in_size, g, ctx.next_seed(), &device)?
                        .variable())
                };
                weights.push(Weights {
                    w_ih: draw(&[g, in_size])?,
                    w_hh: draw(&[g, config.hidden])?,
                    b_ih: draw(&[g])?,
                    b_hh: draw(&[g])?,
                });
            }
        }
        Ok(Recurrent {
            cell,
            config,
            weights,
            input_size: features,
            dropout_seed: AtomicU64::new(ctx.next_seed()),
            calls: AtomicU64::new(0),
        })
    }

    pub(crate) fn parameters(&self) -> Vec<Param> {
        let mut params = Vec::with_capacity(4 * self.weights.len());
        for (k, w) in self.weights.iter().enumerate() {
            let (layer, dir) = (k / self.directions(), k % self.directions());
            let suffix = if dir == 1 { "_reverse" } else { "" };
            for (name, t) in [
                ("weight_ih", &w.w_ih),
                ("weight_hh", &w.w_hh),
                ("bias_ih", &w.b_ih),
                ("bias_hh", &w.b_hh),
            ] {
                params.push(Param::new(format!("{name}_l{layer}{suffix}"), t.clone()));
            }
        }
        params
    }

    /// Replaces the parameter named as PyTorch does (`weight_ih_l0_reverse`, ...) by `value`
    /// (made a variable); used to load weights from elsewhere.
    pub(crate) fn set_parameter(&mut self, name: &str, value: Tensor) -> Result<()> {
        let position = self
            .parameters()
            .iter()
            .position(|p| p.name() == name)
            .ok_or_else(|| Error::invalid(self.kind(), format!("no parameter named {name}")))?;
        let w = &mut self.weights[position / 4];
        let slot = match position % 4 {
            0 => &mut w.w_ih,
            1 => &mut w.w_hh,
            2 => &mut w.b_ih,
            _ => &mut w.b_hh,
        };
        if slot.dims() != value.dims() {
            return Err(Error::shape(
                "rnn",
                format!("{name} must be {}; got {}", slot.shape(), value.shape()),
            ));
        }
        *slot = if value.is_variable() {
            value
        } else {
            value.variable()
        };
        Ok(())
    }

    /// Layer `layer`, direction `dir` slice of a stacked `[L·D, B, H]` state.
    fn state_slice(&self, s: Option<&Tensor>, k: usize, batch: usize) -> Result<Option<Tensor>> {
        s.map(|s| s.narrow(0, k, 1)?.reshape([batch, self.config.hidden]))
            .transpose()
    }

    fn check_state(&self, name: &str, s: Option<&Tensor>, batch: usize) -> Result<()> {
        let expected = [
            self.config.num_layers * self.directions(),
            batch,
            self.config.hidden,
        ];
        match s {
            Some(s) if s.dims() != expected => Err(Error::shape(
                "rnn",
                format!(
                    "{}: {name} must be {expected:?} (layers·directions, batch, hidden); got {}",
                    self.kind(),
                    s.shape()
                ),
            )),
            _ => Ok(()),
        }
    }

    pub(crate) fn forward_seq(
        &self,
        x: &Tensor,
        state: &RnnState,
        mode: Mode,
    ) -> Result<RnnOutput> {
        let (output, h_n, c_n) = self.run(x, state, mode, true)?;
        let output = output.ok_or_else(|| {
            Error::invalid(self.kind(), "internal: the step outputs were not kept")
        })?;
        Ok(RnnOutput { output, h_n, c_n })
    }

    /// The stack over `x`: the last layer's step outputs (only when `keep_output`: slicing
    /// them out of the packed result, and their zero gradient in backward, cost a copy each
    /// that a last-state classifier does not need), `h_n` and `c_n`.
    fn run(
        &self,
        x: &Tensor,
        state: &RnnState,
        mode: Mode,
        keep_output: bool,
    ) -> Result<(Option<Tensor>, Tensor, Option<Tensor>)> {
        let kind = self.kind();
        let input_size = self.input_size;
        let [batch, steps, features] = *x.dims() else {
            return Err(Error::shape(
                "rnn",
                format!(
                    "{kind} expects a batch [batch, seq_len, {input_size}]; got {}",
                    x.shape()
                ),
            ));
        };
        if features != input_size {
            return Err(Error::shape(
                "rnn",
                format!(
                    "{kind}: the input is {} ({features} features per step) but the layer was \
                     built for {input_size} features",
                    x.shape()
                ),
            ));
        }
        self.check_state("h0", state.h0.as_ref(), batch)?;
        self.check_state("c0", state.c0.as_ref(), batch)?;
        if state.c0.is_some() && self.cell != RnnCell::Lstm {
            return Err(Error::invalid(
                kind,
                "only an Lstm takes an initial cell state c0",
            ));
        }
        let (hidden, num_layers, dropout) = (
            self.config.hidden,
            self.config.num_layers,
            self.config.dropout,
        );
        let call = if mode.is_train() && dropout > 0.0 {
            self.calls.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        let mut layer_input = x.clone();
        let (mut h_n, mut c_n) = (Vec::new(), Vec::new());
        for layer in 0..num_layers {
            if layer > 0 && mode.is_train() && dropout > 0.0 {
                let seed = derive_seed(derive_seed(self.rng_seed(), call), layer as u64);
                layer_input = layer_input.dropout(dropout, seed)?;
            }
            let mut outputs = Vec::with_capacity(2);
            for dir in 0..self.directions() {
                let k = layer * self.directions() + dir;
                let w = &self.weights[k];
                let h0 = self.state_slice(state.h0.as_ref(), k, batch)?;
                let c0 = self.state_slice(state.c0.as_ref(), k, batch)?;
                let packed = Tensor::rnn(
                    self.cell,
                    dir == 1,
                    RnnInputs {
                        x: &layer_input,
                        w_ih: &w.w_ih,
                        w_hh: &w.w_hh,
                        b_ih: &w.b_ih,
                        b_hh: &w.b_hh,
                        h0: h0.as_ref(),
                        c0: c0.as_ref(),
                        lengths: state.lengths.as_ref(),
                    },
                )?;
                if keep_output || layer + 1 < num_layers {
                    outputs.push(packed.narrow(1, 0, steps)?);
                }
                h_n.push(packed.narrow(1, steps, 1)?.reshape([1, batch, hidden])?);
                if self.cell.has_cell_state() {
                    c_n.push(
                        packed
                            .narrow(1, steps + 1, 1)?
                            .reshape([1, batch, hidden])?,
                    );
                }
            }
            if outputs.is_empty() {
                continue;
            }
            layer_input = if outputs.len() == 1 {
                outputs.remove(0)
            } else {
                Tensor::cat(&outputs, 2)?
            };
        }
        let c_n = if c_n.is_empty() {
            None
        } else {
            Some(Tensor::cat(&c_n, 0)?)
        };
        Ok((
            keep_output.then_some(layer_input),
            Tensor::cat(&h_n, 0)?,
            c_n,
        ))
    }

    /// The `Module` output: every step's output, or the last layer's final hidden state with
    /// the directions concatenated (`[batch, directions · hidden]`).
    pub(crate) fn module_forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        if self.config.return_sequences {
            return Ok(self.forward_seq(x, &RnnState::default(), mode)?.output);
        }
        let (_, h_n, _) = self.run(x, &RnnState::default(), mode, false)?;
        let d = self.directions();
        let first = (self.config.num_layers - 1) * d;
        let last = h_n.narrow(0, first, d)?;
        let batch = last.dims()[1];
        last.permute(&[1, 0, 2])?
            .reshape([batch, d * self.config.hidden])
    }
}
