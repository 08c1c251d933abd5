//! Recurrent layers over whole sequences: one GEMM for the input projection of every step,
//! then per step one small product (`h · W_hhᵀ`, [`gemm_acc`](crate::small_gemm::gemm_acc)) and one fused pass of the cell
//! (gate non-linearities and state update together); backward runs the steps in reverse, one
//! small product per step for the recurrent gradient, and finishes with one GEMM for `dx` and
//! one for `[dW_ih | dW_hh]` (two for the GRU, whose recurrent gate gradients differ).
//!
//! The rows of a batch never interact, so the time loops run per block of batch rows, one
//! block per thread ([`row_blocks`](rows::row_blocks)): one hand-off per pass instead of one per step.
//!
//! The layouts stay batch-first throughout: the rows of one time step are strided in the
//! `[batch, seq_len, gates·H]` buffers, and the products read them through leading dimensions
//! instead of copying.
//!
//! Files: `forward.rs` and `backward.rs` (the two passes), `cells.rs` (the per-row cell
//! kernels), `rows.rs` (row blocks and row-wise buffer helpers); this file validates the
//! operands and holds what both passes share.
//!
//! Workspace layout (private to this module): `acts [B, T, G·H]` (activated gates; for the tanh
//! cell the new state), `xh [B, T, I + H]` (each step's input, then the state it started from:
//! the right operand of the weight gradients, side by side), then for the LSTM
//! `cprev [B, T, H]` and `tanh(c') [B, T, H]`, for the GRU `W_hn h + b_hn [B, T, H]`.

mod backward;
mod cells;
mod forward;
mod rows;

use strata_backend::{
    BackendError, RecurrentOps, Result, RnnCell, RnnForward, RnnGrads, RnnOperands, RnnSpec,
};

use crate::blas::Sgemm;
use crate::check::{blas_dim, index, invalid};
use crate::{CpuBackend, CpuBuffer};

/// One row-major `C = op(A) · op(B) + beta · C` with explicit leading dimensions, so strided
/// time-step rows of a batch-first buffer can be read and written in place.
struct Gemm {
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
}

impl Gemm {
    /// Runs the product. Dimensions were validated to fit `c_int` by [`validate`]; a zero
    /// dimension makes it a no-op.
    #[allow(clippy::too_many_arguments)] // the BLAS signature, kept whole so calls read like it
    fn run(
        &self,
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        if self.m == 0 || self.n == 0 {
            return;
        }
        if self.k == 0 {
            for row in 0..self.m {
                for v in &mut c[row * ldc..row * ldc + self.n] {
                    *v *= beta;
                }
            }
            return;
        }
        // Every operand must hold its last row within the slice BLAS is given.
        let (a_rows, a_cols) = if self.trans_a {
            (self.k, self.m)
        } else {
            (self.m, self.k)
        };
        let (b_rows, b_cols) = if self.trans_b {
            (self.n, self.k)
        } else {
            (self.k, self.n)
        };
        assert!(a.len() >= (a_rows - 1) * lda + a_cols, "gemm: A too short");
        assert!(b.len() >= (b_rows - 1) * ldb + b_cols, "gemm: B too short");
        assert!(c.len() >= (self.m - 1) * ldc + self.n, "gemm: C too short");
        let g = Sgemm {
            trans_a: self.trans_a,
            trans_b: self.trans_b,
            m: self.m,
            n: self.n,
            k: self.k,
            lda,
            ldb,
            ldc,
            beta,
        };
        // SAFETY: the asserts above keep every access of BLAS inside the three slices; the
        // dimensions fit c_int (checked by `validate` for every size used here).
        unsafe { g.run(a.as_ptr(), b.as_ptr(), c.as_mut_ptr()) };
    }
}

const OP_FORWARD: &str = "rnn_forward";
const OP_BACKWARD: &str = "rnn_backward";

/// Checks every operand length against `spec` and returns the lengths per batch row.
fn validate(
    op: &'static str,
    spec: &RnnSpec,
    o: &RnnOperands<'_, CpuBuffer>,
) -> Result<Vec<usize>> {
    let big = spec.batch.max(1) * spec.seq_len.max(1) * spec.cell.gates() * spec.hidden_size.max(1)
        + spec.input_size;
    blas_dim(op, "batch · seq_len · gates · hidden", big)?;
    if spec.hidden_size == 0 {
        return Err(invalid(op, "hidden_size must be at least 1".into()));
    }
    BackendError::check_len(op, spec.input_len(), o.x.len())?;
    BackendError::check_len(op, spec.w_ih_len(), o.w_ih.len())?;
    BackendError::check_len(op, spec.w_hh_len(), o.w_hh.len())?;
    BackendError::check_len(op, spec.bias_len(), o.b_ih.len())?;
    BackendError::check_len(op, spec.bias_len(), o.b_hh.len())?;
    BackendError::check_len(op, spec.state_len(), o.h0.len())?;
    if spec.cell.has_cell_state() {
        BackendError::check_len(op, spec.state_len(), o.c0.len())?;
    }
    match o.lengths {
        None => Ok(vec![spec.seq_len; spec.batch]),
        Some(l) => {
            BackendError::check_len(op, spec.batch, l.len())?;
            l.as_slice()
                .iter()
                .enumerate()
                .map(|(b, &v)| index(op, "length", "batch row", b, v, spec.seq_len + 1))
                .collect()
        }
    }
}

/// Sizes shared by forward and backward.
#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    t: usize,
    i: usize,
    h: usize,
    gh: usize,
}

impl Dims {
    fn new(spec: &RnnSpec) -> Self {
        Dims {
            b: spec.batch,
            t: spec.seq_len,
            i: spec.input_size,
            h: spec.hidden_size,
            gh: spec.cell.gates() * spec.hidden_size,
        }
    }
    /// Extra saved `[B, T, H]` blocks after `acts` and `xh`.
    fn extra_blocks(cell: RnnCell) -> usize {
        match cell {
            RnnCell::Tanh => 0,
            RnnCell::Lstm => 2,
            RnnCell::Gru => 1,
        }
    }
    fn workspace_len(&self, cell: RnnCell) -> usize {
        self.b * self.t * (self.gh + self.i + self.h * (1 + Self::extra_blocks(cell)))
    }
    /// The time steps in processing order.
    fn steps(&self, reverse: bool) -> Box<dyn Iterator<Item = usize>> {
        if reverse {
            Box::new((0..self.t).rev())
        } else {
            Box::new(0..self.t)
        }
    }
}

impl RecurrentOps for CpuBackend {
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, CpuBuffer>,
    ) -> Result<RnnForward<CpuBuffer>> {
        let lengths = validate(OP_FORWARD, &spec, &operands)?;
        Ok(forward::forward(&spec, &operands, &lengths))
    }

    fn rnn_backward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, CpuBuffer>,
        workspace: &CpuBuffer,
        dpacked: &CpuBuffer,
    ) -> Result<RnnGrads<CpuBuffer>> {
        let lengths = validate(OP_BACKWARD, &spec, &operands)?;
        BackendError::check_len(
            OP_BACKWARD,
            Dims::new(&spec).workspace_len(spec.cell),
            workspace.len(),
        )?;
        BackendError::check_len(OP_BACKWARD, spec.packed_len(), dpacked.len())?;
        Ok(backward::backward(
            &spec,
            &operands,
            &lengths,
            workspace.as_slice(),
            dpacked.as_slice(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use strata_backend::BufferOps;

    fn spec(cell: RnnCell) -> RnnSpec {
        RnnSpec {
            cell,
            batch: 1,
            seq_len: 1,
            input_size: 1,
            hidden_size: 1,
            reverse: false,
        }
    }

    fn run(cell: RnnCell, x: f32, w_ih: f32, w_hh: f32, h0: f32, c0: f32) -> Vec<f32> {
        let be = CpuBackend::new();
        let g = cell.gates();
        let buf = |v: Vec<f32>| be.from_host_vec(v).unwrap();
        let (x, wi, wh) = (buf(vec![x]), buf(vec![w_ih; g]), buf(vec![w_hh; g]));
        let (bi, bh, h0, c0) = (
            buf(vec![0.0; g]),
            buf(vec![0.0; g]),
            buf(vec![h0]),
            buf(vec![c0]),
        );
        let o = RnnOperands {
            x: &x,
            w_ih: &wi,
            w_hh: &wh,
            b_ih: &bi,
            b_hh: &bh,
            h0: &h0,
            c0: &c0,
            lengths: None,
        };
        be.rnn_forward(spec(cell), o).unwrap().packed.into_vec()
    }

    #[test]
    fn tanh_cell_one_step_matches_hand_value() {
        // h' = tanh(0.5·1 + 0.25·2) = tanh(1)
        let out = run(RnnCell::Tanh, 1.0, 0.5, 0.25, 2.0, 0.0);
        assert!((out[0] - 1f32.tanh()).abs() < 1e-6, "{out:?}");
        assert_eq!(out[0], out[1], "h_n is the last output");
    }

    #[test]
    fn lstm_cell_one_step_matches_hand_value() {
        // every pre-activation is 1·1 + 0·h = 1: i = f = o = σ(1), g = tanh(1)
        let out = run(RnnCell::Lstm, 1.0, 1.0, 0.0, 0.0, 0.5);
        let s = 1.0 / (1.0 + (-1f32).exp());
        let c = s * 0.5 + s * 1f32.tanh();
        assert!((out[2] - c).abs() < 1e-6, "c_n {out:?}");
        assert!((out[0] - s * c.tanh()).abs() < 1e-6, "h {out:?}");
    }

    #[test]
    fn gru_cell_one_step_matches_hand_value() {
        // pre-activations 1 + 1·h0 with h0 = 0.5: r = z = σ(1.5), n = tanh(1 + r·0.5)
        let out = run(RnnCell::Gru, 1.0, 1.0, 1.0, 0.5, 0.0);
        let s = 1.0 / (1.0 + (-1.5f32).exp());
        let n = (1.0 + s * 0.5).tanh();
        assert!((out[0] - ((1.0 - s) * n + s * 0.5)).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn length_beyond_sequence_is_an_error() {
        let be = CpuBackend::new();
        let buf = |v: Vec<f32>| be.from_host_vec(v).unwrap();
        let (x, w, b, s, l) = (
            buf(vec![1.0]),
            buf(vec![1.0]),
            buf(vec![0.0]),
            buf(vec![0.0]),
            buf(vec![2.0]),
        );
        let o = RnnOperands {
            x: &x,
            w_ih: &w,
            w_hh: &w,
            b_ih: &b,
            b_hh: &b,
            h0: &s,
            c0: &s,
            lengths: Some(&l),
        };
        let err = be
            .rnn_forward(spec(RnnCell::Tanh), o)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("length 2 at batch row 0 is outside 0..2"),
            "{err}"
        );
    }
}
