//! Matrix products through OpenBLAS (`cblas_sgemm`, row-major, transposes as flags so no
//! operand is ever copied) and the bias-gradient row sum.
//!
//! A batch is a loop of single GEMMs at the spec's strides (stride 0 reuses one matrix). When
//! `B` is shared and `A` is an untransposed contiguous stack, the whole batch is one GEMM with
//! `batch · m` rows, which is both fewer calls and a better shape for OpenBLAS.

use std::ffi::c_int;

use crate::blas::Sgemm;
use strata_backend::{BackendError, LinalgOps, MatmulSpec, Result};

use crate::check::{blas_dim, invalid, matrix_len};
use crate::{CpuBackend, CpuBuffer};

/// The BLAS arguments of one product `op(A) · op(B)` with `m × n` output.
struct Gemm {
    m: c_int,
    n: c_int,
    k: c_int,
    trans_a: bool,
    trans_b: bool,
}

impl Gemm {
    fn new(op: &'static str, m: usize, n: usize, k: usize, spec: &MatmulSpec) -> Result<Self> {
        Ok(Gemm {
            m: blas_dim(op, "m", m)?,
            n: blas_dim(op, "n", n)?,
            k: blas_dim(op, "k", k)?,
            trans_a: spec.trans_a,
            trans_b: spec.trans_b,
        })
    }

    /// `c = op(a) · op(b) + beta · c`.
    ///
    /// # Safety
    /// `a` and `b` must hold `m·k` and `k·n` elements, `m`, `n`, `k` must be positive, and `c`
    /// must be valid for writes of `m·n` floats (and initialized when `beta != 0`).
    unsafe fn run(&self, a: &[f32], b: &[f32], beta: f32, c: *mut f32) {
        // Row-major leading dimensions of the stored (untransposed) buffers.
        let (m, n, k) = (self.m as usize, self.n as usize, self.k as usize);
        let g = Sgemm {
            trans_a: self.trans_a,
            trans_b: self.trans_b,
            m,
            n,
            k,
            lda: if self.trans_a { m } else { k },
            ldb: if self.trans_b { k } else { n },
            ldc: n,
            beta,
        };
        // SAFETY: the caller guarantees the buffer sizes; leading dimensions are >= 1 because
        // every dimension is positive, and the dimensions came from c_int values.
        unsafe { g.run(a.as_ptr(), b.as_ptr(), c) };
    }
}

/// Elements an operand buffer must hold: `batch` matrices of `size` at `stride` (0 = shared).
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
fn check_spec(op: &'static str, a: &[f32], b: &[f32], spec: &MatmulSpec) -> Result<usize> {
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

/// Runs every product of `spec` into `c`, which holds `batch · m · n` floats.
///
/// # Safety
/// `a` and `b` must have passed `check_spec`, `m`, `n` and `k` must be positive, and `c` must
/// be valid for writes of `batch · m · n` floats (initialized when `beta != 0`).
unsafe fn batched(
    op: &'static str,
    a: &[f32],
    b: &[f32],
    spec: &MatmulSpec,
    beta: f32,
    c: *mut f32,
) -> Result<()> {
    let (m, n, k) = (spec.m, spec.n, spec.k);
    if spec.batch > 1 && spec.stride_b == 0 && !spec.trans_a && spec.stride_a == m * k {
        let g = Gemm::new(op, spec.batch * m, n, k, spec)?;
        // SAFETY: a contiguous stack of `batch` m×k matrices is one (batch·m)×k matrix, and `c`
        // holds (batch·m)×n floats; `b` holds k·n.
        unsafe { g.run(a, &b[..k * n], beta, c) };
        return Ok(());
    }
    let g = Gemm::new(op, m, n, k, spec)?;
    for i in 0..spec.batch {
        let a_i = &a[i * spec.stride_a..i * spec.stride_a + m * k];
        let b_i = &b[i * spec.stride_b..i * spec.stride_b + k * n];
        // SAFETY: the slices have the sizes `run` needs, and product `i` writes the i-th m×n
        // block of `c`, inside the batch·m·n floats the caller provides.
        unsafe { g.run(a_i, b_i, beta, c.add(i * m * n)) };
    }
    Ok(())
}

impl LinalgOps for CpuBackend {
    fn matmul(&self, a: &CpuBuffer, b: &CpuBuffer, spec: MatmulSpec) -> Result<CpuBuffer> {
        let (a, b) = (a.as_slice(), b.as_slice());
        let len = check_spec("matmul", a, b, &spec)?;
        if len == 0 || spec.k == 0 {
            return Ok(CpuBuffer::from_vec(vec![0.0; len]));
        }
        let mut c: Vec<f32> = Vec::with_capacity(len);
        // SAFETY: the operands passed `check_spec`, every dimension is positive, and `c` has
        // capacity for all `len` outputs. With beta = 0 OpenBLAS writes C without reading it,
        // so every element is initialized before `set_len`.
        unsafe {
            batched("matmul", a, b, &spec, 0.0, c.as_mut_ptr())?;
            c.set_len(len);
        }
        Ok(CpuBuffer::from_vec(c))
    }

    fn matmul_bias(
        &self,
        a: &CpuBuffer,
        b: &CpuBuffer,
        bias: &CpuBuffer,
        spec: MatmulSpec,
    ) -> Result<CpuBuffer> {
        let (a, b, bias) = (a.as_slice(), b.as_slice(), bias.as_slice());
        BackendError::check_len("matmul_bias", spec.n, bias.len())?;
        let len = check_spec("matmul_bias", a, b, &spec)?;
        let mut c = Vec::with_capacity(len);
        for _ in 0..len.checked_div(spec.n).unwrap_or(0) {
            c.extend_from_slice(bias);
        }
        if len > 0 && spec.k > 0 {
            // SAFETY: the operands passed `check_spec`, every dimension is positive, and `c`
            // holds all `len` outputs, initialized to the bias that beta = 1 accumulates onto.
            unsafe { batched("matmul_bias", a, b, &spec, 1.0, c.as_mut_ptr())? };
        }
        Ok(CpuBuffer::from_vec(c))
    }

    fn sum_rows(&self, x: &CpuBuffer, rows: usize, cols: usize) -> Result<CpuBuffer> {
        BackendError::check_len("sum_rows", matrix_len("sum_rows", rows, cols)?, x.len())?;
        let mut out = vec![0.0; cols];
        if cols > 0 {
            for row in x.as_slice().chunks_exact(cols) {
                for (o, &v) in out.iter_mut().zip(row) {
                    *o += v;
                }
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

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 31 + seed * 17) % 23) as f32 - 11.0) * 0.125)
            .collect()
    }

    /// `op(A)·op(B)` by the definition, for one product.
    fn naive(a: &[f32], b: &[f32], m: usize, n: usize, k: usize, ta: bool, tb: bool) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| {
                        let av = if ta { a[p * m + i] } else { a[i * k + p] };
                        let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                        av * bv
                    })
                    .sum();
            }
        }
        c
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    }

    fn check_transposes(ta: bool, tb: bool) {
        let (m, n, k) = (5, 7, 3);
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        let spec = MatmulSpec {
            trans_a: ta,
            trans_b: tb,
            ..MatmulSpec::new(m, n, k)
        };
        let got = cpu()
            .matmul(
                &CpuBuffer::from_vec(a.clone()),
                &CpuBuffer::from_vec(b.clone()),
                spec,
            )
            .unwrap();
        assert_close(got.as_slice(), &naive(&a, &b, m, n, k, ta, tb));
    }

    #[test]
    fn matmul_matches_naive_loop() {
        check_transposes(false, false);
    }

    #[test]
    fn matmul_trans_a_matches_naive_loop() {
        check_transposes(true, false);
    }

    #[test]
    fn matmul_trans_b_matches_naive_loop() {
        check_transposes(false, true);
    }

    #[test]
    fn matmul_trans_a_and_b_matches_naive_loop() {
        check_transposes(true, true);
    }

    fn check_batch(stride_a_zero: bool, stride_b_zero: bool, ta: bool, tb: bool) {
        let (batch, m, n, k) = (3, 4, 2, 5);
        let sa = if stride_a_zero { 0 } else { m * k };
        let sb = if stride_b_zero { 0 } else { k * n };
        let spec = MatmulSpec {
            batch,
            m,
            n,
            k,
            trans_a: ta,
            trans_b: tb,
            stride_a: sa,
            stride_b: sb,
        };
        let a = values(spec.lhs_len(), 3);
        let b = values(spec.rhs_len(), 4);
        let got = cpu()
            .matmul(
                &CpuBuffer::from_vec(a.clone()),
                &CpuBuffer::from_vec(b.clone()),
                spec,
            )
            .unwrap();
        let want: Vec<f32> = (0..batch)
            .flat_map(|i| {
                naive(
                    &a[i * sa..i * sa + m * k],
                    &b[i * sb..i * sb + k * n],
                    m,
                    n,
                    k,
                    ta,
                    tb,
                )
            })
            .collect();
        assert_close(got.as_slice(), &want);
    }

    #[test]
    fn batched_matmul_with_shared_rhs_matches_naive_loop() {
        check_batch(false, true, false, false);
        check_batch(false, true, true, false);
        check_batch(false, true, false, true);
    }

    #[test]
    fn batched_matmul_with_shared_lhs_matches_naive_loop() {
        check_batch(true, false, false, true);
        check_batch(true, false, true, true);
    }

    #[test]
    fn batched_matmul_with_distinct_operands_matches_naive_loop() {
        check_batch(false, false, false, false);
        check_batch(false, false, true, true);
        check_batch(true, true, false, false);
    }

    #[test]
    fn matmul_bias_adds_bias_to_every_row() {
        let (m, n, k) = (3, 4, 2);
        let (a, b) = (values(m * k, 5), values(k * n, 6));
        let bias = vec![1.0, -2.0, 0.5, 10.0];
        let spec = MatmulSpec {
            trans_b: true,
            ..MatmulSpec::new(m, n, k)
        };
        let got = cpu()
            .matmul_bias(
                &CpuBuffer::from_vec(a.clone()),
                &CpuBuffer::from_vec(b.clone()),
                &CpuBuffer::from_vec(bias.clone()),
                spec,
            )
            .unwrap();
        let mut want = naive(&a, &b, m, n, k, false, true);
        for (i, w) in want.iter_mut().enumerate() {
            *w += bias[i % n];
        }
        assert_close(got.as_slice(), &want);
    }

    #[test]
    fn matmul_with_empty_inner_dimension_is_zeros_or_bias() {
        let spec = MatmulSpec::new(2, 3, 0);
        let empty = CpuBuffer::from_vec(Vec::new());
        assert_eq!(
            cpu().matmul(&empty, &empty, spec).unwrap().as_slice(),
            &[0.0; 6]
        );
        let bias = CpuBuffer::from_vec(vec![1.0, 2.0, 3.0]);
        let got = cpu().matmul_bias(&empty, &empty, &bias, spec).unwrap();
        assert_eq!(got.as_slice(), &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn matmul_with_empty_outer_dimension_is_empty() {
        let spec = MatmulSpec::new(0, 3, 2);
        let b = CpuBuffer::from_vec(vec![1.0; 6]);
        assert!(
            cpu()
                .matmul(&CpuBuffer::from_vec(Vec::new()), &b, spec)
                .unwrap()
                .is_empty()
        );
        let spec = MatmulSpec {
            trans_a: true,
            trans_b: true,
            ..MatmulSpec::new(2, 0, 3)
        };
        assert!(
            cpu()
                .matmul(
                    &CpuBuffer::from_vec(vec![1.0; 6]),
                    &CpuBuffer::from_vec(Vec::new()),
                    spec
                )
                .unwrap()
                .is_empty()
        );
        let zero_batch = MatmulSpec {
            batch: 0,
            ..MatmulSpec::new(2, 2, 2)
        };
        assert!(cpu().matmul(&b, &b, zero_batch).unwrap().is_empty());
    }

    #[test]
    fn matmul_rejects_operand_of_wrong_length() {
        let spec = MatmulSpec::new(2, 2, 2);
        let err = cpu().matmul(
            &CpuBuffer::from_vec(vec![1.0; 3]),
            &CpuBuffer::from_vec(vec![1.0; 4]),
            spec,
        );
        assert!(matches!(
            err,
            Err(BackendError::LengthMismatch {
                op: "matmul",
                expected: 4,
                found: 3
            })
        ));
        let err = cpu().matmul_bias(
            &CpuBuffer::from_vec(vec![1.0; 4]),
            &CpuBuffer::from_vec(vec![1.0; 4]),
            &CpuBuffer::from_vec(vec![1.0; 3]),
            spec,
        );
        assert!(matches!(
            err,
            Err(BackendError::LengthMismatch {
                op: "matmul_bias",
                ..
            })
        ));
    }

    #[test]
    fn matmul_rejects_huge_dimensions_without_panicking() {
        let spec = MatmulSpec {
            batch: 1,
            m: 1 << 32,
            n: 1,
            k: 1,
            trans_a: false,
            trans_b: false,
            stride_a: 0,
            stride_b: 0,
        };
        let a = CpuBuffer::from_vec(Vec::new());
        assert!(cpu().matmul(&a, &a, spec).is_err());
    }

    #[test]
    fn sum_rows_adds_columns() {
        let x = CpuBuffer::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            cpu().sum_rows(&x, 2, 3).unwrap().as_slice(),
            &[5.0, 7.0, 9.0]
        );
        assert_eq!(cpu().sum_rows(&x, 3, 2).unwrap().as_slice(), &[9.0, 12.0]);
        assert!(cpu().sum_rows(&x, 4, 2).is_err());
    }
}
