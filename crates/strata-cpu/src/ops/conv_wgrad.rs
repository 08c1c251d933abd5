//! The weight gradient of a stride-1 convolution as register-tiled outer products over a
//! channels-last copy of the input (AVX-512), for inputs whose channel count is a multiple of 16.
//!
//! `dW[o][c][ky][kx] = Σ_n Σ_(oy, ox) dy[n][o][oy][ox] · x[n][c][oy + ky·dh − pt][ox + kx·dw − pl]`.
//! The input is copied once, zero-padded, as `[n][hp][wp][c]`, so for each output position the
//! `c` values a tap meets are one contiguous run of vectors. A register tile holds [`MR`]
//! output channels × up to 3 taps of one kernel row × up to 2 vectors of 16 input channels; per
//! output position it broadcasts [`MR`] values of `dy` (read in place, NCHW) against those
//! vectors. Only real output positions are visited (no padded grid, no lane sums), and each
//! sum runs over the samples and positions in one fixed order whichever thread owns its tile,
//! so the result does not depend on the thread count.
//!
//! The caller falls back to [`super::conv_direct`] for other channel counts, and to im2col +
//! GEMM without AVX-512.

use strata_backend::Conv2dSpec;

use super::conv_direct;
use crate::parallel;

/// Output channels per register tile.
const MR: usize = 4;
/// Taps of one kernel row per register tile, at most.
const TAPS: usize = 3;
/// Vectors of 16 input channels per register tile, at most.
const VECS: usize = 2;
/// Floats per vector.
const LANES: usize = 16;
/// Floats of one tile's partial sums (the largest tile).
const BLOCK: usize = MR * TAPS * VECS * LANES;
/// Floats of channels-last input one pass over the tiles keeps hot (half a 48 KiB L1).
const CHUNK_FLOATS: usize = 6 << 10;

/// Whether [`backward_weight`] computes `spec` on this CPU.
pub(super) fn covers(spec: &Conv2dSpec) -> bool {
    conv_direct::available() && conv_direct::covers(spec) && spec.in_channels.is_multiple_of(LANES)
}

/// The weight gradient `[out][in][kh][kw]` of the stride-1 one-group convolution `spec`, or
/// `None` where [`covers`] says no. Lengths must already be checked.
pub(super) fn backward_weight(x: &[f32], dy: &[f32], spec: &Conv2dSpec) -> Option<Vec<f32>> {
    if !covers(spec) {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        Some(avx512::backward_weight(x, dy, spec))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (x, dy);
        None
    }
}

/// Sizes shared by the driver and the tiles.
#[derive(Clone, Copy)]
struct Shape {
    c: usize,
    oh: usize,
    ow: usize,
    /// Padded input row width.
    wp: usize,
    dil_h: usize,
    dil_w: usize,
    /// Floats of one channels-last padded sample.
    xs_len: usize,
    /// Floats of one sample of `dy`.
    dys_len: usize,
    /// Tiles along the kernel row (`ceil(kw / TAPS)`) and along the channels.
    tap_tiles: usize,
    vec_tiles: usize,
    kh: usize,
    kw: usize,
}

impl Shape {
    fn new(spec: &Conv2dSpec) -> Self {
        let (hp, wp) = (
            spec.in_h + spec.pad_top + spec.pad_bottom,
            spec.in_w + spec.pad_left + spec.pad_right,
        );
        let c = spec.in_channels;
        let (oh, ow) = (spec.out_h(), spec.out_w());
        Shape {
            c,
            oh,
            ow,
            wp,
            dil_h: spec.dilation_h,
            dil_w: spec.dilation_w,
            xs_len: hp * wp * c,
            dys_len: spec.out_channels * oh * ow,
            tap_tiles: spec.kernel_w.div_ceil(TAPS),
            vec_tiles: (c / LANES).div_ceil(VECS),
            kh: spec.kernel_h,
            kw: spec.kernel_w,
        }
    }

    /// Tiles per block of [`MR`] output channels.
    fn tiles_per_row(&self) -> usize {
        self.kh * self.tap_tiles * self.vec_tiles
    }

    /// `(ky, first tap, taps, first vector, vectors)` of tile `t` of a row.
    fn tile(&self, t: usize) -> (usize, usize, usize, usize, usize) {
        let (ky, rest) = (
            t / (self.tap_tiles * self.vec_tiles),
            t % (self.tap_tiles * self.vec_tiles),
        );
        let (tt, vt) = (rest / self.vec_tiles, rest % self.vec_tiles);
        let (t0, v0) = (tt * TAPS, vt * VECS);
        (
            ky,
            t0,
            TAPS.min(self.kw - t0),
            v0,
            VECS.min(self.c / LANES - v0),
        )
    }
}

/// Writes sample `x` (`[c][h][w]`) channels-last and zero-padded into `dst` (`[hp][wp][c]`).
fn to_channels_last(spec: &Conv2dSpec, x: &[f32], dst: &mut [f32]) {
    let (c, h, w) = (spec.in_channels, spec.in_h, spec.in_w);
    let wp = w + spec.pad_left + spec.pad_right;
    dst.fill(0.0);
    for y in 0..h {
        let row = &mut dst[((y + spec.pad_top) * wp + spec.pad_left) * c..][..w * c];
        for (ch, plane) in x.chunks_exact(h * w).enumerate() {
            for (px, &v) in plane[y * w..(y + 1) * w].iter().enumerate() {
                row[px * c + ch] = v;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_storeu_ps,
    };

    use super::*;

    /// A pointer handed to pool workers that only read through it.
    #[derive(Clone, Copy)]
    struct Shared(*const f32);
    // SAFETY: the buffer behind it is only read while the parts that hold it run.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}

    /// [`super::backward_weight`] once AVX-512F and the spec have been checked.
    pub(super) fn backward_weight(x: &[f32], dy: &[f32], spec: &Conv2dSpec) -> Vec<f32> {
        let s = Shape::new(spec);
        let (batch, out) = (spec.batch, spec.out_channels);
        let x_sample = s.c * spec.in_h * spec.in_w;
        let row_tiles = out.div_ceil(MR);
        let unit = s.tiles_per_row() * BLOCK;
        let mut partial = vec![0.0f32; row_tiles * unit];
        // The whole batch channels-last, allocated per call (a thread-local would hold the
        // largest batch's copy for the life of the thread); `to_channels_last` writes all of it.
        let mut xt = vec![0.0f32; batch * s.xs_len];
        let xt = &mut xt[..];
        parallel::for_each_part(xt, s.xs_len, 2 * s.xs_len, |samples, part| {
            for (n, dst) in samples.zip(part.chunks_exact_mut(s.xs_len)) {
                to_channels_last(spec, &x[n * x_sample..][..x_sample], dst);
            }
        });
        let xt = Shared(xt.as_ptr());
        let dyp = Shared(dy.as_ptr());
        let chunk = (CHUNK_FLOATS / s.xs_len).clamp(1, batch.max(1));
        let work = batch * s.oh * s.ow * s.tiles_per_row() * MR * TAPS * VECS;
        parallel::for_each_part(&mut partial, unit, work, |rows, part| {
            let (xt, dyp) = (xt, dyp);
            for n0 in (0..batch).step_by(chunk) {
                let nb = chunk.min(batch - n0);
                for (r, blocks) in rows.clone().zip(part.chunks_exact_mut(unit)) {
                    // Rows past the last output channel repeat it; their sums are dropped.
                    let o_rows: [usize; MR] = std::array::from_fn(|i| (r * MR + i).min(out - 1));
                    for (t, acc) in blocks.chunks_exact_mut(BLOCK).enumerate() {
                        // SAFETY: AVX-512F is present (`covers`). The tile reads samples
                        // `n0..n0 + nb` of `dy` (rows `o_rows`, inside `out`) and of the
                        // channels-last input (positions inside its padded planes, as
                        // `Shape` sizes them), both borrowed for this whole call, and
                        // writes its own block of `partial`.
                        unsafe { run_tile(&s, t, (dyp.0, xt.0), &o_rows, (n0, nb), acc) };
                    }
                }
            }
        });
        let mut dw = vec![0.0f32; out * s.c * s.kh * s.kw];
        let taps = s.kh * s.kw;
        for o in 0..out {
            let (r, i) = (o / MR, o % MR);
            for t in 0..s.tiles_per_row() {
                let (ky, t0, nt, v0, nv) = s.tile(t);
                let acc = &partial[r * unit + t * BLOCK..][..BLOCK];
                for j in 0..nt {
                    for v in 0..nv {
                        let lanes = &acc[((i * TAPS + j) * VECS + v) * LANES..][..LANES];
                        for (l, &val) in lanes.iter().enumerate() {
                            let ch = (v0 + v) * LANES + l;
                            dw[(o * s.c + ch) * taps + ky * s.kw + t0 + j] = val;
                        }
                    }
                }
            }
        }
        dw
    }

    /// Tile `t` of a row of [`MR`] output channels over samples `n0..n0 + nb`.
    ///
    /// # Safety
    /// AVX-512F must be available; `dy` and `xt` must be the whole `dy` and channels-last
    /// input of [`backward_weight`], `o_rows` output channels of `dy`, `n0 + nb` at most the
    /// batch, and `acc` [`BLOCK`] floats.
    #[target_feature(enable = "avx512f")]
    unsafe fn run_tile(
        s: &Shape,
        t: usize,
        (dy, xt): (*const f32, *const f32),
        o_rows: &[usize; MR],
        (n0, nb): (usize, usize),
        acc: &mut [f32],
    ) {
        let (ky, t0, nt, v0, nv) = s.tile(t);
        let plane = s.oh * s.ow;
        let rows: [usize; MR] = std::array::from_fn(|i| o_rows[i] * plane);
        let xoff = (ky * s.dil_h * s.wp + t0 * s.dil_w) * s.c + v0 * LANES;
        let a = acc.as_mut_ptr();
        // SAFETY: as the caller guarantees; each variant reads `nt` taps and `nv` vectors.
        unsafe {
            let (dy, xt) = (dy.add(n0 * s.dys_len), xt.add(n0 * s.xs_len + xoff));
            match (nt, nv) {
                (3, 2) => tile::<3, 2>(s, dy, &rows, xt, nb, a),
                (3, _) => tile::<3, 1>(s, dy, &rows, xt, nb, a),
                (2, 2) => tile::<2, 2>(s, dy, &rows, xt, nb, a),
                (2, _) => tile::<2, 1>(s, dy, &rows, xt, nb, a),
                (_, 2) => tile::<1, 2>(s, dy, &rows, xt, nb, a),
                _ => tile::<1, 1>(s, dy, &rows, xt, nb, a),
            }
        }
    }

    /// `acc[i][j][v] += Σ_n Σ_(oy, ox) dy[n][rows[i] + oy·ow + ox] ·
    /// xt[n][((oy·wp + ox + j·dw)·c + v·16)..]` (lane-wise over 16 channels).
    ///
    /// # Safety
    /// AVX-512F must be available; `dy + rows[i]` must address an output plane of `nb`
    /// samples (`s.dys_len` apart), `xt` the tile's first input vector of `nb` channels-last
    /// samples (`s.xs_len` apart) with every position the taps reach inside them, and `acc`
    /// [`BLOCK`] floats.
    // Index loops: one index addresses the accumulator grid and an operand row together.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile<const T: usize, const V: usize>(
        s: &Shape,
        dy: *const f32,
        rows: &[usize; MR],
        xt: *const f32,
        nb: usize,
        acc: *mut f32,
    ) {
        let at = |i: usize, j: usize, v: usize| ((i * TAPS + j) * VECS + v) * LANES;
        let (c, tap_step) = (s.c, s.dil_w * s.c);
        // SAFETY: every pointer stays inside the operands by the caller's guarantee.
        unsafe {
            let mut sum: [[[__m512; V]; T]; MR] = std::array::from_fn(|i| {
                std::array::from_fn(|j| {
                    std::array::from_fn(|v| _mm512_loadu_ps(acc.add(at(i, j, v))))
                })
            });
            for n in 0..nb {
                let d = dy.add(n * s.dys_len);
                let xs = xt.add(n * s.xs_len);
                for oy in 0..s.oh {
                    let drow: [*const f32; MR] =
                        std::array::from_fn(|i| d.add(rows[i] + oy * s.ow));
                    let xrow = xs.add(oy * s.wp * c);
                    for ox in 0..s.ow {
                        let g: [__m512; MR] =
                            std::array::from_fn(|i| _mm512_set1_ps(*drow[i].add(ox)));
                        let xp = xrow.add(ox * c);
                        for j in 0..T {
                            for v in 0..V {
                                let xv = _mm512_loadu_ps(xp.add(j * tap_step + v * LANES));
                                for i in 0..MR {
                                    sum[i][j][v] = _mm512_fmadd_ps(g[i], xv, sum[i][j][v]);
                                }
                            }
                        }
                    }
                }
            }
            for (i, row) in sum.iter().enumerate() {
                for (j, taps) in row.iter().enumerate() {
                    for (v, val) in taps.iter().enumerate() {
                        _mm512_storeu_ps(acc.add(at(i, j, v)), *val);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain-loop weight gradient (`f64` sums).
    fn naive(s: &Conv2dSpec, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let (c, o, kh, kw) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
        let mut dw = vec![0.0f64; o * c * kh * kw];
        for n in 0..s.batch {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let g = f64::from(dy[((n * o + oc) * oh + oy) * ow + ox]);
                        for ic in 0..c {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy + ky * s.dilation_h) as isize - s.pad_top as isize;
                                    let ix =
                                        (ox + kx * s.dilation_w) as isize - s.pad_left as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= s.in_h as isize
                                        || ix >= s.in_w as isize
                                    {
                                        continue;
                                    }
                                    let xv = x[((n * c + ic) * s.in_h + iy as usize) * s.in_w
                                        + ix as usize];
                                    dw[((oc * c + ic) * kh + ky) * kw + kx] += g * f64::from(xv);
                                }
                            }
                        }
                    }
                }
            }
        }
        dw.into_iter().map(|v| v as f32).collect()
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 41 + seed * 13) % 103) as f32 - 51.0) / 51.0)
            .collect()
    }

    #[test]
    fn channels_last_tiles_match_plain_loops() {
        let base = Conv2dSpec {
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            ..Conv2dSpec::new([3, 32, 9, 11], 7, [3, 3])
        };
        let cases = [
            base,
            // Three channel vectors (a 2 + 1 split), a 5-wide kernel (3 + 2 taps), asymmetric
            // padding, dilation.
            Conv2dSpec {
                in_channels: 48,
                kernel_w: 5,
                pad_left: 2,
                pad_right: 0,
                dilation_h: 2,
                ..base
            },
            Conv2dSpec {
                in_channels: 16,
                kernel_h: 1,
                kernel_w: 1,
                out_channels: 9,
                pad_top: 0,
                ..base
            },
            Conv2dSpec {
                batch: 20,
                in_h: 1,
                kernel_h: 1,
                pad_top: 0,
                pad_bottom: 0,
                ..base
            },
        ];
        for s in cases {
            let Some(dw) =
                backward_weight(&values(s.input_len(), 1), &values(s.output_len(), 2), &s)
            else {
                assert!(!conv_direct::available(), "{s:?} should be covered");
                continue;
            };
            let want = naive(&s, &values(s.input_len(), 1), &values(s.output_len(), 2));
            for (i, (a, b)) in dw.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{s:?} [{i}]: {a} vs {b}"
                );
            }
        }
        assert!(!covers(&Conv2dSpec {
            in_channels: 8,
            ..base
        }));
    }
}
