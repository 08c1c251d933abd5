//! Recurrent layers over whole sequences: one GEMM for the input projection of every step,
//! then per step one small product (`h · W_hhᵀ`, [`gemm_acc`]) and one fused pass of the cell
//! (gate non-linearities and state update together); backward runs the steps in reverse, one
//! small product per step for the recurrent gradient, and finishes with one GEMM for `dx` and
//! one for `[dW_ih | dW_hh]` (two for the GRU, whose recurrent gate gradients differ).
//!
//! The rows of a batch never interact, so the time loops run per block of batch rows, one
//! block per thread ([`row_blocks`]): one hand-off per pass instead of one per step.
//!
//! The layouts stay batch-first throughout: the rows of one time step are strided in the
//! `[batch, seq_len, gates·H]` buffers, and the products read them through leading dimensions
//! instead of copying.
//!
//! Workspace layout (private to this file): `acts [B, T, G·H]` (activated gates; for the tanh
//! cell the new state), `xh [B, T, I + H]` (each step's input, then the state it started from:
//! the right operand of the weight gradients, side by side), then for the LSTM
//! `cprev [B, T, H]` and `tanh(c') [B, T, H]`, for the GRU `W_hn h + b_hn [B, T, H]`.

use strata_backend::{
    BackendError, RecurrentOps, Result, RnnCell, RnnForward, RnnGrads, RnnOperands, RnnSpec,
};

use std::ops::Range;

use crate::blas::{MIN_FLOPS_PER_PART, Sgemm};
use crate::check::{blas_dim, index, invalid};
use crate::math::{exp, sigmoid};
use crate::simd::multiversion;
use crate::small_gemm::gemm_acc;
use crate::{CpuBackend, CpuBuffer};

/// `tanh(x) = 1 − 2 / (e^{2x} + 1)`, through the vectorizable `exp` (saturates cleanly).
#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

multiversion! {
    /// `tanh` of every element, in place.
    fn tanh_in_place / tanh_in_place_baseline(a: &mut [f32]) {
        a.iter_mut().for_each(|v| *v = tanh(*v));
    }
}

multiversion! {
    /// One LSTM row forward: activates the gates `a` (`[i, f, g, o]`, `h` each) in place,
    /// keeps the previous cell state in `cprev`, updates `c` to `f·c + i·g`, writes
    /// `tanh(c)` to `tc` and `o·tanh(c)` to `hrow`.
    fn lstm_forward_row / lstm_forward_row_baseline(
        a: &mut [f32],
        c: &mut [f32],
        cprev: &mut [f32],
        tc: &mut [f32],
        hrow: &mut [f32],
    ) {
        let h = c.len();
        a[..2 * h].iter_mut().for_each(|v| *v = sigmoid(*v));
        a[2 * h..3 * h].iter_mut().for_each(|v| *v = tanh(*v));
        a[3 * h..4 * h].iter_mut().for_each(|v| *v = sigmoid(*v));
        cprev[..h].copy_from_slice(c);
        let (ai, af, ag, ao) = (&a[..h], &a[h..2 * h], &a[2 * h..3 * h], &a[3 * h..4 * h]);
        for (((cv, &i), &f), &gg) in c.iter_mut().zip(ai).zip(af).zip(ag) {
            *cv = f * *cv + i * gg;
        }
        for (t, &cv) in tc[..h].iter_mut().zip(c.iter()) {
            *t = tanh(cv);
        }
        for ((hv, &o), &t) in hrow[..h].iter_mut().zip(ao).zip(tc[..h].iter()) {
            *hv = o * t;
        }
    }
}

/// [`lstm_forward_row`], compiled with AVX-512F when the CPU has it (16 floats a vector
/// instead of 8: the same operations in the same order, so the same bits).
fn lstm_forward_row_wide(
    a: &mut [f32],
    c: &mut [f32],
    cprev: &mut [f32],
    tc: &mut [f32],
    hrow: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512(a: &mut [f32], c: &mut [f32], p: &mut [f32], tc: &mut [f32], h: &mut [f32]) {
            lstm_forward_row_baseline(a, c, p, tc, h);
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked on the line above.
            unsafe { avx512(a, c, cprev, tc, hrow) };
            return;
        }
    }
    lstm_forward_row(a, c, cprev, tc, hrow);
}

/// [`lstm_backward_row`], compiled with AVX-512F when the CPU has it (same bits).
fn lstm_backward_row_wide(
    gates: [&[f32]; 4],
    cprev: &[f32],
    tc: &[f32],
    dy: &[f32],
    dh: &mut [f32],
    dc: &mut [f32],
    dgates: [&mut [f32]; 4],
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512(
            gates: [&[f32]; 4],
            cprev: &[f32],
            tc: &[f32],
            dy: &[f32],
            dh: &mut [f32],
            dc: &mut [f32],
            dgates: [&mut [f32]; 4],
        ) {
            lstm_backward_row_baseline(gates, cprev, tc, dy, dh, dc, dgates);
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked on the line above.
            unsafe { avx512(gates, cprev, tc, dy, dh, dc, dgates) };
            return;
        }
    }
    lstm_backward_row(gates, cprev, tc, dy, dh, dc, dgates);
}

multiversion! {
    /// One LSTM row backward: from the activated gates, the previous cell state, `tanh(c)`,
    /// the output gradient `dy` and the carried `dh`/`dc`, writes the four pre-activation gate
    /// gradients, carries `dc` back one step and clears `dh` (refilled by the recurrent GEMM).
    fn lstm_backward_row / lstm_backward_row_baseline(
        gates: [&[f32]; 4],
        cprev: &[f32],
        tc: &[f32],
        dy: &[f32],
        dh: &mut [f32],
        dc: &mut [f32],
        dgates: [&mut [f32]; 4],
    ) {
        let h = dc.len();
        // Every slice cut to exactly `h` so the loop runs without bounds checks.
        let [ai, af, ag, ao] = gates.map(|g| &g[..h]);
        let (cprev, tc, dy, dh) = (&cprev[..h], &tc[..h], &dy[..h], &mut dh[..h]);
        let [dgi, dgf, dgg, dgo] = dgates;
        let (dgi, dgf, dgg, dgo) = (&mut dgi[..h], &mut dgf[..h], &mut dgg[..h], &mut dgo[..h]);
        for j in 0..h {
            let (i, f, g, og) = (ai[j], af[j], ag[j], ao[j]);
            let dt = dh[j] + dy[j];
            let dcc = dc[j] + dt * og * (1.0 - tc[j] * tc[j]);
            dgi[j] = dcc * g * i * (1.0 - i);
            dgf[j] = dcc * cprev[j] * f * (1.0 - f);
            dgg[j] = dcc * i * (1.0 - g * g);
            dgo[j] = dt * tc[j] * og * (1.0 - og);
            dc[j] = dcc * f;
            dh[j] = 0.0;
        }
    }
}

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

/// `C[r, :] = bias` for each of `rows` rows of width `bias.len()` at leading dimension `ld`.
fn fill_rows(c: &mut [f32], rows: usize, ld: usize, bias: &[f32]) {
    for r in 0..rows {
        c[r * ld..r * ld + bias.len()].copy_from_slice(bias);
    }
}

/// The batch rows cut into blocks that run a whole sequence each, one block per thread when
/// the sequence carries enough work. Rows of a batch never interact, and every per-row
/// computation (the step product of [`gemm_acc`] included) is the same in any block, so the
/// cut changes no result.
fn row_blocks(d: &Dims) -> Vec<Range<usize>> {
    let work =
        d.b.saturating_mul(d.t)
            .saturating_mul(d.gh)
            .saturating_mul(d.h);
    let threads = crate::threads::num_threads();
    let parts = (work / MIN_FLOPS_PER_PART).clamp(1, threads.min(d.b.max(1)));
    let per = d.b.div_ceil(parts).max(1);
    (0..d.b.max(1))
        .step_by(per)
        .map(|s| s..(s + per).min(d.b))
        .collect()
}

/// `buf` cut at the row boundaries of `blocks`, `per_row` elements per batch row.
fn split_rows<'a>(
    mut buf: &'a mut [f32],
    per_row: usize,
    blocks: &[Range<usize>],
) -> Vec<&'a mut [f32]> {
    blocks
        .iter()
        .map(|r| {
            let (part, rest) = std::mem::take(&mut buf).split_at_mut(r.len() * per_row);
            buf = rest;
            part
        })
        .collect()
}

/// `buf` cut at the row boundaries of `blocks`, `per_row` elements per batch row.
fn split_rows_ref<'a>(buf: &'a [f32], per_row: usize, blocks: &[Range<usize>]) -> Vec<&'a [f32]> {
    blocks
        .iter()
        .map(|r| &buf[r.start * per_row..r.end * per_row])
        .collect()
}

/// Elements per batch row of a buffer of `len` elements over `b` rows.
fn per_row(len: usize, b: usize) -> usize {
    len.checked_div(b).unwrap_or(0)
}

/// A new vector of `len` zeros, written by the backend's threads when it is large.
fn zeros(len: usize) -> Vec<f32> {
    // SAFETY: the closure writes every element of the part it is given.
    unsafe {
        crate::parallel::fill(len, 1, 1, |_, part| {
            for v in part {
                v.write(0.0);
            }
        })
    }
}

/// A new forward workspace of `len` floats: `bias` repeated over the first `gates_len`
/// (the gate rows, which the input projection then accumulates into), zeros after; written
/// by the backend's threads when it is large.
fn workspace(len: usize, gates_len: usize, bias: &[f32]) -> Vec<f32> {
    let width = bias.len().max(1);
    // SAFETY: the closure writes every element of the part it is given: bias values while
    // inside the gate rows, then zeros.
    unsafe {
        crate::parallel::fill(len, 1, 1, |range, part| {
            let mut at = range.start;
            let mut part = part;
            while at < gates_len.min(range.end) {
                let j = at % width;
                let n = (width - j).min(gates_len - at).min(part.len());
                let (head, tail) = std::mem::take(&mut part).split_at_mut(n);
                for (o, &v) in head.iter_mut().zip(&bias[j..j + n]) {
                    o.write(v);
                }
                part = tail;
                at += n;
            }
            for v in part {
                v.write(0.0);
            }
        })
    }
}

/// `W` (`rows × cols`, row-major) transposed into a new `cols × rows` matrix (written in
/// order, read with a stride: cheaper than the reverse).
fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols);
    for c in 0..cols {
        out.extend((0..rows).map(|r| w[r * cols + c]));
    }
    out
}

/// What every row block of a forward pass reads.
struct FwdShared<'a> {
    d: Dims,
    cell: RnnCell,
    reverse: bool,
    /// Whether the recurrent product accumulates straight into the gate pre-activations.
    fused: bool,
    /// `W_hhᵀ` (`H × G·H`), the layout [`gemm_acc`] reads.
    w_t: &'a [f32],
    b_hh: &'a [f32],
    rows_per_b: usize,
}

/// One block of batch rows: its lengths and its rows of every forward buffer.
struct FwdRows<'a> {
    lengths: &'a [usize],
    /// The block's inputs `[rows, T, I]`.
    x: &'a [f32],
    acts: &'a mut [f32],
    xh: &'a mut [f32],
    x1: &'a mut [f32],
    x2: &'a mut [f32],
    packed: &'a mut [f32],
    hs: &'a mut [f32],
    cs: &'a mut [f32],
}

/// Runs the whole sequence for one block of batch rows.
fn forward_rows(sh: &FwdShared<'_>, r: FwdRows<'_>) {
    let (t, h, gh) = (sh.d.t, sh.d.h, sh.d.gh);
    let nb = r.lengths.len();
    let (acts, xh, x1, x2) = (r.acts, r.xh, r.x1, r.x2);
    let (hs, cs) = (r.hs, r.cs);
    let (i, xhw) = (sh.d.i, sh.d.i + h);
    for (dst, src) in xh.chunks_exact_mut(xhw).zip(r.x.chunks_exact(i.max(1))) {
        dst[..i].copy_from_slice(&src[..i]);
    }
    let mut ghb = vec![0.0f32; if sh.fused { 0 } else { nb * gh }];
    for step in sh.d.steps(sh.reverse) {
        if sh.fused {
            // The rows of this step are strided by t·gh in the batch-first acts.
            gemm_acc(
                (nb, gh, h),
                hs,
                h,
                sh.w_t,
                gh,
                &mut acts[step * gh..],
                t * gh,
            );
        } else {
            fill_rows(&mut ghb, nb, gh, sh.b_hh);
            gemm_acc((nb, gh, h), hs, h, sh.w_t, gh, &mut ghb, gh);
        }
        for (row, &len) in r.lengths.iter().enumerate() {
            let at = row * t + step;
            let hrow = &mut hs[row * h..(row + 1) * h];
            xh[at * xhw + i..(at + 1) * xhw].copy_from_slice(hrow);
            if step >= len {
                continue;
            }
            let a = &mut acts[at * gh..(at + 1) * gh];
            // Each non-linearity is its own pass over a contiguous span (vectorized), then
            // the state update.
            match sh.cell {
                RnnCell::Tanh => {
                    tanh_in_place(a);
                    hrow.copy_from_slice(a);
                }
                RnnCell::Lstm => lstm_forward_row_wide(
                    a,
                    &mut cs[row * h..(row + 1) * h],
                    &mut x1[at * h..(at + 1) * h],
                    &mut x2[at * h..(at + 1) * h],
                    hrow,
                ),
                RnnCell::Gru => {
                    // r and z from the summed pre-activations; n needs r ⊙ (W_hn h + b_hn).
                    let rg = &ghb[row * gh..(row + 1) * gh];
                    for (av, &rv) in a[..2 * h].iter_mut().zip(rg) {
                        *av += rv;
                    }
                    a[..2 * h].iter_mut().for_each(|v| *v = sigmoid(*v));
                    let ghn = &mut x1[at * h..(at + 1) * h];
                    ghn.copy_from_slice(&rg[2 * h..]);
                    let (rz, an) = a.split_at_mut(2 * h);
                    for ((n, &rv), &hn) in an.iter_mut().zip(&rz[..h]).zip(ghn.iter()) {
                        *n = tanh(*n + rv * hn);
                    }
                    for (((hv, &z), &n), _) in
                        hrow.iter_mut().zip(&rz[h..]).zip(an.iter()).zip(0..h)
                    {
                        *hv = (1.0 - z) * n + z * *hv;
                    }
                }
            }
            let out = (row * sh.rows_per_b + step) * h;
            r.packed[out..out + h].copy_from_slice(hrow);
        }
    }
    for row in 0..nb {
        let base = row * sh.rows_per_b + t;
        r.packed[base * h..(base + 1) * h].copy_from_slice(&hs[row * h..(row + 1) * h]);
        if sh.cell.has_cell_state() {
            r.packed[(base + 1) * h..(base + 2) * h].copy_from_slice(&cs[row * h..(row + 1) * h]);
        }
    }
}

fn forward(
    spec: &RnnSpec,
    o: &RnnOperands<'_, CpuBuffer>,
    lengths: &[usize],
) -> RnnForward<CpuBuffer> {
    let d = Dims::new(spec);
    let (b, t, h, gh) = (d.b, d.t, d.h, d.gh);
    let cell = spec.cell;
    let bt = b * t;
    // Input projection of every step at once, written straight into the saved gate area
    // (`acts`), where each step then adds its recurrent part and applies the activations in
    // place: acts = x · W_ihᵀ + b_ih (+ b_hh). For the tanh cell and the LSTM the recurrent
    // product accumulates straight into acts too (`fused`); the GRU keeps it apart because
    // its n gate scales the recurrent part by r.
    let fused = cell != RnnCell::Gru;
    let bias: Vec<f32> = if fused {
        o.b_ih
            .as_slice()
            .iter()
            .zip(o.b_hh.as_slice())
            .map(|(a, b)| a + b)
            .collect()
    } else {
        o.b_ih.as_slice().to_vec()
    };
    let mut ws = workspace(d.workspace_len(cell), bt * gh, &bias);
    let (acts, rest) = ws.split_at_mut(bt * gh);
    Gemm {
        m: bt,
        n: gh,
        k: d.i,
        trans_a: false,
        trans_b: true,
    }
    .run(o.x.as_slice(), d.i, o.w_ih.as_slice(), d.i, 1.0, acts, gh);
    let (xh, extra) = rest.split_at_mut(bt * (d.i + h));
    let (x1, x2) = extra.split_at_mut(extra.len().min(bt * h));
    let mut packed = vec![0.0f32; spec.packed_len()];
    let rows_per_b = t + cell.state_count();
    let mut hs = o.h0.as_slice().to_vec();
    let mut cs = if cell.has_cell_state() {
        o.c0.as_slice().to_vec()
    } else {
        Vec::new()
    };
    let w_t = transpose(o.w_hh.as_slice(), gh, h);
    let blocks = row_blocks(&d);
    let (x1_row, x2_row, cs_row) = (
        per_row(x1.len(), b),
        per_row(x2.len(), b),
        per_row(cs.len(), b),
    );
    let mut acts = split_rows(acts, t * gh, &blocks).into_iter();
    let mut xh = split_rows(xh, t * (d.i + h), &blocks).into_iter();
    let mut x_p = split_rows_ref(o.x.as_slice(), t * d.i, &blocks).into_iter();
    let mut x1 = split_rows(x1, x1_row, &blocks).into_iter();
    let mut x2 = split_rows(x2, x2_row, &blocks).into_iter();
    let mut packed_p = split_rows(&mut packed, rows_per_b * h, &blocks).into_iter();
    let mut hs_p = split_rows(&mut hs, h, &blocks).into_iter();
    let mut cs_p = split_rows(&mut cs, cs_row, &blocks).into_iter();
    let parts: Vec<FwdRows<'_>> = blocks
        .iter()
        .map(|r| FwdRows {
            lengths: &lengths[r.clone()],
            acts: acts.next().unwrap_or_default(),
            x: x_p.next().unwrap_or_default(),
            xh: xh.next().unwrap_or_default(),
            x1: x1.next().unwrap_or_default(),
            x2: x2.next().unwrap_or_default(),
            packed: packed_p.next().unwrap_or_default(),
            hs: hs_p.next().unwrap_or_default(),
            cs: cs_p.next().unwrap_or_default(),
        })
        .collect();
    let shared = FwdShared {
        d,
        cell,
        reverse: spec.reverse,
        fused,
        w_t: &w_t,
        b_hh: o.b_hh.as_slice(),
        rows_per_b,
    };
    crate::pool::run_parts(parts, &|rows| forward_rows(&shared, rows));
    RnnForward {
        packed: CpuBuffer::from_vec(packed),
        workspace: CpuBuffer::from_vec(ws),
    }
}

/// `dW_ih = dGᵀ · x` and `dW_hh = dG_hhᵀ · h_prev` over every step, from the gate gradients
/// `dgx` (`[B·T, G·H]`), the GRU's separate recurrent ones `dgh`, and the saved `xh`. Without
/// `dgh` both share their left operand and run as one product `dGᵀ · [x | h_prev]`, then are
/// cut apart.
fn weight_grads(d: &Dims, dgx: &[f32], dgh: Option<&[f32]>, xh: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (bt, gh, i, h) = (d.b * d.t, d.gh, d.i, d.h);
    let xhw = i + h;
    let product = |a: &[f32], b: &[f32], n: usize| {
        let mut c = vec![0.0f32; gh * n];
        Gemm {
            m: gh,
            n,
            k: bt,
            trans_a: true,
            trans_b: false,
        }
        .run(a, gh, b, xhw, 0.0, &mut c, n);
        c
    };
    match dgh {
        None => {
            let both = product(dgx, xh, xhw);
            let mut dw_ih = Vec::with_capacity(gh * i);
            let mut dw_hh = Vec::with_capacity(gh * h);
            for row in both.chunks_exact(xhw) {
                dw_ih.extend_from_slice(&row[..i]);
                dw_hh.extend_from_slice(&row[i..]);
            }
            (dw_ih, dw_hh)
        }
        Some(dgh) => (product(dgx, xh, i), product(dgh, &xh[i.min(xh.len())..], h)),
    }
}

/// `acc[j] += x[j]`.
fn add_to(acc: &mut [f32], x: &[f32]) {
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += v;
    }
}

/// `out[j] = Σ_r x[r, j]` over `rows` rows of width `cols`.
fn column_sums(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; cols];
    for r in 0..rows {
        for (o, &v) in out.iter_mut().zip(&x[r * cols..(r + 1) * cols]) {
            *o += v;
        }
    }
    out
}

/// What every row block of a backward pass reads.
struct BwdShared<'a> {
    d: Dims,
    cell: RnnCell,
    reverse: bool,
    /// `W_hh` (`G·H × H`), the right operand of the recurrent gradient.
    w_hh: &'a [f32],
    rows_per_b: usize,
}

/// One block of batch rows: its lengths, its rows of the saved forward buffers and of the
/// output gradient, and the gradients it writes.
struct BwdRows<'a> {
    lengths: &'a [usize],
    acts: &'a [f32],
    xh: &'a [f32],
    x1: &'a [f32],
    x2: &'a [f32],
    dpacked: &'a [f32],
    dh: &'a mut [f32],
    dc: &'a mut [f32],
    dgx: &'a mut [f32],
    dgh: &'a mut [f32],
    /// Per batch row, the sum over its steps of `dgx` (and of `dgh`, for the GRU): the bias
    /// gradients before the sum over rows.
    db: &'a mut [f32],
    dbh: &'a mut [f32],
}

/// Runs backward through time for one block of batch rows.
fn backward_rows(sh: &BwdShared<'_>, r: BwdRows<'_>) {
    let (t, h, gh) = (sh.d.t, sh.d.h, sh.d.gh);
    let nb = r.lengths.len();
    let (acts, xh, x1, x2) = (r.acts, r.xh, r.x1, r.x2);
    let (i, xhw) = (sh.d.i, sh.d.i + h);
    let (dh, dc, dgx, dgh_sep) = (r.dh, r.dc, r.dgx, r.dgh);
    let (db, dbh) = (r.db, r.dbh);
    for step in sh.d.steps(!sh.reverse) {
        for (row, &len) in r.lengths.iter().enumerate() {
            if step >= len {
                continue;
            }
            let at = row * t + step;
            let dy_at = (row * sh.rows_per_b + step) * h;
            let dy = &r.dpacked[dy_at..dy_at + h];
            let dhrow = &mut dh[row * h..(row + 1) * h];
            let a = &acts[at * gh..(at + 1) * gh];
            let dg = &mut dgx[at * gh..(at + 1) * gh];
            match sh.cell {
                RnnCell::Tanh => {
                    for j in 0..h {
                        let dt = dhrow[j] + dy[j];
                        dg[j] = dt * (1.0 - a[j] * a[j]);
                        dhrow[j] = 0.0;
                    }
                }
                RnnCell::Lstm => {
                    let (dgi, rest) = dg.split_at_mut(h);
                    let (dgf, rest) = rest.split_at_mut(h);
                    let (dgg, dgo) = rest.split_at_mut(h);
                    lstm_backward_row_wide(
                        [&a[..h], &a[h..2 * h], &a[2 * h..3 * h], &a[3 * h..4 * h]],
                        &x1[at * h..(at + 1) * h],
                        &x2[at * h..(at + 1) * h],
                        dy,
                        dhrow,
                        &mut dc[row * h..(row + 1) * h],
                        [dgi, dgf, dgg, &mut dgo[..h]],
                    );
                }
                RnnCell::Gru => {
                    let ghn = &x1[at * h..(at + 1) * h];
                    let hp = &xh[at * xhw + i..(at + 1) * xhw];
                    let dgr = &mut dgh_sep[at * gh..(at + 1) * gh];
                    for j in 0..h {
                        let (rv, z, n) = (a[j], a[h + j], a[2 * h + j]);
                        let dt = dhrow[j] + dy[j];
                        let dnp = dt * (1.0 - z) * (1.0 - n * n);
                        let dzp = dt * (hp[j] - n) * z * (1.0 - z);
                        let drp = dnp * ghn[j] * rv * (1.0 - rv);
                        dg[j] = drp;
                        dg[h + j] = dzp;
                        dg[2 * h + j] = dnp;
                        dgr[j] = drp;
                        dgr[h + j] = dzp;
                        dgr[2 * h + j] = dnp * rv;
                        dhrow[j] = dt * z;
                    }
                    add_to(&mut dbh[row * gh..(row + 1) * gh], dgr);
                }
            }
            add_to(&mut db[row * gh..(row + 1) * gh], dg);
        }
        // dh_prev += dG_hh[step] · W_hh; rows of padded steps are zero and add nothing.
        let dgh_all: &[f32] = if sh.cell == RnnCell::Gru {
            dgh_sep
        } else {
            dgx
        };
        gemm_acc(
            (nb, h, gh),
            &dgh_all[step * gh..],
            t * gh,
            sh.w_hh,
            h,
            dh,
            h,
        );
    }
}

fn backward(
    spec: &RnnSpec,
    o: &RnnOperands<'_, CpuBuffer>,
    lengths: &[usize],
    ws: &[f32],
    dpacked: &[f32],
) -> RnnGrads<CpuBuffer> {
    let d = Dims::new(spec);
    let (b, t, h, gh) = (d.b, d.t, d.h, d.gh);
    let cell = spec.cell;
    let bt = b * t;
    let (acts, rest) = ws.split_at(bt * gh);
    let xhw = d.i + h;
    let (xh, extra) = rest.split_at(bt * xhw);
    let (x1, x2) = extra.split_at(extra.len().min(bt * h));
    let rows_per_b = t + cell.state_count();
    let mut dh = vec![0.0f32; b * h];
    let mut dc = vec![0.0f32; b * h];
    for row in 0..b {
        let base = (row * rows_per_b + t) * h;
        dh[row * h..(row + 1) * h].copy_from_slice(&dpacked[base..base + h]);
        if cell.has_cell_state() {
            dc[row * h..(row + 1) * h].copy_from_slice(&dpacked[base + h..base + 2 * h]);
        }
    }
    // Pre-activation gate gradients of every step; the GRU's recurrent side differs in n.
    let gru = cell == RnnCell::Gru;
    let mut dgx = zeros(bt * gh);
    let mut dgh_sep = zeros(if gru { bt * gh } else { 0 });
    let mut db_rows = vec![0.0f32; b * gh];
    let mut dbh_rows = vec![0.0f32; if gru { b * gh } else { 0 }];
    let blocks = row_blocks(&d);
    let (x1_row, x2_row, dgh_row) = (
        per_row(x1.len(), b),
        per_row(x2.len(), b),
        per_row(dgh_sep.len(), b),
    );
    let mut acts_p = split_rows_ref(acts, t * gh, &blocks).into_iter();
    let mut xh_p = split_rows_ref(xh, t * xhw, &blocks).into_iter();
    let mut x1_p = split_rows_ref(x1, x1_row, &blocks).into_iter();
    let mut x2_p = split_rows_ref(x2, x2_row, &blocks).into_iter();
    let mut dpacked_p = split_rows_ref(dpacked, rows_per_b * h, &blocks).into_iter();
    let mut dh_p = split_rows(&mut dh, h, &blocks).into_iter();
    let mut dc_p = split_rows(&mut dc, h, &blocks).into_iter();
    let mut dgx_p = split_rows(&mut dgx, t * gh, &blocks).into_iter();
    let mut dgh_p = split_rows(&mut dgh_sep, dgh_row, &blocks).into_iter();
    let mut db_p = split_rows(&mut db_rows, gh, &blocks).into_iter();
    let mut dbh_p = split_rows(&mut dbh_rows, if gru { gh } else { 0 }, &blocks).into_iter();
    let parts: Vec<BwdRows<'_>> = blocks
        .iter()
        .map(|r| BwdRows {
            lengths: &lengths[r.clone()],
            acts: acts_p.next().unwrap_or_default(),
            xh: xh_p.next().unwrap_or_default(),
            x1: x1_p.next().unwrap_or_default(),
            x2: x2_p.next().unwrap_or_default(),
            dpacked: dpacked_p.next().unwrap_or_default(),
            dh: dh_p.next().unwrap_or_default(),
            dc: dc_p.next().unwrap_or_default(),
            dgx: dgx_p.next().unwrap_or_default(),
            dgh: dgh_p.next().unwrap_or_default(),
            db: db_p.next().unwrap_or_default(),
            dbh: dbh_p.next().unwrap_or_default(),
        })
        .collect();
    let shared = BwdShared {
        d,
        cell,
        reverse: spec.reverse,
        w_hh: o.w_hh.as_slice(),
        rows_per_b,
    };
    crate::pool::run_parts(parts, &|rows| backward_rows(&shared, rows));
    let dgh_all: &[f32] = if cell == RnnCell::Gru { &dgh_sep } else { &dgx };
    let mut dx = vec![0.0f32; bt * d.i];
    Gemm {
        m: bt,
        n: d.i,
        k: gh,
        trans_a: false,
        trans_b: false,
    }
    .run(&dgx, gh, o.w_ih.as_slice(), d.i, 0.0, &mut dx, d.i);
    let (dw_ih, dw_hh) = weight_grads(&d, &dgx, gru.then_some(dgh_all), xh);
    let db_ih = column_sums(&db_rows, b, gh);
    let db_hh = if gru {
        column_sums(&dbh_rows, b, gh)
    } else {
        db_ih.clone()
    };
    RnnGrads {
        dx: CpuBuffer::from_vec(dx),
        dw_ih: CpuBuffer::from_vec(dw_ih),
        dw_hh: CpuBuffer::from_vec(dw_hh),
        db_ih: CpuBuffer::from_vec(db_ih),
        db_hh: CpuBuffer::from_vec(db_hh),
        dh0: CpuBuffer::from_vec(dh),
        dc0: CpuBuffer::from_vec(if cell.has_cell_state() {
            dc
        } else {
            vec![0.0; b * h]
        }),
    }
}

impl RecurrentOps for CpuBackend {
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, CpuBuffer>,
    ) -> Result<RnnForward<CpuBuffer>> {
        let lengths = validate(OP_FORWARD, &spec, &operands)?;
        Ok(forward(&spec, &operands, &lengths))
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
        Ok(backward(
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

    #[test]
    fn dispatched_and_baseline_lstm_rows_agree_bitwise() {
        let h = 37;
        let vals = |n: usize, k: f32| {
            (0..n)
                .map(|i| (i as f32 * k).sin() * 3.0)
                .collect::<Vec<f32>>()
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        type Fwd = fn(&mut [f32], &mut [f32], &mut [f32], &mut [f32], &mut [f32]);
        let run = |fwd: Fwd| {
            let (mut a, mut c) = (vals(4 * h, 0.37), vals(h, 0.91));
            let (mut cprev, mut tc, mut hrow) = (vec![0.0; h], vec![0.0; h], vec![0.0; h]);
            fwd(&mut a, &mut c, &mut cprev, &mut tc, &mut hrow);
            [a, c, cprev, tc, hrow].map(|v| bits(&v))
        };
        assert_eq!(run(lstm_forward_row), run(lstm_forward_row_baseline));
        assert_eq!(run(lstm_forward_row_wide), run(lstm_forward_row_baseline));
        type Bwd = fn([&[f32]; 4], &[f32], &[f32], &[f32], &mut [f32], &mut [f32], [&mut [f32]; 4]);
        let run_back = |bwd: Bwd| {
            let a = vals(4 * h, 0.23)
                .iter()
                .map(|v| sigmoid(*v))
                .collect::<Vec<f32>>();
            let (cprev, tc, dy) = (
                vals(h, 0.5),
                vals(h, 0.7).iter().map(|v| tanh(*v)).collect::<Vec<_>>(),
                vals(h, 1.3),
            );
            let (mut dh, mut dc, mut dg) = (vals(h, 0.11), vals(h, 0.19), vec![0.0; 4 * h]);
            let (d0, rest) = dg.split_at_mut(h);
            let (d1, rest) = rest.split_at_mut(h);
            let (d2, d3) = rest.split_at_mut(h);
            bwd(
                [&a[..h], &a[h..2 * h], &a[2 * h..3 * h], &a[3 * h..]],
                &cprev,
                &tc,
                &dy,
                &mut dh,
                &mut dc,
                [d0, d1, d2, d3],
            );
            [dh, dc, dg].map(|v| bits(&v))
        };
        assert_eq!(
            run_back(lstm_backward_row),
            run_back(lstm_backward_row_baseline)
        );
        assert_eq!(
            run_back(lstm_backward_row_wide),
            run_back(lstm_backward_row_baseline)
        );
    }
    #[test]
    fn workspace_repeats_the_bias_over_the_gate_rows_then_zeros_on_any_thread_count() {
        let before = crate::threads::num_threads();
        let bias: Vec<f32> = (0..37).map(|j| j as f32 + 1.0).collect();
        let (gates_len, len) = (37 * 7001, 37 * 7001 + 50_003);
        let want: Vec<f32> = (0..len)
            .map(|at| if at < gates_len { bias[at % 37] } else { 0.0 })
            .collect();
        for threads in [1, 2, 3] {
            crate::threads::set_num_threads(threads);
            assert_eq!(workspace(len, gates_len, &bias), want, "{threads} threads");
        }
        crate::threads::set_num_threads(before);
    }

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
