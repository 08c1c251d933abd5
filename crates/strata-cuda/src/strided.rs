//! N-d strided walks for the kernels: [`StridedArgs`] (the `Strided` struct of
//! `kernels/common.cuh`, passed by value) and the dimension merging that keeps its rank small.

use cudarc::driver::DeviceRepr;
use strata_backend::{BackendError, Result, contiguous_strides};

/// The most dimensions a strided kernel walks (after merging); `MAX_DIMS` in `common.cuh`.
pub(crate) const MAX_DIMS: usize = 8;

/// A row-major walk over `dims` with two strided operands; the layout of `struct Strided` in
/// `kernels/common.cuh` (same field order, `repr(C)`: 3 × 64 + 4 bytes, padded to 200).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StridedArgs {
    dims: [u64; MAX_DIMS],
    a: [u64; MAX_DIMS],
    b: [u64; MAX_DIMS],
    rank: i32,
}

// SAFETY: `repr(C)` plain data whose layout matches the kernels' `struct Strided`.
unsafe impl DeviceRepr for StridedArgs {}

impl StridedArgs {
    /// The walk over `dims` with strides `a` and `b` (same length as `dims`), after merging
    /// every pair of adjacent dimensions that both operands traverse contiguously and
    /// dropping dimensions of size 1. Errors when more than [`MAX_DIMS`] dimensions remain.
    pub(crate) fn new(op: &'static str, dims: &[usize], a: &[usize], b: &[usize]) -> Result<Self> {
        let merged = merge(dims, &[a, b]);
        if merged.dims.len() > MAX_DIMS {
            return Err(BackendError::InvalidArgument {
                op,
                message: format!(
                    "shape {dims:?} needs {} strided dimensions after merging; the CUDA backend walks at most {MAX_DIMS}",
                    merged.dims.len()
                ),
            });
        }
        let mut args = StridedArgs {
            dims: [1; MAX_DIMS],
            a: [0; MAX_DIMS],
            b: [0; MAX_DIMS],
            rank: merged.dims.len() as i32,
        };
        for (i, &d) in merged.dims.iter().enumerate() {
            args.dims[i] = d as u64;
            args.a[i] = merged.strides[0][i] as u64;
            args.b[i] = merged.strides[1][i] as u64;
        }
        Ok(args)
    }

    /// The merged rank (for tests).
    #[cfg(test)]
    pub(crate) fn rank(&self) -> usize {
        self.rank as usize
    }
}

/// Dimensions and per-operand strides after merging.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Merged {
    pub(crate) dims: Vec<usize>,
    pub(crate) strides: Vec<Vec<usize>>,
}

/// Drops size-1 dimensions and merges dimension `i` into `i + 1` whenever, for every operand,
/// `stride[i] == stride[i + 1] · dims[i + 1]` (the two walk as one).
pub(crate) fn merge(dims: &[usize], strides: &[&[usize]]) -> Merged {
    let mut out = Merged {
        dims: Vec::with_capacity(dims.len()),
        strides: vec![Vec::with_capacity(dims.len()); strides.len()],
    };
    for (i, &d) in dims.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable = !out.dims.is_empty()
            && strides
                .iter()
                .zip(&out.strides)
                .all(|(s, o)| o.last().is_some_and(|&last_s| last_s == s[i] * d));
        if mergeable {
            let last = out.dims.len() - 1;
            out.dims[last] *= d;
            for (s, o) in strides.iter().zip(out.strides.iter_mut()) {
                o[last] = s[i];
            }
        } else {
            out.dims.push(d);
            for (s, o) in strides.iter().zip(out.strides.iter_mut()) {
                o.push(s[i]);
            }
        }
    }
    out
}

/// Strides of an operand of shape `shape` broadcast to `out` (NumPy rules, right-aligned: a
/// lower-rank operand gets leading broadcast dimensions): its contiguous strides, 0 where it is
/// broadcast. An error names both shapes when they do not broadcast.
pub(crate) fn broadcast_strides(
    op: &'static str,
    shape: &[usize],
    out: &[usize],
) -> Result<Vec<usize>> {
    let mismatch = || BackendError::InvalidArgument {
        op,
        message: format!("shape {shape:?} does not broadcast to {out:?}"),
    };
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
    fn contiguous_operands_merge_to_one_dimension() {
        let dims = [2, 3, 4];
        let s = contiguous_strides(&dims);
        let m = merge(&dims, &[&s, &s]);
        assert_eq!(m.dims, vec![24]);
        assert_eq!(m.strides, vec![vec![1], vec![1]]);
    }

    #[test]
    fn a_bias_row_keeps_two_dimensions() {
        let out = [5, 3, 4];
        let bias = broadcast_strides("t", &[1, 1, 4], &out).expect("broadcasts");
        assert_eq!(broadcast_strides("t", &[4], &out), Ok(vec![0, 0, 1]));
        assert!(broadcast_strides("t", &[3], &out).is_err());
        assert!(broadcast_strides("t", &[1, 5, 3, 4], &out).is_err());
        let m = merge(&out, &[&contiguous_strides(&out), &bias]);
        assert_eq!(m.dims, vec![15, 4]);
        assert_eq!(m.strides, vec![vec![4, 1], vec![0, 1]]);
    }

    #[test]
    fn size_one_dimensions_vanish() {
        let dims = [1, 6, 1];
        let s = contiguous_strides(&dims);
        let m = merge(&dims, &[&s]);
        assert_eq!(m.dims, vec![6]);
        assert_eq!(m.strides, vec![vec![1]]);
    }

    #[test]
    fn a_transpose_does_not_merge() {
        // permute [2, 3] -> [3, 2]: walk the output, read the input with strides (1, 3).
        let m = merge(&[3, 2], &[&[1, 3], &[2, 1]]);
        assert_eq!(m.dims, vec![3, 2]);
    }

    #[test]
    fn args_reject_too_many_dimensions() {
        // Alternate broadcast axes so that nothing merges.
        let dims = [2usize; 10];
        let a: Vec<usize> = (0..10)
            .map(|i| if i % 2 == 0 { 0 } else { 1 << i })
            .collect();
        let b: Vec<usize> = (0..10)
            .map(|i| if i % 2 == 1 { 0 } else { 1 << i })
            .collect();
        assert!(StridedArgs::new("t", &dims, &a, &b).is_err());
        let ok = StridedArgs::new("t", &[4, 5], &[5, 1], &[0, 1]).expect("two dims");
        assert_eq!(ok.rank(), 2);
    }

    #[test]
    fn layout_matches_the_c_struct() {
        assert_eq!(std::mem::size_of::<StridedArgs>(), 200);
        assert_eq!(std::mem::align_of::<StridedArgs>(), 8);
    }
}
