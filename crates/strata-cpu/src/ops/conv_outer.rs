//! Stride-1 convolutions as register-tiled outer products with the result's channels in
//! the vector lanes (AVX-512): the forward (output channels a multiple of 16) and the input
//! gradient (input channels a multiple of 16).
//!
//! Both are one "direct" convolution of a zero-padded source with a packed kernel:
//! `r[n][c][y][x] = bias[c] + Σ_(s, ky, kx) src_p[n][s][y + ky·dh][x + kx·dw] · k[s][ky][kx][c]`.
//! The forward pads `x` by the spec's padding and uses the weight as is; the input gradient
//! pads `dy` by the flipped padding (`(kh − 1)·dh − pad_top` rows above, and so on) and uses
//! the spatially flipped weight with its channel roles swapped. A register tile holds up to
//! [`POS`] positions of one result row × up to 2 vectors of 16 result channels; for each
//! (source channel, tap) it broadcasts the source value each position meets against the kernel
//! vectors of those channels. Every position is a real one (no padded grid, no lane sums),
//! each result element is one fixed sum whichever thread computes its sample, and the tiles go
//! back to NCHW by scatter stores.
//!
//! The callers fall back to [`super::conv_direct`] or im2col + GEMM for other shapes and
//! without AVX-512.

use std::cell::RefCell;

use strata_backend::Conv2dSpec;

use super::conv_direct;
use crate::parallel;

/// Positions of one row per register tile, at most.
const POS: usize = 14;
/// Vectors of 16 result channels per register tile, at most.
const VECS: usize = 2;
/// Floats per vector.
const LANES: usize = 16;

thread_local! {
    /// One padded source sample, per thread.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`backward_input`] computes `spec` on this CPU: stride 1, one group, input
/// channels a multiple of 16, padding at most the dilated kernel's reach on every side,
/// 16 input planes addressable with `i32` offsets.
pub(super) fn covers_backward_input(spec: &Conv2dSpec) -> bool {
    let (eh, ew) = (spec.effective_kernel_h() - 1, spec.effective_kernel_w() - 1);
    conv_direct::available()
        && conv_direct::covers(spec)
        && spec.in_channels.is_multiple_of(LANES)
        && spec.pad_top.max(spec.pad_bottom) <= eh
        && spec.pad_left.max(spec.pad_right) <= ew
        && LANES * spec.in_h * spec.in_w <= i32::MAX as usize
}

/// Whether [`conv2d`] computes `spec` on this CPU: stride 1, one group, output channels a
/// multiple of 16, 16 output planes addressable with `i32` offsets.
pub(super) fn covers_forward(spec: &Conv2dSpec) -> bool {
    conv_direct::available()
        && conv_direct::covers(spec)
        && spec.out_channels.is_multiple_of(LANES)
        && LANES * spec.out_h() * spec.out_w() <= i32::MAX as usize
}

/// The input gradient `[n][in][h][w]` of the stride-1 one-group convolution `spec`, or `None`
/// where [`covers_backward_input`] says no. Lengths must already be checked.
pub(super) fn backward_input(dy: &[f32], w: &[f32], spec: &Conv2dSpec) -> Option<Vec<f32>> {
    if !covers_backward_input(spec) {
        return None;
    }
    let s = Shape::backward_input(spec);
    let (c, taps) = (spec.in_channels, s.taps);
    // Kernel row `tap` of the flipped convolution is tap `taps − 1 − tap` of the weight.
    let packed = pack(&s, |ch, o, tap| w[(o * c + ch) * taps + taps - 1 - tap]);
    run(&s, dy, &packed, None, spec)
}

/// `conv(x, w) + bias` for the stride-1 one-group convolution `spec`, or `None` where
/// [`covers_forward`] says no. Lengths must already be checked.
pub(super) fn conv2d(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    spec: &Conv2dSpec,
) -> Option<Vec<f32>> {
    if !covers_forward(spec) {
        return None;
    }
    let s = Shape::forward(spec);
    let (c, taps) = (spec.in_channels, s.taps);
    let packed = pack(&s, |o, ch, tap| w[(o * c + ch) * taps + tap]);
    run(&s, x, &packed, bias, spec)
}

/// The direct convolution `s` of `src` with the packed kernel, on the AVX-512 tiles.
#[cfg(target_arch = "x86_64")]
fn run(
    s: &Shape,
    src: &[f32],
    packed: &[f32],
    bias: Option<&[f32]>,
    spec: &Conv2dSpec,
) -> Option<Vec<f32>> {
    let offs = s.offsets(spec);
    Some(avx512::run(s, src, (packed, &offs), bias, spec.batch))
}

/// No AVX-512 tiles off x86-64: the callers fall back.
#[cfg(not(target_arch = "x86_64"))]
fn run(_: &Shape, _: &[f32], _: &[f32], _: Option<&[f32]>, _: &Conv2dSpec) -> Option<Vec<f32>> {
    None
}

/// Sizes of one direct convolution, shared by the driver and the tiles.
#[derive(Clone, Copy)]
struct Shape {
    /// Result channels (the vector dimension) and source channels (summed over).
    c: usize,
    o: usize,
    /// Result rows and columns.
    ih: usize,
    iw: usize,
    /// Source rows and columns (before padding).
    oh: usize,
    ow: usize,
    /// Padded source plane: row width, floats.
    wp: usize,
    plane: usize,
    /// Source rows and columns of padding above and to the left.
    top: usize,
    left: usize,
    /// Taps per source channel (`kh·kw`), channel tiles.
    taps: usize,
    vec_tiles: usize,
}

impl Shape {
    /// The input gradient: `dy` as source, padded by the flipped padding.
    fn backward_input(spec: &Conv2dSpec) -> Self {
        let (eh, ew) = (spec.effective_kernel_h() - 1, spec.effective_kernel_w() - 1);
        let (hp, wp) = (spec.in_h + eh, spec.in_w + ew);
        Shape {
            c: spec.in_channels,
            o: spec.out_channels,
            ih: spec.in_h,
            iw: spec.in_w,
            oh: spec.out_h(),
            ow: spec.out_w(),
            wp,
            plane: hp * wp,
            top: eh - spec.pad_top,
            left: ew - spec.pad_left,
            taps: spec.kernel_h * spec.kernel_w,
            vec_tiles: (spec.in_channels / LANES).div_ceil(VECS),
        }
    }

    /// The forward: `x` as source, padded by the spec's padding.
    fn forward(spec: &Conv2dSpec) -> Self {
        let hp = spec.in_h + spec.pad_top + spec.pad_bottom;
        let wp = spec.in_w + spec.pad_left + spec.pad_right;
        Shape {
            c: spec.out_channels,
            o: spec.in_channels,
            ih: spec.out_h(),
            iw: spec.out_w(),
            oh: spec.in_h,
            ow: spec.in_w,
            wp,
            plane: hp * wp,
            top: spec.pad_top,
            left: spec.pad_left,
            taps: spec.kernel_h * spec.kernel_w,
            vec_tiles: (spec.out_channels / LANES).div_ceil(VECS),
        }
    }

    /// `(first vector, vectors)` of channel tile `t`.
    fn vec_tile(&self, t: usize) -> (usize, usize) {
        let v0 = t * VECS;
        (v0, VECS.min(self.c / LANES - v0))
    }

    /// The offset into a padded source sample of each `(source channel, ky, kx)` row.
    fn offsets(&self, spec: &Conv2dSpec) -> Vec<usize> {
        let mut offs = Vec::with_capacity(self.o * self.taps);
        for o in 0..self.o {
            for ky in 0..spec.kernel_h {
                for kx in 0..spec.kernel_w {
                    offs.push(
                        o * self.plane + ky * spec.dilation_h * self.wp + kx * spec.dilation_w,
                    );
                }
            }
        }
        offs
    }
}

/// The kernel `k(result channel, source channel, tap)` as `[channel tile][source·taps][vectors·16]`.
fn pack(s: &Shape, k: impl Fn(usize, usize, usize) -> f32) -> Vec<f32> {
    let rows = s.o * s.taps;
    let mut packed = vec![0.0f32; rows * s.c];
    for t in 0..s.vec_tiles {
        let (v0, nv) = s.vec_tile(t);
        let width = nv * LANES;
        let tile = &mut packed[rows * v0 * LANES..][..rows * width];
        for o in 0..s.o {
            for tap in 0..s.taps {
                let dst = &mut tile[(o * s.taps + tap) * width..][..width];
                for (l, d) in dst.iter_mut().enumerate() {
                    *d = k(v0 * LANES + l, o, tap);
                }
            }
        }
    }
    packed
}

/// Copies a source sample (`[o][oh][ow]`) into its zero-padded planes `dst` (`[o][hp][wp]`).
fn pad_sample(s: &Shape, src: &[f32], dst: &mut [f32]) {
    dst.fill(0.0);
    for (src, plane) in src
        .chunks_exact(s.oh * s.ow)
        .zip(dst.chunks_exact_mut(s.plane))
    {
        for (y, row) in src.chunks_exact(s.ow).enumerate() {
            let at = (y + s.top) * s.wp + s.left;
            plane[at..at + s.ow].copy_from_slice(row);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_i32scatter_ps, _mm512_loadu_ps, _mm512_loadu_si512,
        _mm512_set1_ps,
    };
    use std::mem::MaybeUninit;

    use super::*;

    /// The direct convolution `s` of every sample of `src`, once AVX-512F has been checked.
    pub(super) fn run(
        s: &Shape,
        src: &[f32],
        (packed, offs): (&[f32], &[usize]),
        bias: Option<&[f32]>,
        batch: usize,
    ) -> Vec<f32> {
        let r_sample = s.c * s.ih * s.iw;
        let src_sample = s.o * s.oh * s.ow;
        let len = batch * r_sample;
        let mut r: Vec<f32> = Vec::with_capacity(len);
        let work = 2 * offs.len() * r_sample;
        let zeros = vec![0.0f32; s.c];
        let bias = bias.unwrap_or(&zeros);
        parallel::for_each_part(
            &mut r.spare_capacity_mut()[..len],
            r_sample,
            work,
            |samples, part| {
                PADDED.with(|buf| {
                    let mut buf = buf.borrow_mut();
                    if buf.len() < s.o * s.plane {
                        buf.resize(s.o * s.plane, 0.0);
                    }
                    let padded = &mut buf[..s.o * s.plane];
                    for (n, out) in samples.zip(part.chunks_exact_mut(r_sample)) {
                        pad_sample(s, &src[n * src_sample..][..src_sample], padded);
                        // SAFETY: AVX-512F is present (checked by the callers' `covers_*`);
                        // `padded` holds a padded sample, `packed` and `offs` come from `pack` and
                        // `Shape::offsets` for this shape, `bias` holds `s.c` floats.
                        unsafe { sample(s, (packed, offs), bias, padded, out) };
                    }
                });
            },
        );
        // SAFETY: `for_each_part` handed every whole sample to one call (`len` is a multiple
        // of `r_sample`), and `sample` wrote every element of it.
        unsafe { r.set_len(len) };
        r
    }

    /// All of one sample's result, `out` as `[c][ih][iw]`.
    ///
    /// # Safety
    /// AVX-512F must be available; `dyp` must hold `s.o·s.plane` floats, `packed` and `offs`
    /// be [`pack`]'s and [`Shape::offsets`]' for `s`, `bias` hold `s.c` floats, and `out`
    /// `s.c·s.ih·s.iw` elements.
    #[target_feature(enable = "avx512f")]
    unsafe fn sample(
        s: &Shape,
        (packed, offs): (&[f32], &[usize]),
        bias: &[f32],
        dyp: &[f32],
        out: &mut [MaybeUninit<f32>],
    ) {
        let k = offs.len();
        let chunks = s.iw.div_ceil(POS);
        let per = s.iw.div_ceil(chunks);
        let plane = s.ih * s.iw;
        for t in 0..s.vec_tiles {
            let (v0, nv) = s.vec_tile(t);
            let w = packed[k * v0 * LANES..][..k * nv * LANES].as_ptr();
            for iy in 0..s.ih {
                for x0 in (0..s.iw).step_by(per) {
                    let np = per.min(s.iw - x0);
                    // SAFETY: the positions `x0..x0 + np` of row `iy` plus any offset stay
                    // inside the padded sample (`hp = ih + (kh−1)·dh`, `wp = iw + (kw−1)·dw`);
                    // `w` addresses `k` rows of `nv` vectors; the tile writes positions
                    // `x0..x0 + np` of row `iy` of channels `v0·16..(v0 + nv)·16` of `out`.
                    unsafe {
                        let d = dyp.as_ptr().add(iy * s.wp + x0);
                        let o = out.as_mut_ptr().cast::<f32>();
                        let o = o.add(v0 * LANES * plane + iy * s.iw + x0);
                        let b = bias.as_ptr().add(v0 * LANES);
                        tiles(np, nv, offs, d, (w, b), (o, plane));
                    }
                }
            }
        }
    }

    /// Dispatches to the tile of `np` positions and `nv` vectors.
    ///
    /// # Safety
    /// As [`tile`].
    #[target_feature(enable = "avx512f")]
    unsafe fn tiles(
        np: usize,
        nv: usize,
        offs: &[usize],
        d: *const f32,
        w: (*const f32, *const f32),
        out: (*mut f32, usize),
    ) {
        macro_rules! by_positions {
            ($v:literal) => {
                match np {
                    14 => tile::<14, $v>(offs, d, w, out),
                    13 => tile::<13, $v>(offs, d, w, out),
                    12 => tile::<12, $v>(offs, d, w, out),
                    11 => tile::<11, $v>(offs, d, w, out),
                    10 => tile::<10, $v>(offs, d, w, out),
                    9 => tile::<9, $v>(offs, d, w, out),
                    8 => tile::<8, $v>(offs, d, w, out),
                    7 => tile::<7, $v>(offs, d, w, out),
                    6 => tile::<6, $v>(offs, d, w, out),
                    5 => tile::<5, $v>(offs, d, w, out),
                    4 => tile::<4, $v>(offs, d, w, out),
                    3 => tile::<3, $v>(offs, d, w, out),
                    2 => tile::<2, $v>(offs, d, w, out),
                    _ => tile::<1, $v>(offs, d, w, out),
                }
            };
        }
        // SAFETY: as the caller guarantees.
        unsafe {
            if nv == 2 {
                by_positions!(2)
            } else {
                by_positions!(1)
            }
        }
    }

    /// `out[(v·16 + l)·stride + p] = bias[v·16 + l] + Σ_k d[offs[k] + p] · w[k][v·16 + l]`
    /// for `P` positions and `V` vectors of 16 channels `stride` floats apart (scattered:
    /// channels are planes).
    ///
    /// # Safety
    /// AVX-512F must be available; `d + offs[k]` must address `P` floats for every `k`, `w`
    /// `offs.len()` rows of `V·16` floats, `bias` `V·16` floats, `out` the `P` positions of
    /// `V·16` planes, and `15·stride` must fit `i32`.
    // Index loops: one index addresses the accumulator grid and an operand row together.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile<const P: usize, const V: usize>(
        offs: &[usize],
        d: *const f32,
        (w, bias): (*const f32, *const f32),
        (out, stride): (*mut f32, usize),
    ) {
        // SAFETY: every pointer stays inside the operands by the caller's guarantee.
        unsafe {
            let b: [__m512; V] = std::array::from_fn(|v| _mm512_loadu_ps(bias.add(v * LANES)));
            let mut acc = [b; P];
            for (kk, &off) in offs.iter().enumerate() {
                let wk = w.add(kk * V * LANES);
                let wv: [__m512; V] = std::array::from_fn(|v| _mm512_loadu_ps(wk.add(v * LANES)));
                let dk = d.add(off);
                for p in 0..P {
                    let g = _mm512_set1_ps(*dk.add(p));
                    for v in 0..V {
                        acc[p][v] = _mm512_fmadd_ps(g, wv[v], acc[p][v]);
                    }
                }
            }
            let lanes: [i32; LANES] = std::array::from_fn(|l| (l * stride) as i32);
            let index = _mm512_loadu_si512(lanes.as_ptr().cast());
            for (p, row) in acc.iter().enumerate() {
                for (v, val) in row.iter().enumerate() {
                    let base = out.add(v * LANES * stride + p);
                    _mm512_i32scatter_ps::<4>(base.cast(), index, *val);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain-loop input gradient (`f64` sums).
    fn naive(s: &Conv2dSpec, dy: &[f32], w: &[f32]) -> Vec<f32> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let (c, o, kh, kw) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
        let mut dx = vec![0.0f64; s.input_len()];
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
                                    let wv = f64::from(w[((oc * c + ic) * kh + ky) * kw + kx]);
                                    dx[((n * c + ic) * s.in_h + iy as usize) * s.in_w
                                        + ix as usize] += g * wv;
                                }
                            }
                        }
                    }
                }
            }
        }
        dx.into_iter().map(|v| v as f32).collect()
    }

    /// The plain-loop forward with bias (`f64` sums).
    fn naive_forward(s: &Conv2dSpec, x: &[f32], w: &[f32], bias: &[f32]) -> Vec<f32> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let (c, o, kh, kw) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
        let mut y = vec![0.0f64; s.output_len()];
        for n in 0..s.batch {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = f64::from(bias[oc]);
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
                                    acc += f64::from(w[((oc * c + ic) * kh + ky) * kw + kx])
                                        * f64::from(xv);
                                }
                            }
                        }
                        y[((n * o + oc) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        y.into_iter().map(|v| v as f32).collect()
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 43 + seed * 7) % 107) as f32 - 53.0) / 53.0)
            .collect()
    }

    #[test]
    fn outer_product_tiles_match_plain_loops() {
        let base = Conv2dSpec {
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            ..Conv2dSpec::new([2, 32, 9, 31], 7, [3, 3])
        };
        let cases = [
            // 31 columns: tiles of 11, 10, 10 positions.
            base,
            // Three channel vectors (2 + 1), a 2x5 dilated kernel, asymmetric padding.
            Conv2dSpec {
                in_channels: 48,
                in_w: 14,
                kernel_h: 2,
                kernel_w: 5,
                pad_left: 3,
                pad_right: 0,
                pad_bottom: 0,
                dilation_w: 2,
                ..base
            },
            // No padding, one row (conv1d), a 1x1 kernel.
            Conv2dSpec {
                in_channels: 16,
                in_h: 1,
                kernel_h: 1,
                kernel_w: 1,
                pad_top: 0,
                pad_bottom: 0,
                pad_left: 0,
                pad_right: 0,
                ..base
            },
            Conv2dSpec {
                pad_top: 0,
                pad_left: 0,
                in_w: 5,
                ..base
            },
        ];
        for s in cases {
            let (dy, w) = (values(s.output_len(), 1), values(s.weight_len(), 2));
            let Some(dx) = backward_input(&dy, &w, &s) else {
                assert!(!conv_direct::available(), "{s:?} should be covered");
                continue;
            };
            let want = naive(&s, &dy, &w);
            assert_eq!(dx.len(), want.len());
            for (i, (a, b)) in dx.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{s:?} [{i}]: {a} vs {b}"
                );
            }
        }
        assert!(!covers_backward_input(&Conv2dSpec {
            in_channels: 8,
            ..base
        }));
        assert!(!covers_backward_input(&Conv2dSpec {
            pad_left: 3,
            ..base
        }));
    }

    #[test]
    fn forward_tiles_match_plain_loops() {
        let base = Conv2dSpec {
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            ..Conv2dSpec::new([2, 5, 9, 30], 32, [3, 3])
        };
        let cases = [
            // 30 output columns: tiles of 10.
            base,
            // Three channel vectors (2 + 1), a dilated 2x5 kernel, padding larger than its
            // reach on one side, no padding on another.
            Conv2dSpec {
                out_channels: 48,
                in_w: 17,
                kernel_h: 2,
                kernel_w: 5,
                pad_left: 0,
                pad_right: 4,
                pad_top: 3,
                dilation_w: 2,
                ..base
            },
            // One input channel (the first layer of a CNN), one row, a 1x1 kernel.
            Conv2dSpec {
                in_channels: 1,
                out_channels: 16,
                in_h: 1,
                kernel_h: 1,
                kernel_w: 1,
                pad_top: 0,
                pad_bottom: 0,
                ..base
            },
        ];
        for s in cases {
            let (x, w, b) = (
                values(s.input_len(), 3),
                values(s.weight_len(), 4),
                values(s.out_channels, 5),
            );
            let Some(y) = conv2d(&x, &w, Some(&b), &s) else {
                assert!(!conv_direct::available(), "{s:?} should be covered");
                continue;
            };
            let want = naive_forward(&s, &x, &w, &b);
            assert_eq!(y.len(), want.len());
            for (i, (a, e)) in y.iter().zip(&want).enumerate() {
                assert!(
                    (a - e).abs() <= 1e-4 * (1.0 + e.abs()),
                    "{s:?} [{i}]: {a} vs {e}"
                );
            }
        }
        assert!(!covers_forward(&Conv2dSpec {
            out_channels: 24,
            ..base
        }));
    }
}
