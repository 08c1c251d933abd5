//! `C += A · B` for the small products inside a recurrence (a batch of hidden states times a
//! recurrent weight, once per time step), on the calling thread.
//!
//! OpenBLAS packs both operands on every call; for a 32 × 512 × 128 step product that packing
//! is a tenth of the work and is repeated for every step. Here `B` is read in place, row by
//! row (the recurrent layers hand it over already laid out `k × n`, packed once per
//! sequence), and `A` is broadcast element by element, so nothing is copied.
//!
//! Every element of `C` gets the same arithmetic whatever `m` is and whichever rows a call
//! covers: a sum over `p = 0..k` in order, started from zero, then added to `C`. A batch can
//! therefore be cut into row blocks on any number of threads without changing a bit.
//!
//! Kernels, chosen at run time: AVX-512 (6 × 64 tiles, 100-126 GFLOP/s on the LSTM step
//! shapes of a Zen 4 core), else AVX2 + FMA (6 × 16 tiles, 60-70 GFLOP/s there), else a
//! portable loop. The first two fuse each multiply-add and give the same bits; the portable
//! loop rounds the product and the sum separately, so it differs in the last bits (the tests
//! compare every kernel with an f64 product, and check row blocks for each).

/// Columns of `C` one kernel call keeps in registers (four AVX-512 vectors).
const NR: usize = 64;

/// `C[i, j] += Σ_p A[i, p] · B[p, j]` for `i < m`, `j < n`, all row-major with leading
/// dimensions `lda`, `ldb`, `ldc`.
///
/// # Panics
/// When a slice is too short for the dimensions (an internal invariant of the callers).
#[allow(clippy::too_many_arguments)] // the BLAS shape, kept whole so calls read like it
pub(crate) fn gemm_acc(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(a.len() >= (m - 1) * lda + k, "gemm_acc: A too short");
    assert!(b.len() >= (k - 1) * ldb + n, "gemm_acc: B too short");
    assert!(c.len() >= (m - 1) * ldc + n, "gemm_acc: C too short");
    assert!(
        lda >= k && ldb >= n && ldc >= n,
        "gemm_acc: leading dimension too small"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked above) and the asserts keep every element the
        // kernel reads or writes inside the three slices.
        unsafe {
            avx512::gemm_acc(
                m,
                n,
                k,
                a.as_ptr(),
                lda,
                b.as_ptr(),
                ldb,
                c.as_mut_ptr(),
                ldc,
            )
        };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked above) and the asserts keep every element
        // the kernel reads or writes inside the three slices.
        unsafe {
            avx2::gemm_acc(
                m,
                n,
                k,
                a.as_ptr(),
                lda,
                b.as_ptr(),
                ldb,
                c.as_mut_ptr(),
                ldc,
            )
        };
        return;
    }
    gemm_acc_portable((m, n, k), a, lda, b, ldb, c, ldc);
}

crate::simd::multiversion! {
    /// The portable [`gemm_acc`]: per row and block of [`NR`] columns, the sums are built in
    /// a local array (vectorized over the columns) and then added to `C`.
    fn gemm_acc_portable / gemm_acc_portable_baseline(
        mnk: (usize, usize, usize),
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        c: &mut [f32],
        ldc: usize,
    ) {
        let (m, n, k) = mnk;
        for j0 in (0..n).step_by(NR) {
            let nr = NR.min(n - j0);
            for i in 0..m {
                let mut acc = [0.0f32; NR];
                let acc = &mut acc[..nr];
                let arow = &a[i * lda..i * lda + k];
                for (p, &av) in arow.iter().enumerate() {
                    let brow = &b[p * ldb + j0..p * ldb + j0 + nr];
                    for (s, &bv) in acc.iter_mut().zip(brow) {
                        *s += av * bv;
                    }
                }
                let crow = &mut c[i * ldc + j0..i * ldc + j0 + nr];
                for (cv, &s) in crow.iter_mut().zip(acc.iter()) {
                    *cv += s;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512, __mmask16, _mm512_add_ps, _mm512_fmadd_ps, _mm512_mask_storeu_ps,
        _mm512_maskz_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
    };

    use super::NR;

    /// Rows of `C` one kernel call computes: 6 × 4 vectors of sums, 4 of `B` and a broadcast
    /// fill 29 of the 32 registers (4 rows ran at 80 GFLOP/s on the LSTM step shapes, 6 at
    /// 100-120).
    const MR: usize = 6;

    /// The lane masks of the four vectors covering `nr ≤ NR` columns.
    fn masks(nr: usize) -> [__mmask16; 4] {
        std::array::from_fn(|v| {
            let lanes = nr.saturating_sub(16 * v).min(16);
            if lanes == 16 {
                u16::MAX
            } else {
                (1u16 << lanes) - 1
            }
        })
    }

    /// See [`super::gemm_acc`].
    ///
    /// # Safety
    /// The CPU supports AVX-512F; the pointers address row-major matrices of the given
    /// dimensions and leading dimensions (`c` writable), every dimension positive.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_acc(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        for j0 in (0..n).step_by(NR) {
            let mask = masks(NR.min(n - j0));
            let mut i0 = 0;
            // SAFETY (all calls): rows `i0..i0 + rows` and columns `j0..j0 + NR` (lanes
            // beyond `n` masked off) lie inside the caller's matrices.
            unsafe {
                while i0 + MR <= m {
                    tile::<MR>(
                        k,
                        a.add(i0 * lda),
                        lda,
                        b.add(j0),
                        ldb,
                        c.add(i0 * ldc + j0),
                        ldc,
                        mask,
                    );
                    i0 += MR;
                }
                let (a, c) = (a.add(i0 * lda), c.add(i0 * ldc + j0));
                match m - i0 {
                    5 => tile::<5>(k, a, lda, b.add(j0), ldb, c, ldc, mask),
                    4 => tile::<4>(k, a, lda, b.add(j0), ldb, c, ldc, mask),
                    3 => tile::<3>(k, a, lda, b.add(j0), ldb, c, ldc, mask),
                    2 => tile::<2>(k, a, lda, b.add(j0), ldb, c, ldc, mask),
                    1 => tile::<1>(k, a, lda, b.add(j0), ldb, c, ldc, mask),
                    _ => {}
                }
            }
        }
    }

    /// `R` rows × [`NR`] columns of `C += A · B`: the sums stay in `4·R` registers over the
    /// whole `k`, then are added to `C`.
    ///
    /// # Safety
    /// As [`gemm_acc`], for the `R × NR` block at `a`/`b`/`c` with the lanes of `mask` set
    /// being the only columns inside the matrices.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        mask: [__mmask16; 4],
    ) {
        let mut acc: [[__m512; 4]; R] = [[_mm512_setzero_ps(); 4]; R];
        for p in 0..k {
            // Masked-off lanes are not read (AVX-512 masked loads suppress faults), so the
            // addresses past the last column are computed with `wrapping_add`.
            let brow = b.wrapping_add(p * ldb);
            let mut bv = [_mm512_setzero_ps(); 4];
            for (v, slot) in bv.iter_mut().enumerate() {
                // SAFETY: the set lanes of each mask are columns inside `B`'s row `p`.
                *slot = unsafe { _mm512_maskz_loadu_ps(mask[v], brow.wrapping_add(16 * v)) };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                // SAFETY: `A[r, p]` is inside `A` (r < R rows, p < k).
                let av = _mm512_set1_ps(unsafe { *a.add(r * lda + p) });
                for (s, &bq) in row.iter_mut().zip(&bv) {
                    *s = _mm512_fmadd_ps(av, bq, *s);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (v, &s) in row.iter().enumerate() {
                let at = c.wrapping_add(r * ldc + 16 * v);
                // SAFETY: the set lanes are columns inside `C`'s row `r`.
                unsafe {
                    let old = _mm512_maskz_loadu_ps(mask[v], at);
                    _mm512_mask_storeu_ps(at, mask[v], _mm512_add_ps(old, s));
                }
            }
        }
    }
}

/// The AVX2 + FMA kernel for CPUs without AVX-512: the classic 6 × 16 tile (12 vectors of
/// sums, 2 of `B` and a broadcast fill 15 of the 16 registers), the same per-element
/// arithmetic as the AVX-512 kernel.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256, __m256i, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_si256, _mm256_maskload_ps,
        _mm256_maskstore_ps, _mm256_set1_ps, _mm256_setzero_ps,
    };

    /// Rows and columns of `C` one kernel call computes.
    const MR: usize = 6;
    const NR: usize = 16;

    /// The lane masks (all bits set = lane in use) of the two vectors covering `nr ≤ NR`
    /// columns.
    #[target_feature(enable = "avx2")]
    fn masks(nr: usize) -> [__m256i; 2] {
        let lanes: [i32; NR] = std::array::from_fn(|l| if l < nr { -1 } else { 0 });
        // SAFETY: each load reads 8 of the 16 `i32`s of `lanes`.
        unsafe {
            [
                _mm256_loadu_si256(lanes.as_ptr().cast()),
                _mm256_loadu_si256(lanes[8..].as_ptr().cast()),
            ]
        }
    }

    /// See [`super::gemm_acc`].
    ///
    /// # Safety
    /// The CPU supports AVX2 and FMA; the pointers address row-major matrices of the given
    /// dimensions and leading dimensions (`c` writable), every dimension positive.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_acc(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        for j0 in (0..n).step_by(NR) {
            let mask = masks(NR.min(n - j0));
            let mut i0 = 0;
            // SAFETY (all calls): rows `i0..i0 + rows` and columns `j0..j0 + NR` (lanes
            // beyond `n` masked off) lie inside the caller's matrices.
            unsafe {
                let b = b.add(j0);
                while i0 + MR <= m {
                    tile::<MR>(
                        k,
                        a.add(i0 * lda),
                        lda,
                        b,
                        ldb,
                        c.add(i0 * ldc + j0),
                        ldc,
                        mask,
                    );
                    i0 += MR;
                }
                let (a, c) = (a.add(i0 * lda), c.add(i0 * ldc + j0));
                match m - i0 {
                    5 => tile::<5>(k, a, lda, b, ldb, c, ldc, mask),
                    4 => tile::<4>(k, a, lda, b, ldb, c, ldc, mask),
                    3 => tile::<3>(k, a, lda, b, ldb, c, ldc, mask),
                    2 => tile::<2>(k, a, lda, b, ldb, c, ldc, mask),
                    1 => tile::<1>(k, a, lda, b, ldb, c, ldc, mask),
                    _ => {}
                }
            }
        }
    }

    /// `R` rows × [`NR`] columns of `C += A · B`, the sums in `2·R` registers over the whole
    /// `k`, then added to `C`.
    ///
    /// # Safety
    /// As [`gemm_acc`], for the `R × NR` block at `a`/`b`/`c` with the lanes of `mask` set
    /// being the only columns inside the matrices.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        mask: [__m256i; 2],
    ) {
        let mut acc: [[__m256; 2]; R] = [[_mm256_setzero_ps(); 2]; R];
        for p in 0..k {
            // Masked-off lanes are not read (masked loads suppress faults), so the addresses
            // past the last column are computed with `wrapping_add`.
            let brow = b.wrapping_add(p * ldb);
            let mut bv = [_mm256_setzero_ps(); 2];
            for (v, slot) in bv.iter_mut().enumerate() {
                // SAFETY: the set lanes of each mask are columns inside `B`'s row `p`.
                *slot = unsafe { _mm256_maskload_ps(brow.wrapping_add(8 * v), mask[v]) };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                // SAFETY: `A[r, p]` is inside `A` (r < R rows, p < k).
                let av = _mm256_set1_ps(unsafe { *a.add(r * lda + p) });
                for (s, &bq) in row.iter_mut().zip(&bv) {
                    *s = _mm256_fmadd_ps(av, bq, *s);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (v, &s) in row.iter().enumerate() {
                let at = c.wrapping_add(r * ldc + 8 * v);
                // SAFETY: the set lanes are columns inside `C`'s row `r`.
                unsafe {
                    let old = _mm256_maskload_ps(at, mask[v]);
                    _mm256_maskstore_ps(at, mask[v], _mm256_add_ps(old, s));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `C + A · B` in f64, the reference both kernels are held to.
    fn reference(
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        c: &[f32],
        ldc: usize,
    ) -> Vec<f32> {
        let mut out = c.to_vec();
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k)
                    .map(|p| f64::from(a[i * lda + p]) * f64::from(b[p * ldb + j]))
                    .sum();
                out[i * ldc + j] = (f64::from(c[i * ldc + j]) + s) as f32;
            }
        }
        out
    }

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + seed) * 0.731).sin()).collect()
    }

    fn close(got: &[f32], want: &[f32], what: &str) {
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{what}: [{i}] {g} vs {w}"
            );
        }
    }

    /// Shapes with every remainder of rows (1 to 5 past whole tiles of 6), columns not a
    /// multiple of 16 or 64, strided operands.
    const SHAPES: [(usize, usize, usize); 8] = [
        (5, 48, 7),
        (11, 65, 3),
        (1, 1, 1),
        (3, 17, 5),
        (4, 64, 9),
        (7, 100, 33),
        (32, 512, 128),
        (13, 130, 512),
    ];

    #[test]
    fn dispatched_and_portable_kernels_match_an_f64_product() {
        for (m, n, k) in SHAPES {
            let (lda, ldb, ldc) = (k + 3, n + 5, n + 2);
            let a = values(m * lda, 1.0);
            let b = values(k * ldb, 2.0);
            let c0 = values(m * ldc, 3.0);
            let want = reference((m, n, k), &a, lda, &b, ldb, &c0, ldc);
            let mut fast = c0.clone();
            gemm_acc((m, n, k), &a, lda, &b, ldb, &mut fast, ldc);
            close(&fast, &want, &format!("dispatched {m}x{n}x{k}"));
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                let mut avx2 = c0.clone();
                avx2_kernel((m, n, k), &a, lda, &b, ldb, &mut avx2, ldc);
                close(&avx2, &want, &format!("avx2 {m}x{n}x{k}"));
                // Both vector kernels fuse the same multiply-adds in the same order.
                assert_eq!(avx2, fast, "avx2 and dispatched differ {m}x{n}x{k}");
                for i in 0..m {
                    assert_eq!(
                        avx2[i * ldc + n..(i + 1) * ldc],
                        c0[i * ldc + n..(i + 1) * ldc]
                    );
                }
            }
            let mut portable = c0.clone();
            gemm_acc_portable_baseline((m, n, k), &a, lda, &b, ldb, &mut portable, ldc);
            close(&portable, &want, &format!("portable {m}x{n}x{k}"));
            let mut avx2 = c0.clone();
            gemm_acc_portable((m, n, k), &a, lda, &b, ldb, &mut avx2, ldc);
            assert_eq!(avx2, portable, "portable builds differ {m}x{n}x{k}");
            // Padding between rows is never written.
            for i in 0..m {
                assert_eq!(
                    fast[i * ldc + n..(i + 1) * ldc],
                    c0[i * ldc + n..(i + 1) * ldc]
                );
            }
        }
    }

    /// The AVX2 kernel behind the signature of [`gemm_acc`] (the caller checks the CPU).
    #[cfg(target_arch = "x86_64")]
    fn avx2_kernel(
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        c: &mut [f32],
        ldc: usize,
    ) {
        assert!(std::arch::is_x86_feature_detected!("avx2"));
        assert!(std::arch::is_x86_feature_detected!("fma"));
        assert!(a.len() >= (m - 1) * lda + k && b.len() >= (k - 1) * ldb + n);
        assert!(c.len() >= (m - 1) * ldc + n);
        // SAFETY: AVX2 and FMA checked, the slices checked against the dimensions.
        unsafe {
            super::avx2::gemm_acc(
                m,
                n,
                k,
                a.as_ptr(),
                lda,
                b.as_ptr(),
                ldb,
                c.as_mut_ptr(),
                ldc,
            )
        };
    }

    type Kernel = fn((usize, usize, usize), &[f32], usize, &[f32], usize, &mut [f32], usize);

    #[test]
    fn a_row_gets_the_same_bits_in_any_row_block() {
        let (m, n, k) = (11, 70, 40);
        let a = values(m * k, 4.0);
        let b = values(k * n, 5.0);
        let c0 = values(m * n, 6.0);
        let mut kernels: Vec<(&str, Kernel)> = vec![
            ("dispatched", gemm_acc),
            ("portable", gemm_acc_portable_baseline),
        ];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            kernels.push(("avx2", avx2_kernel));
        }
        for (name, kernel) in kernels {
            let mut whole = c0.clone();
            kernel((m, n, k), &a, k, &b, n, &mut whole, n);
            for split in 1..m {
                let mut parts = c0.clone();
                let (top, bottom) = parts.split_at_mut(split * n);
                kernel((split, n, k), &a, k, &b, n, top, n);
                kernel((m - split, n, k), &a[split * k..], k, &b, n, bottom, n);
                assert_eq!(parts, whole, "{name}: split at row {split}");
            }
        }
    }
}
