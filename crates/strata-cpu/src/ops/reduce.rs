//! Reductions: `reduce` over any set of axes, `argmax` along one axis, `sum_squares`.
//!
//! `reduce` walks the input once through a collapsed layout whose output strides are 0 along
//! reduced axes. Reducing the last axis then becomes a lane-wise fold over contiguous rows
//! (`math::sum`), and reducing a leading axis accumulates whole rows into the output (a
//! vectorized add per row); any other axis set is the same walk with more runs.

use strata_backend::{ReduceOp, ReduceOps, Result, contiguous_strides};

use crate::check::{check_shape, elem_count, invalid};
use crate::strided::Layout;
use crate::{CpuBackend, CpuBuffer, math};

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

/// Folds `x` into `out` along `layout` (operand 0 the input, operand 1 the output): `fold`
/// reduces a contiguous run to one value, `combine` merges a value into an output slot.
#[inline(always)]
fn reduce_into(
    x: &[f32],
    out: &mut [f32],
    layout: &Layout<2>,
    combine: impl Fn(f32, f32) -> f32,
    fold: impl Fn(&[f32]) -> f32,
) {
    let len = layout.inner_len();
    match (layout.inner_stride(0), layout.inner_stride(1)) {
        (1, 0) => layout.for_each_run(|[a, o]| out[o] = combine(out[o], fold(&x[a..a + len]))),
        (1, 1) => layout.for_each_run(|[a, o]| {
            for (d, &v) in out[o..o + len].iter_mut().zip(&x[a..a + len]) {
                *d = combine(*d, v);
            }
        }),
        (si, so) => layout.for_each_run(|[a, o]| {
            for i in 0..len {
                out[o + i * so] = combine(out[o + i * so], x[a + i * si]);
            }
        }),
    }
}

impl ReduceOps for CpuBackend {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &CpuBuffer,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<CpuBuffer> {
        check_shape("reduce", shape, x.len())?;
        check_axes(shape, axes)?;
        let mut out_shape = shape.to_vec();
        for &a in axes {
            out_shape[a] = 1;
        }
        let out_len = elem_count("reduce", &out_shape)?;
        let count: usize = axes.iter().map(|&a| shape[a]).product();
        if count == 0 && out_len > 0 && matches!(op, ReduceOp::Max | ReduceOp::Min) {
            return Err(invalid(
                "reduce",
                format!("{op:?} over axes {axes:?} of {shape:?} has no elements"),
            ));
        }
        let mut out_strides = contiguous_strides(&out_shape);
        for &a in axes {
            out_strides[a] = 0;
        }
        let layout = Layout::new(shape, [&contiguous_strides(shape), &out_strides]);
        let x = x.as_slice();
        let mut out;
        match op {
            ReduceOp::Sum | ReduceOp::Mean => {
                out = vec![0.0; out_len];
                reduce_into(x, &mut out, &layout, |a, b| a + b, math::sum);
                if op == ReduceOp::Mean {
                    let scale = 1.0 / count as f32;
                    out.iter_mut().for_each(|v| *v *= scale);
                }
            }
            ReduceOp::Max => {
                out = vec![f32::NEG_INFINITY; out_len];
                reduce_into(x, &mut out, &layout, f32::max, math::max);
            }
            ReduceOp::Min => {
                out = vec![f32::INFINITY; out_len];
                reduce_into(x, &mut out, &layout, f32::min, math::min);
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn argmax(&self, x: &CpuBuffer, shape: &[usize], axis: usize) -> Result<CpuBuffer> {
        check_shape("argmax", shape, x.len())?;
        let Some(&n) = shape.get(axis) else {
            return Err(invalid(
                "argmax",
                format!("axis {axis} is out of range for shape {shape:?}"),
            ));
        };
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        if n == 0 {
            if outer * inner > 0 {
                return Err(invalid(
                    "argmax",
                    format!("axis {axis} of {shape:?} is empty"),
                ));
            }
            return Ok(CpuBuffer::from_vec(Vec::new()));
        }
        let x = x.as_slice();
        let mut out = Vec::with_capacity(outer * inner);
        if inner == 1 {
            // Two vectorized passes beat one branchy one: find the max, then its first position.
            out.extend(x.chunks_exact(n).map(|row| {
                let m = math::max(row);
                row.iter().position(|&v| v == m).unwrap_or(0) as f32
            }));
        } else if inner > 0 {
            for block in x.chunks_exact(n * inner) {
                let mut best = block[..inner].to_vec();
                let mut idx = vec![0.0f32; inner];
                for (r, slab) in block.chunks_exact(inner).enumerate().skip(1) {
                    for ((b, i), &v) in best.iter_mut().zip(idx.iter_mut()).zip(slab) {
                        if v > *b {
                            *b = v;
                            *i = r as f32;
                        }
                    }
                }
                out.extend_from_slice(&idx);
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn sum_squares(&self, x: &CpuBuffer) -> Result<CpuBuffer> {
        let x = x.as_slice();
        Ok(CpuBuffer::from_vec(vec![math::dot(x, x)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_backend::BackendError;

    fn cpu() -> CpuBackend {
        CpuBackend::new()
    }

    /// A 2×3×4 tensor with distinct values, some negative.
    fn cube() -> Vec<f32> {
        (0..24).map(|i| ((i * 7) % 24) as f32 - 10.0).collect()
    }

    /// Reduction by explicit index arithmetic over a `[2, 3, 4]` tensor.
    fn naive(op: ReduceOp, x: &[f32], axes: &[usize]) -> Vec<f32> {
        let shape = [2usize, 3, 4];
        let mut out_shape = shape;
        for &a in axes {
            out_shape[a] = 1;
        }
        let out_strides = contiguous_strides(&out_shape);
        let n: usize = out_shape.iter().product();
        let init = match op {
            ReduceOp::Max => f32::NEG_INFINITY,
            ReduceOp::Min => f32::INFINITY,
            _ => 0.0,
        };
        let mut out = vec![init; n];
        let mut counts = vec![0.0f32; n];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    let v = x[i * 12 + j * 4 + k];
                    let idx = [i, j, k];
                    let o: usize = (0..3)
                        .map(|d| {
                            if out_shape[d] == 1 {
                                0
                            } else {
                                idx[d] * out_strides[d]
                            }
                        })
                        .sum();
                    counts[o] += 1.0;
                    out[o] = match op {
                        ReduceOp::Max => out[o].max(v),
                        ReduceOp::Min => out[o].min(v),
                        _ => out[o] + v,
                    };
                }
            }
        }
        if op == ReduceOp::Mean {
            out.iter_mut().zip(&counts).for_each(|(v, c)| *v /= c);
        }
        out
    }

    #[test]
    fn reduce_matches_naive_for_every_axis_set_of_a_3d_tensor() {
        let x = cube();
        let axis_sets: [&[usize]; 7] = [&[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2], &[0, 1, 2]];
        for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min] {
            for axes in axis_sets {
                let got = cpu()
                    .reduce(op, &CpuBuffer::from_vec(x.clone()), &[2, 3, 4], axes)
                    .unwrap();
                let want = naive(op, &x, axes);
                for (g, w) in got.as_slice().iter().zip(&want) {
                    assert!(
                        (g - w).abs() < 1e-5,
                        "{op:?} over {axes:?}: {:?} vs {want:?}",
                        got.as_slice()
                    );
                }
                assert_eq!(got.len(), want.len());
            }
        }
    }

    #[test]
    fn reduce_last_axis_sums_each_row() {
        let x = CpuBuffer::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            cpu()
                .reduce(ReduceOp::Sum, &x, &[2, 3], &[1])
                .unwrap()
                .as_slice(),
            &[6.0, 15.0]
        );
        assert_eq!(
            cpu()
                .reduce(ReduceOp::Mean, &x, &[2, 3], &[0])
                .unwrap()
                .as_slice(),
            &[2.5, 3.5, 4.5]
        );
    }

    #[test]
    fn reduce_long_row_uses_all_lanes_correctly() {
        let x: Vec<f32> = (0..1000).map(|i| (i % 17) as f32).collect();
        let want: f32 = x.iter().sum();
        let got = cpu()
            .reduce(ReduceOp::Sum, &CpuBuffer::from_vec(x), &[1000], &[0])
            .unwrap();
        assert_eq!(got.as_slice(), &[want]);
    }

    #[test]
    fn reduce_rejects_bad_axes_and_lengths() {
        let x = CpuBuffer::from_vec(vec![0.0; 6]);
        for axes in [&[][..], &[2], &[1, 0], &[1, 1]] {
            assert!(
                cpu().reduce(ReduceOp::Sum, &x, &[2, 3], axes).is_err(),
                "{axes:?}"
            );
        }
        let err = cpu().reduce(ReduceOp::Sum, &x, &[2, 2], &[0]);
        assert!(matches!(err, Err(BackendError::LengthMismatch { .. })));
    }

    #[test]
    fn max_over_an_empty_axis_is_an_error_but_sum_is_zero() {
        let x = CpuBuffer::from_vec(Vec::new());
        assert!(cpu().reduce(ReduceOp::Max, &x, &[2, 0], &[1]).is_err());
        assert_eq!(
            cpu()
                .reduce(ReduceOp::Sum, &x, &[2, 0], &[1])
                .unwrap()
                .as_slice(),
            &[0.0, 0.0]
        );
    }

    #[test]
    fn argmax_along_last_axis_takes_first_of_ties() {
        let x = CpuBuffer::from_vec(vec![1.0, 3.0, 3.0, 0.0, -1.0, -2.0]);
        assert_eq!(
            cpu().argmax(&x, &[2, 3], 1).unwrap().as_slice(),
            &[1.0, 0.0]
        );
    }

    #[test]
    fn argmax_along_leading_axis_compares_rows() {
        let x = CpuBuffer::from_vec(vec![1.0, 5.0, 2.0, 4.0, 5.0, 2.0, 0.0, 9.0, 2.0]);
        assert_eq!(
            cpu().argmax(&x, &[3, 3], 0).unwrap().as_slice(),
            &[1.0, 2.0, 0.0]
        );
        let x = CpuBuffer::from_vec(cube());
        let got = cpu().argmax(&x, &[2, 3, 4], 1).unwrap();
        let c = cube();
        let want: Vec<f32> = (0..2)
            .flat_map(|i| {
                let c = &c;
                (0..4).map(move |k| {
                    let col: Vec<f32> = (0..3).map(|j| c[i * 12 + j * 4 + k]).collect();
                    let m = col.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                    col.iter().position(|&v| v == m).unwrap() as f32
                })
            })
            .collect();
        assert_eq!(got.as_slice(), &want[..]);
    }

    #[test]
    fn argmax_rejects_axis_out_of_range() {
        assert!(
            cpu()
                .argmax(&CpuBuffer::from_vec(vec![1.0]), &[1], 1)
                .is_err()
        );
    }

    #[test]
    fn sum_squares_is_squared_norm() {
        let x = CpuBuffer::from_vec(vec![3.0, 4.0, -12.0]);
        assert_eq!(cpu().sum_squares(&x).unwrap().as_slice(), &[169.0]);
    }
}
