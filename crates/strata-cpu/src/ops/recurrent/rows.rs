//! Buffers cut and filled by batch rows: the row blocks the time loops run on, the forward
//! workspace, and the small row helpers forward and backward share.

use std::ops::Range;

use super::Dims;
use crate::blas::MIN_FLOPS_PER_PART;

/// `C[r, :] = bias` for each of `rows` rows of width `bias.len()` at leading dimension `ld`.
pub(super) fn fill_rows(c: &mut [f32], rows: usize, ld: usize, bias: &[f32]) {
    for r in 0..rows {
        c[r * ld..r * ld + bias.len()].copy_from_slice(bias);
    }
}

/// The batch rows cut into blocks that run a whole sequence each, one block per thread when
/// the sequence carries enough work. Rows of a batch never interact, and every per-row
/// computation (the step product of [`gemm_acc`](crate::small_gemm::gemm_acc) included) is the same in any block, so the
/// cut changes no result.
pub(super) fn row_blocks(d: &Dims) -> Vec<Range<usize>> {
    let work =
        d.b.saturating_mul(d.t)
            .saturating_mul(d.gh)
            .saturating_mul(d.h);
    let threads = crate::threads::num_threads();
    let parts = (work / MIN_FLOPS_PER_PART).clamp(1, threads.min(d.b.max(1)));
    let per = d.b.div_ceil(parts).max(1);
    (0..d.b.max(1))
        .step_by(per)
        .map(|s| s..(s + per).min(d.b))
        .collect()
}

/// `buf` cut at the row boundaries of `blocks`, `per_row` elements per batch row.
pub(super) fn split_rows<'a>(
    mut buf: &'a mut [f32],
    per_row: usize,
    blocks: &[Range<usize>],
) -> Vec<&'a mut [f32]> {
    blocks
        .iter()
        .map(|r| {
            let (part, rest) = std::mem::take(&mut buf).split_at_mut(r.len() * per_row);
            buf = rest;
            part
        })
        .collect()
}

/// `buf` cut at the row boundaries of `blocks`, `per_row` elements per batch row.
pub(super) fn split_rows_ref<'a>(
    buf: &'a [f32],
    per_row: usize,
    blocks: &[Range<usize>],
) -> Vec<&'a [f32]> {
    blocks
        .iter()
        .map(|r| &buf[r.start * per_row..r.end * per_row])
        .collect()
}

/// Elements per batch row of a buffer of `len` elements over `b` rows.
pub(super) fn per_row(len: usize, b: usize) -> usize {
    len.checked_div(b).unwrap_or(0)
}

/// A new vector of `len` zeros, written by the backend's threads when it is large.
pub(super) fn zeros(len: usize) -> Vec<f32> {
    // SAFETY: the closure writes every element of the part it is given.
    unsafe {
        crate::parallel::fill(len, 1, 1, |_, part| {
            for v in part {
                v.write(0.0);
            }
        })
    }
}

/// A new forward workspace of `len` floats: `bias` repeated over the first `gates_len`
/// (the gate rows, which the input projection then accumulates into), zeros after; written
/// by the backend's threads when it is large.
pub(super) fn workspace(len: usize, gates_len: usize, bias: &[f32]) -> Vec<f32> {
    let width = bias.len().max(1);
    // SAFETY: the closure writes every element of the part it is given: bias values while
    // inside the gate rows, then zeros.
    unsafe {
        crate::parallel::fill(len, 1, 1, |range, part| {
            let mut at = range.start;
            let mut part = part;
            while at < gates_len.min(range.end) {
                let j = at % width;
                let n = (width - j).min(gates_len - at).min(part.len());
                let (head, tail) = std::mem::take(&mut part).split_at_mut(n);
                for (o, &v) in head.iter_mut().zip(&bias[j..j + n]) {
                    o.write(v);
                }
                part = tail;
                at += n;
            }
            for v in part {
                v.write(0.0);
            }
        })
    }
}

/// `W` (`rows × cols`, row-major) transposed into a new `cols × rows` matrix (written in
/// order, read with a stride: cheaper than the reverse).
pub(super) fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols);
    for c in 0..cols {
        out.extend((0..rows).map(|r| w[r * cols + c]));
    }
    out
}

/// `acc[j] += x[j]`.
pub(super) fn add_to(acc: &mut [f32], x: &[f32]) {
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += v;
    }
}

/// `out[j] = Σ_r x[r, j]` over `rows` rows of width `cols`.
pub(super) fn column_sums(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; cols];
    for r in 0..rows {
        for (o, &v) in out.iter_mut().zip(&x[r * cols..(r + 1) * cols]) {
            *o += v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_repeats_the_bias_over_the_gate_rows_then_zeros_on_any_thread_count() {
        let before = crate::threads::num_threads();
        let bias: Vec<f32> = (0..37).map(|j| j as f32 + 1.0).collect();
        let (gates_len, len) = (37 * 7001, 37 * 7001 + 50_003);
        let want: Vec<f32> = (0..len)
            .map(|at| if at < gates_len { bias[at % 37] } else { 0.0 })
            .collect();
        for threads in [1, 2, 3] {
            crate::threads::set_num_threads(threads);
            assert_eq!(workspace(len, gates_len, &bias), want, "{threads} threads");
        }
        crate::threads::set_num_threads(before);
    }
}
