//! Direct stride-1 convolution with AVX-512 register tiles: no column matrix, no OpenBLAS.
//!
//! Each channel plane is copied once into a zero-padded plane of row width `wp = in_w + pad
//! left + pad right`. On that layout the input value a kernel tap `(ky, kx)` meets at output
//! position `(oy, ox)` sits at `q + ky·dh·wp + kx·dw` with `q = oy·wp + ox`: every tap is the
//! same plane read at a constant offset. The kernels therefore run over the `oh × wp` grid of
//! `q` (the `wp − ow` columns past the output width are computed and dropped), 16 positions to a
//! vector, with no gather at all:
//!
//! - [`conv2d`] (the forward, and the input gradient as the convolution of `dy` with the
//!   flipped kernel) keeps a tile of [`MR`] output channels × [`NR`] position vectors in
//!   registers and, for each (input channel, tap), broadcasts [`MR`] weights against [`NR`]
//!   input vectors;
//! - [`backward_weight`] keeps [`MR`] output channels × [`NR`] (input channel, tap) pairs of
//!   16-lane partial sums and runs down the positions of every sample (`dy` laid on the same
//!   grid with zeros in the dropped columns), summing the 16 lanes once at the end.
//!
//! Every output element is computed by one fixed sequence of operations whichever thread
//! runs it, so results do not depend on the thread count. Without AVX-512 (or for strides,
//! groups or shapes these kernels do not cover) the callers fall back to im2col + GEMM.

use std::cell::RefCell;

use strata_backend::Conv2dSpec;

use crate::parallel;

/// Floats per vector.
const LANES: usize = 16;
/// Output channels per register tile.
const MR: usize = 4;
/// Vectors (positions, or (channel, tap) pairs for the weight gradient) per register tile.
const NR: usize = 6;
/// Floats the weight gradient's tile reads per sample chunk: about half of a 48 KiB L1, so a
/// chunk's `dy` rows stay in L1 while the tile walks through the taps.
const CHUNK_FLOATS: usize = 6 << 10;

thread_local! {
    /// One padded input sample and its output grid, per thread.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

#[cfg(test)]
thread_local! {
    /// Set by [`portable_only`]: the direct kernels count as unavailable on this thread.
    static PORTABLE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every direct kernel (this module's, `conv_outer`'s and `conv_wgrad`'s)
/// switched off on the calling thread, so tests can run the portable im2col + GEMM path on a
/// CPU that has AVX-512.
#[cfg(test)]
pub(super) fn portable_only<R>(f: impl FnOnce() -> R) -> R {
    PORTABLE_ONLY.with(|p| p.set(true));
    let r = f();
    PORTABLE_ONLY.with(|p| p.set(false));
    r
}

/// Whether this CPU runs the kernels of this module (and of `conv_outer` and `conv_wgrad`).
pub(super) fn available() -> bool {
    #[cfg(test)]
    if PORTABLE_ONLY.with(std::cell::Cell::get) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether `spec` is a convolution these kernels compute: stride 1, one group, a non-empty
/// output.
pub(super) fn covers(spec: &Conv2dSpec) -> bool {
    spec.stride_h == 1
        && spec.stride_w == 1
        && spec.groups == 1
        && spec.out_h() > 0
        && spec.out_w() > 0
        && spec.in_channels > 0
        && spec.out_channels > 0
}

/// The padded layout of one sample's input planes.
#[derive(Clone, Copy, Debug)]
struct Grid {
    channels: usize,
    in_h: usize,
    in_w: usize,
    pad_top: usize,
    pad_left: usize,
    /// Padded row width.
    wp: usize,
    /// Padded rows.
    hp: usize,
    oh: usize,
    ow: usize,
    /// Vectors covering the `oh × wp` position grid.
    q_vecs: usize,
    /// Floats per padded plane: the padded image, plus room for the last vector's furthest tap.
    plane: usize,
}

impl Grid {
    fn new(spec: &Conv2dSpec) -> Self {
        let wp = spec.in_w + spec.pad_left + spec.pad_right;
        let hp = spec.in_h + spec.pad_top + spec.pad_bottom;
        let (oh, ow) = (spec.out_h(), spec.out_w());
        let q_vecs = (oh * wp).div_ceil(LANES);
        let max_off = (spec.effective_kernel_h() - 1) * wp + spec.effective_kernel_w() - 1;
        let plane = (hp * wp)
            .max(q_vecs * LANES + max_off)
            .next_multiple_of(LANES);
        Grid {
            channels: spec.in_channels,
            in_h: spec.in_h,
            in_w: spec.in_w,
            pad_top: spec.pad_top,
            pad_left: spec.pad_left,
            wp,
            hp,
            oh,
            ow,
            q_vecs,
            plane,
        }
    }

    /// Floats of one padded sample.
    fn sample_len(&self) -> usize {
        self.channels * self.plane
    }

    /// Floats of one output plane on the position grid.
    fn q_len(&self) -> usize {
        self.q_vecs * LANES
    }

    /// Offsets of every (input channel, tap) row, in weight order `(c, ky, kx)`.
    fn tap_offsets(&self, spec: &Conv2dSpec) -> Vec<usize> {
        let mut offs = Vec::with_capacity(self.channels * spec.kernel_h * spec.kernel_w);
        for c in 0..self.channels {
            for ky in 0..spec.kernel_h {
                for kx in 0..spec.kernel_w {
                    offs.push(
                        c * self.plane + ky * spec.dilation_h * self.wp + kx * spec.dilation_w,
                    );
                }
            }
        }
        offs
    }

    /// Copies one sample (`channels × in_h × in_w`) into its padded planes (`sample_len`).
    fn pad_sample(&self, src: &[f32], dst: &mut [f32]) {
        dst.fill(0.0);
        let hw = self.in_h * self.in_w;
        for (c, (plane, img)) in dst
            .chunks_exact_mut(self.plane)
            .zip(src.chunks_exact(hw))
            .enumerate()
        {
            debug_assert!(c < self.channels);
            for (y, row) in img.chunks_exact(self.in_w).enumerate() {
                let at = (y + self.pad_top) * self.wp + self.pad_left;
                plane[at..at + self.in_w].copy_from_slice(row);
            }
        }
        debug_assert!(self.hp * self.wp <= self.plane);
    }
}

/// `w [out][k]` as `[out / MR][k][MR]` (`out` rounded up to MR, the extra rows zero): each
/// register tile's broadcast operand is one contiguous run.
fn pack_weight(w: &[f32], out: usize, k: usize) -> Vec<f32> {
    let out_pad = out.next_multiple_of(MR);
    let mut packed = vec![0.0f32; k * out_pad];
    for (o, row) in w.chunks_exact(k).enumerate().take(out) {
        let tile = &mut packed[(o / MR) * k * MR..][..k * MR];
        for (kk, &v) in row.iter().enumerate() {
            tile[kk * MR + o % MR] = v;
        }
    }
    packed
}

/// The stride-1, one-group convolution `y = conv(x, w) + bias` computed directly, or `None`
/// when this CPU lacks AVX-512 or `spec` is not [`covers`]ed. Lengths must already be checked.
pub(super) fn conv2d(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    spec: &Conv2dSpec,
) -> Option<Vec<f32>> {
    if !available() || !covers(spec) {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        Some(avx512::conv2d(x, w, bias, spec))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (x, w, bias);
        None
    }
}

/// The weight gradient of the stride-1, one-group convolution `spec` computed directly, or
/// `None` as for [`conv2d`].
pub(super) fn backward_weight(x: &[f32], dy: &[f32], spec: &Conv2dSpec) -> Option<Vec<f32>> {
    if !available() || !covers(spec) {
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

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
        _mm512_storeu_ps,
    };
    use std::mem::MaybeUninit;

    use super::*;

    /// A pointer handed to pool workers that only read through it.
    #[derive(Clone, Copy)]
    struct Shared(*const f32);
    // SAFETY: the buffers behind it are only read while the parts that hold it run.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}

    /// [`super::conv2d`] once AVX-512F and the spec have been checked.
    pub(super) fn conv2d(
        x: &[f32],
        w: &[f32],
        bias: Option<&[f32]>,
        spec: &Conv2dSpec,
    ) -> Vec<f32> {
        let grid = Grid::new(spec);
        let offs = grid.tap_offsets(spec);
        let k = offs.len();
        let out = spec.out_channels;
        let out_pad = out.next_multiple_of(MR);
        let packed = pack_weight(w, out, k);
        let (oh, ow) = (grid.oh, grid.ow);
        let y_sample = out * oh * ow;
        let x_sample = spec.in_channels * spec.in_h * spec.in_w;
        let len = spec.batch * y_sample;
        let mut y: Vec<f32> = Vec::with_capacity(len);
        let work = 2 * k * out * oh * ow;
        parallel::for_each_part(
            &mut y.spare_capacity_mut()[..len],
            y_sample,
            work,
            |samples, part| {
                SCRATCH.with(|s| {
                    let (padded, rows) = &mut *s.borrow_mut();
                    let padded = aligned(padded, grid.sample_len());
                    let rows = aligned(rows, out_pad * grid.q_len());
                    for (n, ys) in samples.zip(part.chunks_exact_mut(y_sample)) {
                        grid.pad_sample(&x[n * x_sample..][..x_sample], padded);
                        // SAFETY: AVX-512F is present (checked by the caller); `padded` holds a
                        // padded sample and `rows` `out_pad` grid planes, as `forward_sample` needs.
                        unsafe { forward_sample(&grid, &offs, &packed, out_pad, padded, rows) };
                        write_output(&grid, rows, bias, ys);
                    }
                });
            },
        );
        // SAFETY: `for_each_part` handed every whole sample (`len` is a multiple of
        // `y_sample`) to one call, and `write_output` wrote all its elements.
        unsafe { y.set_len(len) };
        y
    }

    /// The first `len` floats of `v` that start on a 64-byte line (growing `v` as needed), so
    /// the vectors of planes whose length is a multiple of 16 never straddle two lines.
    fn aligned(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
        if v.len() < len + LANES {
            v.resize(len + LANES, 0.0);
        }
        let skip = v.as_ptr().align_offset(LANES * size_of::<f32>()).min(LANES);
        &mut v[skip..skip + len]
    }

    /// Copies the `ow` valid columns of each output row from the grid, adding the bias.
    fn write_output(grid: &Grid, rows: &[f32], bias: Option<&[f32]>, y: &mut [MaybeUninit<f32>]) {
        let plane = grid.oh * grid.ow;
        for (o, dst) in y.chunks_exact_mut(plane).enumerate() {
            let b = bias.map_or(0.0, |b| b[o]);
            let src = &rows[o * grid.q_len()..];
            for (oy, d) in dst.chunks_exact_mut(grid.ow).enumerate() {
                for (d, &v) in d.iter_mut().zip(&src[oy * grid.wp..][..grid.ow]) {
                    d.write(v + b);
                }
            }
        }
    }

    /// All output channels of one padded sample onto the position grid `rows`
    /// (`[out_pad][q_vecs·16]`).
    ///
    /// # Safety
    /// AVX-512F must be available; `padded` must hold `grid.sample_len()` floats, `rows`
    /// `out_pad · grid.q_len()`, `packed` `offs.len() · out_pad`, and every offset plus
    /// `grid.q_len()` must lie inside `padded` (as [`Grid::new`] sizes the planes).
    #[target_feature(enable = "avx512f")]
    unsafe fn forward_sample(
        grid: &Grid,
        offs: &[usize],
        packed: &[f32],
        out_pad: usize,
        padded: &[f32],
        rows: &mut [f32],
    ) {
        let ldo = grid.q_len();
        debug_assert!(packed.len() >= offs.len() * out_pad && rows.len() >= out_pad * ldo);
        debug_assert!(offs.iter().all(|&o| o + ldo <= padded.len()));
        // The vectors split into tiles of nearly equal width (14 = 5 + 5 + 4, not 6 + 6 + 2).
        let tiles = grid.q_vecs.div_ceil(NR);
        let per = grid.q_vecs.div_ceil(tiles);
        for q0 in (0..grid.q_vecs).step_by(per) {
            let nv = per.min(grid.q_vecs - q0);
            for o0 in (0..out_pad).step_by(MR) {
                // SAFETY: the tile reads vectors `q0..q0 + nv` at each offset (inside `padded`
                // by the caller's guarantee), the `offs.len() · MR` weights of tile `o0 / MR`,
                // and writes rows `o0..o0 + MR`, vectors `q0..q0 + nv` of `rows`.
                unsafe {
                    let inp = padded.as_ptr().add(q0 * LANES);
                    let w = packed.as_ptr().add(o0 * offs.len());
                    let out = rows.as_mut_ptr().add(o0 * ldo + q0 * LANES);
                    match nv {
                        6 => fwd_tile::<6>(offs, inp, w, out, ldo),
                        5 => fwd_tile::<5>(offs, inp, w, out, ldo),
                        4 => fwd_tile::<4>(offs, inp, w, out, ldo),
                        3 => fwd_tile::<3>(offs, inp, w, out, ldo),
                        2 => fwd_tile::<2>(offs, inp, w, out, ldo),
                        _ => fwd_tile::<1>(offs, inp, w, out, ldo),
                    }
                }
            }
        }
    }

    /// One register tile of the forward: `out[i][j] = Σ_k w[k][i] · inp[offs[k] + 16j ..]`
    /// for `MR` rows `i` and `N` vectors `j`.
    ///
    /// # Safety
    /// AVX-512F must be available; `w` must address `offs.len() · MR` floats, `inp + offs[k]` `N` vectors for every `k`, and `out` `MR` rows of
    /// `ldo` floats (the first `N` vectors written).
    // Index loops: one index addresses the accumulator grid and an operand row together.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn fwd_tile<const N: usize>(
        offs: &[usize],
        inp: *const f32,
        w: *const f32,
        out: *mut f32,
        ldo: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); N]; MR];
        for (kk, &off) in offs.iter().enumerate() {
            // SAFETY: inside the operands by the caller's guarantee.
            unsafe {
                let b = inp.add(off);
                let a = w.add(kk * MR);
                let a: [__m512; MR] = std::array::from_fn(|i| _mm512_set1_ps(*a.add(i)));
                for j in 0..N {
                    let v = _mm512_loadu_ps(b.add(j * LANES));
                    for i in 0..MR {
                        acc[i][j] = _mm512_fmadd_ps(a[i], v, acc[i][j]);
                    }
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                // SAFETY: row `i`, vector `j` of the output tile.
                unsafe { _mm512_storeu_ps(out.add(i * ldo + j * LANES), *v) };
            }
        }
    }

    /// [`super::backward_weight`] once AVX-512F and the spec have been checked.
    pub(super) fn backward_weight(x: &[f32], dy: &[f32], spec: &Conv2dSpec) -> Vec<f32> {
        let grid = Grid::new(spec);
        let offs = grid.tap_offsets(spec);
        let out = spec.out_channels;
        let out_pad = out.next_multiple_of(MR);
        let (xs_len, dys_len) = (grid.sample_len(), out_pad * grid.q_len());
        // Whole-batch copies, allocated per call (not kept in a thread-local, which would hold
        // the largest batch's copy for the life of the thread).
        let (mut xp_buf, mut dyg_buf) = (Vec::new(), Vec::new());
        let xp = aligned(&mut xp_buf, spec.batch * xs_len);
        let dyg = aligned(&mut dyg_buf, spec.batch * dys_len);
        lay_out(&grid, (x, xp), (dy, dyg), out);
        let partial = partial_sums(&grid, &offs, xp, dyg, out_pad);
        reduce_lanes(&partial, out, offs.len())
    }

    /// Pads every sample of `x` into `xp` (`[n][c][plane]`) and lays `dy` on the position grid
    /// in `dyg` (`[n][out_pad][q_len]`, zero in the dropped columns, the tail and the padding
    /// channels).
    fn lay_out(
        grid: &Grid,
        (x, xp): (&[f32], &mut [f32]),
        (dy, dyg): (&[f32], &mut [f32]),
        out: usize,
    ) {
        let q_len = grid.q_len();
        let (x_sample, dy_plane) = (grid.channels * grid.in_h * grid.in_w, grid.oh * grid.ow);
        let xs_len = grid.sample_len();
        let dys_len = dyg.len() / (xp.len() / xs_len).max(1);
        parallel::for_each_part2(
            (xp, xs_len),
            (dyg, dys_len),
            xs_len + dys_len,
            |samples, xp, dyg| {
                for ((n, xs), dys) in samples
                    .zip(xp.chunks_exact_mut(xs_len))
                    .zip(dyg.chunks_exact_mut(dys_len))
                {
                    grid.pad_sample(&x[n * x_sample..][..x_sample], xs);
                    dys.fill(0.0);
                    let src = &dy[n * out * dy_plane..][..out * dy_plane];
                    for (plane, dst) in src.chunks_exact(dy_plane).zip(dys.chunks_exact_mut(q_len))
                    {
                        for (row, d) in plane.chunks_exact(grid.ow).zip(dst.chunks_mut(grid.wp)) {
                            d[..grid.ow].copy_from_slice(row);
                        }
                    }
                }
            },
        );
    }

    /// The 16-lane partial sums `[out_pad / MR][k_pad / NR][MR][NR][16]` of the weight
    /// gradient, split across threads by row tiles; every sum runs over the samples in order.
    fn partial_sums(
        grid: &Grid,
        offs: &[usize],
        xp: &[f32],
        dyg: &[f32],
        out_pad: usize,
    ) -> Vec<f32> {
        let q_len = grid.q_len();
        let (xs_len, dys_len) = (grid.sample_len(), out_pad * q_len);
        let batch = xp.len() / xs_len;
        debug_assert_eq!(dyg.len(), batch * dys_len);
        let k_pad = offs.len().next_multiple_of(NR);
        let chunk = (CHUNK_FLOATS / (MR * q_len + 2 * grid.plane)).clamp(1, batch.max(1));
        let tile_len = MR * k_pad * LANES;
        let mut partial = vec![0.0f32; out_pad * k_pad * LANES];
        let (xp, dyg) = (Shared(xp.as_ptr()), Shared(dyg.as_ptr()));
        let work = batch * q_len * k_pad * MR / LANES;
        parallel::for_each_part(&mut partial, tile_len, work, |tiles, part| {
            let (xp, dyg) = (xp, dyg);
            for n0 in (0..batch).step_by(chunk) {
                let nb = chunk.min(batch - n0);
                for (t, acc) in tiles.clone().zip(part.chunks_exact_mut(tile_len)) {
                    for (kt, acc) in acc.chunks_exact_mut(MR * NR * LANES).enumerate() {
                        // Taps past the last are computed on tap 0 and never read.
                        let rows: [usize; NR] =
                            std::array::from_fn(|j| offs.get(kt * NR + j).copied().unwrap_or(0));
                        // SAFETY: AVX-512F is present (checked by the caller). The tile reads
                        // samples `n0..n0 + nb` of `dyg` (rows `t·MR..t·MR + MR`, inside
                        // `out_pad`) and of `xp` (each offset plus `q_len` inside a padded
                        // sample, as `Grid::new` sizes it), both borrowed for this whole call,
                        // and writes its own `MR·NR·16` block of `partial`.
                        unsafe {
                            dw_tile(
                                dyg.0.add((n0 * out_pad + t * MR) * q_len),
                                xp.0.add(n0 * xs_len),
                                &rows,
                                (nb, dys_len, xs_len),
                                grid.q_vecs,
                                acc.as_mut_ptr(),
                            )
                        };
                    }
                }
            }
        });
        partial
    }

    /// `dW[o][k]`: the 16 lanes of each partial sum of [`partial_sums`], added in lane order.
    fn reduce_lanes(partial: &[f32], out: usize, k: usize) -> Vec<f32> {
        let tile_len = MR * k.next_multiple_of(NR) * LANES;
        let mut dw = vec![0.0f32; out * k];
        for (o, row) in dw.chunks_exact_mut(k).enumerate() {
            let (t, i) = (o / MR, o % MR);
            for (kk, d) in row.iter_mut().enumerate() {
                let (kt, j) = (kk / NR, kk % NR);
                let at = t * tile_len + ((kt * MR + i) * NR + j) * LANES;
                *d = partial[at..at + LANES].iter().sum();
            }
        }
        dw
    }

    /// One register tile of the weight gradient: for `MR` rows of `dy` and `NR` tap rows of
    /// the padded input, `acc[i][j] += Σ_n Σ_q dy[n][i][q] · x[n][rows[j] + q]` lane-wise
    /// over `q_vecs` vectors of `nb` samples (`(nb, dy sample stride, x sample stride)`).
    ///
    /// # Safety
    /// AVX-512F must be available; `dy` must address `MR` rows of `q_vecs·16` floats per
    /// sample, `x + rows[j]` `q_vecs` vectors per sample, and `acc` `MR·NR·16` floats.
    #[target_feature(enable = "avx512f")]
    unsafe fn dw_tile(
        dy: *const f32,
        x: *const f32,
        rows: &[usize; NR],
        (nb, dy_stride, x_stride): (usize, usize, usize),
        q_vecs: usize,
        acc: *mut f32,
    ) {
        let q_len = q_vecs * LANES;
        // SAFETY: every pointer below stays inside the operands by the caller's guarantee.
        unsafe {
            let mut c: [[__m512; NR]; MR] = std::array::from_fn(|i| {
                std::array::from_fn(|j| _mm512_loadu_ps(acc.add((i * NR + j) * LANES)))
            });
            for n in 0..nb {
                let d = dy.add(n * dy_stride);
                let xs = x.add(n * x_stride);
                for q in (0..q_len).step_by(LANES) {
                    let a: [__m512; MR] =
                        std::array::from_fn(|i| _mm512_loadu_ps(d.add(i * q_len + q)));
                    for j in 0..NR {
                        let v = _mm512_loadu_ps(xs.add(rows[j] + q));
                        for i in 0..MR {
                            c[i][j] = _mm512_fmadd_ps(a[i], v, c[i][j]);
                        }
                    }
                }
            }
            for (i, row) in c.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    _mm512_storeu_ps(acc.add((i * NR + j) * LANES), *v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain-loop convolution (`f64` sums) and its weight gradient, the reference here.
    fn naive(spec: &Conv2dSpec, x: &[f32], w: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let s = spec;
        let (oh, ow) = (s.out_h(), s.out_w());
        let (c, o, kh, kw) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
        let mut y = vec![0.0f64; s.batch * o * oh * ow];
        let mut dw = vec![0.0f64; o * c * kh * kw];
        for n in 0..s.batch {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let yi = ((n * o + oc) * oh + oy) * ow + ox;
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
                                    let xv = f64::from(
                                        x[((n * c + ic) * s.in_h + iy as usize) * s.in_w
                                            + ix as usize],
                                    );
                                    let wi = ((oc * c + ic) * kh + ky) * kw + kx;
                                    y[yi] += f64::from(w[wi]) * xv;
                                    dw[wi] += f64::from(dy[yi]) * xv;
                                }
                            }
                        }
                    }
                }
            }
        }
        let f = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
        (f(y), f(dw))
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 37 + seed * 11) % 101) as f32 - 50.0) / 50.0)
            .collect()
    }

    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: length");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "{what}[{i}]: {x} vs {y}"
            );
        }
    }

    fn spec(batch: usize, c: usize, hw: (usize, usize), o: usize, k: (usize, usize)) -> Conv2dSpec {
        Conv2dSpec::new([batch, c, hw.0, hw.1], o, [k.0, k.1])
    }

    /// Shapes with every tail: channel counts off the 4-row tile, taps off the 6-wide tile,
    /// grids off whole vectors and tiles, asymmetric padding, dilation, 1-row (conv1d) inputs.
    fn cases() -> Vec<Conv2dSpec> {
        let pad = |s: Conv2dSpec, t, b, l, r| Conv2dSpec {
            pad_top: t,
            pad_bottom: b,
            pad_left: l,
            pad_right: r,
            ..s
        };
        vec![
            pad(spec(3, 5, (14, 14), 7, (3, 3)), 1, 1, 1, 1),
            spec(2, 3, (13, 13), 6, (3, 3)),
            pad(spec(2, 2, (9, 11), 5, (2, 3)), 0, 1, 2, 0),
            Conv2dSpec {
                dilation_h: 2,
                dilation_w: 3,
                ..pad(spec(2, 3, (10, 12), 4, (3, 2)), 1, 2, 0, 1)
            },
            pad(spec(4, 6, (1, 37), 9, (1, 5)), 0, 0, 2, 2),
            spec(1, 1, (5, 5), 1, (5, 5)),
            pad(spec(2, 17, (7, 7), 33, (1, 1)), 1, 0, 0, 1),
        ]
    }

    #[test]
    fn direct_kernels_match_plain_loops_on_every_tail() {
        if !available() {
            eprintln!("no AVX-512 on this CPU: the direct kernels are not used here");
            return;
        }
        for s in cases() {
            let x = values(s.input_len(), 1);
            let w = values(s.weight_len(), 2);
            let bias = values(s.out_channels, 3);
            let dy = values(s.output_len(), 4);
            let (y_ref, dw_ref) = naive(&s, &x, &w, &dy);
            let y = conv2d(&x, &w, Some(&bias), &s).expect("covered");
            let y_ref: Vec<f32> = y_ref
                .iter()
                .enumerate()
                .map(|(i, v)| v + bias[(i / (s.out_h() * s.out_w())) % s.out_channels])
                .collect();
            close(&y, &y_ref, &format!("y {s:?}"));
            close(
                &backward_weight(&x, &dy, &s).expect("covered"),
                &dw_ref,
                &format!("dw {s:?}"),
            );
        }
    }

    #[test]
    fn strides_and_groups_are_left_to_the_general_path() {
        let s = spec(1, 4, (6, 6), 4, (3, 3));
        assert!(covers(&s));
        assert!(!covers(&Conv2dSpec { stride_w: 2, ..s }));
        assert!(!covers(&Conv2dSpec { groups: 2, ..s }));
        assert!(!covers(&spec(1, 4, (2, 2), 4, (3, 3))));
    }
}
