//! 2-D convolution on the CPU: im2col + one OpenBLAS GEMM per group and batch chunk, and a
//! 1x1 fast path that multiplies the input in place.
//!
//! The general path lays a chunk of samples out as one column matrix `[K, nb·P]` (`K` =
//! channels·kh·kw of a group, `P` = output positions), so each group's forward and
//! input-gradient products are single large GEMMs that split well across threads (the weight
//! gradient is one GEMM per sample on its column block, so `dy` is never gathered), with every
//! transpose given as a flag. The column matrix and the `[out, nb·P]` product live in
//! thread-local scratch buffers grown once, not allocated per call; the chunk size caps them.
//! The 1x1 stride-1 unpadded case needs no columns at all: the input plane of a sample already
//! is the `[C, P]` matrix.
//!
//! Stride-1, one-group convolutions other than the unpadded 1x1 case go first, on a CPU with
//! AVX-512F, to the direct kernels of `conv_outer` (forward, input gradient), `conv_wgrad`
//! (weight gradient) and `conv_direct` (the other channel counts); this path is their portable
//! fallback.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use strata_backend::{BackendError, Conv2dSpec, ConvOps, Result};

use super::{conv_direct, conv_outer, conv_wgrad};
use crate::blas::Sgemm;
use crate::check::blas_dim;
use crate::{CpuBackend, CpuBuffer, parallel};

/// Upper bound on the floats of one chunk's column matrix (16 MiB): large enough that a
/// chunk is one big GEMM, small enough to stay out of swap for big batches.
const COL_LIMIT: usize = 1 << 18;

thread_local! {
    /// Column matrix of the current chunk and group.
    static COLS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The `[out_per_group, nb·P]` product (forward) or gathered gradient (backward).
    static ROWS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the two scratch buffers, each at least the given length (grown, never shrunk).
fn with_scratch<R>(cols: usize, rows: usize, f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    COLS.with(|c| {
        ROWS.with(|r| {
            let (mut c, mut r) = (c.borrow_mut(), r.borrow_mut());
            if c.len() < cols {
                c.resize(cols, 0.0);
            }
            if r.len() < rows {
                r.resize(rows, 0.0);
            }
            f(&mut c[..cols], &mut r[..rows])
        })
    })
}

/// `c = op(a) · op(b) + beta · c`, row-major, `op(a)` `m × k`, `op(b)` `k × n`, with the
/// leading dimension of each stored matrix given (so a column block of a wider matrix works).
#[allow(clippy::too_many_arguments)]
fn gemm(
    (trans_a, trans_b): (bool, bool),
    (m, n, k): (usize, usize, usize),
    (a, lda): (&[f32], usize),
    (b, ldb): (&[f32], usize),
    beta: f32,
    (c, ldc): (&mut [f32], usize),
) -> Result<()> {
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if beta == 0.0 {
            for row in 0..m {
                c[row * ldc..row * ldc + n].fill(0.0);
            }
        }
        return Ok(());
    }
    let (a_rows, a_cols) = if trans_a { (k, m) } else { (m, k) };
    let (b_rows, b_cols) = if trans_b { (n, k) } else { (k, n) };
    // The last element each operand touches, so a short buffer is an error, not a bad read.
    let need = |rows: usize, cols: usize, ld: usize| (rows - 1) * ld + cols;
    if lda < a_cols || ldb < b_cols || ldc < n {
        return Err(BackendError::InvalidArgument {
            op: "conv2d",
            message: "internal GEMM leading dimension smaller than its row".into(),
        });
    }
    if a.len() < need(a_rows, a_cols, lda)
        || b.len() < need(b_rows, b_cols, ldb)
        || c.len() < need(m, n, ldc)
    {
        return Err(BackendError::InvalidArgument {
            op: "conv2d",
            message: "internal GEMM operand shorter than its shape".into(),
        });
    }
    // Dimensions and leading dimensions must fit OpenBLAS's `int`.
    for (name, v) in [
        ("m", m),
        ("n", n),
        ("k", k),
        ("lda", lda),
        ("ldb", ldb),
        ("ldc", ldc),
    ] {
        blas_dim("conv2d", name, v)?;
    }
    let g = Sgemm {
        trans_a,
        trans_b,
        m,
        n,
        k,
        lda,
        ldb,
        ldc,
        beta,
    };
    // SAFETY: every operand was checked above to hold the elements its shape and leading
    // dimension address, all dimensions are positive and fit c_int, and `c` is exclusively
    // borrowed.
    unsafe { g.run(a.as_ptr(), b.as_ptr(), c.as_mut_ptr()) };
    Ok(())
}

/// Derived sizes of a convolution, computed once per call.
#[derive(Clone, Copy)]
struct Geometry {
    spec: Conv2dSpec,
    oh: usize,
    ow: usize,
    /// Output positions per sample.
    p: usize,
    /// Input positions per sample and channel.
    hw: usize,
    /// Input channels per group.
    cg: usize,
    /// Output channels per group.
    og: usize,
    /// Rows of a group's column matrix: `cg · kh · kw`.
    kg: usize,
    /// Samples per chunk.
    nb: usize,
}

impl Geometry {
    fn new(op: &'static str, spec: Conv2dSpec) -> Result<Self> {
        spec.validate(op)?;
        let (oh, ow) = (spec.out_h(), spec.out_w());
        let p = oh * ow;
        let cg = spec.group_in();
        let kg = cg * spec.kernel_h * spec.kernel_w;
        let nb = (COL_LIMIT / (kg * p).max(1)).clamp(1, spec.batch.max(1));
        Ok(Geometry {
            spec,
            oh,
            ow,
            p,
            hw: spec.in_h * spec.in_w,
            cg,
            og: spec.group_out(),
            kg,
            nb,
        })
    }

    /// 1x1, stride 1, no padding: the input plane is the column matrix.
    fn is_pointwise(&self) -> bool {
        let s = &self.spec;
        s.kernel_h == 1
            && s.kernel_w == 1
            && s.stride_h == 1
            && s.stride_w == 1
            && s.pad_top + s.pad_bottom + s.pad_left + s.pad_right == 0
    }

    /// Writes the columns of samples `n0..n0 + nb` (group `g`) into `cols` (`[kg, nb·P]`),
    /// rows in parallel.
    fn im2col(&self, x: &[f32], n0: usize, nb: usize, g: usize, cols: &mut [f32]) {
        let s = &self.spec;
        let ld = nb * self.p;
        let taps = s.kernel_h * s.kernel_w;
        parallel::for_each_part(&mut cols[..self.kg * ld], ld, ld, |rows, part| {
            for (row, dst_row) in rows.zip(part.chunks_exact_mut(ld)) {
                let (c, tap) = (row / taps, row % taps);
                let (ky, kx) = (tap / s.kernel_w, tap % s.kernel_w);
                let dx = (kx * s.dilation_w) as isize - s.pad_left as isize;
                let dy = (ky * s.dilation_h) as isize - s.pad_top as isize;
                for i in 0..nb {
                    let plane = ((n0 + i) * s.in_channels + g * self.cg + c) * self.hw;
                    let src = &x[plane..plane + self.hw];
                    let dst = &mut dst_row[i * self.p..(i + 1) * self.p];
                    self.gather_plane(src, dst, dy, dx);
                }
            }
        });
    }

    /// The output-positions view of one kernel tap: `dst[oy, ox] = src[oy·sh + dy, ox·sw + dx]`
    /// (zero outside the input).
    fn gather_plane(&self, src: &[f32], dst: &mut [f32], dy: isize, dx: isize) {
        let s = &self.spec;
        let (ih, iw) = (s.in_h as isize, s.in_w as isize);
        let (lo, hi) = self.valid_cols(dx);
        for oy in 0..self.oh {
            let iy = (oy * s.stride_h) as isize + dy;
            let out = &mut dst[oy * self.ow..(oy + 1) * self.ow];
            if iy < 0 || iy >= ih {
                out.fill(0.0);
                continue;
            }
            let row = &src[iy as usize * s.in_w..(iy as usize + 1) * s.in_w];
            out[..lo].fill(0.0);
            out[hi..].fill(0.0);
            if lo == hi {
                continue;
            }
            if s.stride_w == 1 {
                let start = (lo as isize + dx) as usize;
                out[lo..hi].copy_from_slice(&row[start..start + (hi - lo)]);
            } else {
                for (ox, o) in out.iter_mut().enumerate().take(hi).skip(lo) {
                    let ix = (ox * s.stride_w) as isize + dx;
                    debug_assert!(ix >= 0 && ix < iw);
                    *o = row[ix as usize];
                }
            }
        }
    }

    /// Adds the columns of `cols` (`[kg, nb·P]`, group `g`) back into `dx` (col2im),
    /// samples in parallel.
    fn col2im(&self, cols: &[f32], n0: usize, nb: usize, g: usize, dxs: &mut [f32]) {
        let s = &self.spec;
        let ld = nb * self.p;
        let sample_len = s.in_channels * self.hw;
        let region = &mut dxs[n0 * sample_len..(n0 + nb) * sample_len];
        parallel::for_each_part(region, sample_len, self.kg * self.p, |samples, part| {
            for (i, sample) in samples.zip(part.chunks_exact_mut(sample_len)) {
                for c in 0..self.cg {
                    let plane = (g * self.cg + c) * self.hw;
                    let dst = &mut sample[plane..plane + self.hw];
                    for ky in 0..s.kernel_h {
                        for kx in 0..s.kernel_w {
                            let row = (c * s.kernel_h + ky) * s.kernel_w + kx;
                            let src = &cols[row * ld + i * self.p..][..self.p];
                            let dx = (kx * s.dilation_w) as isize - s.pad_left as isize;
                            let dy = (ky * s.dilation_h) as isize - s.pad_top as isize;
                            self.scatter_plane(src, dst, dy, dx);
                        }
                    }
                }
            }
        });
    }

    /// The adjoint of [`Geometry::gather_plane`]: `dst[oy·sh + dy, ox·sw + dx] += src[oy, ox]`.
    fn scatter_plane(&self, src: &[f32], dst: &mut [f32], dy: isize, dx: isize) {
        let s = &self.spec;
        let ih = s.in_h as isize;
        let (lo, hi) = self.valid_cols(dx);
        for oy in 0..self.oh {
            let iy = (oy * s.stride_h) as isize + dy;
            if iy < 0 || iy >= ih {
                continue;
            }
            let row = &mut dst[iy as usize * s.in_w..(iy as usize + 1) * s.in_w];
            let inp = &src[oy * self.ow..(oy + 1) * self.ow];
            if lo == hi {
                continue;
            }
            if s.stride_w == 1 {
                let start = (lo as isize + dx) as usize;
                for (d, &v) in row[start..start + (hi - lo)].iter_mut().zip(&inp[lo..hi]) {
                    *d += v;
                }
            } else {
                for (ox, &v) in inp.iter().enumerate().take(hi).skip(lo) {
                    let ix = (ox * s.stride_w) as isize + dx;
                    row[ix as usize] += v;
                }
            }
        }
    }

    /// The output columns `lo..hi` whose input column `ox·sw + dx` lies inside the input.
    fn valid_cols(&self, dx: isize) -> (usize, usize) {
        let (sw, iw) = (self.spec.stride_w as isize, self.spec.in_w as isize);
        // ox·sw + dx ≥ 0  ⇔  ox ≥ ceil(−dx / sw); ox·sw + dx ≤ iw − 1  ⇔  ox ≤ (iw − 1 − dx) / sw.
        let lo = if dx >= 0 { 0 } else { (-dx + sw - 1) / sw };
        let hi = if iw - 1 - dx < 0 {
            0
        } else {
            (iw - 1 - dx) / sw + 1
        };
        let ow = self.ow as isize;
        let lo = lo.clamp(0, ow) as usize;
        let hi = hi.clamp(0, ow) as usize;
        (lo, hi.max(lo))
    }

    /// Copies a chunk's `[og, nb·P]` product of group `g` into the NCHW output, adding the bias.
    fn scatter_output(
        &self,
        rows: &[f32],
        n0: usize,
        nb: usize,
        g: usize,
        bias: Option<&[f32]>,
        y: &mut [MaybeUninit<f32>],
    ) {
        let ld = nb * self.p;
        let sample_len = self.spec.out_channels * self.p;
        let region = &mut y[n0 * sample_len..(n0 + nb) * sample_len];
        // Samples in parallel, each writing its `og` channel planes of group `g`.
        parallel::for_each_part(region, sample_len, 2 * self.og * self.p, |samples, part| {
            for (i, sample) in samples.zip(part.chunks_exact_mut(sample_len)) {
                for o in 0..self.og {
                    let ch = g * self.og + o;
                    let b = bias.map_or(0.0, |b| b[ch]);
                    let dst = &mut sample[ch * self.p..][..self.p];
                    let src = &rows[o * ld + i * self.p..][..self.p];
                    for (d, &s) in dst.iter_mut().zip(src) {
                        d.write(s + b);
                    }
                }
            }
        });
    }

    /// Gathers a chunk's output gradient of group `g` into `[og, nb·P]`.
    fn gather_grad(&self, dy: &[f32], n0: usize, nb: usize, g: usize, rows: &mut [f32]) {
        let ld = nb * self.p;
        let oc = self.spec.out_channels;
        for o in 0..self.og {
            let ch = g * self.og + o;
            for i in 0..nb {
                let src = &dy[((n0 + i) * oc + ch) * self.p..][..self.p];
                rows[o * ld + i * self.p..][..self.p].copy_from_slice(src);
            }
        }
    }

    /// The chunks `(n0, nb)` covering the batch.
    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (batch, nb) = (self.spec.batch, self.nb);
        (0..batch)
            .step_by(nb)
            .map(move |n0| (n0, nb.min(batch - n0)))
    }
}

/// The stride-1 convolution whose output is the input gradient of `spec`: `dy` as input,
/// roles of the channel counts swapped, padding `dilated kernel − 1 − pad` per side (which
/// must not be negative). `None` when `spec` has a stride above 1 or padding that large.
fn flipped_spec(spec: &Conv2dSpec) -> Option<Conv2dSpec> {
    let (eh, ew) = (spec.effective_kernel_h() - 1, spec.effective_kernel_w() - 1);
    if spec.stride_h != 1 || spec.stride_w != 1 {
        return None;
    }
    Some(Conv2dSpec {
        in_channels: spec.out_channels,
        in_h: spec.out_h(),
        in_w: spec.out_w(),
        out_channels: spec.in_channels,
        pad_top: eh.checked_sub(spec.pad_top)?,
        pad_bottom: eh.checked_sub(spec.pad_bottom)?,
        pad_left: ew.checked_sub(spec.pad_left)?,
        pad_right: ew.checked_sub(spec.pad_right)?,
        ..*spec
    })
}

/// `w'[g·cg + c, o, y, x] = w[g·og + o, c, kh − 1 − y, kw − 1 − x]`: the weight of
/// [`flipped_spec`]'s convolution.
fn flip_weight(w: &[f32], spec: &Conv2dSpec) -> Vec<f32> {
    let (cg, og) = (spec.group_in(), spec.group_out());
    let (kh, kw) = (spec.kernel_h, spec.kernel_w);
    let mut out = vec![0.0f32; w.len()];
    for g in 0..spec.groups {
        for o in 0..og {
            for c in 0..cg {
                let src = &w[((g * og + o) * cg + c) * kh * kw..][..kh * kw];
                let dst = &mut out[((g * cg + c) * og + o) * kh * kw..][..kh * kw];
                for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
                    *d = *s;
                }
            }
        }
    }
    out
}

fn check_lengths(op: &'static str, g: &Geometry, x: usize, w: usize, y: usize) -> Result<()> {
    BackendError::check_len(op, g.spec.input_len(), x)?;
    BackendError::check_len(op, g.spec.weight_len(), w)?;
    BackendError::check_len(op, g.spec.batch * g.spec.out_channels * g.p, y)
}

impl ConvOps for CpuBackend {
    fn conv2d(
        &self,
        x: &CpuBuffer,
        w: &CpuBuffer,
        bias: Option<&CpuBuffer>,
        spec: Conv2dSpec,
    ) -> Result<CpuBuffer> {
        let geo = Geometry::new("conv2d", spec)?;
        let out_len = spec.batch * spec.out_channels * geo.p;
        check_lengths("conv2d", &geo, x.len(), w.len(), out_len)?;
        if let Some(b) = bias {
            BackendError::check_len("conv2d", spec.out_channels, b.len())?;
        }
        let (x, w, bias) = (x.as_slice(), w.as_slice(), bias.map(CpuBuffer::as_slice));
        let (og, kg, p) = (geo.og, geo.kg, geo.p);
        if geo.is_pointwise() {
            let mut y = vec![0.0f32; out_len];
            // y[n, g] = W_g · x[n, g], the bias pre-filled and accumulated onto (beta = 1).
            for n in 0..spec.batch {
                for g in 0..spec.groups {
                    let c = &mut y[(n * spec.out_channels + g * og) * p..][..og * p];
                    for (o, row) in c.chunks_exact_mut(p).enumerate() {
                        row.fill(bias.map_or(0.0, |b| b[g * og + o]));
                    }
                    let xs = &x[(n * spec.in_channels + g * geo.cg) * p..][..geo.cg * p];
                    gemm(
                        (false, false),
                        (og, p, kg),
                        (&w[g * og * kg..], kg),
                        (xs, p),
                        1.0,
                        (c, p),
                    )?;
                }
            }
            return Ok(CpuBuffer::from_vec(y));
        }
        if let Some(y) = conv_outer::conv2d(x, w, bias, &spec) {
            return Ok(CpuBuffer::from_vec(y));
        }
        // Not zero-filled: the chunks and groups below write every output once.
        let mut y: Vec<f32> = Vec::with_capacity(out_len);
        let spare = &mut y.spare_capacity_mut()[..out_len];
        with_scratch(kg * geo.nb * p, og * geo.nb * p, |cols, rows| {
            for (n0, nb) in geo.chunks() {
                let ld = nb * p;
                for g in 0..spec.groups {
                    geo.im2col(x, n0, nb, g, cols);
                    gemm(
                        (false, false),
                        (og, ld, kg),
                        (&w[g * og * kg..], kg),
                        (cols, ld),
                        0.0,
                        (rows, ld),
                    )?;
                    geo.scatter_output(rows, n0, nb, g, bias, spare);
                }
            }
            Ok(())
        })?;
        // SAFETY: the chunks cover samples `0..batch` and the groups channels `0..out`, and
        // `scatter_output` wrote all `P` positions of each (sample, channel) plane, so the
        // first `out_len` elements are initialized. (On an error we returned above with the
        // length still 0.)
        unsafe { y.set_len(out_len) };
        Ok(CpuBuffer::from_vec(y))
    }

    fn conv2d_backward_input(
        &self,
        dy: &CpuBuffer,
        w: &CpuBuffer,
        spec: Conv2dSpec,
    ) -> Result<CpuBuffer> {
        let op = "conv2d_backward_input";
        let geo = Geometry::new(op, spec)?;
        check_lengths(op, &geo, spec.input_len(), w.len(), dy.len())?;
        if let Some(flipped) = flipped_spec(&spec).filter(|_| !geo.is_pointwise()) {
            // At stride 1 the input gradient is a convolution of `dy` with the flipped,
            // channel-transposed kernel: computed directly where the CPU can, else a deep GEMM
            // (K = out·kh·kw) with no col2im scatter.
            if let Some(dx) = conv_outer::backward_input(dy.as_slice(), w.as_slice(), &spec) {
                return Ok(CpuBuffer::from_vec(dx));
            }
            let wf = flip_weight(w.as_slice(), &spec);
            if let Some(dx) = conv_direct::conv2d(dy.as_slice(), &wf, None, &flipped) {
                return Ok(CpuBuffer::from_vec(dx));
            }
            return self.conv2d(dy, &CpuBuffer::from_vec(wf), None, flipped);
        }
        let (dy, w) = (dy.as_slice(), w.as_slice());
        let mut dx = vec![0.0f32; spec.input_len()];
        let (og, kg, p) = (geo.og, geo.kg, geo.p);
        if geo.is_pointwise() {
            for n in 0..spec.batch {
                for g in 0..spec.groups {
                    let d = &dy[(n * spec.out_channels + g * og) * p..][..og * p];
                    let c = &mut dx[(n * spec.in_channels + g * geo.cg) * p..][..geo.cg * p];
                    gemm(
                        (true, false),
                        (kg, p, og),
                        (&w[g * og * kg..], kg),
                        (d, p),
                        0.0,
                        (c, p),
                    )?;
                }
            }
            return Ok(CpuBuffer::from_vec(dx));
        }
        with_scratch(kg * geo.nb * p, og * geo.nb * p, |cols, rows| {
            for (n0, nb) in geo.chunks() {
                let ld = nb * p;
                for g in 0..spec.groups {
                    geo.gather_grad(dy, n0, nb, g, rows);
                    gemm(
                        (true, false),
                        (kg, ld, og),
                        (&w[g * og * kg..], kg),
                        (rows, ld),
                        0.0,
                        (cols, ld),
                    )?;
                    geo.col2im(cols, n0, nb, g, &mut dx);
                }
            }
            Ok(())
        })?;
        Ok(CpuBuffer::from_vec(dx))
    }

    fn conv2d_backward_weight(
        &self,
        x: &CpuBuffer,
        dy: &CpuBuffer,
        spec: Conv2dSpec,
    ) -> Result<CpuBuffer> {
        let op = "conv2d_backward_weight";
        let geo = Geometry::new(op, spec)?;
        check_lengths(op, &geo, x.len(), spec.weight_len(), dy.len())?;
        let (x, dy) = (x.as_slice(), dy.as_slice());
        if !geo.is_pointwise() {
            let direct = conv_wgrad::backward_weight(x, dy, &spec)
                .or_else(|| conv_direct::backward_weight(x, dy, &spec));
            if let Some(dw) = direct {
                return Ok(CpuBuffer::from_vec(dw));
            }
        }
        let mut dw = vec![0.0f32; spec.weight_len()];
        let (og, kg, p) = (geo.og, geo.kg, geo.p);
        if geo.is_pointwise() {
            // dW_g += dy[n, g] · x[n, g]ᵀ, accumulated over the batch with beta = 1.
            for n in 0..spec.batch {
                for g in 0..spec.groups {
                    let d = &dy[(n * spec.out_channels + g * og) * p..][..og * p];
                    let xs = &x[(n * spec.in_channels + g * geo.cg) * p..][..geo.cg * p];
                    let c = &mut dw[g * og * kg..][..og * kg];
                    gemm((false, true), (og, kg, p), (d, p), (xs, p), 1.0, (c, kg))?;
                }
            }
            return Ok(CpuBuffer::from_vec(dw));
        }
        // dW_g += dy[n, g] · cols_nᵀ per sample: `dy[n, g]` already is the `[og, P]` operand,
        // and sample n's columns are a column block of the chunk's matrix, so neither side is
        // copied (gathering `dy` into one `[og, nb·P]` matrix for a single GEMM cost more
        // than the GEMM calls it saved).
        let oc = spec.out_channels;
        with_scratch(kg * geo.nb * p, 0, |cols, _| {
            for (n0, nb) in geo.chunks() {
                let ld = nb * p;
                for g in 0..spec.groups {
                    geo.im2col(x, n0, nb, g, cols);
                    let c = &mut dw[g * og * kg..][..og * kg];
                    for i in 0..nb {
                        let d = &dy[((n0 + i) * oc + g * og) * p..][..og * p];
                        gemm(
                            (false, true),
                            (og, kg, p),
                            (d, p),
                            (&cols[i * p..], ld),
                            1.0,
                            (c, kg),
                        )?;
                    }
                }
            }
            Ok(())
        })?;
        Ok(CpuBuffer::from_vec(dw))
    }

    fn conv2d_backward_bias(&self, dy: &CpuBuffer, spec: Conv2dSpec) -> Result<CpuBuffer> {
        let op = "conv2d_backward_bias";
        let p = spec.out_h() * spec.out_w();
        BackendError::check_len(op, spec.batch * spec.out_channels * p, dy.len())?;
        let mut db = vec![0.0f32; spec.out_channels];
        if p > 0 {
            let (dy, oc) = (dy.as_slice(), spec.out_channels);
            // Channels in parallel; each sums its planes in sample order.
            parallel::for_each_part(&mut db, 1, spec.batch * p, |channels, part| {
                for (ch, d) in channels.zip(part) {
                    for n in 0..spec.batch {
                        *d += crate::math::sum(&dy[(n * oc + ch) * p..][..p]);
                    }
                }
            });
        }
        Ok(CpuBuffer::from_vec(db))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(c: usize, h: usize, w: usize, o: usize, k: usize) -> Conv2dSpec {
        Conv2dSpec {
            batch: 1,
            in_channels: c,
            in_h: h,
            in_w: w,
            out_channels: o,
            kernel_h: k,
            kernel_w: k,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_bottom: 0,
            pad_left: 0,
            pad_right: 0,
            dilation_h: 1,
            dilation_w: 1,
            groups: 1,
        }
    }

    #[test]
    fn conv2d_3x3_of_ones_sums_each_window() {
        let cpu = CpuBackend::new();
        let x = CpuBuffer::from_vec((0..16).map(|v| v as f32).collect());
        let w = CpuBuffer::from_vec(vec![1.0; 9]);
        let y = cpu.conv2d(&x, &w, None, spec(1, 4, 4, 1, 3)).unwrap();
        // Windows at (0,0), (0,1), (1,0), (1,1) of the 4x4 ramp 0..16.
        assert_eq!(y.as_slice(), &[45.0, 54.0, 81.0, 90.0]);
    }

    #[test]
    fn conv2d_padding_adds_zeros_around_the_input() {
        let cpu = CpuBackend::new();
        let s = Conv2dSpec {
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            ..spec(1, 2, 2, 1, 3)
        };
        let x = CpuBuffer::from_vec(vec![1.0, 2.0, 3.0, 4.0]);
        let w = CpuBuffer::from_vec(vec![1.0; 9]);
        let y = cpu
            .conv2d(&x, &w, Some(&CpuBuffer::from_vec(vec![0.5])), s)
            .unwrap();
        assert_eq!(y.as_slice(), &[10.5, 10.5, 10.5, 10.5]);
    }

    #[test]
    fn conv2d_pointwise_is_a_channel_mix() {
        let cpu = CpuBackend::new();
        // Two channels of two pixels, one output channel = 2·c0 − c1.
        let x = CpuBuffer::from_vec(vec![1.0, 2.0, 10.0, 20.0]);
        let w = CpuBuffer::from_vec(vec![2.0, -1.0]);
        let y = cpu.conv2d(&x, &w, None, spec(2, 1, 2, 1, 1)).unwrap();
        assert_eq!(y.as_slice(), &[-8.0, -16.0]);
    }

    #[test]
    fn conv2d_backward_bias_sums_each_channel() {
        let cpu = CpuBackend::new();
        let s = Conv2dSpec {
            batch: 2,
            ..spec(1, 2, 2, 2, 1)
        };
        let dy = CpuBuffer::from_vec((0..16).map(|v| v as f32).collect());
        let db = cpu.conv2d_backward_bias(&dy, s).unwrap();
        assert_eq!(db.as_slice(), &[44.0, 76.0]);
    }

    /// The direct AVX-512 kernels and the portable im2col + GEMM path agree on every stride-1
    /// shape family they split on: channel counts on and off multiples of 16, padding, dilation,
    /// an asymmetric kernel, and a shape the flipped input gradient cannot take.
    #[test]
    fn direct_kernels_and_portable_path_agree() {
        let cpu = CpuBackend::new();
        let base = Conv2dSpec {
            batch: 3,
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            ..spec(32, 9, 10, 16, 3)
        };
        let cases = [
            base,
            Conv2dSpec {
                in_channels: 5,
                out_channels: 7,
                ..base
            },
            Conv2dSpec {
                in_channels: 16,
                out_channels: 48,
                dilation_w: 2,
                pad_right: 2,
                ..base
            },
            Conv2dSpec {
                kernel_h: 1,
                kernel_w: 5,
                pad_top: 0,
                pad_bottom: 0,
                ..base
            },
            // Padding past the dilated kernel's reach: no flipped convolution for dx.
            Conv2dSpec {
                kernel_h: 2,
                kernel_w: 2,
                pad_top: 2,
                ..base
            },
        ];
        let values = |n: usize, seed: usize| -> CpuBuffer {
            CpuBuffer::from_vec(
                (0..n)
                    .map(|i| (((i * 29 + seed * 13) % 89) as f32 - 44.0) / 44.0)
                    .collect(),
            )
        };
        let run = |s: Conv2dSpec| {
            let (x, w, b, dy) = (
                values(s.input_len(), 1),
                values(s.weight_len(), 2),
                values(s.out_channels, 3),
                values(s.output_len(), 4),
            );
            [
                cpu.conv2d(&x, &w, Some(&b), s).unwrap().as_slice().to_vec(),
                cpu.conv2d_backward_input(&dy, &w, s)
                    .unwrap()
                    .as_slice()
                    .to_vec(),
                cpu.conv2d_backward_weight(&x, &dy, s)
                    .unwrap()
                    .as_slice()
                    .to_vec(),
            ]
        };
        if !conv_direct::available() {
            eprintln!("no AVX-512 on this CPU: only the portable path exists here");
        }
        for s in cases {
            let direct = run(s);
            let portable = conv_direct::portable_only(|| {
                assert!(!conv_direct::available());
                run(s)
            });
            for (what, (d, p)) in ["y", "dx", "dw"].iter().zip(direct.iter().zip(&portable)) {
                assert_eq!(d.len(), p.len());
                for (i, (a, b)) in d.iter().zip(p).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                        "{what}[{i}] {s:?}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
