//! Embedding lookup: gather rows of a table by token id, scatter-add the gradient back.
//!
//! Built on the layout family's `index_select_rows`/`index_add_rows` (the gather and the
//! scatter-add), with the ids checked here so an out-of-vocabulary token is an error naming
//! the id, its position and the vocabulary size, and with the padding row's gradient held at
//! zero.

use strata_backend::{LayoutOps, Shape};

use crate::autograd::record;
use crate::storage::map_buffers2;
use crate::{Error, Result, Tensor};

impl Tensor {
    /// Looks up the rows of this table `[vocab, dim]` for every id of `ids` (any shape,
    /// integers stored as `f32`): the result has shape `ids.dims() ++ [dim]`. Positions whose
    /// id is `padding_idx` send no gradient to the table (PyTorch's `padding_idx`). An id that
    /// is not a whole number in `0..vocab` is an error naming it, its position and `vocab`.
    pub fn embedding(&self, ids: &Tensor, padding_idx: Option<usize>) -> Result<Tensor> {
        let [vocab, dim] = *self.dims() else {
            return Err(Error::shape(
                "embedding",
                format!("the table must be [vocab, dim]; got {}", self.shape()),
            ));
        };
        let host = ids.to_vec()?;
        for (pos, &id) in host.iter().enumerate() {
            if !(id >= 0.0 && id.fract() == 0.0 && (id as usize) < vocab) {
                return Err(Error::invalid(
                    "embedding",
                    format!(
                        "token id {id} at position {pos} is outside the vocabulary of {vocab} \
                         (ids must be whole numbers in 0..{vocab})"
                    ),
                ));
            }
        }
        if let Some(p) = padding_idx
            && p >= vocab
        {
            return Err(Error::invalid(
                "embedding",
                format!("padding_idx {p} is outside the vocabulary of {vocab}"),
            ));
        }
        let n = host.len();
        let storage = map_buffers2!("embedding", &*self.read(), &*ids.read(), |b, x, i| b
            .index_select_rows(x, vocab, dim, i));
        let mut out_dims = ids.dims().to_vec();
        out_dims.push(dim);
        let device = self.device();
        let node = record("embedding", &[self], || {
            let idx = ids.detach();
            let keep: Option<Vec<f32>> = padding_idx.map(|p| {
                host.iter()
                    .map(|&id| if id as usize == p { 0.0 } else { 1.0 })
                    .collect()
            });
            move |g: &Tensor, _: &[Tensor]| {
                let g = g.reshape([n, dim])?;
                let g = match keep {
                    Some(k) => g.mul(&Tensor::from_vec(k, [n, 1], &device)?)?,
                    None => g,
                };
                let storage = map_buffers2!(
                    "embedding_backward",
                    &*g.read(),
                    &*idx.read(),
                    |b, gg, i| b.index_add_rows(gg, i, vocab, dim)
                );
                Ok(vec![Some(Tensor::from_storage(
                    storage,
                    Shape::new(vec![vocab, dim]),
                    None,
                ))])
            }
        });
        Ok(Tensor::from_storage(storage, Shape::new(out_dims), node))
    }
}
