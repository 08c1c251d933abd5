//! N-d iteration over operands described by strides: broadcast operands (stride 0 along a
//! broadcast axis), permuted inputs, reduction outputs.
//!
//! Axes are first collapsed (size-1 axes dropped, neighbours merged wherever every operand is
//! contiguous across them), so a row broadcast becomes two axes and an equal-shape operation
//! one; the walker then visits the innermost runs with a carry counter, never dividing per
//! element. Callers specialise the inner run on its strides (0 or 1 in the common cases).

use strata_backend::{Result, contiguous_strides};

use crate::check::invalid;

/// Collapsed axes and the stride of every operand along each of them. Never empty: a
/// scalar is one axis of size 1.
pub(crate) struct Layout<const N: usize> {
    /// Sizes of the collapsed axes.
    pub dims: Vec<usize>,
    /// For each operand, its stride (in elements) along each collapsed axis.
    pub strides: [Vec<usize>; N],
}

impl<const N: usize> Layout<N> {
    /// Collapses `dims`, where operand `j` has stride `strides[j][axis]` along `axis`.
    pub fn new(dims: &[usize], strides: [&[usize]; N]) -> Self {
        let mut out_dims: Vec<usize> = Vec::with_capacity(dims.len().max(1));
        let mut out_strides: [Vec<usize>; N] =
            std::array::from_fn(|_| Vec::with_capacity(dims.len().max(1)));
        for (axis, &d) in dims.iter().enumerate() {
            if d == 1 {
                continue;
            }
            let mergeable = !out_dims.is_empty()
                && (0..N).all(|j| out_strides[j].last() == Some(&(strides[j][axis] * d)));
            if let (true, Some(last)) = (mergeable, out_dims.last_mut()) {
                *last *= d;
                for (s, src) in out_strides.iter_mut().zip(&strides) {
                    if let Some(inner) = s.last_mut() {
                        *inner = src[axis];
                    }
                }
            } else {
                out_dims.push(d);
                for (s, src) in out_strides.iter_mut().zip(&strides) {
                    s.push(src[axis]);
                }
            }
        }
        if out_dims.is_empty() {
            out_dims.push(1);
            for s in &mut out_strides {
                s.push(0);
            }
        }
        Layout {
            dims: out_dims,
            strides: out_strides,
        }
    }

    /// Length of the innermost run.
    pub fn inner_len(&self) -> usize {
        self.dims[self.dims.len() - 1]
    }

    /// Stride of operand `j` along the innermost axis.
    pub fn inner_stride(&self, j: usize) -> usize {
        self.strides[j][self.dims.len() - 1]
    }

    /// Calls `f` with every operand's offset at the start of each innermost run, with the
    /// outer axes in row-major order. Does nothing when any axis is empty.
    pub fn for_each_run(&self, mut f: impl FnMut([usize; N])) {
        if self.dims.contains(&0) {
            return;
        }
        let outer = self.dims.len() - 1;
        let mut idx = vec![0usize; outer];
        let mut off = [0usize; N];
        loop {
            f(off);
            let mut axis = outer;
            loop {
                if axis == 0 {
                    return;
                }
                axis -= 1;
                idx[axis] += 1;
                for (o, s) in off.iter_mut().zip(&self.strides) {
                    *o += s[axis];
                }
                if idx[axis] < self.dims[axis] {
                    break;
                }
                for (o, s) in off.iter_mut().zip(&self.strides) {
                    *o -= s[axis] * self.dims[axis];
                }
                idx[axis] = 0;
            }
        }
    }
}

/// Strides of a contiguous operand of shape `shape` read as shape `out` under NumPy
/// broadcasting (right-aligned; stride 0 along broadcast axes).
pub(crate) fn broadcast_strides(
    op: &'static str,
    shape: &[usize],
    out: &[usize],
) -> Result<Vec<usize>> {
    let mismatch = || invalid(op, format!("shape {shape:?} does not broadcast to {out:?}"));
    if shape.len() > out.len() {
        return Err(mismatch());
    }
    let lead = out.len() - shape.len();
    let own = contiguous_strides(shape);
    let mut strides = vec![0; out.len()];
    for (i, (&d, &s)) in shape.iter().zip(&own).enumerate() {
        let o = out[lead + i];
        if d == o {
            strides[lead + i] = s;
        } else if d != 1 {
            return Err(mismatch());
        }
    }
    Ok(strides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_shapes_collapse_to_one_axis() {
        let s = contiguous_strides(&[2, 3, 4]);
        let l = Layout::new(&[2, 3, 4], [&s, &s]);
        assert_eq!(l.dims, vec![24]);
        assert_eq!(l.strides, [vec![1], vec![1]]);
    }

    #[test]
    fn row_broadcast_collapses_to_two_axes() {
        let full = contiguous_strides(&[2, 3, 4]);
        let row = broadcast_strides("t", &[4], &[2, 3, 4]).unwrap();
        let l = Layout::new(&[2, 3, 4], [&full, &row]);
        assert_eq!(l.dims, vec![6, 4]);
        assert_eq!(l.strides, [vec![4, 1], vec![0, 1]]);
    }

    #[test]
    fn walker_visits_runs_in_row_major_order() {
        let l = Layout::new(&[2, 3], [&[1, 2]]);
        let mut seen = Vec::new();
        l.for_each_run(|[o]| seen.push(o));
        assert_eq!(l.dims, vec![2, 3]);
        assert_eq!(seen, vec![0, 1]);
    }

    #[test]
    fn incompatible_shapes_are_rejected() {
        assert!(broadcast_strides("t", &[3], &[2, 4]).is_err());
        assert!(broadcast_strides("t", &[1, 2, 4], &[2, 4]).is_err());
        assert_eq!(
            broadcast_strides("t", &[2, 1], &[2, 5]).unwrap(),
            vec![1, 0]
        );
    }
}
