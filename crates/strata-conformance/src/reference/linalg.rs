//! Reference matrix products: the triple loop, accumulated in `f64`.

use strata_backend::{BackendError, LinalgOps, MatmulSpec, Result};

use super::{RefBuffer, ReferenceBackend, round};

impl LinalgOps for ReferenceBackend {
    fn matmul(&self, a: &RefBuffer, b: &RefBuffer, spec: MatmulSpec) -> Result<RefBuffer> {
        let zero_bias = vec![0.0; spec.n];
        product("matmul", a, b, &zero_bias, spec)
    }

    fn matmul_bias(
        &self,
        a: &RefBuffer,
        b: &RefBuffer,
        bias: &RefBuffer,
        spec: MatmulSpec,
    ) -> Result<RefBuffer> {
        BackendError::check_len("matmul_bias", spec.n, bias.0.len())?;
        product("matmul_bias", a, b, &bias.0, spec)
    }

    fn sum_rows(&self, x: &RefBuffer, rows: usize, cols: usize) -> Result<RefBuffer> {
        BackendError::check_len("sum_rows", rows * cols, x.0.len())?;
        let out = (0..cols)
            .map(|j| round((0..rows).map(|i| f64::from(x.0[i * cols + j])).sum()))
            .collect();
        Ok(RefBuffer(out))
    }
}

/// Elements an operand of `batch` matrices of `matrix` elements, `stride` apart, must hold.
///
/// Unlike `MatmulSpec::lhs_len` this is defined for an empty batch (nothing to read).
fn operand_len(batch: usize, stride: usize, matrix: usize) -> usize {
    match (batch, stride) {
        (0, _) => 0,
        (_, 0) => matrix,
        _ => stride * (batch - 1) + matrix,
    }
}

/// `C[b] = bias + op(A[b]) · op(B[b])` for every batch entry.
fn product(
    op: &'static str,
    a: &RefBuffer,
    b: &RefBuffer,
    bias: &[f32],
    spec: MatmulSpec,
) -> Result<RefBuffer> {
    let MatmulSpec { batch, m, n, k, .. } = spec;
    BackendError::check_len(op, operand_len(batch, spec.stride_a, m * k), a.0.len())?;
    BackendError::check_len(op, operand_len(batch, spec.stride_b, k * n), b.0.len())?;
    // op(A)[i, p]: A is stored m×k, or k×m when transposed.
    let a_at = |offset: usize, i: usize, p: usize| {
        let flat = if spec.trans_a { p * m + i } else { i * k + p };
        f64::from(a.0[offset + flat])
    };
    // op(B)[p, j]: B is stored k×n, or n×k when transposed.
    let b_at = |offset: usize, p: usize, j: usize| {
        let flat = if spec.trans_b { j * k + p } else { p * n + j };
        f64::from(b.0[offset + flat])
    };
    let mut out = Vec::with_capacity(batch * m * n);
    for entry in 0..batch {
        let (a_offset, b_offset) = (entry * spec.stride_a, entry * spec.stride_b);
        for i in 0..m {
            for (j, &bias_j) in bias.iter().enumerate() {
                let dot: f64 = (0..k)
                    .map(|p| a_at(a_offset, i, p) * b_at(b_offset, p, j))
                    .sum();
                out.push(round(f64::from(bias_j) + dot));
            }
        }
    }
    Ok(RefBuffer(out))
}
