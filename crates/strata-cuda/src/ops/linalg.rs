//! Matrix products on the GPU: cuBLAS SGEMM / strided-batched SGEMM (through
//! `CudaBackend::gemm`, which maps row-major products onto column-major cuBLAS), with the
//! transposes as cuBLAS flags so nothing is copied; `matmul_bias` seeds the output with the
//! bias rows (`kernels/linalg.cu`) and accumulates the product onto it (beta = 1); `sum_rows`
//! is a deterministic column-sum kernel. FP32 math unless the backend was opened with TF32.

use cudarc::driver::LaunchConfig;
use strata_backend::{BackendError, LinalgOps, MatmulSpec, Result};

use crate::check::{invalid, matrix_len};
use crate::gemm::{Block, GemmShape};
use crate::kernels::{launch, launch_config};
use crate::{CudaBackend, CudaBuffer};

/// Elements an operand of `size` elements per matrix needs for `batch` matrices `stride` apart.
fn operand_len(op: &'static str, batch: usize, stride: usize, size: usize) -> Result<usize> {
    if stride == 0 || batch <= 1 {
        return Ok(size);
    }
    stride
        .checked_mul(batch - 1)
        .and_then(|v| v.checked_add(size))
        .ok_or_else(|| invalid(op, format!("batch {batch} at stride {stride} overflows")))
}

/// Checks `a` and `b` against `spec` and returns the output length.
fn check_spec(
    op: &'static str,
    a: &CudaBuffer,
    b: &CudaBuffer,
    spec: &MatmulSpec,
) -> Result<usize> {
    let mk = matrix_len(op, spec.m, spec.k)?;
    let kn = matrix_len(op, spec.k, spec.n)?;
    let out = matrix_len(op, spec.batch, matrix_len(op, spec.m, spec.n)?)?;
    if spec.batch == 0 {
        return Ok(0);
    }
    BackendError::check_len(op, operand_len(op, spec.batch, spec.stride_a, mk)?, a.len())?;
    BackendError::check_len(op, operand_len(op, spec.batch, spec.stride_b, kn)?, b.len())?;
    Ok(out)
}

impl CudaBackend {
    /// `c (+)= op(a) · op(b)` for a checked spec, `beta` 0 (overwrite) or 1 (accumulate).
    fn matmul_into(
        &self,
        op: &'static str,
        a: &CudaBuffer,
        b: &CudaBuffer,
        c: &mut CudaBuffer,
        spec: &MatmulSpec,
        beta: f32,
    ) -> Result<()> {
        // Row-major leading dimensions of the stored matrices.
        let lda = if spec.trans_a { spec.m } else { spec.k };
        let ldb = if spec.trans_b { spec.k } else { spec.n };
        let shape = GemmShape {
            m: spec.m,
            n: spec.n,
            k: spec.k,
            trans_a: spec.trans_a,
            trans_b: spec.trans_b,
            batch: spec.batch,
            beta,
        };
        let stride = |s: usize| if spec.batch <= 1 { 0 } else { s };
        self.gemm(
            op,
            shape,
            (a, Block::new(0, lda).stride(stride(spec.stride_a))),
            (b, Block::new(0, ldb).stride(stride(spec.stride_b))),
            (c, Block::new(0, spec.n).stride(stride(spec.m * spec.n))),
        )
    }
}

impl LinalgOps for CudaBackend {
    fn matmul(&self, a: &CudaBuffer, b: &CudaBuffer, spec: MatmulSpec) -> Result<CudaBuffer> {
        let len = check_spec("matmul", a, b, &spec)?;
        if len == 0 || spec.k == 0 {
            return self.alloc_zeros(len);
        }
        let mut c = self.alloc(len)?;
        self.matmul_into("matmul", a, b, &mut c, &spec, 0.0)?;
        Ok(c)
    }

    fn matmul_bias(
        &self,
        a: &CudaBuffer,
        b: &CudaBuffer,
        bias: &CudaBuffer,
        spec: MatmulSpec,
    ) -> Result<CudaBuffer> {
        BackendError::check_len("matmul_bias", spec.n, bias.len())?;
        let len = check_spec("matmul_bias", a, b, &spec)?;
        let mut c = self.alloc(len)?;
        if len == 0 {
            return Ok(c);
        }
        let total = len as u64;
        let n = spec.n as u64;
        launch!(
            self,
            Linalg,
            "linalg_bias_rows",
            launch_config(len),
            c.slice_mut(),
            bias.slice(),
            &total,
            &n
        )?;
        if spec.k > 0 {
            self.matmul_into("matmul_bias", a, b, &mut c, &spec, 1.0)?;
        }
        Ok(c)
    }

    fn sum_rows(&self, x: &CudaBuffer, rows: usize, cols: usize) -> Result<CudaBuffer> {
        BackendError::check_len("sum_rows", matrix_len("sum_rows", rows, cols)?, x.len())?;
        if cols == 0 {
            return self.alloc(0);
        }
        if rows == 0 {
            return self.alloc_zeros(cols);
        }
        let mut out = self.alloc(cols)?;
        let tiles = cols.div_ceil(32).min(65_535) as u32;
        let cfg = LaunchConfig {
            grid_dim: (tiles, 1, 1),
            block_dim: (32, 8, 1),
            shared_mem_bytes: 0,
        };
        let (r, c) = (rows as u64, cols as u64);
        launch!(
            self,
            Linalg,
            "linalg_sum_rows",
            cfg,
            out.slice_mut(),
            x.slice(),
            &r,
            &c
        )?;
        Ok(out)
    }
}
