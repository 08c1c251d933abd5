//! Layout ops: permute, broadcast, slice, concat and row gather/scatter. They only move data;
//! contiguous inner runs are copied with `copy_from_slice`/`extend_from_slice`, and a
//! permutation that swaps the last two (collapsed) axes goes through a cache-blocked
//! transpose.

use strata_backend::{BackendError, LayoutOps, Result, concat_shape, contiguous_strides};

use crate::check::{check_shape, elem_count, index, invalid, matrix_len};
use crate::strided::{Layout, broadcast_strides};
use crate::{CpuBackend, CpuBuffer};

/// Side of the square tiles of the blocked transpose (two 32×32 f32 tiles fit in L1).
const TILE: usize = 32;

/// Writes the transpose of `src` (`rows × cols`) into `dst` (`cols × rows`), tile by tile.
fn transpose_into(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for r in r0..r1 {
                let row = &src[r * cols..(r + 1) * cols];
                for c in c0..c1 {
                    dst[c * rows + r] = row[c];
                }
            }
        }
    }
}

/// Copies `x` read through `layout` (one operand) into a contiguous vector of `n` elements.
fn gather(x: &[f32], layout: &Layout<1>, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    let len = layout.inner_len();
    match layout.inner_stride(0) {
        1 => layout.for_each_run(|[a]| out.extend_from_slice(&x[a..a + len])),
        0 => layout.for_each_run(|[a]| out.extend(std::iter::repeat_n(x[a], len))),
        s => layout.for_each_run(|[a]| out.extend((0..len).map(|i| x[a + i * s]))),
    }
    out
}

fn check_axes(shape: &[usize], axes: &[usize]) -> Result<()> {
    let mut seen = vec![false; shape.len()];
    let ok = axes.len() == shape.len()
        && axes
            .iter()
            .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "permute",
            format!(
                "axes {axes:?} are not a permutation of 0..{} (shape {shape:?})",
                shape.len()
            ),
        ))
    }
}

impl LayoutOps for CpuBackend {
    fn permute(&self, x: &CpuBuffer, shape: &[usize], axes: &[usize]) -> Result<CpuBuffer> {
        check_shape("permute", shape, x.len())?;
        check_axes(shape, axes)?;
        let x = x.as_slice();
        let n = x.len();
        let strides = contiguous_strides(shape);
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let src_strides: Vec<usize> = axes.iter().map(|&a| strides[a]).collect();
        let layout = Layout::new(&out_shape, [&src_strides]);
        let d = &layout.dims;
        let s = &layout.strides[0];
        // After collapsing, a swap of the last two axes reads as strides [.., 1, rows].
        let swapped =
            n > 0 && d.len() >= 2 && s[d.len() - 2] == 1 && s[d.len() - 1] == d[d.len() - 2];
        let batched = d.len() == 2 || (d.len() == 3 && s[0] == d[1] * d[2]);
        if swapped && batched {
            let (cols, rows) = (d[d.len() - 2], d[d.len() - 1]);
            let mut out = vec![0.0; n];
            for (src, dst) in x
                .chunks_exact(rows * cols)
                .zip(out.chunks_exact_mut(rows * cols))
            {
                transpose_into(src, rows, cols, dst);
            }
            return Ok(CpuBuffer::from_vec(out));
        }
        Ok(CpuBuffer::from_vec(gather(x, &layout, n)))
    }

    fn broadcast_to(
        &self,
        x: &CpuBuffer,
        shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CpuBuffer> {
        check_shape("broadcast_to", shape, x.len())?;
        let n = elem_count("broadcast_to", out_shape)?;
        let strides = broadcast_strides("broadcast_to", shape, out_shape)?;
        let layout = Layout::new(out_shape, [&strides]);
        Ok(CpuBuffer::from_vec(gather(x.as_slice(), &layout, n)))
    }

    fn slice_axis(
        &self,
        x: &CpuBuffer,
        shape: &[usize],
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<CpuBuffer> {
        check_shape("slice_axis", shape, x.len())?;
        let Some(&dim) = shape.get(axis) else {
            return Err(invalid(
                "slice_axis",
                format!("axis {axis} is out of range for shape {shape:?}"),
            ));
        };
        if start.checked_add(len).is_none_or(|end| end > dim) {
            return Err(invalid(
                "slice_axis",
                format!(
                    "elements {start}..{} of axis {axis} are outside 0..{dim} (shape {shape:?})",
                    start.saturating_add(len)
                ),
            ));
        }
        let inner: usize = shape[axis + 1..].iter().product();
        let outer: usize = shape[..axis].iter().product();
        let x = x.as_slice();
        let run = len * inner;
        let mut out = Vec::with_capacity(outer * run);
        if run > 0 {
            for o in 0..outer {
                let base = (o * dim + start) * inner;
                out.extend_from_slice(&x[base..base + run]);
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn concat(&self, parts: &[&CpuBuffer], shapes: &[&[usize]], axis: usize) -> Result<CpuBuffer> {
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        concat_shape(&lens, shapes, axis)?;
        let first = shapes[0];
        let inner: usize = first[axis + 1..].iter().product();
        let outer: usize = first[..axis].iter().product();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut out = Vec::with_capacity(total);
        for o in 0..outer {
            for (p, s) in parts.iter().zip(shapes) {
                let run = s[axis] * inner;
                out.extend_from_slice(&p.as_slice()[o * run..(o + 1) * run]);
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn index_select_rows(
        &self,
        x: &CpuBuffer,
        rows: usize,
        cols: usize,
        indices: &CpuBuffer,
    ) -> Result<CpuBuffer> {
        BackendError::check_len(
            "index_select_rows",
            matrix_len("index_select_rows", rows, cols)?,
            x.len(),
        )?;
        let x = x.as_slice();
        let mut out = Vec::with_capacity(indices.len() * cols);
        for (i, &v) in indices.as_slice().iter().enumerate() {
            let r = index("index_select_rows", "index", "position", i, v, rows)?;
            out.extend_from_slice(&x[r * cols..(r + 1) * cols]);
        }
        Ok(CpuBuffer::from_vec(out))
    }

    fn index_add_rows(
        &self,
        src: &CpuBuffer,
        indices: &CpuBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<CpuBuffer> {
        let n = matrix_len("index_add_rows", rows, cols)?;
        BackendError::check_len(
            "index_add_rows",
            matrix_len("index_add_rows", indices.len(), cols)?,
            src.len(),
        )?;
        let rows_of: Vec<usize> = indices
            .as_slice()
            .iter()
            .enumerate()
            .map(|(i, &v)| index("index_add_rows", "index", "position", i, v, rows))
            .collect::<Result<_>>()?;
        let mut out = vec![0.0; n];
        if cols > 0 {
            for (&r, row) in rows_of.iter().zip(src.as_slice().chunks_exact(cols)) {
                for (o, &s) in out[r * cols..(r + 1) * cols].iter_mut().zip(row) {
                    *o += s;
                }
            }
        }
        Ok(CpuBuffer::from_vec(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> CpuBackend {
        CpuBackend::new()
    }

    fn seq(n: usize) -> CpuBuffer {
        CpuBuffer::from_vec((0..n).map(|i| i as f32).collect())
    }

    /// Permutation by explicit index arithmetic.
    fn naive_permute(x: &[f32], shape: &[usize], axes: &[usize]) -> Vec<f32> {
        let strides = contiguous_strides(shape);
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let out_strides = contiguous_strides(&out_shape);
        (0..x.len())
            .map(|flat| {
                let src: usize = (0..axes.len())
                    .map(|i| (flat / out_strides[i]) % out_shape[i] * strides[axes[i]])
                    .sum();
                x[src]
            })
            .collect()
    }

    #[test]
    fn permute_transposes_a_matrix() {
        let got = cpu().permute(&seq(6), &[2, 3], &[1, 0]).unwrap();
        assert_eq!(got.as_slice(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn permute_large_transpose_crosses_tile_edges() {
        let x = seq(70 * 45);
        let got = cpu().permute(&x, &[70, 45], &[1, 0]).unwrap();
        assert_eq!(
            got.as_slice(),
            &naive_permute(x.as_slice(), &[70, 45], &[1, 0])[..]
        );
        let x = seq(3 * 33 * 40);
        let got = cpu().permute(&x, &[3, 33, 40], &[0, 2, 1]).unwrap();
        assert_eq!(
            got.as_slice(),
            &naive_permute(x.as_slice(), &[3, 33, 40], &[0, 2, 1])[..]
        );
    }

    #[test]
    fn permute_matches_naive_for_every_order_of_a_4d_tensor() {
        let shape = [2, 3, 4, 5];
        let x = seq(120);
        let orders: [[usize; 4]; 6] = [
            [0, 1, 2, 3],
            [3, 2, 1, 0],
            [1, 0, 3, 2],
            [0, 2, 3, 1],
            [2, 0, 1, 3],
            [3, 0, 1, 2],
        ];
        for axes in orders {
            let got = cpu().permute(&x, &shape, &axes).unwrap();
            assert_eq!(
                got.as_slice(),
                &naive_permute(x.as_slice(), &shape, &axes)[..],
                "{axes:?}"
            );
        }
    }

    #[test]
    fn permute_rejects_axes_that_are_not_a_permutation() {
        for axes in [&[0, 0][..], &[0], &[0, 2], &[1, 0, 2]] {
            assert!(cpu().permute(&seq(6), &[2, 3], axes).is_err(), "{axes:?}");
        }
        assert!(cpu().permute(&seq(5), &[2, 3], &[1, 0]).is_err());
    }

    #[test]
    fn broadcast_to_repeats_rows_and_columns() {
        let rows = cpu().broadcast_to(&seq(3), &[1, 3], &[2, 3]).unwrap();
        assert_eq!(rows.as_slice(), &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
        let cols = cpu().broadcast_to(&seq(2), &[2, 1], &[2, 3]).unwrap();
        assert_eq!(cols.as_slice(), &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        let mid = cpu().broadcast_to(&seq(4), &[2, 1, 2], &[2, 2, 2]).unwrap();
        assert_eq!(mid.as_slice(), &[0.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 3.0]);
        assert!(cpu().broadcast_to(&seq(2), &[2], &[3]).is_err());
    }

    #[test]
    fn slice_axis_copies_the_requested_range() {
        let x = seq(24);
        let got = cpu().slice_axis(&x, &[2, 3, 4], 1, 1, 2).unwrap();
        let want: Vec<f32> = [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]
            .iter()
            .map(|&v| v as f32)
            .collect();
        assert_eq!(got.as_slice(), &want[..]);
        let last = cpu().slice_axis(&x, &[2, 3, 4], 2, 3, 1).unwrap();
        assert_eq!(last.as_slice(), &[3.0, 7.0, 11.0, 15.0, 19.0, 23.0]);
        assert!(cpu().slice_axis(&x, &[2, 3, 4], 1, 2, 2).is_err());
        assert!(cpu().slice_axis(&x, &[2, 3, 4], 3, 0, 1).is_err());
        assert!(cpu().slice_axis(&x, &[2, 3, 4], 1, usize::MAX, 2).is_err());
    }

    #[test]
    fn concat_interleaves_parts_along_the_axis() {
        let a = seq(4);
        let b = CpuBuffer::from_vec(vec![10.0, 11.0]);
        let got = cpu().concat(&[&a, &b], &[&[2, 2], &[2, 1]], 1).unwrap();
        assert_eq!(got.as_slice(), &[0.0, 1.0, 10.0, 2.0, 3.0, 11.0]);
        let got = cpu().concat(&[&a, &b], &[&[2, 2], &[1, 2]], 0).unwrap();
        assert_eq!(got.as_slice(), &[0.0, 1.0, 2.0, 3.0, 10.0, 11.0]);
    }

    #[test]
    fn concat_rejects_mismatched_shapes() {
        let a = seq(4);
        let b = CpuBuffer::from_vec(vec![10.0, 11.0]);
        assert!(cpu().concat(&[&a, &b], &[&[2, 2], &[1, 2]], 1).is_err());
        assert!(cpu().concat(&[&a, &b], &[&[2, 2], &[2, 2]], 0).is_err());
        assert!(cpu().concat(&[], &[], 0).is_err());
        assert!(cpu().concat(&[&a], &[&[4]], 1).is_err());
    }

    #[test]
    fn index_select_rows_gathers_rows_in_index_order() {
        let x = seq(6);
        let idx = CpuBuffer::from_vec(vec![2.0, 0.0, 2.0]);
        let got = cpu().index_select_rows(&x, 3, 2, &idx).unwrap();
        assert_eq!(got.as_slice(), &[4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
    }

    #[test]
    fn index_select_rows_rejects_index_out_of_range() {
        let idx = CpuBuffer::from_vec(vec![0.0, 3.0]);
        let err = cpu().index_select_rows(&seq(6), 3, 2, &idx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "index_select_rows: index 3 at position 1 is outside 0..3"
        );
    }

    #[test]
    fn index_add_rows_accumulates_repeated_indices() {
        let src = CpuBuffer::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let idx = CpuBuffer::from_vec(vec![1.0, 0.0, 1.0]);
        let got = cpu().index_add_rows(&src, &idx, 3, 2).unwrap();
        assert_eq!(got.as_slice(), &[3.0, 4.0, 6.0, 8.0, 0.0, 0.0]);
        let bad = CpuBuffer::from_vec(vec![1.0, -1.0, 1.0]);
        assert!(cpu().index_add_rows(&src, &bad, 3, 2).is_err());
        assert!(cpu().index_add_rows(&src, &idx, 3, 3).is_err());
        let empty = CpuBuffer::from_vec(Vec::new());
        assert!(
            cpu()
                .index_add_rows(&empty, &CpuBuffer::from_vec(vec![0.0]), 0, 0)
                .is_err()
        );
    }
}
