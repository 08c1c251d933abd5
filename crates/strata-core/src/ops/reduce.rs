//! Reductions: sum, mean, max, min along axes; argmax; reducing a broadcast gradient back.

use strata_backend::{CmpOp, ReduceOp, ReduceOps, Shape};

use crate::autograd::record;
use crate::storage::map_buffer;
use crate::{Error, Result, Tensor};

fn check_axes(op: &'static str, t: &Tensor, axes: &[usize]) -> Result<Vec<usize>> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if let Some(&bad) = sorted.iter().find(|&&a| a >= t.rank()) {
        return Err(Error::shape(
            op,
            format!(
                "axis {bad} is out of range for a tensor of shape {} (rank {})",
                t.shape(),
                t.rank()
            ),
        ));
    }
    Ok(sorted)
}

fn reduced_shape(dims: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    dims.iter()
        .enumerate()
        .filter_map(|(i, &d)| {
            if axes.contains(&i) {
                keepdim.then_some(1)
            } else {
                Some(d)
            }
        })
        .collect()
}

impl Tensor {
    fn reduce_op(
        &self,
        op: ReduceOp,
        axes: &[usize],
        keepdim: bool,
        name: &'static str,
    ) -> Result<Tensor> {
        let axes = check_axes(name, self, axes)?;
        if axes.is_empty() {
            return Ok(self.clone());
        }
        if matches!(op, ReduceOp::Max | ReduceOp::Min) && axes.iter().any(|&a| self.dims()[a] == 0)
        {
            return Err(Error::shape(
                name,
                format!("cannot take {name} over an empty axis of {}", self.shape()),
            ));
        }
        let dims = self.dims().to_vec();
        let storage = map_buffer!(&*self.read(), |b, x| b.reduce(op, x, &dims, &axes));
        let kept = Shape::new(reduced_shape(&dims, &axes, true));
        let out_shape = Shape::new(reduced_shape(&dims, &axes, keepdim));
        let node = record(name, &[self], || {
            let kept = kept.clone();
            let count: usize = axes.iter().map(|&a| dims[a]).product();
            move |g: &Tensor, inputs: &[Tensor]| {
                let x = &inputs[0];
                let g = g.reshape(kept.clone())?;
                let dx = match op {
                    ReduceOp::Sum => g.broadcast_as(x.dims().to_vec())?,
                    ReduceOp::Mean => g
                        .broadcast_as(x.dims().to_vec())?
                        .mul_scalar(1.0 / count as f32)?,
                    ReduceOp::Max | ReduceOp::Min => {
                        // Share the gradient equally among tied extremes (like `amax`).
                        let y = x.reduce_op(op, &axes, true, name)?;
                        let hit = x.cmp(CmpOp::Eq, &y)?;
                        let ties = hit.sum_keepdim(&axes)?;
                        hit.mul(&g.div(&ties)?)?
                    }
                };
                Ok(vec![Some(dx)])
            }
        });
        Ok(Tensor::from_storage(storage, out_shape, node))
    }

    /// Sum over `axes`, dropping them.
    pub fn sum(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Sum, axes, false, "sum")
    }
    /// Sum over `axes`, keeping them as size-1 dimensions.
    pub fn sum_keepdim(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Sum, axes, true, "sum")
    }
    /// Mean over `axes`, dropping them.
    pub fn mean(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Mean, axes, false, "mean")
    }
    /// Mean over `axes`, keeping them.
    pub fn mean_keepdim(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Mean, axes, true, "mean")
    }
    /// Maximum over `axes`, dropping them.
    pub fn max(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Max, axes, false, "max")
    }
    /// Maximum over `axes`, keeping them.
    pub fn max_keepdim(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Max, axes, true, "max")
    }
    /// Minimum over `axes`, dropping them.
    pub fn min(&self, axes: &[usize]) -> Result<Tensor> {
        self.reduce_op(ReduceOp::Min, axes, false, "min")
    }
    /// Sum of every element, as a zero-dimensional tensor.
    pub fn sum_all(&self) -> Result<Tensor> {
        let axes: Vec<usize> = (0..self.rank()).collect();
        if axes.is_empty() {
            return Ok(self.clone());
        }
        self.sum(&axes)
    }
    /// Mean of every element, as a zero-dimensional tensor.
    pub fn mean_all(&self) -> Result<Tensor> {
        let axes: Vec<usize> = (0..self.rank()).collect();
        if axes.is_empty() {
            return Ok(self.clone());
        }
        self.mean(&axes)
    }

    /// Index of the largest element along `axis` (first on ties), as `f32`, dropping the axis.
    pub fn argmax(&self, axis: usize) -> Result<Tensor> {
        check_axes("argmax", self, &[axis])?;
        if self.dims()[axis] == 0 {
            return Err(Error::shape(
                "argmax",
                format!("axis {axis} of {} is empty", self.shape()),
            ));
        }
        let dims = self.dims().to_vec();
        let storage = map_buffer!(&*self.read(), |b, x| b.argmax(x, &dims, axis));
        Ok(Tensor::from_storage(
            storage,
            Shape::new(reduced_shape(&dims, &[axis], false)),
            None,
        ))
    }

    /// `Σ x²` over all elements, as a zero-dimensional tensor (no gradient; for norms).
    pub fn sum_squares(&self) -> Result<Tensor> {
        let storage = map_buffer!(&*self.read(), |b, x| b.sum_squares(x));
        Ok(Tensor::from_storage(storage, Shape::new(vec![]), None))
    }

    /// Sums a broadcast result back to `dims` (the shape of an operand before broadcasting).
    pub fn sum_to_shape(&self, dims: &[usize]) -> Result<Tensor> {
        if self.dims() == dims {
            return Ok(self.clone());
        }
        let lead = self.rank().checked_sub(dims.len()).ok_or_else(|| {
            Error::shape(
                "sum_to_shape",
                format!("cannot reduce {} to {dims:?}", self.shape()),
            )
        })?;
        let mut axes: Vec<usize> = (0..lead).collect();
        for (i, &d) in dims.iter().enumerate() {
            let s = self.dims()[lead + i];
            if d == 1 && s != 1 {
                axes.push(lead + i);
            } else if d != s {
                return Err(Error::shape(
                    "sum_to_shape",
                    format!("cannot reduce {} to {dims:?}", self.shape()),
                ));
            }
        }
        self.sum_keepdim(&axes)?.reshape(dims.to_vec())
    }
}
