//! Recurrent layers over whole sequences on the GPU, the CPU backend's plan on cuBLAS and
//! `kernels/recurrent.cu`: one GEMM for the input projection of every step (written straight
//! into the saved gate area `acts`), then per step one GEMM (`h · W_hhᵀ`, accumulated into that
//! step's rows of `acts`, or for the GRU into a separate `[B, 3H]` block because its n gate
//! scales the recurrent part by r) and one fused cell kernel; backward runs the steps in
//! reverse with one fused cell-backward kernel and one GEMM (`dh += dG_step · W_hh`) each, and
//! finishes with one GEMM each for `dx`, `dW_ih`, `dW_hh` and the two bias gradients (a
//! product with a row of ones). Every buffer stays on the device.
//!
//! The layouts stay batch-first as on the CPU: a time step's rows are strided by `T·G·H` in
//! `acts`, and the GEMMs address them through the leading dimension instead of copying.
//!
//! Workspace layout (private to this backend; the same as the CPU's): `acts [B, T, G·H]`,
//! `hprev [B, T, H]`, then LSTM `cprev [B, T, H]`, `tanh(c') [B, T, H]`, GRU `W_hn h + b_hn
//! [B, T, H]`. Entries of padded steps other than `acts` and `hprev` are never written nor read.
//!
//! Variable lengths are checked against `0..=seq_len` by both passes through the buffer's
//! upload-time summary (no device read for lengths that came from the host; lengths computed
//! on the device are read back once); the kernels clamp them as well.

use strata_backend::{
    BackendError, BufferOps, RecurrentOps, Result, RnnCell, RnnForward, RnnGrads, RnnOperands,
    RnnSpec,
};

use crate::check::int_dim as dim;
use crate::gemm::{Block, GemmShape};
use crate::kernels::{launch, launch_config};
use crate::{CudaBackend, CudaBuffer};

const OP_FORWARD: &str = "rnn_forward";
const OP_BACKWARD: &str = "rnn_backward";

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
    /// Extra saved `[B, T, H]` blocks after `acts` and `hprev`.
    fn extra_blocks(cell: RnnCell) -> usize {
        match cell {
            RnnCell::Tanh => 0,
            RnnCell::Lstm => 2,
            RnnCell::Gru => 1,
        }
    }
    fn workspace_len(&self, cell: RnnCell) -> usize {
        self.b * self.t * (self.gh + self.h * (1 + Self::extra_blocks(cell)))
    }
    /// Offset of `hprev` in the workspace.
    fn hprev_at(&self) -> usize {
        self.b * self.t * self.gh
    }
    /// Offset of the `n`-th extra block (`x1`, `x2`) in the workspace.
    fn extra_at(&self, n: usize) -> usize {
        self.hprev_at() + (1 + n) * self.b * self.t * self.h
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

/// The `int` arguments every per-step kernel takes after its element count, in order (the
/// step itself is passed last, per launch).
struct StepArgs {
    seq_len: i32,
    hidden: i32,
    rows_per_b: i32,
}

/// Checks every operand length against `spec` and that the sizes fit the kernels' `int`s.
fn validate(op: &'static str, spec: &RnnSpec, o: &RnnOperands<'_, CudaBuffer>) -> Result<StepArgs> {
    if spec.hidden_size == 0 {
        return Err(BackendError::InvalidArgument {
            op,
            message: "hidden_size must be at least 1".into(),
        });
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
    if let Some(l) = o.lengths {
        BackendError::check_len(op, spec.batch, l.len())?;
    }
    let rows = spec.batch * spec.seq_len;
    dim(op, "batch · seq_len", rows)?;
    dim(op, "gates · hidden_size", spec.bias_len())?;
    dim(op, "input_size", spec.input_size)?;
    // The leading dimension of a time step's rows in `acts`.
    dim(
        op,
        "seq_len · gates · hidden_size",
        spec.seq_len * spec.bias_len(),
    )?;
    Ok(StepArgs {
        seq_len: dim(op, "seq_len", spec.seq_len)?,
        hidden: dim(op, "hidden_size", spec.hidden_size)?,
        rows_per_b: dim(
            op,
            "seq_len + states",
            spec.seq_len + spec.cell.state_count(),
        )?,
    })
}

impl CudaBackend {
    /// `acts[r, j] = b1[j] (+ b2[j])` for `rows` rows of width `gh`.
    fn rnn_fill_bias(
        &self,
        acts: &CudaBuffer,
        rows: usize,
        gh: usize,
        b1: &CudaBuffer,
        b2: Option<&CudaBuffer>,
    ) -> Result<()> {
        let total = rows * gh;
        if total == 0 {
            return Ok(());
        }
        let gh = dim(OP_FORWARD, "gates · hidden_size", gh)?;
        let (pa, p1, t) = (self.addr(acts, 0), self.addr(b1, 0), total as u64);
        let p2 = b2.map_or(0u64, |b| self.addr(b, 0));
        launch!(
            self,
            Recurrent,
            "recurrent_fill_bias",
            launch_config(total),
            &pa,
            &p1,
            &p2,
            &t,
            &gh
        )
    }

    /// `Σ_r m[r, :]` over the `rows × cols` matrix `m`, as `ones[1, rows] · m`.
    fn rnn_column_sums(&self, m: &CudaBuffer, rows: usize, cols: usize) -> Result<CudaBuffer> {
        let ones = self.full(rows, 1.0)?;
        let mut out = self.alloc(cols)?;
        let shape = GemmShape {
            m: 1,
            n: cols,
            k: rows,
            trans_a: false,
            trans_b: false,
            batch: 1,
            beta: 0.0,
        };
        self.gemm(
            OP_BACKWARD,
            shape,
            (&ones, Block::new(0, rows)),
            (m, Block::new(0, cols)),
            (&mut out, Block::new(0, cols)),
        )?;
        Ok(out)
    }
}

impl RecurrentOps for CudaBackend {
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        o: RnnOperands<'_, CudaBuffer>,
    ) -> Result<RnnForward<CudaBuffer>> {
        let op = OP_FORWARD;
        let args = validate(op, &spec, &o)?;
        if let Some(l) = o.lengths {
            self.check_indices(op, "length", "batch row", l, spec.seq_len + 1)?;
        }
        let d = Dims::new(&spec);
        let (b, t, h, gh) = (d.b, d.t, d.h, d.gh);
        let cell = spec.cell;
        let bt = b * t;
        let mut ws = self.alloc(d.workspace_len(cell))?;
        let packed = self.alloc_zeros(spec.packed_len())?;
        let hs = self.copy(o.h0)?;
        let cs = if cell.has_cell_state() {
            Some(self.copy(o.c0)?)
        } else {
            None
        };
        let total = b * h;
        let total_u = total as u64;
        if bt > 0 {
            // The tanh cell and the LSTM accumulate the recurrent GEMM straight into acts, so
            // both biases go in up front; the GRU keeps b_hh with its recurrent part.
            let fused = cell != RnnCell::Gru;
            self.rnn_fill_bias(&ws, bt, gh, o.b_ih, fused.then_some(o.b_hh))?;
            let projection = GemmShape {
                m: bt,
                n: gh,
                k: d.i,
                trans_a: false,
                trans_b: true,
                batch: 1,
                beta: 1.0,
            };
            self.gemm(
                op,
                projection,
                (o.x, Block::new(0, d.i)),
                (o.w_ih, Block::new(0, d.i)),
                (&mut ws, Block::new(0, gh)),
            )?;
            let mut ghb = if fused {
                None
            } else {
                Some(self.alloc(b * gh)?)
            };
            let recurrent = GemmShape {
                m: b,
                n: gh,
                k: h,
                trans_a: false,
                trans_b: true,
                batch: 1,
                beta: 1.0,
            };
            let pa = self.addr(&ws, 0);
            let php = self.addr(&ws, d.hprev_at());
            let (phs, ppk) = (self.addr(&hs, 0), self.addr(&packed, 0));
            let pcs = cs.as_ref().map_or(0u64, |c| self.addr(c, 0));
            let plen = o.lengths.map_or(0u64, |l| self.addr(l, 0));
            let cfg = launch_config(total);
            for step in d.steps(spec.reverse) {
                let si = dim(op, "step", step)?;
                match ghb.as_mut() {
                    None => self.gemm(
                        op,
                        recurrent,
                        (&hs, Block::new(0, h)),
                        (o.w_hh, Block::new(0, h)),
                        (&mut ws, Block::new(step * gh, t * gh)),
                    )?,
                    Some(g) => {
                        self.rnn_fill_bias(g, b, gh, o.b_hh, None)?;
                        self.gemm(
                            op,
                            recurrent,
                            (&hs, Block::new(0, h)),
                            (o.w_hh, Block::new(0, h)),
                            (g, Block::new(0, gh)),
                        )?;
                    }
                }
                match cell {
                    RnnCell::Tanh => launch!(
                        self,
                        Recurrent,
                        "recurrent_tanh_forward",
                        cfg,
                        &pa,
                        &phs,
                        &php,
                        &ppk,
                        &plen,
                        &total_u,
                        &args.seq_len,
                        &args.hidden,
                        &args.rows_per_b,
                        &si
                    )?,
                    RnnCell::Lstm => {
                        let (px1, px2) =
                            (self.addr(&ws, d.extra_at(0)), self.addr(&ws, d.extra_at(1)));
                        launch!(
                            self,
                            Recurrent,
                            "recurrent_lstm_forward",
                            cfg,
                            &pa,
                            &phs,
                            &pcs,
                            &php,
                            &px1,
                            &px2,
                            &ppk,
                            &plen,
                            &total_u,
                            &args.seq_len,
                            &args.hidden,
                            &args.rows_per_b,
                            &si
                        )?
                    }
                    RnnCell::Gru => {
                        let px1 = self.addr(&ws, d.extra_at(0));
                        let pg = ghb.as_ref().map_or(0u64, |g| self.addr(g, 0));
                        launch!(
                            self,
                            Recurrent,
                            "recurrent_gru_forward",
                            cfg,
                            &pa,
                            &pg,
                            &phs,
                            &php,
                            &px1,
                            &ppk,
                            &plen,
                            &total_u,
                            &args.seq_len,
                            &args.hidden,
                            &args.rows_per_b,
                            &si
                        )?
                    }
                }
            }
        }
        if total > 0 {
            let (phs, ppk) = (self.addr(&hs, 0), self.addr(&packed, 0));
            let pcs = cs.as_ref().map_or(0u64, |c| self.addr(c, 0));
            launch!(
                self,
                Recurrent,
                "recurrent_write_states",
                launch_config(total),
                &phs,
                &pcs,
                &ppk,
                &total_u,
                &args.seq_len,
                &args.hidden,
                &args.rows_per_b
            )?;
        }
        Ok(RnnForward {
            packed,
            workspace: ws,
        })
    }

    fn rnn_backward(
        &self,
        spec: RnnSpec,
        o: RnnOperands<'_, CudaBuffer>,
        workspace: &CudaBuffer,
        dpacked: &CudaBuffer,
    ) -> Result<RnnGrads<CudaBuffer>> {
        let op = OP_BACKWARD;
        let args = validate(op, &spec, &o)?;
        if let Some(l) = o.lengths {
            self.check_indices(op, "length", "batch row", l, spec.seq_len + 1)?;
        }
        let d = Dims::new(&spec);
        BackendError::check_len(op, d.workspace_len(spec.cell), workspace.len())?;
        BackendError::check_len(op, spec.packed_len(), dpacked.len())?;
        let (b, t, h, gh) = (d.b, d.t, d.h, d.gh);
        let cell = spec.cell;
        let bt = b * t;
        let total = b * h;
        let total_u = total as u64;
        let mut dh = self.alloc(total)?;
        let dc = if cell.has_cell_state() {
            self.alloc(total)?
        } else {
            self.alloc_zeros(total)?
        };
        if total > 0 {
            let (pdp, pdh) = (self.addr(dpacked, 0), self.addr(&dh, 0));
            let pdc = if cell.has_cell_state() {
                self.addr(&dc, 0)
            } else {
                0u64
            };
            launch!(
                self,
                Recurrent,
                "recurrent_read_state_grads",
                launch_config(total),
                &pdp,
                &pdh,
                &pdc,
                &total_u,
                &args.seq_len,
                &args.hidden,
                &args.rows_per_b
            )?;
        }
        if bt == 0 {
            return Ok(RnnGrads {
                dx: self.alloc(0)?,
                dw_ih: self.alloc_zeros(spec.w_ih_len())?,
                dw_hh: self.alloc_zeros(spec.w_hh_len())?,
                db_ih: self.alloc_zeros(spec.bias_len())?,
                db_hh: self.alloc_zeros(spec.bias_len())?,
                dh0: dh,
                dc0: dc,
            });
        }
        // Gate gradients of every step; padded steps keep their zeros, so the GEMMs over all
        // steps below add nothing for them.
        let dgx = self.alloc_zeros(bt * gh)?;
        let dgh_sep = if cell == RnnCell::Gru {
            Some(self.alloc_zeros(bt * gh)?)
        } else {
            None
        };
        let pa = self.addr(workspace, 0);
        let php = self.addr(workspace, d.hprev_at());
        let (pdp, pdh, pdx) = (self.addr(dpacked, 0), self.addr(&dh, 0), self.addr(&dgx, 0));
        let plen = o.lengths.map_or(0u64, |l| self.addr(l, 0));
        let cfg = launch_config(total);
        let step_gemm = GemmShape {
            m: b,
            n: h,
            k: gh,
            trans_a: false,
            trans_b: false,
            batch: 1,
            beta: 1.0,
        };
        for step in d.steps(!spec.reverse) {
            let si = dim(op, "step", step)?;
            match cell {
                RnnCell::Tanh => launch!(
                    self,
                    Recurrent,
                    "recurrent_tanh_backward",
                    cfg,
                    &pa,
                    &pdp,
                    &pdh,
                    &pdx,
                    &plen,
                    &total_u,
                    &args.seq_len,
                    &args.hidden,
                    &args.rows_per_b,
                    &si
                )?,
                RnnCell::Lstm => {
                    let (px1, px2) = (
                        self.addr(workspace, d.extra_at(0)),
                        self.addr(workspace, d.extra_at(1)),
                    );
                    let pdc = self.addr(&dc, 0);
                    launch!(
                        self,
                        Recurrent,
                        "recurrent_lstm_backward",
                        cfg,
                        &pa,
                        &px1,
                        &px2,
                        &pdp,
                        &pdh,
                        &pdc,
                        &pdx,
                        &plen,
                        &total_u,
                        &args.seq_len,
                        &args.hidden,
                        &args.rows_per_b,
                        &si
                    )?
                }
                RnnCell::Gru => {
                    let px1 = self.addr(workspace, d.extra_at(0));
                    let pdg = dgh_sep.as_ref().map_or(0u64, |g| self.addr(g, 0));
                    launch!(
                        self,
                        Recurrent,
                        "recurrent_gru_backward",
                        cfg,
                        &pa,
                        &php,
                        &px1,
                        &pdp,
                        &pdh,
                        &pdx,
                        &pdg,
                        &plen,
                        &total_u,
                        &args.seq_len,
                        &args.hidden,
                        &args.rows_per_b,
                        &si
                    )?
                }
            }
            // dh_prev += dG_hh[step] · W_hh; rows of padded steps are zero and add nothing.
            let dgh_all = dgh_sep.as_ref().unwrap_or(&dgx);
            self.gemm(
                op,
                step_gemm,
                (dgh_all, Block::new(step * gh, t * gh)),
                (o.w_hh, Block::new(0, h)),
                (&mut dh, Block::new(0, h)),
            )?;
        }
        let dgh_all = dgh_sep.as_ref().unwrap_or(&dgx);
        let mut dx = self.alloc(bt * d.i)?;
        self.gemm(
            op,
            GemmShape {
                m: bt,
                n: d.i,
                k: gh,
                trans_a: false,
                trans_b: false,
                batch: 1,
                beta: 0.0,
            },
            (&dgx, Block::new(0, gh)),
            (o.w_ih, Block::new(0, d.i)),
            (&mut dx, Block::new(0, d.i)),
        )?;
        let mut dw_ih = self.alloc(gh * d.i)?;
        self.gemm(
            op,
            GemmShape {
                m: gh,
                n: d.i,
                k: bt,
                trans_a: true,
                trans_b: false,
                batch: 1,
                beta: 0.0,
            },
            (&dgx, Block::new(0, gh)),
            (o.x, Block::new(0, d.i)),
            (&mut dw_ih, Block::new(0, d.i)),
        )?;
        let mut dw_hh = self.alloc(gh * h)?;
        self.gemm(
            op,
            GemmShape {
                m: gh,
                n: h,
                k: bt,
                trans_a: true,
                trans_b: false,
                batch: 1,
                beta: 0.0,
            },
            (dgh_all, Block::new(0, gh)),
            (workspace, Block::new(d.hprev_at(), h)),
            (&mut dw_hh, Block::new(0, h)),
        )?;
        let db_ih = self.rnn_column_sums(&dgx, bt, gh)?;
        let db_hh = match dgh_sep.as_ref() {
            Some(g) => self.rnn_column_sums(g, bt, gh)?,
            None => self.copy(&db_ih)?,
        };
        Ok(RnnGrads {
            dx,
            dw_ih,
            dw_hh,
            db_ih,
            db_hh,
            dh0: dh,
            dc0: dc,
        })
    }
}
