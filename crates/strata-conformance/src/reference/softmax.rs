//! Reference softmax family: per row, max subtracted, sums and logs in `f64`.

use strata_backend::{BackendError, Result, SoftmaxOps};

use super::{RefBuffer, ReferenceBackend, index_below, invalid, round};

impl SoftmaxOps for ReferenceBackend {
    fn softmax(&self, x: &RefBuffer, rows: usize, cols: usize) -> Result<RefBuffer> {
        BackendError::check_len("softmax", rows * cols, x.0.len())?;
        Ok(per_row(x, cols, |row| {
            log_softmax_row(row).into_iter().map(f64::exp).collect()
        }))
    }

    fn log_softmax(&self, x: &RefBuffer, rows: usize, cols: usize) -> Result<RefBuffer> {
        BackendError::check_len("log_softmax", rows * cols, x.0.len())?;
        Ok(per_row(x, cols, log_softmax_row))
    }

    fn softmax_backward(
        &self,
        y: &RefBuffer,
        dy: &RefBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<RefBuffer> {
        BackendError::check_len("softmax_backward", rows * cols, y.0.len())?;
        BackendError::check_len("softmax_backward", rows * cols, dy.0.len())?;
        let mut dx = Vec::with_capacity(rows * cols);
        for (y, dy) in y.0.chunks(cols.max(1)).zip(dy.0.chunks(cols.max(1))) {
            let dot: f64 = y
                .iter()
                .zip(dy)
                .map(|(&y, &d)| f64::from(y) * f64::from(d))
                .sum();
            dx.extend(
                y.iter()
                    .zip(dy)
                    .map(|(&y, &d)| round(f64::from(y) * (f64::from(d) - dot))),
            );
        }
        Ok(RefBuffer(dx))
    }

    fn log_softmax_backward(
        &self,
        y: &RefBuffer,
        dy: &RefBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<RefBuffer> {
        BackendError::check_len("log_softmax_backward", rows * cols, y.0.len())?;
        BackendError::check_len("log_softmax_backward", rows * cols, dy.0.len())?;
        let mut dx = Vec::with_capacity(rows * cols);
        for (y, dy) in y.0.chunks(cols.max(1)).zip(dy.0.chunks(cols.max(1))) {
            let total: f64 = dy.iter().map(|&d| f64::from(d)).sum();
            dx.extend(
                y.iter()
                    .zip(dy)
                    .map(|(&y, &d)| round(f64::from(d) - f64::from(y).exp() * total)),
            );
        }
        Ok(RefBuffer(dx))
    }

    fn softmax_cross_entropy(
        &self,
        logits: &RefBuffer,
        labels: &RefBuffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<(RefBuffer, RefBuffer)> {
        const OP: &str = "softmax_cross_entropy";
        BackendError::check_len(OP, rows * cols, logits.0.len())?;
        BackendError::check_len(OP, rows, labels.0.len())?;
        check_smoothing(OP, label_smoothing)?;
        let mut losses = Vec::with_capacity(rows);
        let mut probs = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let label = index_below(OP, "label", labels.0[r], cols)?;
            let log_probs = log_softmax_row(&logits.0[r * cols..(r + 1) * cols]);
            let loss: f64 = log_probs
                .iter()
                .enumerate()
                .map(|(c, &lp)| -target(c, label, cols, label_smoothing) * lp)
                .sum();
            losses.push(round(loss));
            probs.extend(log_probs.into_iter().map(|lp| round(lp.exp())));
        }
        Ok((RefBuffer(losses), RefBuffer(probs)))
    }

    fn softmax_cross_entropy_backward(
        &self,
        probs: &RefBuffer,
        labels: &RefBuffer,
        dloss: &RefBuffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<RefBuffer> {
        const OP: &str = "softmax_cross_entropy_backward";
        BackendError::check_len(OP, rows * cols, probs.0.len())?;
        BackendError::check_len(OP, rows, labels.0.len())?;
        BackendError::check_len(OP, rows, dloss.0.len())?;
        check_smoothing(OP, label_smoothing)?;
        let mut dlogits = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let label = index_below(OP, "label", labels.0[r], cols)?;
            for c in 0..cols {
                let p = f64::from(probs.0[r * cols + c]);
                let t = target(c, label, cols, label_smoothing);
                dlogits.push(round(f64::from(dloss.0[r]) * (p - t)));
            }
        }
        Ok(RefBuffer(dlogits))
    }
}

/// `log softmax(row)` in `f64`: `x − max − ln Σ e^(x − max)`.
fn log_softmax_row(row: &[f32]) -> Vec<f64> {
    let max = row
        .iter()
        .map(|&v| f64::from(v))
        .fold(f64::NEG_INFINITY, f64::max);
    let log_sum = row
        .iter()
        .map(|&v| (f64::from(v) - max).exp())
        .sum::<f64>()
        .ln();
    row.iter().map(|&v| f64::from(v) - max - log_sum).collect()
}

/// Applies `f` to each row of `cols` elements and rounds the results.
fn per_row(x: &RefBuffer, cols: usize, f: impl Fn(&[f32]) -> Vec<f64>) -> RefBuffer {
    RefBuffer(x.0.chunks(cols.max(1)).flat_map(f).map(round).collect())
}

/// The smoothed target `(1 − ε)·onehot + ε/cols` of class `c` for a row labelled `label`.
fn target(c: usize, label: usize, cols: usize, smoothing: f32) -> f64 {
    let eps = f64::from(smoothing);
    let onehot = if c == label { 1.0 } else { 0.0 };
    (1.0 - eps) * onehot + eps / cols as f64
}

fn check_smoothing(op: &'static str, smoothing: f32) -> Result<()> {
    if (0.0..=1.0).contains(&smoothing) {
        Ok(())
    } else {
        Err(invalid(
            op,
            format!("label smoothing {smoothing} is outside [0, 1]"),
        ))
    }
}
