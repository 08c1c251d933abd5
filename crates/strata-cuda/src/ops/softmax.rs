//! Softmax, log-softmax and the fused softmax cross-entropy on the GPU
//! (`kernels/softmax.cu`): one block per row, warp-shuffle block reductions, max subtracted
//! for stability. Labels are checked on the host from their upload-time summary (no device
//! read; see `check`).

use strata_backend::{BackendError, Result, SoftmaxOps};

use crate::check::{invalid, matrix_len};
use crate::kernels::{launch, launch_config, row_threads, rows_config};
use crate::{CudaBackend, CudaBuffer};

fn check_matrix(op: &'static str, x: &CudaBuffer, rows: usize, cols: usize) -> Result<()> {
    BackendError::check_len(op, matrix_len(op, rows, cols)?, x.len())
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

impl CudaBackend {
    fn softmax_rows(
        &self,
        op: &'static str,
        x: &CudaBuffer,
        rows: usize,
        cols: usize,
        log: bool,
    ) -> Result<CudaBuffer> {
        check_matrix(op, x, rows, cols)?;
        let mut y = self.alloc(rows * cols)?;
        if rows == 0 || cols == 0 {
            return Ok(y);
        }
        let (r, c, l) = (rows as u64, cols as u64, i32::from(log));
        launch!(
            self,
            Softmax,
            "softmax_forward",
            rows_config(rows, row_threads(cols)),
            y.slice_mut(),
            x.slice(),
            &r,
            &c,
            &l
        )?;
        Ok(y)
    }

    fn softmax_rows_backward(
        &self,
        op: &'static str,
        y: &CudaBuffer,
        dy: &CudaBuffer,
        rows: usize,
        cols: usize,
        log: bool,
    ) -> Result<CudaBuffer> {
        check_matrix(op, y, rows, cols)?;
        check_matrix(op, dy, rows, cols)?;
        let mut dx = self.alloc(rows * cols)?;
        if rows == 0 || cols == 0 {
            return Ok(dx);
        }
        let (r, c, l) = (rows as u64, cols as u64, i32::from(log));
        launch!(
            self,
            Softmax,
            "softmax_backward",
            rows_config(rows, row_threads(cols)),
            dx.slice_mut(),
            y.slice(),
            dy.slice(),
            &r,
            &c,
            &l
        )?;
        Ok(dx)
    }
}

impl SoftmaxOps for CudaBackend {
    fn softmax(&self, x: &CudaBuffer, rows: usize, cols: usize) -> Result<CudaBuffer> {
        self.softmax_rows("softmax", x, rows, cols, false)
    }

    fn log_softmax(&self, x: &CudaBuffer, rows: usize, cols: usize) -> Result<CudaBuffer> {
        self.softmax_rows("log_softmax", x, rows, cols, true)
    }

    fn softmax_backward(
        &self,
        y: &CudaBuffer,
        dy: &CudaBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<CudaBuffer> {
        self.softmax_rows_backward("softmax_backward", y, dy, rows, cols, false)
    }

    fn log_softmax_backward(
        &self,
        y: &CudaBuffer,
        dy: &CudaBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<CudaBuffer> {
        self.softmax_rows_backward("log_softmax_backward", y, dy, rows, cols, true)
    }

    fn softmax_cross_entropy(
        &self,
        logits: &CudaBuffer,
        labels: &CudaBuffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<(CudaBuffer, CudaBuffer)> {
        const OP: &str = "softmax_cross_entropy";
        check_matrix(OP, logits, rows, cols)?;
        check_smoothing(OP, label_smoothing)?;
        BackendError::check_len(OP, rows, labels.len())?;
        self.check_indices(OP, "label", "row", labels, cols)?;
        if cols == 0 {
            return Ok((self.alloc(0)?, self.alloc(0)?));
        }
        let mut loss = self.alloc(rows)?;
        let mut probs = self.alloc(rows * cols)?;
        if rows == 0 {
            return Ok((loss, probs));
        }
        // The CPU's f32 constants, bit for bit.
        let keep = 1.0 - label_smoothing;
        let off_target = label_smoothing / cols as f32;
        let (r, c) = (rows as u64, cols as u64);
        launch!(
            self,
            Softmax,
            "softmax_cross_entropy",
            rows_config(rows, row_threads(cols)),
            loss.slice_mut(),
            probs.slice_mut(),
            logits.slice(),
            labels.slice(),
            &r,
            &c,
            &keep,
            &off_target
        )?;
        Ok((loss, probs))
    }

    fn softmax_cross_entropy_backward(
        &self,
        probs: &CudaBuffer,
        labels: &CudaBuffer,
        dloss: &CudaBuffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<CudaBuffer> {
        const OP: &str = "softmax_cross_entropy_backward";
        check_matrix(OP, probs, rows, cols)?;
        BackendError::check_len(OP, rows, dloss.len())?;
        check_smoothing(OP, label_smoothing)?;
        BackendError::check_len(OP, rows, labels.len())?;
        self.check_indices(OP, "label", "row", labels, cols)?;
        let len = rows * cols;
        let mut out = self.alloc(len)?;
        if len == 0 {
            return Ok(out);
        }
        let off_target = label_smoothing / cols as f32;
        let on_target = 1.0 - label_smoothing + off_target;
        let (r, c) = (rows as u64, cols as u64);
        launch!(
            self,
            Softmax,
            "softmax_cross_entropy_backward",
            launch_config(len),
            out.slice_mut(),
            probs.slice(),
            labels.slice(),
            dloss.slice(),
            &r,
            &c,
            &on_target,
            &off_target
        )?;
        Ok(out)
    }
}
