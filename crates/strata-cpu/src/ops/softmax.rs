//! Softmax, log-softmax and fused softmax cross-entropy over rows of `[rows, cols]`.
//!
//! Every op works one row at a time (the row stays in L1 between passes) and subtracts the
//! row maximum before exponentiating, so logits of any magnitude are safe. `exp` comes from
//! `crate::math` and vectorizes.

use strata_backend::{BackendError, Result, SoftmaxOps};

use crate::check::{index, invalid, matrix_len};
use crate::{CpuBackend, CpuBuffer, math};

/// Checks `x` against `[rows, cols]`.
fn check_matrix(op: &'static str, x: &CpuBuffer, rows: usize, cols: usize) -> Result<()> {
    BackendError::check_len(op, matrix_len(op, rows, cols)?, x.len())
}

/// Writes `e^(x − max)` into `out` and returns `(max, Σ e^(x − max))`.
#[inline(always)]
fn exp_shifted(x: &[f32], out: &mut [f32]) -> (f32, f32) {
    let m = math::max(x);
    for (o, &v) in out.iter_mut().zip(x) {
        *o = math::exp(v - m);
    }
    (m, math::sum(out))
}

/// Reads the label of each row and checks it against `0..cols`.
fn labels_of(op: &'static str, labels: &CpuBuffer, rows: usize, cols: usize) -> Result<Vec<usize>> {
    BackendError::check_len(op, rows, labels.len())?;
    labels
        .as_slice()
        .iter()
        .enumerate()
        .map(|(r, &v)| index(op, "label", "row", r, v, cols))
        .collect()
}

fn check_smoothing(op: &'static str, eps: f32) -> Result<()> {
    if (0.0..=1.0).contains(&eps) {
        Ok(())
    } else {
        Err(invalid(
            op,
            format!("label smoothing {eps} is outside [0, 1]"),
        ))
    }
}

impl SoftmaxOps for CpuBackend {
    fn softmax(&self, x: &CpuBuffer, rows: usize, cols: usize) -> Result<CpuBuffer> {
        check_matrix("softmax", x, rows, cols)?;
        let mut out = vec![0.0; x.len()];
        if cols > 0 {
            for (row, o) in x
                .as_slice()
                .chunks_exact(cols)
                .zip(out.chunks_exact_mut(cols))
            {
                let (_, sum) = exp_shifted(row, o);
                let inv = 1.0 / sum;
                o.iter_mut().for_each(|v| *v *= inv);
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn log_softmax(&self, x: &CpuBuffer, rows: usize, cols: usize) -> Result<CpuBuffer> {
        check_matrix("log_softmax", x, rows, cols)?;
        let mut out = vec![0.0; x.len()];
        if cols > 0 {
            for (row, o) in x
                .as_slice()
                .chunks_exact(cols)
                .zip(out.chunks_exact_mut(cols))
            {
                let (m, sum) = exp_shifted(row, o);
                let lse = m + sum.ln();
                for (o, &v) in o.iter_mut().zip(row) {
                    *o = v - lse;
                }
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn softmax_backward(
        &self,
        y: &CpuBuffer,
        dy: &CpuBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<CpuBuffer> {
        check_matrix("softmax_backward", y, rows, cols)?;
        check_matrix("softmax_backward", dy, rows, cols)?;
        let mut out = Vec::with_capacity(y.len());
        if cols > 0 {
            for (yr, gr) in y
                .as_slice()
                .chunks_exact(cols)
                .zip(dy.as_slice().chunks_exact(cols))
            {
                let dot = math::dot(yr, gr);
                out.extend(yr.iter().zip(gr).map(|(&y, &g)| y * (g - dot)));
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn log_softmax_backward(
        &self,
        y: &CpuBuffer,
        dy: &CpuBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<CpuBuffer> {
        check_matrix("log_softmax_backward", y, rows, cols)?;
        check_matrix("log_softmax_backward", dy, rows, cols)?;
        let mut out = Vec::with_capacity(y.len());
        if cols > 0 {
            for (yr, gr) in y
                .as_slice()
                .chunks_exact(cols)
                .zip(dy.as_slice().chunks_exact(cols))
            {
                let total = math::sum(gr);
                out.extend(yr.iter().zip(gr).map(|(&y, &g)| g - math::exp(y) * total));
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn softmax_cross_entropy(
        &self,
        logits: &CpuBuffer,
        labels: &CpuBuffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<(CpuBuffer, CpuBuffer)> {
        const OP: &str = "softmax_cross_entropy";
        check_matrix(OP, logits, rows, cols)?;
        check_smoothing(OP, label_smoothing)?;
        let labels = labels_of(OP, labels, rows, cols)?;
        let mut probs = vec![0.0; logits.len()];
        let mut loss = Vec::with_capacity(rows);
        if cols > 0 {
            let off_target = label_smoothing / cols as f32;
            let rows_iter = logits
                .as_slice()
                .chunks_exact(cols)
                .zip(probs.chunks_exact_mut(cols));
            for ((row, p), &label) in rows_iter.zip(&labels) {
                let (m, sum) = exp_shifted(row, p);
                let lse = m + sum.ln();
                // Σ_c target_c · x_c with target = (1 − ε)·onehot + ε/cols.
                let target_dot = (1.0 - label_smoothing) * row[label] + off_target * math::sum(row);
                loss.push(lse - target_dot);
                let inv = 1.0 / sum;
                p.iter_mut().for_each(|v| *v *= inv);
            }
        }
        Ok((CpuBuffer::from_vec(loss), CpuBuffer::from_vec(probs)))
    }

    fn softmax_cross_entropy_backward(
        &self,
        probs: &CpuBuffer,
        labels: &CpuBuffer,
        dloss: &CpuBuffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<CpuBuffer> {
        const OP: &str = "softmax_cross_entropy_backward";
        check_matrix(OP, probs, rows, cols)?;
        BackendError::check_len(OP, rows, dloss.len())?;
        check_smoothing(OP, label_smoothing)?;
        let labels = labels_of(OP, labels, rows, cols)?;
        let mut out = Vec::with_capacity(probs.len());
        if cols > 0 {
            let off_target = label_smoothing / cols as f32;
            let rows_iter = probs.as_slice().chunks_exact(cols).zip(dloss.as_slice());
            for ((p, &g), &label) in rows_iter.zip(&labels) {
                let start = out.len();
                out.extend(p.iter().map(|&v| g * (v - off_target)));
                out[start + label] = g * (p[label] - (1.0 - label_smoothing + off_target));
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> CpuBackend {
        CpuBackend::new()
    }

    fn buf(v: &[f32]) -> CpuBuffer {
        CpuBuffer::from_vec(v.to_vec())
    }

    fn assert_close(got: &[f32], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                (*g as f64 - w).abs() <= tol * w.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    }

    /// Softmax of one row in f64, the reference.
    fn softmax_f64(row: &[f32]) -> Vec<f64> {
        let m = row.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v as f64));
        let e: Vec<f64> = row.iter().map(|&v| (v as f64 - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    #[test]
    fn softmax_rows_sum_to_one_and_match_reference() {
        let x = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
        let got = cpu().softmax(&buf(&x), 2, 3).unwrap();
        let want: Vec<f64> = x.chunks(3).flat_map(softmax_f64).collect();
        assert_close(got.as_slice(), &want, 1e-6);
    }

    #[test]
    fn softmax_is_stable_for_huge_logits() {
        let x = [1e4, -1e4, 1e4 - 1.0, -1e4, -1e4 + 2.0, -1e4];
        let got = cpu().softmax(&buf(&x), 2, 3).unwrap();
        let want: Vec<f64> = x.chunks(3).flat_map(softmax_f64).collect();
        assert!(got.as_slice().iter().all(|v| v.is_finite()));
        assert_close(got.as_slice(), &want, 1e-6);
    }

    #[test]
    fn log_softmax_is_stable_for_huge_logits() {
        let x = [1e4, -1e4, 1e4 - 1.0];
        let got = cpu().log_softmax(&buf(&x), 1, 3).unwrap();
        let lse = 1e4 + (1.0 + (-1.0f64).exp()).ln();
        let want = [1e4 - lse, -1e4 - lse, 1e4 - 1.0 - lse];
        assert_close(got.as_slice(), &want, 1e-6);
    }

    #[test]
    fn softmax_backward_matches_jacobian_product() {
        let y = softmax_f64(&[0.5, -1.0, 2.0]);
        let yf: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let dy = [1.0f32, -2.0, 0.5];
        let dot: f64 = y.iter().zip(&dy).map(|(a, &b)| a * b as f64).sum();
        let want: Vec<f64> = y
            .iter()
            .zip(&dy)
            .map(|(&y, &g)| y * (g as f64 - dot))
            .collect();
        let got = cpu().softmax_backward(&buf(&yf), &buf(&dy), 1, 3).unwrap();
        assert_close(got.as_slice(), &want, 1e-6);
    }

    #[test]
    fn log_softmax_backward_matches_formula() {
        let x = [0.5f32, -1.0, 2.0, 0.0];
        let y = cpu().log_softmax(&buf(&x), 2, 2).unwrap();
        let dy = [1.0f32, -2.0, 0.5, 3.0];
        let got = cpu().log_softmax_backward(&y, &buf(&dy), 2, 2).unwrap();
        let want: Vec<f64> = y
            .as_slice()
            .chunks(2)
            .zip(dy.chunks(2))
            .flat_map(|(yr, gr)| {
                let s: f64 = gr.iter().map(|&g| g as f64).sum();
                yr.iter()
                    .zip(gr)
                    .map(move |(&y, &g)| g as f64 - (y as f64).exp() * s)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_close(got.as_slice(), &want, 1e-6);
    }

    #[test]
    fn cross_entropy_without_smoothing_is_negative_log_probability() {
        let x = [2.0f32, 1.0, 0.1];
        let (loss, probs) = cpu()
            .softmax_cross_entropy(&buf(&x), &buf(&[0.0]), 1, 3, 0.0)
            .unwrap();
        let p = softmax_f64(&x);
        assert_close(loss.as_slice(), &[-p[0].ln()], 1e-6);
        assert_close(probs.as_slice(), &p, 1e-6);
    }

    #[test]
    fn cross_entropy_with_label_smoothing_matches_hand_computation() {
        // Row [1, 2, 3], label 2, ε = 0.1: target = [0.0333.., 0.0333.., 0.9333..].
        let x = [1.0f32, 2.0, 3.0];
        let (loss, _) = cpu()
            .softmax_cross_entropy(&buf(&x), &buf(&[2.0]), 1, 3, 0.1)
            .unwrap();
        let lse = (1.0f64.exp() + 2.0f64.exp() + 3.0f64.exp()).ln();
        let target = [0.1 / 3.0, 0.1 / 3.0, 0.9 + 0.1 / 3.0];
        let want: f64 = target
            .iter()
            .zip(&x)
            .map(|(t, &v)| t * (lse - v as f64))
            .sum();
        assert_close(loss.as_slice(), &[want], 1e-6);
    }

    #[test]
    fn cross_entropy_is_stable_for_huge_logits() {
        let x = [1e4f32, -1e4, 0.0];
        let (loss, probs) = cpu()
            .softmax_cross_entropy(&buf(&x), &buf(&[1.0]), 1, 3, 0.0)
            .unwrap();
        assert_close(loss.as_slice(), &[2e4], 1e-6);
        assert_close(probs.as_slice(), &[1.0, 0.0, 0.0], 1e-6);
    }

    #[test]
    fn cross_entropy_rejects_label_out_of_range() {
        let x = vec![0.0; 40];
        let labels = [0.0, 1.0, 2.0, 12.0];
        let err = cpu()
            .softmax_cross_entropy(&buf(&x), &buf(&labels), 4, 10, 0.0)
            .unwrap_err();
        assert_eq!(
            err,
            BackendError::InvalidArgument {
                op: "softmax_cross_entropy",
                message: "label 12 at row 3 is outside 0..10".to_string()
            }
        );
    }

    #[test]
    fn cross_entropy_rejects_fractional_label_and_bad_smoothing() {
        let x = buf(&[0.0; 4]);
        assert!(
            cpu()
                .softmax_cross_entropy(&x, &buf(&[0.5, 1.0]), 2, 2, 0.0)
                .is_err()
        );
        assert!(
            cpu()
                .softmax_cross_entropy(&x, &buf(&[0.0, 1.0]), 2, 2, 1.5)
                .is_err()
        );
        assert!(
            cpu()
                .softmax_cross_entropy(&x, &buf(&[0.0]), 2, 2, 0.0)
                .is_err()
        );
    }

    #[test]
    fn cross_entropy_backward_is_scaled_probs_minus_target() {
        let probs = [0.2f32, 0.3, 0.5, 0.6, 0.3, 0.1];
        let labels = [2.0f32, 0.0];
        let dloss = [2.0f32, 0.5];
        let eps = 0.3f32;
        let got = cpu()
            .softmax_cross_entropy_backward(&buf(&probs), &buf(&labels), &buf(&dloss), 2, 3, eps)
            .unwrap();
        let mut want = Vec::new();
        for r in 0..2 {
            for c in 0..3 {
                let onehot = if c as f32 == labels[r] { 1.0 } else { 0.0 };
                let target = (1.0 - eps as f64) * onehot + eps as f64 / 3.0;
                want.push(dloss[r] as f64 * (probs[r * 3 + c] as f64 - target));
            }
        }
        assert_close(got.as_slice(), &want, 1e-6);
    }
}
