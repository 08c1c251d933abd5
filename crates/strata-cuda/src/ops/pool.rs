//! Max and average pooling on the GPU (`kernels/pool.cu`): one thread per output element
//! forward, one thread per input element backward (a gather over the windows covering it, so
//! the backward pass is deterministic and needs no atomics).
//!
//! Max pooling writes, as on the CPU, the first maximum's position `row · in_w + col` in its
//! plane as `f32`, and records on the indices buffer that they are whole numbers below
//! `in_h · in_w`, so the backward pass checks them without reading the device (indices from
//! anywhere else are checked from their upload-time summary, or read back once). The backward
//! pass routes each `dy` to the input position its index names; an in-plane index outside its
//! window (possible only for indices that did not come from `max_pool2d`) contributes nothing.

use strata_backend::{BackendError, Pool2dSpec, PoolOps, Result};

use crate::check::{IndexSummary, int_dim as dim};
use crate::kernels::{launch, launch_config};
use crate::{CudaBackend, CudaBuffer};

/// The `int` arguments every pooling kernel takes after its element count, in order.
struct PoolArgs {
    in_h: i32,
    in_w: i32,
    out_h: i32,
    out_w: i32,
    kernel_h: i32,
    kernel_w: i32,
    stride_h: i32,
    stride_w: i32,
    pad_h: i32,
    pad_w: i32,
    /// Average pooling's divisor rule, as the kernels' trailing `int` (1 = count padding).
    count_include_pad: i32,
}

impl PoolArgs {
    fn new(op: &'static str, spec: &Pool2dSpec) -> Result<Self> {
        dim(op, "input plane", spec.in_h * spec.in_w)?;
        Ok(PoolArgs {
            in_h: dim(op, "in_h", spec.in_h)?,
            in_w: dim(op, "in_w", spec.in_w)?,
            out_h: dim(op, "out_h", spec.out_h())?,
            out_w: dim(op, "out_w", spec.out_w())?,
            kernel_h: dim(op, "kernel_h", spec.kernel_h)?,
            kernel_w: dim(op, "kernel_w", spec.kernel_w)?,
            stride_h: dim(op, "stride_h", spec.stride_h)?,
            stride_w: dim(op, "stride_w", spec.stride_w)?,
            pad_h: dim(op, "pad_h", spec.pad_h)?,
            pad_w: dim(op, "pad_w", spec.pad_w)?,
            count_include_pad: i32::from(spec.count_include_pad),
        })
    }
}

fn check(op: &'static str, spec: &Pool2dSpec, input: usize, output: usize) -> Result<PoolArgs> {
    spec.validate(op)?;
    BackendError::check_len(op, spec.input_len(), input)?;
    BackendError::check_len(op, spec.output_len(), output)?;
    PoolArgs::new(op, spec)
}

impl PoolOps for CudaBackend {
    fn max_pool2d(&self, x: &CudaBuffer, spec: Pool2dSpec) -> Result<(CudaBuffer, CudaBuffer)> {
        let a = check("max_pool2d", &spec, x.len(), spec.output_len())?;
        let total = spec.output_len();
        let (y, mut idx) = (self.alloc(total)?, self.alloc(total)?);
        if total == 0 {
            return Ok((y, idx));
        }
        let (px, py, pi, t) = (
            self.addr(x, 0),
            self.addr(&y, 0),
            self.addr(&idx, 0),
            total as u64,
        );
        launch!(
            self,
            Pool,
            "pool_max_forward",
            launch_config(total),
            &px,
            &py,
            &pi,
            &t,
            &a.in_h,
            &a.in_w,
            &a.out_h,
            &a.out_w,
            &a.kernel_h,
            &a.kernel_w,
            &a.stride_h,
            &a.stride_w,
            &a.pad_h,
            &a.pad_w,
        )?;
        idx.set_summary(IndexSummary::whole_below(spec.in_h * spec.in_w));
        Ok((y, idx))
    }

    fn max_pool2d_backward(
        &self,
        dy: &CudaBuffer,
        indices: &CudaBuffer,
        spec: Pool2dSpec,
    ) -> Result<CudaBuffer> {
        let op = "max_pool2d_backward";
        let a = check(op, &spec, spec.input_len(), dy.len())?;
        BackendError::check_len(op, spec.output_len(), indices.len())?;
        self.check_indices(op, "index", "output", indices, spec.in_h * spec.in_w)?;
        let total = spec.input_len();
        let dx = self.alloc(total)?;
        if total == 0 {
            return Ok(dx);
        }
        if spec.output_len() == 0 {
            return self.alloc_zeros(total);
        }
        let (pd, pi, px, t) = (
            self.addr(dy, 0),
            self.addr(indices, 0),
            self.addr(&dx, 0),
            total as u64,
        );
        launch!(
            self,
            Pool,
            "pool_max_backward",
            launch_config(total),
            &pd,
            &pi,
            &px,
            &t,
            &a.in_h,
            &a.in_w,
            &a.out_h,
            &a.out_w,
            &a.kernel_h,
            &a.kernel_w,
            &a.stride_h,
            &a.stride_w,
            &a.pad_h,
            &a.pad_w,
        )?;
        Ok(dx)
    }

    fn avg_pool2d(&self, x: &CudaBuffer, spec: Pool2dSpec) -> Result<CudaBuffer> {
        let a = check("avg_pool2d", &spec, x.len(), spec.output_len())?;
        let total = spec.output_len();
        let y = self.alloc(total)?;
        if total == 0 {
            return Ok(y);
        }
        let (px, py, t) = (self.addr(x, 0), self.addr(&y, 0), total as u64);
        launch!(
            self,
            Pool,
            "pool_avg_forward",
            launch_config(total),
            &px,
            &py,
            &t,
            &a.in_h,
            &a.in_w,
            &a.out_h,
            &a.out_w,
            &a.kernel_h,
            &a.kernel_w,
            &a.stride_h,
            &a.stride_w,
            &a.pad_h,
            &a.pad_w,
            &a.count_include_pad,
        )?;
        Ok(y)
    }

    fn avg_pool2d_backward(&self, dy: &CudaBuffer, spec: Pool2dSpec) -> Result<CudaBuffer> {
        let a = check("avg_pool2d_backward", &spec, spec.input_len(), dy.len())?;
        let total = spec.input_len();
        let dx = self.alloc(total)?;
        if total == 0 {
            return Ok(dx);
        }
        if spec.output_len() == 0 {
            return self.alloc_zeros(total);
        }
        let (pd, px, t) = (self.addr(dy, 0), self.addr(&dx, 0), total as u64);
        launch!(
            self,
            Pool,
            "pool_avg_backward",
            launch_config(total),
            &pd,
            &px,
            &t,
            &a.in_h,
            &a.in_w,
            &a.out_h,
            &a.out_w,
            &a.kernel_h,
            &a.kernel_w,
            &a.stride_h,
            &a.stride_w,
            &a.pad_h,
            &a.pad_w,
            &a.count_include_pad,
        )?;
        Ok(dx)
    }
}
