//! Reference layout ops: permute, broadcast, slice, concat and the row gather/scatter-add.

use strata_backend::{BackendError, LayoutOps, Result};

use super::{
    RefBuffer, ReferenceBackend, broadcast_source, check_broadcast, elem_count, index_below,
    invalid, ravel, round, unravel,
};

impl LayoutOps for ReferenceBackend {
    fn permute(&self, x: &RefBuffer, shape: &[usize], axes: &[usize]) -> Result<RefBuffer> {
        BackendError::check_len("permute", elem_count(shape), x.0.len())?;
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        if sorted != (0..shape.len()).collect::<Vec<_>>() {
            return Err(invalid(
                "permute",
                format!("axes {axes:?} are not a permutation of 0..{}", shape.len()),
            ));
        }
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let out = (0..elem_count(&out_shape))
            .map(|flat| {
                let out_index = unravel(flat, &out_shape);
                let mut in_index = vec![0; shape.len()];
                for (i, &a) in axes.iter().enumerate() {
                    in_index[a] = out_index[i];
                }
                x.0[ravel(&in_index, shape)]
            })
            .collect();
        Ok(RefBuffer(out))
    }

    fn broadcast_to(
        &self,
        x: &RefBuffer,
        shape: &[usize],
        out_shape: &[usize],
    ) -> Result<RefBuffer> {
        check_broadcast("broadcast_to", shape, out_shape)?;
        BackendError::check_len("broadcast_to", elem_count(shape), x.0.len())?;
        let out = (0..elem_count(out_shape))
            .map(|flat| x.0[broadcast_source(&unravel(flat, out_shape), shape)])
            .collect();
        Ok(RefBuffer(out))
    }

    fn slice_axis(
        &self,
        x: &RefBuffer,
        shape: &[usize],
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<RefBuffer> {
        BackendError::check_len("slice_axis", elem_count(shape), x.0.len())?;
        let fits =
            axis < shape.len() && start.checked_add(len).is_some_and(|end| end <= shape[axis]);
        if !fits {
            return Err(invalid(
                "slice_axis",
                format!("{start}..{start}+{len} along axis {axis} is outside shape {shape:?}"),
            ));
        }
        let mut out_shape = shape.to_vec();
        out_shape[axis] = len;
        let out = (0..elem_count(&out_shape))
            .map(|flat| {
                let mut index = unravel(flat, &out_shape);
                index[axis] += start;
                x.0[ravel(&index, shape)]
            })
            .collect();
        Ok(RefBuffer(out))
    }

    fn concat(&self, parts: &[&RefBuffer], shapes: &[&[usize]], axis: usize) -> Result<RefBuffer> {
        let Some(first) = shapes.first() else {
            return Err(invalid("concat", "no parts to concatenate".to_string()));
        };
        if parts.len() != shapes.len() {
            return Err(invalid(
                "concat",
                format!("{} parts but {} shapes", parts.len(), shapes.len()),
            ));
        }
        if axis >= first.len() {
            return Err(invalid(
                "concat",
                format!("axis {axis} is out of range for rank {}", first.len()),
            ));
        }
        for (part, shape) in parts.iter().zip(shapes) {
            let agrees = shape.len() == first.len()
                && (0..first.len()).all(|a| a == axis || shape[a] == first[a]);
            if !agrees {
                return Err(invalid(
                    "concat",
                    format!("shape {shape:?} differs from {first:?} off axis {axis}"),
                ));
            }
            BackendError::check_len("concat", elem_count(shape), part.0.len())?;
        }
        let mut out_shape = first.to_vec();
        out_shape[axis] = shapes.iter().map(|s| s[axis]).sum();
        let out = (0..elem_count(&out_shape))
            .map(|flat| {
                let mut index = unravel(flat, &out_shape);
                let mut part = 0;
                while index[axis] >= shapes[part][axis] {
                    index[axis] -= shapes[part][axis];
                    part += 1;
                }
                parts[part].0[ravel(&index, shapes[part])]
            })
            .collect();
        Ok(RefBuffer(out))
    }

    fn index_select_rows(
        &self,
        x: &RefBuffer,
        rows: usize,
        cols: usize,
        indices: &RefBuffer,
    ) -> Result<RefBuffer> {
        BackendError::check_len("index_select_rows", rows * cols, x.0.len())?;
        let mut out = Vec::with_capacity(indices.0.len() * cols);
        for &index in &indices.0 {
            let row = index_below("index_select_rows", "index", index, rows)?;
            out.extend_from_slice(&x.0[row * cols..(row + 1) * cols]);
        }
        Ok(RefBuffer(out))
    }

    fn index_add_rows(
        &self,
        src: &RefBuffer,
        indices: &RefBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<RefBuffer> {
        BackendError::check_len("index_add_rows", indices.0.len() * cols, src.0.len())?;
        let mut acc = vec![0.0f64; rows * cols];
        for (i, &index) in indices.0.iter().enumerate() {
            let row = index_below("index_add_rows", "index", index, rows)?;
            for c in 0..cols {
                acc[row * cols + c] += f64::from(src.0[i * cols + c]);
            }
        }
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }
}
