//! Recurrent layers over whole sequences as one recorded op: [`Tensor::rnn`].
//!
//! The whole sequence (one direction of one layer) is one backend call forward and one
//! backward, so autograd sees a single node however long the sequence is. The result packs the
//! step outputs and the final states into one tensor (`[batch, seq_len + states, hidden]`)
//! because a node has one output; layers slice it (see `strata-layers`' `rnn` module).

use std::sync::RwLockReadGuard;

use strata_backend::{RecurrentOps, RnnCell, RnnOperands, RnnSpec, Shape};

use crate::autograd::record;
use crate::storage::Storage;
use crate::{Device, Error, Result, Tensor};

/// The operands of [`Tensor::rnn`], named as PyTorch's parameters.
#[derive(Debug, Clone, Copy)]
pub struct RnnInputs<'a> {
    /// Input sequences `[batch, seq_len, input_size]`.
    pub x: &'a Tensor,
    /// `weight_ih`, `[gates·H, input_size]`.
    pub w_ih: &'a Tensor,
    /// `weight_hh`, `[gates·H, H]`.
    pub w_hh: &'a Tensor,
    /// `bias_ih`, `[gates·H]`.
    pub b_ih: &'a Tensor,
    /// `bias_hh`, `[gates·H]`.
    pub b_hh: &'a Tensor,
    /// Initial hidden state `[batch, H]` (zeros when `None`).
    pub h0: Option<&'a Tensor>,
    /// Initial cell state `[batch, H]` for the LSTM (zeros when `None`; refused for others).
    pub c0: Option<&'a Tensor>,
    /// Valid steps per sequence, `[batch]` integers as `f32` (all `seq_len` when `None`).
    pub lengths: Option<&'a Tensor>,
}

fn dims_text(t: &Tensor) -> String {
    t.shape().to_string()
}

/// Checks every shape and the lengths, returning the backend spec.
fn check(op: &'static str, cell: RnnCell, reverse: bool, a: &RnnInputs<'_>) -> Result<RnnSpec> {
    let g = cell.gates();
    let [batch, seq_len, input_size] = *a.x.dims() else {
        return Err(Error::shape(
            op,
            format!(
                "input must be [batch, seq_len, features]; got {}",
                dims_text(a.x)
            ),
        ));
    };
    let hidden = match *a.w_hh.dims() {
        [rows, h] if rows == g * h && h > 0 => h,
        _ => {
            return Err(Error::shape(
                op,
                format!(
                    "weight_hh must be [{g}·hidden, hidden] with hidden ≥ 1; got {}",
                    dims_text(a.w_hh)
                ),
            ));
        }
    };
    if a.w_ih.dims() != [g * hidden, input_size] {
        return Err(Error::shape(
            op,
            format!(
                "input has {input_size} features per step but weight_ih is {} (expects \
                 [{}, features]); build the layer for {} input features or fix the input",
                dims_text(a.w_ih),
                g * hidden,
                a.w_ih.dims().get(1).copied().unwrap_or(0)
            ),
        ));
    }
    for (name, b) in [("bias_ih", a.b_ih), ("bias_hh", a.b_hh)] {
        if b.dims() != [g * hidden] {
            return Err(Error::shape(
                op,
                format!("{name} must be [{}]; got {}", g * hidden, dims_text(b)),
            ));
        }
    }
    for (name, s) in [("h0", a.h0), ("c0", a.c0)] {
        if let Some(s) = s
            && s.dims() != [batch, hidden]
        {
            return Err(Error::shape(
                op,
                format!(
                    "initial state {name} must be [{batch}, {hidden}]; got {}",
                    dims_text(s)
                ),
            ));
        }
    }
    if a.c0.is_some() && !cell.has_cell_state() {
        return Err(Error::invalid(
            op,
            "only the LSTM has a cell state c0".to_string(),
        ));
    }
    if let Some(l) = a.lengths {
        if l.dims() != [batch] {
            return Err(Error::shape(
                op,
                format!(
                    "lengths must be [{batch}] (one per sequence); got {}",
                    dims_text(l)
                ),
            ));
        }
        for (row, &v) in l.to_vec()?.iter().enumerate() {
            if !(v >= 0.0 && v.fract() == 0.0 && v <= seq_len as f32) {
                return Err(Error::invalid(
                    op,
                    format!(
                        "length {v} of sequence {row} is longer than the sequence ({seq_len} \
                         steps) or not a whole number ≥ 0"
                    ),
                ));
            }
        }
    }
    let device = a.x.device();
    let others = [a.w_ih, a.w_hh, a.b_ih, a.b_hh]
        .into_iter()
        .chain(a.h0)
        .chain(a.c0)
        .chain(a.lengths);
    for t in others {
        if t.device() != device {
            return Err(Error::DeviceMismatch {
                op,
                lhs: device.to_string(),
                rhs: t.device().to_string(),
            });
        }
    }
    Ok(RnnSpec {
        cell,
        batch,
        seq_len,
        input_size,
        hidden_size: hidden,
        reverse,
    })
}

/// Read guards of the seven operands (x, w_ih, w_hh, b_ih, b_hh, h0, c0) and the lengths.
struct Guards<'a> {
    ops: Vec<RwLockReadGuard<'a, Storage>>,
    lengths: Option<RwLockReadGuard<'a, Storage>>,
}

impl<'a> Guards<'a> {
    fn new(ops: &'a [Tensor], lengths: Option<&'a Tensor>) -> Self {
        Guards {
            ops: ops.iter().map(|t| t.read()).collect(),
            lengths: lengths.map(|t| t.read()),
        }
    }
}

/// Runs `f` with the backend and the operands of one device. (Only the CPU backend exists;
/// a second backend adds its arm here and in the `Storage` matches of [`Tensor::rnn`].)
fn with_operands<R>(
    device: &Device,
    guards: &Guards<'_>,
    f: impl for<'b> FnOnce(
        &'b strata_cpu::CpuBackend,
        RnnOperands<'b, strata_cpu::CpuBuffer>,
    ) -> strata_backend::Result<R>,
) -> Result<R> {
    match device {
        #[cfg(feature = "cpu")]
        Device::Cpu => {
            let b: Vec<&strata_cpu::CpuBuffer> = guards
                .ops
                .iter()
                .map(|s| match &**s {
                    Storage::Cpu(b) => b,
                })
                .collect();
            let lengths = guards.lengths.as_ref().map(|s| match &**s {
                Storage::Cpu(b) => b,
            });
            let operands = RnnOperands {
                x: b[0],
                w_ih: b[1],
                w_hh: b[2],
                b_ih: b[3],
                b_hh: b[4],
                h0: b[5],
                c0: b[6],
                lengths,
            };
            Ok(f(crate::storage::cpu_backend(), operands)?)
        }
    }
}

impl Tensor {
    /// One direction of one recurrent layer over whole sequences, as one recorded op.
    ///
    /// Returns the packed `[batch, seq_len + states, H]`: per sequence, the output of every
    /// step (zero past its length), then `h_n`, then for the LSTM `c_n` (`states` is 2 for the
    /// LSTM, 1 otherwise). Equations and gate order are PyTorch's (LSTM i, f, g, o; GRU r, z, n
    /// with `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`); `reverse` runs each sequence from
    /// its last valid step to its first. Errors name the op and the shapes: an input whose
    /// feature size does not match `weight_ih`, a length longer than the sequence.
    pub fn rnn(cell: RnnCell, reverse: bool, inputs: RnnInputs<'_>) -> Result<Tensor> {
        let op = cell.name();
        let spec = check(op, cell, reverse, &inputs)?;
        let device = inputs.x.device();
        let zeros = || Tensor::zeros([spec.batch, spec.hidden_size], &device);
        let h0 = match inputs.h0 {
            Some(h) => h.clone(),
            None => zeros()?,
        };
        let c0 = match inputs.c0 {
            Some(c) => c.clone(),
            None => zeros()?,
        };
        let operands = [
            inputs.x.clone(),
            inputs.w_ih.clone(),
            inputs.w_hh.clone(),
            inputs.b_ih.clone(),
            inputs.b_hh.clone(),
            h0,
            c0,
        ];
        let lengths = inputs.lengths.map(Tensor::detach);
        let (packed, workspace) = {
            let guards = Guards::new(&operands, lengths.as_ref());
            let fwd = with_operands(&device, &guards, |b, o| b.rnn_forward(spec, o))?;
            (Storage::Cpu(fwd.packed), Storage::Cpu(fwd.workspace))
        };
        let packed_shape = Shape::new(vec![
            spec.batch,
            spec.seq_len + cell.state_count(),
            spec.hidden_size,
        ]);
        let refs: Vec<&Tensor> = operands.iter().collect();
        let node = record(op, &refs, || {
            let saved: Vec<Tensor> = operands.iter().map(Tensor::detach).collect();
            let ws_len = match &workspace {
                Storage::Cpu(w) => w.len(),
            };
            let workspace = Tensor::from_storage(workspace, Shape::new(vec![ws_len]), None);
            move |g: &Tensor, _: &[Tensor]| {
                let grads = {
                    let guards = Guards::new(&saved, lengths.as_ref());
                    let ws = workspace.read();
                    let gr = g.read();
                    with_operands(&device, &guards, |b, o| {
                        let (Storage::Cpu(ws), Storage::Cpu(gb)) = (&*ws, &*gr);
                        b.rnn_backward(spec, o, ws, gb)
                    })?
                };
                let shapes = saved.iter().map(|t| t.shape().clone());
                let bufs = [
                    grads.dx,
                    grads.dw_ih,
                    grads.dw_hh,
                    grads.db_ih,
                    grads.db_hh,
                    grads.dh0,
                    grads.dc0,
                ];
                Ok(bufs
                    .into_iter()
                    .zip(shapes)
                    .map(|(b, s)| Some(Tensor::from_storage(Storage::Cpu(b), s, None)))
                    .collect())
            }
        });
        Ok(Tensor::from_storage(packed, packed_shape, node))
    }
}
