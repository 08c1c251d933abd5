//! Reductions on the GPU (`kernels/reduce.cu`): one block per output element with warp-shuffle
//! block reductions, the kept and reduced dimensions each merged on the host; argmax one thread
//! per output; the sum of squares in two deterministic passes (block partials, then one block).

use strata_backend::{ReduceOp, ReduceOps, Result, contiguous_strides};

use crate::check::{check_shape, elem_count, invalid};
use crate::kernels::{launch, launch_config, row_threads, rows_config};
use crate::strided::{StridedArgs, merge};
use crate::{CudaBackend, CudaBuffer};

/// Blocks of the first sum-of-squares pass (the second pass adds this many partials).
const PARTIAL_BLOCKS: usize = 1024;

fn check_axes(shape: &[usize], axes: &[usize]) -> Result<()> {
    let sorted = axes.windows(2).all(|w| w[0] < w[1]);
    let in_range = axes.last().is_some_and(|&a| a < shape.len());
    if sorted && in_range {
        Ok(())
    } else {
        Err(invalid(
            "reduce",
            format!(
                "axes {axes:?} must be sorted, unique, non-empty and below the rank of {shape:?}"
            ),
        ))
    }
}

/// The walk over `dims` with strides `strides`, merged (one operand).
fn walk(dims: &[usize], strides: &[usize]) -> Result<StridedArgs> {
    let m = merge(dims, &[strides]);
    StridedArgs::new("reduce", &m.dims, &m.strides[0], &m.strides[0])
}

fn reduce_code(op: ReduceOp) -> i32 {
    match op {
        ReduceOp::Sum => 0,
        ReduceOp::Mean => 1,
        ReduceOp::Max => 2,
        ReduceOp::Min => 3,
    }
}

impl ReduceOps for CudaBackend {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &CudaBuffer,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<CudaBuffer> {
        check_shape("reduce", shape, x.len())?;
        check_axes(shape, axes)?;
        let strides = contiguous_strides(shape);
        let (mut kept_dims, mut kept_strides) = (Vec::new(), Vec::new());
        let (mut red_dims, mut red_strides) = (Vec::new(), Vec::new());
        for (i, (&d, &s)) in shape.iter().zip(&strides).enumerate() {
            if axes.contains(&i) {
                red_dims.push(d);
                red_strides.push(s);
            } else {
                kept_dims.push(d);
                kept_strides.push(s);
            }
        }
        let outputs = elem_count("reduce", &kept_dims)?;
        let count: usize = red_dims.iter().product();
        if count == 0 && outputs > 0 && matches!(op, ReduceOp::Max | ReduceOp::Min) {
            return Err(invalid(
                "reduce",
                format!("{op:?} over axes {axes:?} of {shape:?} has no elements"),
            ));
        }
        let mut out = self.alloc(outputs)?;
        if outputs == 0 {
            return Ok(out);
        }
        let kept = walk(&kept_dims, &kept_strides)?;
        let red = walk(&red_dims, &red_strides)?;
        let code = reduce_code(op);
        let scale = 1.0 / count as f32;
        let (o, c) = (outputs as u64, count as u64);
        launch!(
            self,
            Reduce,
            "reduce_axes",
            rows_config(outputs, row_threads(count)),
            out.slice_mut(),
            x.slice(),
            &o,
            &c,
            &code,
            &scale,
            &kept,
            &red
        )?;
        Ok(out)
    }

    fn argmax(&self, x: &CudaBuffer, shape: &[usize], axis: usize) -> Result<CudaBuffer> {
        check_shape("argmax", shape, x.len())?;
        let Some(&n) = shape.get(axis) else {
            return Err(invalid(
                "argmax",
                format!("axis {axis} is out of range for shape {shape:?}"),
            ));
        };
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let outputs = outer * inner;
        if n == 0 {
            if outputs > 0 {
                return Err(invalid(
                    "argmax",
                    format!("axis {axis} of {shape:?} is empty"),
                ));
            }
            return self.alloc(0);
        }
        let mut out = self.alloc(outputs)?;
        if outputs == 0 {
            return Ok(out);
        }
        let (o, len, inn) = (outputs as u64, n as u64, inner as u64);
        launch!(
            self,
            Reduce,
            "reduce_argmax",
            launch_config(outputs),
            out.slice_mut(),
            x.slice(),
            &o,
            &len,
            &inn
        )?;
        Ok(out)
    }

    fn sum_squares(&self, x: &CudaBuffer) -> Result<CudaBuffer> {
        let len = x.len();
        if len == 0 {
            return self.alloc_zeros(1);
        }
        let blocks = len.div_ceil(256).clamp(1, PARTIAL_BLOCKS);
        let mut partial = self.alloc(blocks)?;
        let n = len as u64;
        let square = 1i32;
        launch!(
            self,
            Reduce,
            "reduce_sum_squares",
            rows_config(blocks, 256),
            partial.slice_mut(),
            x.slice(),
            &n,
            &square
        )?;
        let mut out = self.alloc(1)?;
        let nb = blocks as u64;
        let plain = 0i32;
        launch!(
            self,
            Reduce,
            "reduce_sum_squares",
            rows_config(1, 1024),
            out.slice_mut(),
            partial.slice(),
            &nb,
            &plain
        )?;
        Ok(out)
    }
}
