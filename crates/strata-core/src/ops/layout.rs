//! Layout ops: transpose/permute, broadcast, narrow, concatenate, flatten, row gathers.

use strata_backend::{LayoutOps, Shape};

use crate::autograd::record;
use crate::storage::{map_buffer, map_buffers2};
use crate::{Error, Result, Tensor};

impl Tensor {
    /// Materializes the tensor with its axes permuted: output axis `i` is input axis `axes[i]`.
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        let mut seen = vec![false; self.rank()];
        if axes.len() != self.rank()
            || axes
                .iter()
                .any(|&a| a >= self.rank() || std::mem::replace(&mut seen[a], true))
        {
            return Err(Error::shape(
                "permute",
                format!(
                    "{axes:?} is not a permutation of the {} axes of {}",
                    self.rank(),
                    self.shape()
                ),
            ));
        }
        if axes.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        let dims = self.dims().to_vec();
        let out: Vec<usize> = axes.iter().map(|&a| dims[a]).collect();
        let storage = map_buffer!(&*self.read(), |b, x| b.permute(x, &dims, axes));
        let node = record("permute", &[self], || {
            let mut inverse = vec![0; axes.len()];
            for (i, &a) in axes.iter().enumerate() {
                inverse[a] = i;
            }
            move |g: &Tensor, _: &[Tensor]| Ok(vec![Some(g.permute(&inverse)?)])
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }

    /// Swaps two axes (materialized).
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        if a >= self.rank() || b >= self.rank() {
            return Err(Error::shape(
                "transpose",
                format!("axes {a} and {b} for a tensor of shape {}", self.shape()),
            ));
        }
        let mut axes: Vec<usize> = (0..self.rank()).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// The transpose of a matrix.
    pub fn t(&self) -> Result<Tensor> {
        if self.rank() != 2 {
            return Err(Error::shape(
                "t",
                format!("expects a matrix, got shape {}", self.shape()),
            ));
        }
        self.transpose(0, 1)
    }

    /// Materializes the tensor broadcast to `shape` (NumPy rules); the gradient is summed back.
    pub fn broadcast_as(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.dims() == self.dims() {
            return Ok(self.clone());
        }
        let out = shape.dims().to_vec();
        let ok = out.len() >= self.rank()
            && self
                .dims()
                .iter()
                .zip(&out[out.len() - self.rank()..])
                .all(|(&s, &o)| s == o || s == 1);
        if !ok {
            return Err(Error::shape(
                "broadcast_as",
                format!("cannot broadcast {} to {shape}", self.shape()),
            ));
        }
        let mut padded = vec![1; out.len() - self.rank()];
        padded.extend_from_slice(self.dims());
        let storage = map_buffer!(&*self.read(), |b, x| b.broadcast_to(x, &padded, &out));
        let node = record("broadcast_as", &[self], || {
            let dims = self.dims().to_vec();
            move |g: &Tensor, _: &[Tensor]| Ok(vec![Some(g.sum_to_shape(&dims)?)])
        });
        Ok(Tensor::from_storage(storage, shape, node))
    }

    /// `len` entries along `axis` starting at `start` (copied).
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Tensor> {
        if axis >= self.rank() || start + len > self.dims()[axis] {
            return Err(Error::shape(
                "narrow",
                format!(
                    "range {start}..{} on axis {axis} of a tensor of shape {}",
                    start + len,
                    self.shape()
                ),
            ));
        }
        let dims = self.dims().to_vec();
        let mut out = dims.clone();
        out[axis] = len;
        let storage = map_buffer!(&*self.read(), |b, x| b
            .slice_axis(x, &dims, axis, start, len));
        let node = record("narrow", &[self], || {
            move |g: &Tensor, inputs: &[Tensor]| {
                let x = &inputs[0];
                let full = x.dims()[axis];
                let mut parts = Vec::new();
                let shape_of = |n: usize| {
                    let mut s = x.dims().to_vec();
                    s[axis] = n;
                    s
                };
                if start > 0 {
                    parts.push(Tensor::zeros(shape_of(start), &g.device())?);
                }
                parts.push(g.clone());
                if start + len < full {
                    parts.push(Tensor::zeros(shape_of(full - start - len), &g.device())?);
                }
                Ok(vec![Some(Tensor::cat(&parts, axis)?)])
            }
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }

    /// Concatenates tensors along `axis` (all other dimensions equal).
    pub fn cat(tensors: &[Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("cat", "needs at least one tensor"))?;
        if axis >= first.rank() {
            return Err(Error::shape(
                "cat",
                format!("axis {axis} for tensors of shape {}", first.shape()),
            ));
        }
        for t in tensors {
            let same = t.rank() == first.rank()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !same {
                return Err(Error::shape(
                    "cat",
                    format!(
                        "{} and {} differ outside axis {axis}",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
            if t.device() != first.device() {
                return Err(Error::DeviceMismatch {
                    op: "cat",
                    lhs: first.device().to_string(),
                    rhs: t.device().to_string(),
                });
            }
        }
        if tensors.len() == 1 {
            return Ok(first.clone());
        }
        let mut out = first.dims().to_vec();
        out[axis] = tensors.iter().map(|t| t.dims()[axis]).sum();
        let guards: Vec<_> = tensors.iter().map(|t| t.read()).collect();
        let shapes: Vec<&[usize]> = tensors.iter().map(|t| t.dims()).collect();
        let storage = crate::storage::concat_storages(&guards, &shapes, axis)?;
        drop(guards);
        let refs: Vec<&Tensor> = tensors.iter().collect();
        let node = record("cat", &refs, || {
            let sizes: Vec<usize> = tensors.iter().map(|t| t.dims()[axis]).collect();
            move |g: &Tensor, _: &[Tensor]| {
                let mut start = 0;
                let mut grads = Vec::with_capacity(sizes.len());
                for &n in &sizes {
                    grads.push(Some(g.narrow(axis, start, n)?));
                    start += n;
                }
                Ok(grads)
            }
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }

    /// Keeps the first `start_dim` dimensions and merges the rest into one (free view).
    pub fn flatten_from(&self, start_dim: usize) -> Result<Tensor> {
        if start_dim > self.rank() {
            return Err(Error::shape(
                "flatten",
                format!("start_dim {start_dim} for shape {}", self.shape()),
            ));
        }
        let mut dims: Vec<usize> = self.dims()[..start_dim].to_vec();
        dims.push(self.dims()[start_dim..].iter().product());
        self.reshape(dims)
    }

    /// Gathers rows of a matrix: `out[i] = self[indices[i]]` (`indices` holds integers as
    /// `f32`). The gradient is scattered back with additions (repeated rows accumulate).
    pub fn index_select_rows(&self, indices: &Tensor) -> Result<Tensor> {
        if self.rank() != 2 {
            return Err(Error::shape(
                "index_select_rows",
                format!("expects a matrix, got {}", self.shape()),
            ));
        }
        let (rows, cols) = (self.dims()[0], self.dims()[1]);
        let n = indices.elem_count();
        let storage = map_buffers2!(
            "index_select_rows",
            &*self.read(),
            &*indices.read(),
            |b, x, i| b.index_select_rows(x, rows, cols, i)
        );
        let node = record("index_select_rows", &[self], || {
            let idx = indices.detach();
            move |g: &Tensor, _: &[Tensor]| {
                let storage =
                    map_buffers2!("index_add_rows", &*g.read(), &*idx.read(), |b, gg, i| b
                        .index_add_rows(gg, i, rows, cols));
                Ok(vec![Some(Tensor::from_storage(
                    storage,
                    Shape::new(vec![rows, cols]),
                    None,
                ))])
            }
        });
        Ok(Tensor::from_storage(
            storage,
            Shape::new(vec![n, cols]),
            node,
        ))
    }
}
