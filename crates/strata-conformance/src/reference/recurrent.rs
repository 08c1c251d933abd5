//! Reference recurrent family: each batch row on its own, one step at a time, in `f64`.
//!
//! The forward pass is the module-level equations of `strata_backend::ops::recurrent` written
//! out; the backward pass recomputes the forward states in `f64` and runs backpropagation
//! through time by the chain rule, step by step. The workspace is unused (empty).

use strata_backend::{
    BackendError, RecurrentOps, Result, RnnCell, RnnForward, RnnGrads, RnnOperands, RnnSpec,
};

use super::{RefBuffer, ReferenceBackend, index_below, round};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn widen(b: &RefBuffer) -> Vec<f64> {
    b.0.iter().map(|&v| f64::from(v)).collect()
}

fn narrow(v: &[f64]) -> RefBuffer {
    RefBuffer(v.iter().map(|&x| round(x)).collect())
}

/// The operands widened to `f64`, with the lengths checked.
struct Wide {
    x: Vec<f64>,
    w_ih: Vec<f64>,
    w_hh: Vec<f64>,
    b_ih: Vec<f64>,
    b_hh: Vec<f64>,
    h0: Vec<f64>,
    c0: Vec<f64>,
    lengths: Vec<usize>,
}

fn widen_operands(op: &'static str, s: &RnnSpec, o: &RnnOperands<'_, RefBuffer>) -> Result<Wide> {
    if s.hidden_size == 0 {
        return Err(super::invalid(op, "hidden_size must be at least 1".into()));
    }
    BackendError::check_len(op, s.input_len(), o.x.0.len())?;
    BackendError::check_len(op, s.w_ih_len(), o.w_ih.0.len())?;
    BackendError::check_len(op, s.w_hh_len(), o.w_hh.0.len())?;
    BackendError::check_len(op, s.bias_len(), o.b_ih.0.len())?;
    BackendError::check_len(op, s.bias_len(), o.b_hh.0.len())?;
    BackendError::check_len(op, s.state_len(), o.h0.0.len())?;
    let c0 = if s.cell.has_cell_state() {
        BackendError::check_len(op, s.state_len(), o.c0.0.len())?;
        widen(o.c0)
    } else {
        vec![0.0; s.state_len()]
    };
    let lengths = match o.lengths {
        None => vec![s.seq_len; s.batch],
        Some(l) => {
            BackendError::check_len(op, s.batch, l.0.len())?;
            l.0.iter()
                .map(|&v| index_below(op, "length", v, s.seq_len + 1))
                .collect::<Result<_>>()?
        }
    };
    Ok(Wide {
        x: widen(o.x),
        w_ih: widen(o.w_ih),
        w_hh: widen(o.w_hh),
        b_ih: widen(o.b_ih),
        b_hh: widen(o.b_hh),
        h0: widen(o.h0),
        c0,
        lengths,
    })
}

/// `out[r] = b[r] + Σ_k w[r, k] · v[k]` for `w` of shape `[rows, v.len()]`.
fn affine(w: &[f64], b: &[f64], v: &[f64]) -> Vec<f64> {
    b.iter()
        .enumerate()
        .map(|(r, &bias)| bias + (0..v.len()).map(|k| w[r * v.len() + k] * v[k]).sum::<f64>())
        .collect()
}

/// One step of one row: the states before, the pre-activations `gx`, `gh`, the states after.
struct Step {
    t: usize,
    h: Vec<f64>,
    c: Vec<f64>,
    gx: Vec<f64>,
    gh: Vec<f64>,
    h_new: Vec<f64>,
    c_new: Vec<f64>,
}

fn cell_forward(
    cell: RnnCell,
    hs: usize,
    gx: &[f64],
    gh: &[f64],
    h: &[f64],
    c: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let mut h_new = vec![0.0; hs];
    let mut c_new = vec![0.0; hs];
    for j in 0..hs {
        match cell {
            RnnCell::Tanh => h_new[j] = (gx[j] + gh[j]).tanh(),
            RnnCell::Lstm => {
                let i = sigmoid(gx[j] + gh[j]);
                let f = sigmoid(gx[hs + j] + gh[hs + j]);
                let g = (gx[2 * hs + j] + gh[2 * hs + j]).tanh();
                let o = sigmoid(gx[3 * hs + j] + gh[3 * hs + j]);
                c_new[j] = f * c[j] + i * g;
                h_new[j] = o * c_new[j].tanh();
            }
            RnnCell::Gru => {
                let r = sigmoid(gx[j] + gh[j]);
                let z = sigmoid(gx[hs + j] + gh[hs + j]);
                let n = (gx[2 * hs + j] + r * gh[2 * hs + j]).tanh();
                h_new[j] = (1.0 - z) * n + z * h[j];
            }
        }
    }
    (h_new, c_new)
}

/// Runs row `b` forward and returns every valid step in processing order.
fn run_row(s: &RnnSpec, w: &Wide, b: usize) -> Vec<Step> {
    let hs = s.hidden_size;
    let mut h = w.h0[b * hs..(b + 1) * hs].to_vec();
    let mut c = w.c0[b * hs..(b + 1) * hs].to_vec();
    let len = w.lengths[b];
    let order: Vec<usize> = if s.reverse {
        (0..len).rev().collect()
    } else {
        (0..len).collect()
    };
    let mut steps = Vec::with_capacity(len);
    for t in order {
        let xt = &w.x[(b * s.seq_len + t) * s.input_size..(b * s.seq_len + t + 1) * s.input_size];
        let gx = affine(&w.w_ih, &w.b_ih, xt);
        let gh = affine(&w.w_hh, &w.b_hh, &h);
        let (h_new, c_new) = cell_forward(s.cell, hs, &gx, &gh, &h, &c);
        steps.push(Step {
            t,
            h: h.clone(),
            c: c.clone(),
            gx,
            gh,
            h_new: h_new.clone(),
            c_new: c_new.clone(),
        });
        h = h_new;
        if s.cell.has_cell_state() {
            c = c_new;
        }
    }
    steps
}

impl RecurrentOps for ReferenceBackend {
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, RefBuffer>,
    ) -> Result<RnnForward<RefBuffer>> {
        let w = widen_operands("rnn_forward", &spec, &operands)?;
        let hs = spec.hidden_size;
        let rows = spec.seq_len + spec.cell.state_count();
        let mut packed = vec![0.0f64; spec.packed_len()];
        for b in 0..spec.batch {
            let steps = run_row(&spec, &w, b);
            let mut h = w.h0[b * hs..(b + 1) * hs].to_vec();
            let mut c = w.c0[b * hs..(b + 1) * hs].to_vec();
            for st in &steps {
                let at = (b * rows + st.t) * hs;
                packed[at..at + hs].copy_from_slice(&st.h_new);
                h.clone_from(&st.h_new);
                c.clone_from(&st.c_new);
            }
            let at = (b * rows + spec.seq_len) * hs;
            packed[at..at + hs].copy_from_slice(&h);
            if spec.cell.has_cell_state() {
                packed[at + hs..at + 2 * hs].copy_from_slice(&c);
            }
        }
        Ok(RnnForward {
            packed: narrow(&packed),
            workspace: RefBuffer(Vec::new()),
        })
    }

    fn rnn_backward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, RefBuffer>,
        _workspace: &RefBuffer,
        dpacked: &RefBuffer,
    ) -> Result<RnnGrads<RefBuffer>> {
        let w = widen_operands("rnn_backward", &spec, &operands)?;
        BackendError::check_len("rnn_backward", spec.packed_len(), dpacked.0.len())?;
        let dp = widen(dpacked);
        let (hs, is, gh_len) = (spec.hidden_size, spec.input_size, spec.bias_len());
        let rows = spec.seq_len + spec.cell.state_count();
        let mut dx = vec![0.0; spec.input_len()];
        let mut dw_ih = vec![0.0; spec.w_ih_len()];
        let mut dw_hh = vec![0.0; spec.w_hh_len()];
        let mut db_ih = vec![0.0; gh_len];
        let mut db_hh = vec![0.0; gh_len];
        let mut dh0 = vec![0.0; spec.state_len()];
        let mut dc0 = vec![0.0; spec.state_len()];
        for b in 0..spec.batch {
            let at = (b * rows + spec.seq_len) * hs;
            let mut dh = dp[at..at + hs].to_vec();
            let mut dc = if spec.cell.has_cell_state() {
                dp[at + hs..at + 2 * hs].to_vec()
            } else {
                vec![0.0; hs]
            };
            for st in run_row(&spec, &w, b).iter().rev() {
                let dy = &dp[(b * rows + st.t) * hs..(b * rows + st.t + 1) * hs];
                let dt: Vec<f64> = (0..hs).map(|j| dh[j] + dy[j]).collect();
                let mut dgx = vec![0.0; gh_len];
                let mut dgh = vec![0.0; gh_len];
                let mut dh_prev = vec![0.0; hs];
                for j in 0..hs {
                    match spec.cell {
                        RnnCell::Tanh => {
                            let d = dt[j] * (1.0 - st.h_new[j] * st.h_new[j]);
                            dgx[j] = d;
                            dgh[j] = d;
                        }
                        RnnCell::Lstm => {
                            let i = sigmoid(st.gx[j] + st.gh[j]);
                            let f = sigmoid(st.gx[hs + j] + st.gh[hs + j]);
                            let g = (st.gx[2 * hs + j] + st.gh[2 * hs + j]).tanh();
                            let o = sigmoid(st.gx[3 * hs + j] + st.gh[3 * hs + j]);
                            let tc = st.c_new[j].tanh();
                            let dcc = dc[j] + dt[j] * o * (1.0 - tc * tc);
                            let grads = [
                                dcc * g * i * (1.0 - i),
                                dcc * st.c[j] * f * (1.0 - f),
                                dcc * i * (1.0 - g * g),
                                dt[j] * tc * o * (1.0 - o),
                            ];
                            for (q, v) in grads.into_iter().enumerate() {
                                dgx[q * hs + j] = v;
                                dgh[q * hs + j] = v;
                            }
                            dc[j] = dcc * f;
                        }
                        RnnCell::Gru => {
                            let r = sigmoid(st.gx[j] + st.gh[j]);
                            let z = sigmoid(st.gx[hs + j] + st.gh[hs + j]);
                            let n = (st.gx[2 * hs + j] + r * st.gh[2 * hs + j]).tanh();
                            let dn = dt[j] * (1.0 - z) * (1.0 - n * n);
                            let dz = dt[j] * (st.h[j] - n) * z * (1.0 - z);
                            let dr = dn * st.gh[2 * hs + j] * r * (1.0 - r);
                            dgx[j] = dr;
                            dgx[hs + j] = dz;
                            dgx[2 * hs + j] = dn;
                            dgh[j] = dr;
                            dgh[hs + j] = dz;
                            dgh[2 * hs + j] = dn * r;
                            dh_prev[j] = dt[j] * z;
                        }
                    }
                }
                let x0 = (b * spec.seq_len + st.t) * is;
                for q in 0..gh_len {
                    db_ih[q] += dgx[q];
                    db_hh[q] += dgh[q];
                    for k in 0..is {
                        dw_ih[q * is + k] += dgx[q] * w.x[x0 + k];
                        dx[x0 + k] += dgx[q] * w.w_ih[q * is + k];
                    }
                    for k in 0..hs {
                        dw_hh[q * hs + k] += dgh[q] * st.h[k];
                        dh_prev[k] += dgh[q] * w.w_hh[q * hs + k];
                    }
                }
                dh = dh_prev;
            }
            dh0[b * hs..(b + 1) * hs].copy_from_slice(&dh);
            if spec.cell.has_cell_state() {
                dc0[b * hs..(b + 1) * hs].copy_from_slice(&dc);
            }
        }
        Ok(RnnGrads {
            dx: narrow(&dx),
            dw_ih: narrow(&dw_ih),
            dw_hh: narrow(&dw_hh),
            db_ih: narrow(&db_ih),
            db_hh: narrow(&db_hh),
            dh0: narrow(&dh0),
            dc0: narrow(&dc0),
        })
    }
}
