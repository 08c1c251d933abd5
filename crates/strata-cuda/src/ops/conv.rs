//! 2-D convolution on the GPU: im2col (`kernels/conv.cu`) + one cuBLAS SGEMM per batch chunk
//! (batched over the groups), the same decomposition as the CPU backend; and a 1x1 stride-1
//! unpadded fast path whose forward and input gradient multiply the input planes in place
//! (batched over the samples).
//!
//! A chunk of `nb` samples is laid out as the column matrix `cols [C·kh·kw, nb·P]` (`P` = output
//! positions), so group `g`'s rows are contiguous and its product with `W_g [og, cg·kh·kw]` is
//! one GEMM into `rows [O, nb·P]`, which a kernel then moves into the NCHW output (adding the
//! bias). Backward: the input gradient multiplies `W_gᵀ` with the gathered `dy` rows and sums
//! the columns back with col2im (a gather, deterministic, no atomics); the weight gradient
//! accumulates `rows_g · cols_gᵀ` over the chunks (beta = 1 after the first). The chunk size
//! caps each scratch matrix at `SCRATCH_LIMIT` floats; the scratch buffers come from the
//! caching allocator, so a repeated step allocates nothing new.

use strata_backend::{BackendError, Conv2dSpec, ConvOps, Result};

use super::norm::channel_threads;
use crate::check::int_dim as dim;
use crate::gemm::{Block, GemmShape};
use crate::kernels::{launch, launch_config, rows_config};
use crate::{CudaBackend, CudaBuffer};

/// Upper bound on the floats of one scratch matrix (`cols` or `rows`): 128 MiB.
const SCRATCH_LIMIT: usize = 1 << 25;

/// Derived sizes of a convolution, computed once per call.
#[derive(Clone, Copy)]
struct Geometry {
    spec: Conv2dSpec,
    /// Output positions per sample.
    p: usize,
    /// Input channels per group.
    cg: usize,
    /// Output channels per group.
    og: usize,
    /// Rows of a group's column matrix: `cg · kh · kw`.
    kg: usize,
    /// Rows of the whole column matrix: `C · kh · kw`.
    k_all: usize,
    /// Samples per chunk.
    nb: usize,
}

/// The `int` arguments every im2col / col2im launch shares, in the kernels' order after `nb`.
struct ConvArgs {
    channels: i32,
    in_h: i32,
    in_w: i32,
    kernel_h: i32,
    kernel_w: i32,
    stride_h: i32,
    stride_w: i32,
    pad_top: i32,
    pad_left: i32,
    dilation_h: i32,
    dilation_w: i32,
    out_h: i32,
    out_w: i32,
}

impl Geometry {
    fn new(op: &'static str, spec: Conv2dSpec) -> Result<Self> {
        spec.validate(op)?;
        let p = spec.out_h() * spec.out_w();
        let cg = spec.group_in();
        let kg = cg * spec.kernel_h * spec.kernel_w;
        let k_all = spec.in_channels * spec.kernel_h * spec.kernel_w;
        let per_sample = (k_all * p).max(spec.out_channels * p).max(1);
        let nb = (SCRATCH_LIMIT / per_sample).clamp(1, spec.batch.max(1));
        let geo = Geometry {
            spec,
            p,
            cg,
            og: spec.group_out(),
            kg,
            k_all,
            nb,
        };
        // Every element count a kernel indexes with `int` parts must fit.
        dim(op, "output positions", p)?;
        dim(op, "input plane", spec.in_h * spec.in_w)?;
        dim(op, "batch", spec.batch)?;
        dim(op, "column rows", k_all)?;
        dim(op, "output channels", spec.out_channels)?;
        Ok(geo)
    }

    /// 1x1, stride 1, no padding: each input plane already is the column matrix.
    fn is_pointwise(&self) -> bool {
        let s = &self.spec;
        s.kernel_h == 1
            && s.kernel_w == 1
            && s.stride_h == 1
            && s.stride_w == 1
            && s.pad_top + s.pad_bottom + s.pad_left + s.pad_right == 0
    }

    /// The chunks `(n0, nb)` covering the batch.
    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (batch, nb) = (self.spec.batch, self.nb);
        (0..batch)
            .step_by(nb)
            .map(move |n0| (n0, nb.min(batch - n0)))
    }

    fn args(&self, op: &'static str) -> Result<ConvArgs> {
        let s = &self.spec;
        Ok(ConvArgs {
            channels: dim(op, "in_channels", s.in_channels)?,
            in_h: dim(op, "in_h", s.in_h)?,
            in_w: dim(op, "in_w", s.in_w)?,
            kernel_h: dim(op, "kernel_h", s.kernel_h)?,
            kernel_w: dim(op, "kernel_w", s.kernel_w)?,
            stride_h: dim(op, "stride_h", s.stride_h)?,
            stride_w: dim(op, "stride_w", s.stride_w)?,
            pad_top: dim(op, "pad_top", s.pad_top)?,
            pad_left: dim(op, "pad_left", s.pad_left)?,
            dilation_h: dim(op, "dilation_h", s.dilation_h)?,
            dilation_w: dim(op, "dilation_w", s.dilation_w)?,
            out_h: dim(op, "out_h", s.out_h())?,
            out_w: dim(op, "out_w", s.out_w())?,
        })
    }
}

fn check_lengths(op: &'static str, g: &Geometry, x: usize, w: usize, y: usize) -> Result<()> {
    BackendError::check_len(op, g.spec.input_len(), x)?;
    BackendError::check_len(op, g.spec.weight_len(), w)?;
    BackendError::check_len(op, g.spec.batch * g.spec.out_channels * g.p, y)
}

impl CudaBackend {
    /// `cols` of samples `n0..n0 + nb` (all channels).
    fn conv_im2col(
        &self,
        geo: &Geometry,
        a: &ConvArgs,
        x: &CudaBuffer,
        (n0, nb): (usize, usize),
        cols: &mut CudaBuffer,
    ) -> Result<()> {
        let total = geo.k_all * nb * geo.p;
        let (n0i, nbi) = (dim("conv2d", "n0", n0)?, dim("conv2d", "nb", nb)?);
        let (px, pc, t) = (self.addr(x, 0), self.addr_mut(cols, 0), total as u64);
        launch!(
            self,
            Conv,
            "conv_im2col",
            launch_config(total),
            &px,
            &pc,
            &t,
            &n0i,
            &nbi,
            &a.channels,
            &a.in_h,
            &a.in_w,
            &a.kernel_h,
            &a.kernel_w,
            &a.stride_h,
            &a.stride_w,
            &a.pad_top,
            &a.pad_left,
            &a.dilation_h,
            &a.dilation_w,
            &a.out_h,
            &a.out_w,
        )
    }

    /// Writes the input gradient of samples `n0..n0 + nb` from their columns.
    fn conv_col2im(
        &self,
        geo: &Geometry,
        a: &ConvArgs,
        cols: &CudaBuffer,
        (n0, nb): (usize, usize),
        dx: &mut CudaBuffer,
    ) -> Result<()> {
        let total = nb * geo.spec.in_channels * geo.spec.in_h * geo.spec.in_w;
        let (n0i, nbi) = (dim("conv2d", "n0", n0)?, dim("conv2d", "nb", nb)?);
        let (pc, pd, t) = (self.addr(cols, 0), self.addr_mut(dx, 0), total as u64);
        launch!(
            self,
            Conv,
            "conv_col2im",
            launch_config(total),
            &pc,
            &pd,
            &t,
            &n0i,
            &nbi,
            &a.channels,
            &a.in_h,
            &a.in_w,
            &a.kernel_h,
            &a.kernel_w,
            &a.stride_h,
            &a.stride_w,
            &a.pad_top,
            &a.pad_left,
            &a.dilation_h,
            &a.dilation_w,
            &a.out_h,
            &a.out_w,
        )
    }

    /// `rows [O, nb·P]` of samples `n0..n0 + nb` from the NCHW `dy`.
    fn conv_gather_grad(
        &self,
        geo: &Geometry,
        dy: &CudaBuffer,
        (n0, nb): (usize, usize),
        rows: &mut CudaBuffer,
    ) -> Result<()> {
        let total = nb * geo.spec.out_channels * geo.p;
        let (n0i, nbi) = (dim("conv2d", "n0", n0)?, dim("conv2d", "nb", nb)?);
        let (oc, p) = (
            dim("conv2d", "out_channels", geo.spec.out_channels)?,
            dim("conv2d", "P", geo.p)?,
        );
        let (pd, pr, t) = (self.addr(dy, 0), self.addr_mut(rows, 0), total as u64);
        launch!(
            self,
            Conv,
            "conv_gather_grad",
            launch_config(total),
            &pd,
            &pr,
            &t,
            &n0i,
            &nbi,
            &oc,
            &p
        )
    }

    /// `y[n, o, p] = bias[o]` over the whole output.
    fn conv_fill_bias(&self, geo: &Geometry, bias: &CudaBuffer, y: &mut CudaBuffer) -> Result<()> {
        let op = "conv2d";
        let total = geo.spec.batch * geo.spec.out_channels * geo.p;
        let (pb, py, t) = (self.addr(bias, 0), self.addr_mut(y, 0), total as u64);
        let oc = dim(op, "out_channels", geo.spec.out_channels)?;
        let p = dim(op, "P", geo.p)?;
        launch!(
            self,
            Conv,
            "conv_fill_bias",
            launch_config(total),
            &pb,
            &py,
            &t,
            &oc,
            &p
        )
    }
}

impl ConvOps for CudaBackend {
    fn conv2d(
        &self,
        x: &CudaBuffer,
        w: &CudaBuffer,
        bias: Option<&CudaBuffer>,
        spec: Conv2dSpec,
    ) -> Result<CudaBuffer> {
        let op = "conv2d";
        let geo = Geometry::new(op, spec)?;
        let out_len = spec.batch * spec.out_channels * geo.p;
        check_lengths(op, &geo, x.len(), w.len(), out_len)?;
        if let Some(b) = bias {
            BackendError::check_len(op, spec.out_channels, b.len())?;
        }
        let mut y = self.alloc(out_len)?;
        if out_len == 0 {
            return Ok(y);
        }
        let (og, kg, p, c, oc) = (geo.og, geo.kg, geo.p, spec.in_channels, spec.out_channels);
        let pb = bias.map_or(0u64, |b| self.addr(b, 0));
        if kg == 0 {
            // No input channels: the output is the bias alone.
            return match bias {
                Some(b) => {
                    self.conv_fill_bias(&geo, b, &mut y)?;
                    Ok(y)
                }
                None => self.alloc_zeros(out_len),
            };
        }
        if geo.is_pointwise() {
            // y[n, g] = W_g · x[n, g] for every sample at once, onto the bias when there is one.
            if let Some(b) = bias {
                self.conv_fill_bias(&geo, b, &mut y)?;
            }
            let shape = GemmShape {
                m: og,
                n: p,
                k: kg,
                trans_a: false,
                trans_b: false,
                batch: spec.batch,
                beta: if bias.is_some() { 1.0 } else { 0.0 },
            };
            for g in 0..spec.groups {
                self.gemm(
                    op,
                    shape,
                    (w, Block::new(g * og * kg, kg)),
                    (x, Block::new(g * geo.cg * p, p).stride(c * p)),
                    (&mut y, Block::new(g * og * p, p).stride(oc * p)),
                )?;
            }
            return Ok(y);
        }
        let args = geo.args(op)?;
        let mut cols = self.alloc(geo.k_all * geo.nb * p)?;
        let mut rows = self.alloc(oc * geo.nb * p)?;
        for (n0, nb) in geo.chunks() {
            let ld = nb * p;
            self.conv_im2col(&geo, &args, x, (n0, nb), &mut cols)?;
            let shape = GemmShape {
                m: og,
                n: ld,
                k: kg,
                trans_a: false,
                trans_b: false,
                batch: spec.groups,
                beta: 0.0,
            };
            self.gemm(
                op,
                shape,
                (w, Block::new(0, kg).stride(og * kg)),
                (&cols, Block::new(0, ld).stride(kg * ld)),
                (&mut rows, Block::new(0, ld).stride(og * ld)),
            )?;
            let total = nb * oc * p;
            let (n0i, nbi) = (dim(op, "n0", n0)?, dim(op, "nb", nb)?);
            let (oci, pi) = (dim(op, "out_channels", oc)?, dim(op, "P", p)?);
            let (pr, py, t) = (self.addr(&rows, 0), self.addr(&y, 0), total as u64);
            launch!(
                self,
                Conv,
                "conv_scatter_output",
                launch_config(total),
                &pr,
                &pb,
                &py,
                &t,
                &n0i,
                &nbi,
                &oci,
                &pi
            )?;
        }
        Ok(y)
    }

    fn conv2d_backward_input(
        &self,
        dy: &CudaBuffer,
        w: &CudaBuffer,
        spec: Conv2dSpec,
    ) -> Result<CudaBuffer> {
        let op = "conv2d_backward_input";
        let geo = Geometry::new(op, spec)?;
        check_lengths(op, &geo, spec.input_len(), w.len(), dy.len())?;
        let in_len = spec.input_len();
        if spec.out_channels == 0 {
            return self.alloc_zeros(in_len);
        }
        let mut dx = self.alloc(in_len)?;
        if in_len == 0 {
            return Ok(dx);
        }
        let (og, kg, p, c, oc) = (geo.og, geo.kg, geo.p, spec.in_channels, spec.out_channels);
        if geo.is_pointwise() {
            // dx[n, g] = W_gᵀ · dy[n, g] for every sample at once.
            let shape = GemmShape {
                m: kg,
                n: p,
                k: og,
                trans_a: true,
                trans_b: false,
                batch: spec.batch,
                beta: 0.0,
            };
            for g in 0..spec.groups {
                self.gemm(
                    op,
                    shape,
                    (w, Block::new(g * og * kg, kg)),
                    (dy, Block::new(g * og * p, p).stride(oc * p)),
                    (&mut dx, Block::new(g * geo.cg * p, p).stride(c * p)),
                )?;
            }
            return Ok(dx);
        }
        let args = geo.args(op)?;
        let mut cols = self.alloc(geo.k_all * geo.nb * p)?;
        let mut rows = self.alloc(oc * geo.nb * p)?;
        for (n0, nb) in geo.chunks() {
            let ld = nb * p;
            self.conv_gather_grad(&geo, dy, (n0, nb), &mut rows)?;
            let shape = GemmShape {
                m: kg,
                n: ld,
                k: og,
                trans_a: true,
                trans_b: false,
                batch: spec.groups,
                beta: 0.0,
            };
            self.gemm(
                op,
                shape,
                (w, Block::new(0, kg).stride(og * kg)),
                (&rows, Block::new(0, ld).stride(og * ld)),
                (&mut cols, Block::new(0, ld).stride(kg * ld)),
            )?;
            self.conv_col2im(&geo, &args, &cols, (n0, nb), &mut dx)?;
        }
        Ok(dx)
    }

    fn conv2d_backward_weight(
        &self,
        x: &CudaBuffer,
        dy: &CudaBuffer,
        spec: Conv2dSpec,
    ) -> Result<CudaBuffer> {
        let op = "conv2d_backward_weight";
        let geo = Geometry::new(op, spec)?;
        check_lengths(op, &geo, x.len(), spec.weight_len(), dy.len())?;
        let w_len = spec.weight_len();
        if spec.batch == 0 || w_len == 0 {
            return self.alloc_zeros(w_len);
        }
        let mut dw = self.alloc(w_len)?;
        let (og, kg, p, oc) = (geo.og, geo.kg, geo.p, spec.out_channels);
        let args = geo.args(op)?;
        let mut cols = self.alloc(geo.k_all * geo.nb * p)?;
        let mut rows = self.alloc(oc * geo.nb * p)?;
        // dW_g = Σ_chunks rows_g · cols_gᵀ: the first chunk overwrites, the others accumulate.
        for (n0, nb) in geo.chunks() {
            let ld = nb * p;
            self.conv_im2col(&geo, &args, x, (n0, nb), &mut cols)?;
            self.conv_gather_grad(&geo, dy, (n0, nb), &mut rows)?;
            let shape = GemmShape {
                m: og,
                n: kg,
                k: ld,
                trans_a: false,
                trans_b: true,
                batch: spec.groups,
                beta: if n0 == 0 { 0.0 } else { 1.0 },
            };
            self.gemm(
                op,
                shape,
                (&rows, Block::new(0, ld).stride(og * ld)),
                (&cols, Block::new(0, ld).stride(kg * ld)),
                (&mut dw, Block::new(0, kg).stride(og * kg)),
            )?;
        }
        Ok(dw)
    }

    fn conv2d_backward_bias(&self, dy: &CudaBuffer, spec: Conv2dSpec) -> Result<CudaBuffer> {
        let op = "conv2d_backward_bias";
        let p = spec.out_h() * spec.out_w();
        BackendError::check_len(op, spec.batch * spec.out_channels * p, dy.len())?;
        let db = self.alloc(spec.out_channels)?;
        if spec.out_channels == 0 {
            return Ok(db);
        }
        let (n, oc, pi) = (
            dim(op, "batch", spec.batch)?,
            dim(op, "out_channels", spec.out_channels)?,
            dim(op, "P", p)?,
        );
        let (pd, pdb) = (self.addr(dy, 0), self.addr(&db, 0));
        let cfg = rows_config(spec.out_channels, channel_threads(spec.batch * p));
        launch!(
            self,
            Conv,
            "conv_bias_backward",
            cfg,
            &pd,
            &pdb,
            &n,
            &oc,
            &pi
        )?;
        Ok(db)
    }
}
