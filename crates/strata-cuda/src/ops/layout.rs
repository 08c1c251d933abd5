//! Layout ops on the GPU (`kernels/layout.cu`): permute, broadcast_to, slice_axis and concat
//! are all one strided copy (source and destination strides, dimensions merged on the host);
//! the row gather is one thread per output element and the row scatter-add uses `atomicAdd`.
//! Indices are checked on the host from their upload-time summary (see `check`).

use strata_backend::{BackendError, LayoutOps, Result, concat_shape, contiguous_strides};

use crate::check::{check_shape, elem_count, invalid, matrix_len};
use crate::kernels::{launch, launch_config};
use crate::strided::{StridedArgs, broadcast_strides, merge};
use crate::{CudaBackend, CudaBuffer};

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

impl CudaBackend {
    /// `dst[dst_offset + walk_dst(i)] = src[src_offset + walk_src(i)]` over `dims`.
    #[allow(clippy::too_many_arguments)]
    fn strided_copy(
        &self,
        op: &'static str,
        dst: &mut CudaBuffer,
        dst_offset: usize,
        dst_strides: &[usize],
        src: &CudaBuffer,
        src_offset: usize,
        src_strides: &[usize],
        dims: &[usize],
    ) -> Result<()> {
        let n = elem_count(op, dims)?;
        if n == 0 {
            return Ok(());
        }
        let m = merge(dims, &[src_strides, dst_strides]);
        let args = StridedArgs::new(op, &m.dims, &m.strides[0], &m.strides[1])?;
        let (len, d_off, s_off) = (n as u64, dst_offset as u64, src_offset as u64);
        launch!(
            self,
            Layout,
            "layout_copy",
            launch_config(n),
            dst.slice_mut(),
            src.slice(),
            &len,
            &d_off,
            &s_off,
            &args
        )
    }
}

impl LayoutOps for CudaBackend {
    fn permute(&self, x: &CudaBuffer, shape: &[usize], axes: &[usize]) -> Result<CudaBuffer> {
        check_shape("permute", shape, x.len())?;
        check_axes(shape, axes)?;
        let strides = contiguous_strides(shape);
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let src_strides: Vec<usize> = axes.iter().map(|&a| strides[a]).collect();
        let mut out = self.alloc(x.len())?;
        self.strided_copy(
            "permute",
            &mut out,
            0,
            &contiguous_strides(&out_shape),
            x,
            0,
            &src_strides,
            &out_shape,
        )?;
        Ok(out)
    }

    fn broadcast_to(
        &self,
        x: &CudaBuffer,
        shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CudaBuffer> {
        check_shape("broadcast_to", shape, x.len())?;
        let n = elem_count("broadcast_to", out_shape)?;
        let strides = broadcast_strides("broadcast_to", shape, out_shape)?;
        let mut out = self.alloc(n)?;
        self.strided_copy(
            "broadcast_to",
            &mut out,
            0,
            &contiguous_strides(out_shape),
            x,
            0,
            &strides,
            out_shape,
        )?;
        Ok(out)
    }

    fn slice_axis(
        &self,
        x: &CudaBuffer,
        shape: &[usize],
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<CudaBuffer> {
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
        let strides = contiguous_strides(shape);
        let mut out_shape = shape.to_vec();
        out_shape[axis] = len;
        let n = elem_count("slice_axis", &out_shape)?;
        let mut out = self.alloc(n)?;
        self.strided_copy(
            "slice_axis",
            &mut out,
            0,
            &contiguous_strides(&out_shape),
            x,
            start * strides[axis],
            &strides,
            &out_shape,
        )?;
        Ok(out)
    }

    fn concat(
        &self,
        parts: &[&CudaBuffer],
        shapes: &[&[usize]],
        axis: usize,
    ) -> Result<CudaBuffer> {
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        let out_shape = concat_shape(&lens, shapes, axis)?;
        let n = elem_count("concat", &out_shape)?;
        let out_strides = contiguous_strides(&out_shape);
        let mut out = self.alloc(n)?;
        let mut at = 0;
        for (p, s) in parts.iter().zip(shapes) {
            self.strided_copy(
                "concat",
                &mut out,
                at * out_strides[axis],
                &out_strides,
                p,
                0,
                &contiguous_strides(s),
                s,
            )?;
            at += s[axis];
        }
        Ok(out)
    }

    fn index_select_rows(
        &self,
        x: &CudaBuffer,
        rows: usize,
        cols: usize,
        indices: &CudaBuffer,
    ) -> Result<CudaBuffer> {
        const OP: &str = "index_select_rows";
        BackendError::check_len(OP, matrix_len(OP, rows, cols)?, x.len())?;
        self.check_indices(OP, "index", "position", indices, rows)?;
        let count = indices.len();
        let len = matrix_len(OP, count, cols)?;
        let mut out = self.alloc(len)?;
        if len == 0 {
            return Ok(out);
        }
        let (c, r, k) = (count as u64, rows as u64, cols as u64);
        launch!(
            self,
            Layout,
            "layout_index_select_rows",
            launch_config(len),
            out.slice_mut(),
            x.slice(),
            indices.slice(),
            &c,
            &r,
            &k
        )?;
        Ok(out)
    }

    fn index_add_rows(
        &self,
        src: &CudaBuffer,
        indices: &CudaBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<CudaBuffer> {
        const OP: &str = "index_add_rows";
        let n = matrix_len(OP, rows, cols)?;
        BackendError::check_len(OP, matrix_len(OP, indices.len(), cols)?, src.len())?;
        self.check_indices(OP, "index", "position", indices, rows)?;
        let mut out = self.alloc_zeros(n)?;
        let count = indices.len();
        let len = count * cols;
        if len == 0 {
            return Ok(out);
        }
        let (c, r, k) = (count as u64, rows as u64, cols as u64);
        launch!(
            self,
            Layout,
            "layout_index_add_rows",
            launch_config(len),
            out.slice_mut(),
            src.slice(),
            indices.slice(),
            &c,
            &r,
            &k
        )?;
        Ok(out)
    }
}
