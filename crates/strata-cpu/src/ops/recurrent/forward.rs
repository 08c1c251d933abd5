//! The forward pass over a whole sequence: the input projection of every step as one GEMM,
//! then the time loop per block of batch rows (step product + fused cell).

use strata_backend::{RnnCell, RnnForward, RnnOperands, RnnSpec};

use super::cells::{lstm_forward_row_wide, tanh, tanh_row};
use super::rows::{
    fill_rows, per_row, row_blocks, split_rows, split_rows_ref, transpose, workspace,
};
use super::{Dims, Gemm};
use crate::CpuBuffer;
use crate::math::sigmoid;
use crate::small_gemm::gemm_acc;

/// What every row block of a forward pass reads.
pub(super) struct FwdShared<'a> {
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
pub(super) struct FwdRows<'a> {
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
pub(super) fn forward_rows(sh: &FwdShared<'_>, r: FwdRows<'_>) {
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
                    tanh_row(a);
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

pub(super) fn forward(
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
