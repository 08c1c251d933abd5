//! `MaxPool2d(2)` (2x2 windows at stride 2, no padding), the pooling every small CNN uses,
//! without per-window bookkeeping.
//!
//! Forward: each output row reads two input rows; vector code de-interleaves the input
//! columns into the even and odd taps of 8 (AVX2) or 4 (SSE2) windows and picks the maximum
//! and its offset with compares and selects. Backward: windows do not overlap, so instead of
//! zeroing the input gradient and scattering into it, every input position is written once
//! (the gradient at the window's argmax, zero at the other taps); the rows and columns no
//! window covers (odd sizes) are zeroed. Both follow the general path's rule: the first
//! maximum in row-major order, and a NaN wins over any number. No branch depends on the data
//! (a random argmax position mispredicts half of them).

use std::mem::MaybeUninit;

/// Max and argmax of one plane: `src` is `[h, w]`, `y` and `idx` are `[h / 2, w / 2]`.
/// Indices are plane offsets carried as `f32` (exact below 2^24 positions).
pub(crate) fn forward_plane(src: &[f32], w: usize, y: &mut [f32], idx: &mut [f32]) {
    let ow = w / 2;
    if ow == 0 {
        return;
    }
    for (oy, (yr, ir)) in y
        .chunks_exact_mut(ow)
        .zip(idx.chunks_exact_mut(ow))
        .enumerate()
    {
        let r0 = 2 * oy * w;
        let (top, bottom) = (&src[r0..r0 + w], &src[r0 + w..r0 + 2 * w]);
        let done = forward_row_simd(top, bottom, r0, w, yr, ir);
        forward_row_scalar(top, bottom, r0, w, done, yr, ir);
    }
}

/// Windows `from..` of one output row, one at a time.
fn forward_row_scalar(
    top: &[f32],
    bottom: &[f32],
    r0: usize,
    w: usize,
    from: usize,
    yr: &mut [f32],
    ir: &mut [f32],
) {
    let (r0f, wf) = (r0 as f32, w as f32);
    for ox in from..yr.len() {
        let c = 2 * ox;
        let (mut best, mut off) = (top[c], 0.0f32);
        for (v, o) in [
            (top[c + 1], 1.0),
            (bottom[c], wf),
            (bottom[c + 1], wf + 1.0),
        ] {
            // `|` and `&`, not `||` and `&&`: no branches on data (a random argmax would
            // mispredict them half the time).
            let take = (v > best) | (v.is_nan() & !best.is_nan());
            best = if take { v } else { best };
            off = if take { o } else { off };
        }
        yr[ox] = best;
        ir[ox] = r0f + c as f32 + off;
    }
}

/// The leading windows of one output row in vector registers (8 at a time with AVX2 when the
/// CPU has it, then 4 at a time with SSE2); returns how many it did (0 off x86-64).
fn forward_row_simd(
    top: &[f32],
    bottom: &[f32],
    r0: usize,
    w: usize,
    yr: &mut [f32],
    ir: &mut [f32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let mut done = 0;
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked on the line above.
            done = unsafe { avx2::forward_row(top, bottom, r0, w, yr, ir) };
        }
        // Then 4 windows at a time with SSE2, which every x86-64 CPU has.
        done + sse2::forward_row(
            &top[2 * done..],
            &bottom[2 * done..],
            r0 + 2 * done,
            w,
            &mut yr[done..],
            &mut ir[done..],
        )
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (top, bottom, r0, w, yr, ir);
        0
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// `mask ? a : b` lane by lane (SSE2 has no blend).
    #[inline(always)]
    fn select(mask: __m128, a: __m128, b: __m128) -> __m128 {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe { _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b)) }
    }

    /// De-interleaves 8 floats at `p` into (even, odd) lanes.
    ///
    /// # Safety
    /// `p..p + 8` must be readable.
    #[inline(always)]
    unsafe fn split_even_odd(p: *const f32) -> (__m128, __m128) {
        // SAFETY: the caller guarantees 8 readable floats; SSE2 is baseline.
        unsafe {
            let (a, b) = (_mm_loadu_ps(p), _mm_loadu_ps(p.add(4)));
            (
                _mm_shuffle_ps::<0b10_00_10_00>(a, b),
                _mm_shuffle_ps::<0b11_01_11_01>(a, b),
            )
        }
    }

    /// Windows `0..4·(yr.len() / 4)` of one output row (the same rule as the scalar and AVX2
    /// paths); returns their count.
    pub(super) fn forward_row(
        top: &[f32],
        bottom: &[f32],
        r0: usize,
        w: usize,
        yr: &mut [f32],
        ir: &mut [f32],
    ) -> usize {
        let blocks = yr.len() / 4;
        assert!(top.len() >= 8 * blocks && bottom.len() >= 8 * blocks && ir.len() >= 4 * blocks);
        let wf = w as f32;
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads `c..c + 8` with
        // `c + 8 <= 8·blocks <= len` of `top` and `bottom`, every store writes `4·b..4·b + 4`
        // within `yr` and `ir` (asserted above).
        unsafe {
            let lane_cols = _mm_setr_ps(0.0, 2.0, 4.0, 6.0);
            let (one, down, diag) = (_mm_set1_ps(1.0), _mm_set1_ps(wf), _mm_set1_ps(wf + 1.0));
            for b in 0..blocks {
                let c = 8 * b;
                let (t_even, t_odd) = split_even_odd(top.as_ptr().add(c));
                let (b_even, b_odd) = split_even_odd(bottom.as_ptr().add(c));
                let mut best = t_even;
                let mut off = _mm_setzero_ps();
                for (v, o) in [(t_odd, one), (b_even, down), (b_odd, diag)] {
                    let greater = _mm_cmpgt_ps(v, best);
                    let v_nan = _mm_cmpunord_ps(v, v);
                    let best_num = _mm_cmpord_ps(best, best);
                    let take = _mm_or_ps(greater, _mm_and_ps(v_nan, best_num));
                    best = select(take, v, best);
                    off = select(take, o, off);
                }
                _mm_storeu_ps(yr.as_mut_ptr().add(4 * b), best);
                let base = _mm_add_ps(_mm_set1_ps((r0 + c) as f32), lane_cols);
                _mm_storeu_ps(ir.as_mut_ptr().add(4 * b), _mm_add_ps(base, off));
            }
        }
        4 * blocks
    }

    /// Input gradient of the first `4·(dy.len() / 4)` windows of one output row: each window's
    /// gradient at the tap its index names, zeros at the other three. Returns the number of
    /// windows written and whether every index named one of its window's taps.
    pub(super) fn backward_row(
        dy: &[f32],
        idx: &[f32],
        r0: usize,
        w: usize,
        top: &mut [MaybeUninit<f32>],
        bottom: &mut [MaybeUninit<f32>],
    ) -> (usize, bool) {
        let blocks = dy.len() / 4;
        assert!(idx.len() >= 4 * blocks && top.len() >= 8 * blocks && bottom.len() >= 8 * blocks);
        let wf = w as f32;
        // SAFETY: SSE2 is part of the x86-64 baseline; loads read `4·b..4·b + 4` of `dy` and
        // `idx`, stores write `8·b..8·b + 8` of `top` and `bottom`, all within the lengths
        // asserted above.
        unsafe {
            let lane_cols = _mm_setr_ps(0.0, 2.0, 4.0, 6.0);
            let (zero, one, down, diag) = (
                _mm_setzero_ps(),
                _mm_set1_ps(1.0),
                _mm_set1_ps(wf),
                _mm_set1_ps(wf + 1.0),
            );
            let mut valid = _mm_castsi128_ps(_mm_set1_epi32(-1));
            for b in 0..blocks {
                // `0 + g` as the scatter computes it (a −0.0 gradient lands as +0.0).
                let g = _mm_add_ps(zero, _mm_loadu_ps(dy.as_ptr().add(4 * b)));
                let corner = _mm_add_ps(_mm_set1_ps((r0 + 8 * b) as f32), lane_cols);
                let off = _mm_sub_ps(_mm_loadu_ps(idx.as_ptr().add(4 * b)), corner);
                let taps = [
                    _mm_cmpeq_ps(off, zero),
                    _mm_cmpeq_ps(off, one),
                    _mm_cmpeq_ps(off, down),
                    _mm_cmpeq_ps(off, diag),
                ];
                let any = _mm_or_ps(_mm_or_ps(taps[0], taps[1]), _mm_or_ps(taps[2], taps[3]));
                valid = _mm_and_ps(valid, any);
                let [t_even, t_odd, b_even, b_odd] = taps.map(|m| _mm_and_ps(m, g));
                let (tp, bp) = (
                    top.as_mut_ptr().add(8 * b).cast::<f32>(),
                    bottom.as_mut_ptr().add(8 * b).cast::<f32>(),
                );
                _mm_storeu_ps(tp, _mm_unpacklo_ps(t_even, t_odd));
                _mm_storeu_ps(tp.add(4), _mm_unpackhi_ps(t_even, t_odd));
                _mm_storeu_ps(bp, _mm_unpacklo_ps(b_even, b_odd));
                _mm_storeu_ps(bp.add(4), _mm_unpackhi_ps(b_even, b_odd));
            }
            (4 * blocks, _mm_movemask_ps(valid) == 0b1111)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// De-interleaves 16 floats at `p` into (even, odd) lanes, each in order.
    ///
    /// # Safety
    /// AVX2 must be available and `p..p + 16` readable.
    #[target_feature(enable = "avx2")]
    unsafe fn split_even_odd(p: *const f32) -> (__m256, __m256) {
        // SAFETY: the caller guarantees 16 readable floats and AVX2.
        unsafe {
            let (a, b) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
            // Per 128-bit lane: [a0 a2 b0 b2 | a4 a6 b4 b6]; the 64-bit permute restores order.
            let even = _mm256_shuffle_ps::<0b10_00_10_00>(a, b);
            let odd = _mm256_shuffle_ps::<0b11_01_11_01>(a, b);
            let fix = |v: __m256| {
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)))
            };
            (fix(even), fix(odd))
        }
    }

    /// Windows `0..8·(yr.len() / 8)` of one output row; returns their count.
    ///
    /// # Safety
    /// AVX2 must be available; `top` and `bottom` hold at least `2·yr.len()` floats and `ir`
    /// at least `yr.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn forward_row(
        top: &[f32],
        bottom: &[f32],
        r0: usize,
        w: usize,
        yr: &mut [f32],
        ir: &mut [f32],
    ) -> usize {
        let blocks = yr.len() / 8;
        assert!(top.len() >= 16 * blocks && bottom.len() >= 16 * blocks && ir.len() >= 8 * blocks);
        let wf = w as f32;
        // SAFETY: AVX2 is available (caller); every load reads `c..c + 16` with
        // `c + 16 <= 16·blocks <= len` of `top` and `bottom`, every store writes `8·b..8·b + 8`
        // within `yr` and `ir` (asserted above).
        unsafe {
            let lane_cols = _mm256_setr_ps(0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0);
            let (one, down, diag) = (
                _mm256_set1_ps(1.0),
                _mm256_set1_ps(wf),
                _mm256_set1_ps(wf + 1.0),
            );
            for b in 0..blocks {
                let c = 16 * b;
                let (t_even, t_odd) = split_even_odd(top.as_ptr().add(c));
                let (b_even, b_odd) = split_even_odd(bottom.as_ptr().add(c));
                let mut best = t_even;
                let mut off = _mm256_setzero_ps();
                for (v, o) in [(t_odd, one), (b_even, down), (b_odd, diag)] {
                    let greater = _mm256_cmp_ps::<_CMP_GT_OQ>(v, best);
                    let v_nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v);
                    let best_num = _mm256_cmp_ps::<_CMP_ORD_Q>(best, best);
                    let take = _mm256_or_ps(greater, _mm256_and_ps(v_nan, best_num));
                    best = _mm256_blendv_ps(best, v, take);
                    off = _mm256_blendv_ps(off, o, take);
                }
                _mm256_storeu_ps(yr.as_mut_ptr().add(8 * b), best);
                // (r0 + c) + lane column, then + offset: the scalar path's order of additions.
                let base = _mm256_add_ps(_mm256_set1_ps((r0 + c) as f32), lane_cols);
                _mm256_storeu_ps(ir.as_mut_ptr().add(8 * b), _mm256_add_ps(base, off));
            }
        }
        8 * blocks
    }
}

/// The input gradient of one plane when every index lies in its own window, written in one
/// pass (no zero fill, no scatter): the gradient at each window's argmax, zero at its other
/// taps and at the odd edge rows and columns no window covers. Returns `false` when some
/// index is outside its window (the caller then takes the general scatter path, which reports
/// or handles it); `dx` is then partly written.
pub(crate) fn backward_plane(
    dy: &[f32],
    idx: &[f32],
    h: usize,
    w: usize,
    dx: &mut [MaybeUninit<f32>],
) -> bool {
    let (oh, ow) = (h / 2, w / 2);
    let wf = w as f32;
    let mut valid = true;
    for oy in 0..oh {
        let r0 = 2 * oy * w;
        let (top, rest) = dx[r0..].split_at_mut(w);
        let bottom = &mut rest[..w];
        let (d, ix) = (&dy[oy * ow..(oy + 1) * ow], &idx[oy * ow..(oy + 1) * ow]);
        #[cfg(target_arch = "x86_64")]
        let done = {
            let (done, ok) = sse2::backward_row(d, ix, r0, w, top, bottom);
            valid &= ok;
            done
        };
        #[cfg(not(target_arch = "x86_64"))]
        let done = 0;
        for ox in done..ow {
            let c = 2 * ox;
            // Which of the four taps holds the maximum: the offset of the index from the
            // window's top-left corner, compared exactly. Selects, not branches: the argmax
            // position is random, and branching on it mispredicts half the time.
            let off = ix[ox] - (r0 + c) as f32;
            let taps = [off == 0.0, off == 1.0, off == wf, off == wf + 1.0];
            valid &= taps[0] | taps[1] | taps[2] | taps[3];
            // `0 + g` as the scatter computes it (a −0.0 gradient lands as +0.0).
            let g = 0.0 + d[ox];
            let pick = |t: bool| if t { g } else { 0.0 };
            top[c].write(pick(taps[0]));
            top[c + 1].write(pick(taps[1]));
            bottom[c].write(pick(taps[2]));
            bottom[c + 1].write(pick(taps[3]));
        }
        if !valid {
            return false;
        }
        if w % 2 == 1 {
            top[w - 1].write(0.0);
            bottom[w - 1].write(0.0);
        }
    }
    if h % 2 == 1 {
        for v in &mut dx[(h - 1) * w..h * w] {
            v.write(0.0);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values with ties, NaNs and negative numbers sprinkled in.
    fn plane(h: usize, w: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..h * w)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                match s % 23 {
                    0 => f32::NAN,
                    1..=4 => 1.0, // ties
                    _ => (s % 1000) as f32 / 100.0 - 5.0,
                }
            })
            .collect()
    }

    fn scalar_forward(src: &[f32], h: usize, w: usize) -> (Vec<f32>, Vec<f32>) {
        let (oh, ow) = (h / 2, w / 2);
        let (mut y, mut idx) = (vec![0.0; oh * ow], vec![0.0; oh * ow]);
        for oy in 0..oh {
            let r0 = 2 * oy * w;
            forward_row_scalar(
                &src[r0..r0 + w],
                &src[r0 + w..r0 + 2 * w],
                r0,
                w,
                0,
                &mut y[oy * ow..(oy + 1) * ow],
                &mut idx[oy * ow..(oy + 1) * ow],
            );
        }
        (y, idx)
    }

    #[test]
    fn vector_and_scalar_paths_agree_bit_for_bit_including_nan_and_ties() {
        for (h, w) in [
            (2, 2),
            (4, 16),
            (5, 33),
            (26, 26),
            (11, 11),
            (11, 48),
            (3, 17),
            (4, 10),
        ] {
            for seed in 0..4 {
                let src = plane(h, w, seed);
                let (oh, ow) = (h / 2, w / 2);
                let (mut y, mut idx) = (vec![0.0; oh * ow], vec![0.0; oh * ow]);
                forward_plane(&src, w, &mut y, &mut idx);
                let (ys, is) = scalar_forward(&src, h, w);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&ys), "{h}x{w} seed {seed}");
                assert_eq!(idx, is, "{h}x{w} seed {seed}");
            }
        }
    }

    #[test]
    fn first_maximum_wins_and_nan_propagates() {
        // Window 0: a tie between taps 1 and 2 → tap 1. Window 1: a NaN at tap 3.
        let src = [0.0, 2.0, 1.0, 1.0, 2.0, 0.0, 1.0, f32::NAN];
        let (mut y, mut idx) = ([0.0; 2], [0.0; 2]);
        forward_plane(&src, 4, &mut y, &mut idx);
        assert_eq!(y[0], 2.0);
        assert_eq!(idx, [1.0, 7.0]);
        assert!(y[1].is_nan());
    }

    #[test]
    fn backward_writes_each_gradient_at_its_argmax_and_zero_elsewhere() {
        for (h, w) in [(5, 7), (6, 16), (11, 11), (26, 26)] {
            let src = plane(h, w, 9);
            let (y, idx) = scalar_forward(&src, h, w);
            let dy: Vec<f32> = (1..=y.len()).map(|v| v as f32).collect();
            let mut dx = vec![MaybeUninit::new(f32::NAN); h * w];
            assert!(backward_plane(&dy, &idx, h, w, &mut dx));
            // SAFETY: initialized above (and overwritten by `backward_plane`).
            let dx: Vec<f32> = dx.iter().map(|v| unsafe { v.assume_init() }).collect();
            let mut want = vec![0.0; h * w];
            for (&g, &i) in dy.iter().zip(&idx) {
                want[i as usize] += g;
            }
            assert_eq!(dx, want, "{h}x{w}");
        }
    }

    #[test]
    fn backward_declines_an_index_outside_its_window() {
        let idx = [2.0, 3.0]; // window 0 of a 2x4 plane covers 0, 1, 4, 5
        let mut dx = vec![MaybeUninit::new(0.0); 8];
        assert!(!backward_plane(&[1.0, 1.0], &idx, 2, 4, &mut dx));
        // Also when the stray index is in a vector block (windows 0..4 of a 2x16 plane).
        let mut idx: Vec<f32> = (0..8).map(|o| 2.0 * o as f32).collect();
        idx[2] = 3.0;
        let mut dx = vec![MaybeUninit::new(0.0); 32];
        assert!(!backward_plane(&[1.0; 8], &idx, 2, 16, &mut dx));
        idx[2] = 4.0;
        assert!(backward_plane(&[1.0; 8], &idx, 2, 16, &mut dx));
    }
}
