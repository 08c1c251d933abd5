//! The input gradient of a stride-1 convolution as register-tiled outer products (AVX-512),
//! for inputs whose channel count is a multiple of 16.
//!
//! With `dy` zero-padded by the flipped padding (`(kh − 1)·dh − pad_top` rows above, and so
//! on), `dx[n][c][iy][ix] = Σ_(o, ky, kx) dyp[n][o][iy + ky·dh][ix + kx·dw] ·
//! w[o][c][kh − 1 − ky][kw − 1 − kx]`: the forward convolution of `dy` with the flipped kernel.
//! A register tile holds up to [`POS`] input positions of one row × up to 2 vectors of 16 input
//! channels; for each (output channel, tap) it broadcasts the `dy` value each position meets
//! against the weight vectors of those channels. Every position is a real one (no padded grid),
//! each output element is one fixed sum whichever thread computes its sample, and the tiles
//! are written back to NCHW through a small transposing copy.
//!
//! The caller falls back to [`super::conv_direct`] for other channel counts, and to GEMM
//! without AVX-512.

use std::cell::RefCell;

use strata_backend::Conv2dSpec;

use super::conv_direct;
use crate::parallel;

/// Positions of one row per register tile, at most.
const POS: usize = 14;
/// Vectors of 16 input channels per register tile, at most.
const VECS: usize = 2;
/// Floats per vector.
const LANES: usize = 16;

thread_local! {
    /// One padded sample of `dy`, per thread.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`backward_input`] computes `spec` on this CPU: stride 1, one group, input
/// channels a multiple of 16, padding at most the dilated kernel's reach on every side,
/// 16 input planes addressable with `i32` offsets.
pub(super) fn covers(spec: &Conv2dSpec) -> bool {
    let (eh, ew) = (spec.effective_kernel_h() - 1, spec.effective_kernel_w() - 1);
    conv_direct::available()
        && conv_direct::covers(spec)
        && spec.in_channels.is_multiple_of(LANES)
        && spec.pad_top.max(spec.pad_bottom) <= eh
        && spec.pad_left.max(spec.pad_right) <= ew
        && LANES * spec.in_h * spec.in_w <= i32::MAX as usize
}

/// The input gradient `[n][in][h][w]` of the stride-1 one-group convolution `spec`, or `None`
/// where [`covers`] says no. Lengths must already be checked.
pub(super) fn backward_input(dy: &[f32], w: &[f32], spec: &Conv2dSpec) -> Option<Vec<f32>> {
    if !covers(spec) {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        Some(avx512::backward_input(dy, w, spec))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dy, w);
        None
    }
}

/// Sizes shared by the driver and the tiles.
#[derive(Clone, Copy)]
struct Shape {
    /// Input channels (the vector dimension) and output channels (summed over).
    c: usize,
    o: usize,
    ih: usize,
    iw: usize,
    oh: usize,
    ow: usize,
    /// Padded `dy` plane: row width, floats.
    wp: usize,
    plane: usize,
    /// `dy` rows and columns of padding above and to the left.
    top: usize,
    left: usize,
    /// Taps per output channel (`kh·kw`), channel tiles.
    taps: usize,
    vec_tiles: usize,
}

impl Shape {
    fn new(spec: &Conv2dSpec) -> Self {
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

    /// `(first vector, vectors)` of channel tile `t`.
    fn vec_tile(&self, t: usize) -> (usize, usize) {
        let v0 = t * VECS;
        (v0, VECS.min(self.c / LANES - v0))
    }
}

/// The weight as `[channel tile][o·kh·kw (flipped taps)][vectors·16]`, with the offsets into a
/// padded `dy` sample of each `(o, ky, kx)` row.
fn pack(w: &[f32], spec: &Conv2dSpec, s: &Shape) -> (Vec<f32>, Vec<usize>) {
    let k = s.o * s.taps;
    let mut packed = vec![0.0f32; k * s.c];
    for t in 0..s.vec_tiles {
        let (v0, nv) = s.vec_tile(t);
        let width = nv * LANES;
        let tile = &mut packed[k * v0 * LANES..][..k * width];
        for o in 0..s.o {
            for tap in 0..s.taps {
                // Row `tap` of the flipped kernel is tap `taps − 1 − tap` of the weight.
                let dst = &mut tile[(o * s.taps + tap) * width..][..width];
                for (l, d) in dst.iter_mut().enumerate() {
                    let ch = v0 * LANES + l;
                    *d = w[(o * s.c + ch) * s.taps + s.taps - 1 - tap];
                }
            }
        }
    }
    let mut offs = Vec::with_capacity(k);
    for o in 0..s.o {
        for ky in 0..spec.kernel_h {
            for kx in 0..spec.kernel_w {
                offs.push(o * s.plane + ky * spec.dilation_h * s.wp + kx * spec.dilation_w);
            }
        }
    }
    (packed, offs)
}

/// Copies sample `dy` (`[o][oh][ow]`) into its zero-padded planes `dst` (`[o][hp][wp]`).
fn pad_sample(s: &Shape, dy: &[f32], dst: &mut [f32]) {
    dst.fill(0.0);
    for (src, plane) in dy
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
        _mm512_set1_ps, _mm512_setzero_ps,
    };
    use std::mem::MaybeUninit;

    use super::*;

    pub(super) fn backward_input(dy: &[f32], w: &[f32], spec: &Conv2dSpec) -> Vec<f32> {
        let s = Shape::new(spec);
        let (packed, offs) = pack(w, spec, &s);
        let x_sample = s.c * s.ih * s.iw;
        let dy_sample = s.o * s.oh * s.ow;
        let len = spec.batch * x_sample;
        let mut dx: Vec<f32> = Vec::with_capacity(len);
        let work = 2 * offs.len() * x_sample;
        parallel::for_each_part(
            &mut dx.spare_capacity_mut()[..len],
            x_sample,
            work,
            |samples, part| {
                PADDED.with(|buf| {
                    let mut buf = buf.borrow_mut();
                    if buf.len() < s.o * s.plane {
                        buf.resize(s.o * s.plane, 0.0);
                    }
                    let dyp = &mut buf[..s.o * s.plane];
                    for (n, out) in samples.zip(part.chunks_exact_mut(x_sample)) {
                        pad_sample(&s, &dy[n * dy_sample..][..dy_sample], dyp);
                        // SAFETY: AVX-512F is present (`covers`); `dyp` holds a padded sample,
                        // `packed` and `offs` come from `pack` for this shape.
                        unsafe { sample(&s, &packed, &offs, dyp, out) };
                    }
                });
            },
        );
        // SAFETY: `for_each_part` handed every whole sample to one call (`len` is a multiple
        // of `x_sample`), and `sample` wrote every element of it.
        unsafe { dx.set_len(len) };
        dx
    }

    /// All of one sample's input gradient, `out` as `[c][ih][iw]`.
    ///
    /// # Safety
    /// AVX-512F must be available; `dyp` must hold `s.o·s.plane` floats, `packed` and `offs`
    /// be [`pack`]'s for `s`, and `out` hold `s.c·s.ih·s.iw` elements.
    #[target_feature(enable = "avx512f")]
    unsafe fn sample(
        s: &Shape,
        packed: &[f32],
        offs: &[usize],
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
                        run(np, nv, offs, d, w, (o, plane));
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
    unsafe fn run(
        np: usize,
        nv: usize,
        offs: &[usize],
        d: *const f32,
        w: *const f32,
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

    /// `out[(v·16 + l)·stride + p] = Σ_k d[offs[k] + p] · w[k][v·16 + l]` for `P` positions
    /// and `V` vectors of 16 channels `stride` floats apart (scattered: channels are planes).
    ///
    /// # Safety
    /// AVX-512F must be available; `d + offs[k]` must address `P` floats for every `k`, `w`
    /// `offs.len()` rows of `V·16` floats, `out` the `P` positions of `V·16` planes, and
    /// `15·stride` must fit `i32`.
    #[target_feature(enable = "avx512f")]
    unsafe fn tile<const P: usize, const V: usize>(
        offs: &[usize],
        d: *const f32,
        w: *const f32,
        (out, stride): (*mut f32, usize),
    ) {
        let mut acc = [[_mm512_setzero_ps(); V]; P];
        // SAFETY: every pointer stays inside the operands by the caller's guarantee.
        unsafe {
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

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 43 + seed * 7) % 107) as f32 - 53.0) / 53.0)
            .collect()
    }

    #[test]
    fn outer_product_tiles_match_plain_loops() {
        let base = Conv2dSpec {
            batch: 2,
            in_channels: 32,
            in_h: 9,
            in_w: 31,
            out_channels: 7,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            dilation_h: 1,
            dilation_w: 1,
            groups: 1,
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
        assert!(!covers(&Conv2dSpec {
            in_channels: 8,
            ..base
        }));
        assert!(!covers(&Conv2dSpec {
            pad_left: 3,
            ..base
        }));
    }
}
