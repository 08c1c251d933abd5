//! Reference reductions: sums in `f64` over the reduced sub-box of each output element.

use strata_backend::{BackendError, ReduceOp, ReduceOps, Result};

use super::{RefBuffer, ReferenceBackend, elem_count, invalid, ravel, round, unravel};

impl ReduceOps for ReferenceBackend {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &RefBuffer,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<RefBuffer> {
        BackendError::check_len("reduce", elem_count(shape), x.0.len())?;
        let sorted_unique = axes.windows(2).all(|w| w[0] < w[1]);
        if axes.is_empty() || !sorted_unique || axes.iter().any(|&a| a >= shape.len()) {
            return Err(invalid(
                "reduce",
                format!(
                    "axes {axes:?} must be non-empty, sorted, unique and below rank {}",
                    shape.len()
                ),
            ));
        }
        let mut out_shape = shape.to_vec();
        for &a in axes {
            out_shape[a] = 1;
        }
        let reduced_dims: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let count = elem_count(&reduced_dims);
        let out_count = elem_count(&out_shape);
        if count == 0 && out_count > 0 && matches!(op, ReduceOp::Max | ReduceOp::Min) {
            return Err(invalid(
                "reduce",
                format!("{op:?} over empty axes {axes:?} of shape {shape:?}"),
            ));
        }
        let out = (0..out_count)
            .map(|flat| {
                let base = unravel(flat, &out_shape);
                let values = (0..count).map(|j| {
                    let mut index = base.clone();
                    for (&a, i) in axes.iter().zip(unravel(j, &reduced_dims)) {
                        index[a] = i;
                    }
                    f64::from(x.0[ravel(&index, shape)])
                });
                round(match op {
                    ReduceOp::Sum => values.sum(),
                    ReduceOp::Mean => values.sum::<f64>() / count as f64,
                    ReduceOp::Max => values.fold(f64::NEG_INFINITY, f64::max),
                    ReduceOp::Min => values.fold(f64::INFINITY, f64::min),
                })
            })
            .collect();
        Ok(RefBuffer(out))
    }

    fn argmax(&self, x: &RefBuffer, shape: &[usize], axis: usize) -> Result<RefBuffer> {
        BackendError::check_len("argmax", elem_count(shape), x.0.len())?;
        if axis >= shape.len() {
            return Err(invalid(
                "argmax",
                format!("axis {axis} is out of range for shape {shape:?}"),
            ));
        }
        let mut out_shape = shape.to_vec();
        out_shape[axis] = 1;
        let out_count = elem_count(&out_shape);
        if shape[axis] == 0 && out_count > 0 {
            return Err(invalid(
                "argmax",
                format!("axis {axis} of shape {shape:?} is empty"),
            ));
        }
        let out = (0..out_count)
            .map(|flat| {
                let mut index = unravel(flat, &out_shape);
                let mut best = 0;
                let mut best_value = f32::NEG_INFINITY;
                for i in 0..shape[axis] {
                    index[axis] = i;
                    let value = x.0[ravel(&index, shape)];
                    // Strictly greater: on ties the first index stays.
                    if i == 0 || value > best_value {
                        best = i;
                        best_value = value;
                    }
                }
                best as f32
            })
            .collect();
        Ok(RefBuffer(out))
    }

    fn sum_squares(&self, x: &RefBuffer) -> Result<RefBuffer> {
        let total: f64 = x.0.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        Ok(RefBuffer(vec![round(total)]))
    }
}
