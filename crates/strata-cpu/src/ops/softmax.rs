//! Softmax, log-softmax and fused softmax cross-entropy over rows of `[rows, cols]`.
//!
//! Every op works one row at a time (the row stays in L1 between passes) and subtracts the
//! row maximum before exponentiating, so logits of any magnitude are safe. The row loops are
//! `simd::multiversion!` kernels and `exp` comes from `crate::math`, so they vectorize.

use strata_backend::{BackendError, Result, SoftmaxOps};

use crate::check::{index, invalid, matrix_len};
use crate::simd::multiversion;
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

multiversion! {
    /// Row-wise softmax of `x` (rows of `cols > 0`).
    fn softmax_kernel / softmax_kernel_baseline(x: &[f32], cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; x.len()];
        for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
            let (_, sum) = exp_shifted(row, o);
            let inv = 1.0 / sum;
            for v in o.iter_mut() {
                *v *= inv;
            }
        }
        out
    }
}

multiversion! {
    /// Row-wise log-softmax of `x` (rows of `cols > 0`).
    fn log_softmax_kernel / log_softmax_kernel_baseline(x: &[f32], cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; x.len()];
        for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
            // (x − max) − ln Σ keeps full precision even when |max| is huge.
            let (m, sum) = exp_shifted(row, o);
            let log_sum = sum.ln();
            for (o, &v) in o.iter_mut().zip(row) {
                *o = (v - m) - log_sum;
            }
        }
        out
    }
}

multiversion! {
    /// `y ⊙ (dy − Σ dy·y)` row by row (rows of `cols > 0`).
    fn softmax_backward_kernel / softmax_backward_kernel_baseline(y: &[f32], dy: &[f32], cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; y.len()];
        let rows = y.chunks_exact(cols).zip(dy.chunks_exact(cols));
        for ((yr, gr), o) in rows.zip(out.chunks_exact_mut(cols)) {
            let dot = math::dot(yr, gr);
            for ((o, &y), &g) in o.iter_mut().zip(yr).zip(gr) {
                *o = y * (g - dot);
            }
        }
        out
    }
}

multiversion! {
    /// `dy − e^y · Σ dy` row by row (rows of `cols > 0`).
    fn log_softmax_backward_kernel / log_softmax_backward_kernel_baseline(y: &[f32], dy: &[f32], cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; y.len()];
        let rows = y.chunks_exact(cols).zip(dy.chunks_exact(cols));
        for ((yr, gr), o) in rows.zip(out.chunks_exact_mut(cols)) {
            let total = math::sum(gr);
            for ((o, &y), &g) in o.iter_mut().zip(yr).zip(gr) {
                *o = g - math::exp(y) * total;
            }
        }
        out
    }
}

multiversion! {
    /// Per-row loss and probabilities of the smoothed cross-entropy (rows of `cols > 0`,
    /// labels already checked).
    fn cross_entropy_kernel / cross_entropy_kernel_baseline(
        logits: &[f32],
        labels: &[usize],
        cols: usize,
        eps: f32,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut probs = vec![0.0; logits.len()];
        let mut loss = vec![0.0; labels.len()];
        let off_target = eps / cols as f32;
        let rows = logits.chunks_exact(cols).zip(probs.chunks_exact_mut(cols));
        for (((row, p), &label), l) in rows.zip(labels).zip(loss.iter_mut()) {
            let (m, sum) = exp_shifted(row, p);
            // loss = lse − Σ_c target_c·x_c with target = (1 − ε)·onehot + ε/cols; written on
            // x − max so that huge logits do not round the small difference away.
            let target_dot = (1.0 - eps) * (row[label] - m) + off_target * math::sum_offset(row, -m);
            *l = sum.ln() - target_dot;
            let inv = 1.0 / sum;
            for v in p.iter_mut() {
                *v *= inv;
            }
        }
        (loss, probs)
    }
}

multiversion! {
    /// `dloss[r] · (p − target)` row by row (rows of `cols > 0`, labels already checked).
    fn cross_entropy_backward_kernel / cross_entropy_backward_kernel_baseline(
        probs: &[f32],
        labels: &[usize],
        dloss: &[f32],
        cols: usize,
        eps: f32,
    ) -> Vec<f32> {
        let mut out = vec![0.0; probs.len()];
        let off_target = eps / cols as f32;
        let rows = probs.chunks_exact(cols).zip(out.chunks_exact_mut(cols));
        for (((p, o), &label), &g) in rows.zip(labels).zip(dloss) {
            for (o, &v) in o.iter_mut().zip(p) {
                *o = g * (v - off_target);
            }
            o[label] = g * (p[label] - (1.0 - eps + off_target));
        }
        out
    }
}

impl SoftmaxOps for CpuBackend {
    fn softmax(&self, x: &CpuBuffer, rows: usize, cols: usize) -> Result<CpuBuffer> {
        check_matrix("softmax", x, rows, cols)?;
        if cols == 0 {
            return Ok(CpuBuffer::default());
        }
        Ok(CpuBuffer::from_vec(softmax_kernel(x.as_slice(), cols)))
    }

    fn log_softmax(&self, x: &CpuBuffer, rows: usize, cols: usize) -> Result<CpuBuffer> {
        check_matrix("log_softmax", x, rows, cols)?;
        if cols == 0 {
            return Ok(CpuBuffer::default());
        }
        Ok(CpuBuffer::from_vec(log_softmax_kernel(x.as_slice(), cols)))
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
        if cols == 0 {
            return Ok(CpuBuffer::default());
        }
        Ok(CpuBuffer::from_vec(softmax_backward_kernel(
            y.as_slice(),
            dy.as_slice(),
            cols,
        )))
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
        if cols == 0 {
            return Ok(CpuBuffer::default());
        }
        Ok(CpuBuffer::from_vec(log_softmax_backward_kernel(
            y.as_slice(),
            dy.as_slice(),
            cols,
        )))
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
        if cols == 0 {
            // Only reachable with no rows: a label could not be in 0..0.
            return Ok((CpuBuffer::default(), CpuBuffer::default()));
        }
        let (loss, probs) = cross_entropy_kernel(logits.as_slice(), &labels, cols, label_smoothing);
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
        if cols == 0 {
            return Ok(CpuBuffer::default());
        }
        let out = cross_entropy_backward_kernel(
            probs.as_slice(),
            &labels,
            dloss.as_slice(),
            cols,
            label_smoothing,
        );
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
