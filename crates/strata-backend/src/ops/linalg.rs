//! Matrix multiplication.

use crate::{BufferOps, Result};

/// A (batched) matrix product `C[b] = op(A[b]) · op(B[b])` of row-major matrices.
///
/// `op(A)` is `m × k` and `op(B)` is `k × n`; with `trans_a` the buffer `A` holds the
/// `k × m` matrix and is used transposed (likewise `trans_b`), so no layer ever copies to
/// multiply. A batch stride of 0 shares one matrix across the batch (a weight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatmulSpec {
    /// Number of products.
    pub batch: usize,
    /// Rows of `op(A)` and of `C`.
    pub m: usize,
    /// Columns of `op(B)` and of `C`.
    pub n: usize,
    /// Inner dimension.
    pub k: usize,
    /// Use `A` transposed.
    pub trans_a: bool,
    /// Use `B` transposed.
    pub trans_b: bool,
    /// Elements between consecutive `A` matrices (`m·k`, or 0 to broadcast).
    pub stride_a: usize,
    /// Elements between consecutive `B` matrices (`k·n`, or 0 to broadcast).
    pub stride_b: usize,
}

impl MatmulSpec {
    /// A single product `m × k` by `k × n` with no transposes.
    pub fn new(m: usize, n: usize, k: usize) -> Self {
        MatmulSpec {
            batch: 1,
            m,
            n,
            k,
            trans_a: false,
            trans_b: false,
            stride_a: m * k,
            stride_b: k * n,
        }
    }
    /// Elements `A` must hold.
    pub fn lhs_len(&self) -> usize {
        if self.batch == 0 {
            0
        } else if self.stride_a == 0 {
            self.m * self.k
        } else {
            self.stride_a * (self.batch - 1) + self.m * self.k
        }
    }
    /// Elements `B` must hold.
    pub fn rhs_len(&self) -> usize {
        if self.batch == 0 {
            0
        } else if self.stride_b == 0 {
            self.k * self.n
        } else {
            self.stride_b * (self.batch - 1) + self.k * self.n
        }
    }
    /// Elements of the output.
    pub fn out_len(&self) -> usize {
        self.batch * self.m * self.n
    }
}

/// Linear algebra op family.
pub trait LinalgOps: BufferOps {
    /// `C = op(A) · op(B)`, batched as `spec` says.
    fn matmul(&self, a: &Self::Buffer, b: &Self::Buffer, spec: MatmulSpec) -> Result<Self::Buffer>;
    /// `C = op(A) · op(B) + bias`, with `bias` of length `n` added to every row (a dense
    /// layer's forward pass in one GEMM: the bias seeds `C` and the GEMM accumulates onto it).
    fn matmul_bias(
        &self,
        a: &Self::Buffer,
        b: &Self::Buffer,
        bias: &Self::Buffer,
        spec: MatmulSpec,
    ) -> Result<Self::Buffer>;
    /// `out[j] = Σ_i x[i, j]` for `x` of shape `[rows, cols]` (a bias gradient).
    fn sum_rows(&self, x: &Self::Buffer, rows: usize, cols: usize) -> Result<Self::Buffer>;
}
