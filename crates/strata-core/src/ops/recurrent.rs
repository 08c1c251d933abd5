//! Recurrent layers over whole sequences as one recorded op: [`Tensor::rnn`].
//!
//! The whole sequence (one direction of one layer) is one backend call forward and one
//! backward, so autograd sees a single node however long the sequence is. The result packs the
//! step outputs and the final states into one tensor (`[batch, seq_len + states, hidden]`)
//! because a node has one output; layers slice it (see `strata-layers`' `rnn` module).

use std::sync::RwLockReadGuard;

use strata_backend::{BufferOps, RecurrentOps, RnnCell, RnnOperands, RnnSpec, Shape};

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

/// The operands' buffers of one backend, picked out of their storages by `pick` (which
/// returns `None` for a storage of another device).
fn operands<'b, T>(
    op: &'static str,
    device: &Device,
    guards: &'b Guards<'_>,
    pick: impl Fn(&'b Storage) -> Option<&'b T>,
) -> Result<RnnOperands<'b, T>> {
    let mismatch = |s: &Storage| Error::DeviceMismatch {
        op,
        lhs: device.to_string(),
        rhs: s.device().to_string(),
    };
    let mut b = Vec::with_capacity(guards.ops.len());
    for s in &guards.ops {
        b.push(pick(s).ok_or_else(|| mismatch(s))?);
    }
    let lengths = match &guards.lengths {
        Some(s) => Some(pick(s).ok_or_else(|| mismatch(s))?),
        None => None,
    };
    Ok(RnnOperands {
        x: b[0],
        w_ih: b[1],
        w_hh: b[2],
        b_ih: b[3],
        b_hh: b[4],
        h0: b[5],
        c0: b[6],
        lengths,
    })
}

/// The forward pass on `backend`: the packed output, the workspace and its length, each
/// buffer wrapped by `wrap` into a storage of the operands' device.
fn forward_on<B: RecurrentOps + BufferOps>(
    backend: &B,
    spec: RnnSpec,
    o: RnnOperands<'_, B::Buffer>,
    wrap: impl Fn(B::Buffer) -> Storage,
) -> Result<(Storage, Storage, usize)> {
    let fwd = backend.rnn_forward(spec, o)?;
    let ws_len = backend.len(&fwd.workspace);
    Ok((wrap(fwd.packed), wrap(fwd.workspace), ws_len))
}

/// Backpropagation through time on `backend`: the gradients of the seven operands, in order,
/// wrapped by `wrap`.
fn backward_on<B: RecurrentOps>(
    backend: &B,
    spec: RnnSpec,
    o: RnnOperands<'_, B::Buffer>,
    workspace: &B::Buffer,
    grad: &B::Buffer,
    wrap: impl Fn(B::Buffer) -> Storage,
) -> Result<[Storage; 7]> {
    let g = backend.rnn_backward(spec, o, workspace, grad)?;
    Ok([g.dx, g.dw_ih, g.dw_hh, g.db_ih, g.db_hh, g.dh0, g.dc0].map(wrap))
}

/// Runs the forward pass on the operands' device.
fn forward(
    op: &'static str,
    device: &Device,
    guards: &Guards<'_>,
    spec: RnnSpec,
) -> Result<(Storage, Storage, usize)> {
    match device {
        #[cfg(feature = "cpu")]
        Device::Cpu => {
            let o = operands(op, device, guards, Storage::as_cpu)?;
            forward_on(crate::storage::cpu_backend(), spec, o, Storage::Cpu)
        }
        #[cfg(feature = "cuda")]
        &Device::Cuda(n) => {
            let o = operands(op, device, guards, |s| s.as_cuda(n))?;
            let wrap = |b| Storage::Cuda(n, b);
            forward_on(crate::storage::cuda_backend(n)?, spec, o, wrap)
        }
    }
}

/// Runs backpropagation through time on the operands' device.
fn backward(
    op: &'static str,
    device: &Device,
    guards: &Guards<'_>,
    spec: RnnSpec,
    workspace: &Storage,
    grad: &Storage,
) -> Result<[Storage; 7]> {
    let mismatch = |s: &Storage| Error::DeviceMismatch {
        op,
        lhs: device.to_string(),
        rhs: s.device().to_string(),
    };
    match device {
        #[cfg(feature = "cpu")]
        Device::Cpu => {
            let o = operands(op, device, guards, Storage::as_cpu)?;
            let ws = workspace.as_cpu().ok_or_else(|| mismatch(workspace))?;
            let g = grad.as_cpu().ok_or_else(|| mismatch(grad))?;
            backward_on(crate::storage::cpu_backend(), spec, o, ws, g, Storage::Cpu)
        }
        #[cfg(feature = "cuda")]
        &Device::Cuda(n) => {
            let o = operands(op, device, guards, |s| s.as_cuda(n))?;
            let ws = workspace.as_cuda(n).ok_or_else(|| mismatch(workspace))?;
            let g = grad.as_cuda(n).ok_or_else(|| mismatch(grad))?;
            let wrap = |b| Storage::Cuda(n, b);
            backward_on(crate::storage::cuda_backend(n)?, spec, o, ws, g, wrap)
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
        let (packed, workspace, ws_len) = {
            let guards = Guards::new(&operands, lengths.as_ref());
            forward(op, &device, &guards, spec)?
        };
        let packed_shape = Shape::new(vec![
            spec.batch,
            spec.seq_len + cell.state_count(),
            spec.hidden_size,
        ]);
        let refs: Vec<&Tensor> = operands.iter().collect();
        let node = record(op, &refs, || {
            let saved: Vec<Tensor> = operands.iter().map(Tensor::detach).collect();
            let workspace = Tensor::from_storage(workspace, Shape::new(vec![ws_len]), None);
            move |g: &Tensor, _: &[Tensor]| {
                let grads = {
                    let guards = Guards::new(&saved, lengths.as_ref());
                    let ws = workspace.read();
                    let gr = g.read();
                    backward(op, &device, &guards, spec, &ws, &gr)?
                };
                let shapes = saved.iter().map(|t| t.shape().clone());
                Ok(grads
                    .into_iter()
                    .zip(shapes)
                    .map(|(b, s)| Some(Tensor::from_storage(b, s, None)))
                    .collect())
            }
        });
        Ok(Tensor::from_storage(packed, packed_shape, node))
    }
}
