//! Every matrix product of the backend: `cblas_sgemm` on one OpenBLAS thread per call, with a
//! large product cut into row blocks (or column blocks, when it is wider than tall) that the
//! backend's pool computes side by side.
//!
//! Each block is a complete GEMM over the whole `k`, so it is as fast per flop as the whole
//! product; a block is only split off when it carries at least [`MIN_FLOPS_PER_PART`]
//! multiply-adds, so small products (an LSTM step with a small batch) stay on one thread,
//! and only when every block stays above OpenBLAS's small-matrix limit, so a block gets the
//! same bits as the whole product (see [`Sgemm::run`]'s block choice).

use std::ffi::c_int;

use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE, cblas_sgemm};

/// The least multiply-adds worth a block of its own (about 5 µs of one core).
pub(crate) const MIN_FLOPS_PER_PART: usize = 1 << 18;

/// The most multiply-adds (`m·n·k`) OpenBLAS (0.3.x, x86-64) hands to its small-matrix
/// kernels, which sum in another order than its blocked kernels.
const OPENBLAS_SMALL_MATRIX: usize = 100 * 100 * 100;

/// The operands of one row-major `C = op(A) · op(B) + beta · C` (alpha = 1), as raw parts.
#[derive(Clone, Copy)]
pub(crate) struct Sgemm {
    /// Whether `A` is stored transposed (`k × m`).
    pub trans_a: bool,
    /// Whether `B` is stored transposed (`n × k`).
    pub trans_b: bool,
    /// Rows of `op(A)` and `C`.
    pub m: usize,
    /// Columns of `op(B)` and `C`.
    pub n: usize,
    /// The shared dimension.
    pub k: usize,
    /// Leading dimensions of the stored `A`, `B` and `C`.
    pub lda: usize,
    /// See `lda`.
    pub ldb: usize,
    /// See `lda`.
    pub ldc: usize,
    /// The scale of the existing `C`.
    pub beta: f32,
}

/// A pointer that may cross to a pool worker: the blocks it addresses are disjoint per part.
#[derive(Clone, Copy)]
struct Ptr<T>(T);
// SAFETY: only used for the operands of one `run` call, whose parts write disjoint blocks of
// `C` and only read `A` and `B`; `run` returns after every part has finished.
unsafe impl<T> Send for Ptr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Ptr<T> {}

impl Sgemm {
    /// Computes the product, split across the pool when it is large enough.
    ///
    /// # Safety
    /// `a`, `b` and `c` must address the stored matrices the dimensions and leading
    /// dimensions describe (`c` valid for writes, and initialized when `beta != 0`); every
    /// dimension must be positive and fit `c_int`.
    pub(crate) unsafe fn run(&self, a: *const f32, b: *const f32, c: *mut f32) {
        let by_rows = self.m >= self.n;
        let len = if by_rows { self.m } else { self.n };
        // Column blocks start at multiples of 16 floats (one AVX-512 vector).
        let align = if by_rows { 1 } else { 16 };
        let Some(per) = self.block_len(len, align) else {
            // SAFETY: the caller's guarantees, unchanged.
            unsafe { self.call(a, b, c) };
            return;
        };
        let (a, b, c) = (Ptr(a), Ptr(b), Ptr(c));
        let blocks: Vec<(usize, usize)> = (0..len)
            .step_by(per)
            .map(|start| (start, per.min(len - start)))
            .collect();
        crate::pool::run_parts(blocks, &|(start, size)| {
            let (a, b, c) = (a, b, c);
            let mut block = *self;
            // SAFETY: each block addresses rows (or columns) `start..start + size` of the
            // caller's matrices: inside them, and disjoint in `C` from every other block.
            unsafe {
                if by_rows {
                    block.m = size;
                    let a_at = if self.trans_a {
                        start
                    } else {
                        start * self.lda
                    };
                    block.call(a.0.add(a_at), b.0, c.0.add(start * self.ldc));
                } else {
                    block.n = size;
                    let b_at = if self.trans_b {
                        start * self.ldb
                    } else {
                        start
                    };
                    block.call(a.0, b.0.add(b_at), c.0.add(start));
                }
            }
        });
    }

    /// The length of the blocks `len` rows (or columns) are cut into, or `None` when the
    /// product stays whole.
    ///
    /// Every block, the smallest included, must be above [`OPENBLAS_SMALL_MATRIX`]: below it
    /// OpenBLAS switches to kernels that sum in another order, and an element would get other
    /// bits in a block than in the whole product (so on another thread count).
    fn block_len(&self, len: usize, align: usize) -> Option<usize> {
        let flops = self.m.saturating_mul(self.n).saturating_mul(self.k);
        let per_unit = flops / len.max(1);
        let threads = crate::threads::num_threads();
        let mut parts = (flops / MIN_FLOPS_PER_PART).clamp(1, threads).min(len);
        while parts > 1 {
            let per = len.div_ceil(parts).div_ceil(align) * align;
            let blocks = len.div_ceil(per);
            let smallest = per.min(len - per * (blocks - 1));
            if blocks > 1 && smallest.saturating_mul(per_unit) > OPENBLAS_SMALL_MATRIX {
                return Some(per);
            }
            parts -= 1;
        }
        None
    }

    /// One `cblas_sgemm` call on the calling thread.
    ///
    /// # Safety
    /// As [`Sgemm::run`].
    unsafe fn call(&self, a: *const f32, b: *const f32, c: *mut f32) {
        let flag = |t| {
            if t {
                CBLAS_TRANSPOSE::CblasTrans
            } else {
                CBLAS_TRANSPOSE::CblasNoTrans
            }
        };
        let dim = |v: usize| v as c_int;
        // SAFETY: the caller guarantees the operands and that every dimension fits c_int.
        unsafe {
            cblas_sgemm(
                CBLAS_LAYOUT::CblasRowMajor,
                flag(self.trans_a),
                flag(self.trans_b),
                dim(self.m),
                dim(self.n),
                dim(self.k),
                1.0,
                a,
                dim(self.lda),
                b,
                dim(self.ldb),
                self.beta,
                c,
                dim(self.ldc),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(g: &Sgemm, a: &[f32], b: &[f32], c0: &[f32]) -> Vec<f32> {
        let mut c = c0.to_vec();
        for i in 0..g.m {
            for j in 0..g.n {
                let mut s = 0.0f64;
                for p in 0..g.k {
                    let av = if g.trans_a {
                        a[p * g.lda + i]
                    } else {
                        a[i * g.lda + p]
                    };
                    let bv = if g.trans_b {
                        b[j * g.ldb + p]
                    } else {
                        b[p * g.ldb + j]
                    };
                    s += f64::from(av) * f64::from(bv);
                }
                let at = i * g.ldc + j;
                c[at] = (s + f64::from(g.beta) * f64::from(c0[at])) as f32;
            }
        }
        c
    }

    #[test]
    fn split_products_keep_the_bits_of_the_whole_product() {
        let before = crate::threads::num_threads();
        // Around OpenBLAS's small-matrix limit (45·45·520 just above it, its halves below),
        // and well above it.
        for (m, n, k, trans_a) in [
            (45, 45, 520, true),
            (45, 45, 520, false),
            (64, 37, 500, true),
            (300, 40, 70, false),
            (40, 300, 90, true),
        ] {
            let g = Sgemm {
                trans_a,
                trans_b: false,
                m,
                n,
                k,
                lda: if trans_a { m } else { k },
                ldb: n,
                ldc: n,
                beta: 0.0,
            };
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.91).cos()).collect();
            let product = |threads| {
                crate::threads::set_num_threads(threads);
                let mut c = vec![0.0f32; m * n];
                // SAFETY: the buffers hold exactly what the dimensions describe.
                unsafe { g.run(a.as_ptr(), b.as_ptr(), c.as_mut_ptr()) };
                c.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
            };
            let whole = product(1);
            for threads in [2, 3] {
                assert!(
                    product(threads) == whole,
                    "{m}x{n}x{k} on {threads} threads"
                );
            }
        }
        crate::threads::set_num_threads(before);
    }

    #[test]
    fn split_products_match_a_naive_product_for_every_layout() {
        let before = crate::threads::num_threads();
        crate::threads::set_num_threads(3);
        // Tall (row blocks) and wide (column blocks), big enough to split.
        for (m, n, k) in [(300, 40, 70), (40, 300, 70), (97, 101, 64)] {
            for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
                let g = Sgemm {
                    trans_a,
                    trans_b,
                    m,
                    n,
                    k,
                    lda: if trans_a { m } else { k },
                    ldb: if trans_b { k } else { n },
                    ldc: n + 3, // a C block inside a wider matrix
                    beta: 0.5,
                };
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
                let b: Vec<f32> = (0..n * k).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
                let c0: Vec<f32> = (0..m * g.ldc).map(|i| (i % 3) as f32).collect();
                let mut c = c0.clone();
                // SAFETY: the buffers hold exactly what the dimensions describe.
                unsafe { g.run(a.as_ptr(), b.as_ptr(), c.as_mut_ptr()) };
                assert_eq!(c, naive(&g, &a, &b, &c0), "{m}x{n}x{k} {trans_a} {trans_b}");
            }
        }
        crate::threads::set_num_threads(before);
    }
}
