//! Backpropagation through time: the time loop in reverse per block of batch rows (fused
//! cell backward + step product for `dh`), then one GEMM for `dx` and the weight gradients.

use strata_backend::{RnnCell, RnnGrads, RnnOperands, RnnSpec};

use super::cells::lstm_backward_row_wide;
use super::rows::{add_to, column_sums, per_row, row_blocks, split_rows, split_rows_ref, zeros};
use super::{Dims, Gemm};
use crate::CpuBuffer;
use crate::small_gemm::gemm_acc;

/// `dW_ih = dGᵀ · x` and `dW_hh = dG_hhᵀ · h_prev` over every step, from the gate gradients
/// `dgx` (`[B·T, G·H]`), the GRU's separate recurrent ones `dgh`, and the saved `xh`. Without
/// `dgh` both share their left operand and run as one product `dGᵀ · [x | h_prev]`, then are
/// cut apart.
pub(super) fn weight_grads(
    d: &Dims,
    dgx: &[f32],
    dgh: Option<&[f32]>,
    xh: &[f32],
) -> (Vec<f32>, Vec<f32>) {
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

/// What every row block of a backward pass reads.
pub(super) struct BwdShared<'a> {
    d: Dims,
    cell: RnnCell,
    reverse: bool,
    /// `W_hh` (`G·H × H`), the right operand of the recurrent gradient.
    w_hh: &'a [f32],
    rows_per_b: usize,
}

/// One block of batch rows: its lengths, its rows of the saved forward buffers and of the
/// output gradient, and the gradients it writes.
pub(super) struct BwdRows<'a> {
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
pub(super) fn backward_rows(sh: &BwdShared<'_>, r: BwdRows<'_>) {
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

pub(super) fn backward(
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
