//! Row-major SGEMM on sub-blocks of buffers, and device addresses at an element offset: what
//! every op family that multiplies matrices or addresses parts of a buffer shares (linalg,
//! conv, recurrent, and the kernel arguments of pool and norm).
//!
//! cuBLAS is column-major; a row-major `C[m, n] = op(A)[m, k] · op(B)[k, n]` is the
//! column-major `Cᵀ = op(B)ᵀ · op(A)ᵀ`, so [`CudaBackend::gemm`] calls cuBLAS with the operands
//! swapped, `(n, m, k)`, and each transpose flag kept on its own operand. Every operand is
//! checked to lie inside its buffer before cuBLAS sees a raw address, so the helper is safe to
//! call with any shapes.

use std::ffi::{c_int, c_longlong};

use cudarc::cublas::result::{sgemm, sgemm_strided_batched};
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::driver::DevicePtr;
use strata_backend::{BackendError, Result};

use crate::check::int_dim as dim;
use crate::{CudaBackend, CudaBuffer};

/// The shape of one (batched) row-major product `C = op(A) · op(B) + beta · C`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GemmShape {
    /// Rows of `C` and of `op(A)`.
    pub m: usize,
    /// Columns of `C` and of `op(B)`.
    pub n: usize,
    /// Columns of `op(A)`, rows of `op(B)`.
    pub k: usize,
    /// `A` is stored `[k, m]` and used transposed.
    pub trans_a: bool,
    /// `B` is stored `[n, k]` and used transposed.
    pub trans_b: bool,
    /// Products in the batch (1 for a plain GEMM).
    pub batch: usize,
    /// `beta`: 0 overwrites `C`, 1 accumulates onto it.
    pub beta: f32,
}

/// A row-major matrix inside a buffer: its first element, leading dimension and the distance
/// between consecutive matrices of a batch (0 repeats the same matrix).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    /// Element offset of the first matrix in its buffer.
    pub offset: usize,
    /// Leading dimension (elements between consecutive rows).
    pub ld: usize,
    /// Elements between consecutive matrices of the batch.
    pub stride: usize,
}

impl Block {
    /// A block at `offset` with leading dimension `ld`, not batched.
    pub(crate) fn new(offset: usize, ld: usize) -> Self {
        Block {
            offset,
            ld,
            stride: 0,
        }
    }

    /// The same block with batch stride `stride`.
    pub(crate) fn stride(self, stride: usize) -> Self {
        Block { stride, ..self }
    }

    /// Checks that `batch` matrices of `rows × cols` fit in `len` elements (all three ≥ 1:
    /// [`CudaBackend::gemm`] returns before checking an empty product).
    fn check(
        &self,
        op: &'static str,
        what: &str,
        (rows, cols): (usize, usize),
        batch: usize,
        len: usize,
    ) -> Result<()> {
        let fits = self.ld >= cols.max(1)
            && (batch - 1)
                .checked_mul(self.stride)
                .and_then(|s| s.checked_add((rows - 1).checked_mul(self.ld)?))
                .and_then(|e| e.checked_add(cols))
                .and_then(|e| e.checked_add(self.offset))
                .is_some_and(|end| end <= len);
        if fits {
            Ok(())
        } else {
            Err(BackendError::InvalidArgument {
                op,
                message: format!(
                    "internal GEMM operand {what} ({batch} x {rows}x{cols}, ld {}, stride {}, \
                     offset {}) does not fit its buffer of {len} elements",
                    self.ld, self.stride, self.offset
                ),
            })
        }
    }
}

impl CudaBackend {
    /// The device address of element `offset` of `buf` (which must hold at least `offset`
    /// elements; the caller checks what a kernel reads from there).
    pub(crate) fn addr(&self, buf: &CudaBuffer, offset: usize) -> u64 {
        debug_assert!(offset <= buf.len());
        let (base, _sync) = buf.slice().device_ptr(self.stream());
        base + (offset as u64) * 4
    }

    /// [`CudaBackend::addr`] of a buffer the caller is about to write (drops its upload-time
    /// index summary, which the write makes stale).
    pub(crate) fn addr_mut(&self, buf: &mut CudaBuffer, offset: usize) -> u64 {
        debug_assert!(offset <= buf.len());
        let (base, _sync) = buf.slice_mut().device_ptr(self.stream());
        base + (offset as u64) * 4
    }

    /// `C = op(A) · op(B) + beta · C` for each of `shape.batch` products, row-major, queued on
    /// the stream. A product with `m`, `n` or `batch` zero does nothing; `k = 0` is allowed with
    /// `beta = 1` only (the caller zero-fills otherwise).
    pub(crate) fn gemm(
        &self,
        op: &'static str,
        shape: GemmShape,
        (a, a_at): (&CudaBuffer, Block),
        (b, b_at): (&CudaBuffer, Block),
        (c, c_at): (&mut CudaBuffer, Block),
    ) -> Result<()> {
        let GemmShape {
            m,
            n,
            k,
            trans_a,
            trans_b,
            batch,
            beta,
        } = shape;
        if m == 0 || n == 0 || batch == 0 {
            return Ok(());
        }
        if k == 0 {
            return if beta == 1.0 {
                Ok(())
            } else {
                Err(BackendError::InvalidArgument {
                    op,
                    message: "internal GEMM with k = 0 and beta != 1".into(),
                })
            };
        }
        let a_dims = if trans_a { (k, m) } else { (m, k) };
        let b_dims = if trans_b { (n, k) } else { (k, n) };
        a_at.check(op, "A", a_dims, batch, a.len())?;
        b_at.check(op, "B", b_dims, batch, b.len())?;
        c_at.check(op, "C", (m, n), batch, c.len())?;
        let flag = |t: bool| {
            if t {
                cublasOperation_t::CUBLAS_OP_T
            } else {
                cublasOperation_t::CUBLAS_OP_N
            }
        };
        let (mi, ni, ki) = (dim(op, "m", m)?, dim(op, "n", n)?, dim(op, "k", k)?);
        let (lda, ldb, ldc) = (
            dim(op, "lda", a_at.ld)?,
            dim(op, "ldb", b_at.ld)?,
            dim(op, "ldc", c_at.ld)?,
        );
        let pa = self.addr(a, a_at.offset) as *const f32;
        let pb = self.addr(b, b_at.offset) as *const f32;
        let pc = self.addr_mut(c, c_at.offset) as *mut f32;
        let alpha = 1.0f32;
        let handle = *self.blas().handle();
        // SAFETY: every operand was checked above to lie inside its buffer for the batch, the
        // leading dimensions cover their rows, and all work is ordered on the stream the
        // cuBLAS handle is bound to, so the buffers outlive the queued product.
        let status = unsafe {
            if batch == 1 {
                sgemm(
                    handle,
                    flag(trans_b),
                    flag(trans_a),
                    ni,
                    mi,
                    ki,
                    &alpha,
                    pb,
                    ldb,
                    pa,
                    lda,
                    &beta,
                    pc,
                    ldc,
                )
            } else {
                sgemm_strided_batched(
                    handle,
                    flag(trans_b),
                    flag(trans_a),
                    ni,
                    mi,
                    ki,
                    &alpha,
                    pb,
                    ldb,
                    b_at.stride as c_longlong,
                    pa,
                    lda,
                    a_at.stride as c_longlong,
                    &beta,
                    pc,
                    ldc,
                    c_at.stride as c_longlong,
                    dim(op, "batch", batch)? as c_int,
                )
            }
        };
        status.map_err(|e| self.err(&format!("{op}: cuBLAS SGEMM"), e))
    }
}

#[cfg(test)]
mod tests {
    use super::Block;

    #[test]
    fn block_check_accepts_an_exact_fit_and_rejects_one_element_short() {
        // 2 matrices of 3x4 at ld 5, stride 20, offset 1: they end at 1 + 20 + 2·5 + 4 = 35.
        let b = Block::new(1, 5).stride(20);
        assert!(b.check("t", "A", (3, 4), 2, 35).is_ok());
        let err = b.check("t", "A", (3, 4), 2, 34).unwrap_err().to_string();
        assert!(
            err.contains("does not fit its buffer of 34 elements"),
            "{err}"
        );
    }

    #[test]
    fn block_check_rejects_a_leading_dimension_shorter_than_a_row() {
        assert!(Block::new(0, 3).check("t", "A", (2, 4), 1, 100).is_err());
    }
}
