//! Neural-network primitives over the last axis: softmax, log-softmax, the fused softmax
//! cross-entropy, and inverted dropout.

use strata_backend::{RandomOps, Shape, SoftmaxOps};

use crate::autograd::record;
use crate::storage::{map_buffer, map_buffer_pair, map_buffers2, map_buffers2_pair, map_buffers3};
use crate::{Error, Result, Tensor};

impl Tensor {
    fn rows_cols(&self, op: &'static str) -> Result<(usize, usize)> {
        let cols = *self.dims().last().ok_or_else(|| {
            Error::shape(
                op,
                "needs at least one dimension (classes on the last axis)",
            )
        })?;
        Ok((self.elem_count() / cols.max(1), cols))
    }

    /// Softmax over the last axis, computed stably.
    pub fn softmax(&self) -> Result<Tensor> {
        let (rows, cols) = self.rows_cols("softmax")?;
        let storage = map_buffer!(&*self.read(), |b, x| b.softmax(x, rows, cols));
        let y = Tensor::from_storage(storage, self.shape().clone(), None);
        let node = record("softmax", &[self], || {
            let y = y.detach();
            move |g: &Tensor, _: &[Tensor]| {
                let s = map_buffers2!("softmax_backward", &*y.read(), &*g.read(), |b, yy, gg| b
                    .softmax_backward(yy, gg, rows, cols));
                Ok(vec![Some(Tensor::from_storage(s, y.shape().clone(), None))])
            }
        });
        Ok(match node {
            Some(n) => Tensor::from_parts_shared(&y, n),
            None => y,
        })
    }

    /// Log-softmax over the last axis, computed stably.
    pub fn log_softmax(&self) -> Result<Tensor> {
        let (rows, cols) = self.rows_cols("log_softmax")?;
        let storage = map_buffer!(&*self.read(), |b, x| b.log_softmax(x, rows, cols));
        let y = Tensor::from_storage(storage, self.shape().clone(), None);
        let node = record("log_softmax", &[self], || {
            let y = y.detach();
            move |g: &Tensor, _: &[Tensor]| {
                let s = map_buffers2!(
                    "log_softmax_backward",
                    &*y.read(),
                    &*g.read(),
                    |b, yy, gg| b.log_softmax_backward(yy, gg, rows, cols)
                );
                Ok(vec![Some(Tensor::from_storage(s, y.shape().clone(), None))])
            }
        });
        Ok(match node {
            Some(n) => Tensor::from_parts_shared(&y, n),
            None => y,
        })
    }

    /// Cross-entropy of logits `[N, C]` against class labels `[N]` (integers stored as `f32`),
    /// one loss per row (`[N]`), fused with the softmax. With `label_smoothing` ε the target is
    /// `(1 − ε)·onehot + ε/C`, as in PyTorch. A label outside `0..C` is an error.
    pub fn cross_entropy_per_row(&self, labels: &Tensor, label_smoothing: f32) -> Result<Tensor> {
        if self.rank() != 2 {
            return Err(Error::shape(
                "cross_entropy",
                format!("logits must be [batch, classes]; got {}", self.shape()),
            ));
        }
        let (rows, cols) = (self.dims()[0], self.dims()[1]);
        if labels.elem_count() != rows || labels.rank() > 1 {
            return Err(Error::shape(
                "cross_entropy",
                format!(
                    "logits are {} so labels must be [{rows}]; got {}",
                    self.shape(),
                    labels.shape()
                ),
            ));
        }
        if !(0.0..1.0).contains(&label_smoothing) {
            return Err(Error::invalid(
                "cross_entropy",
                format!("label_smoothing must be in [0, 1); got {label_smoothing}"),
            ));
        }
        let (loss, probs) = map_buffers2_pair!(
            "cross_entropy",
            &*self.read(),
            &*labels.read(),
            |b, x, l| b.softmax_cross_entropy(x, l, rows, cols, label_smoothing)
        );
        let probs = Tensor::from_storage(probs, self.shape().clone(), None);
        let node = record("cross_entropy", &[self], || {
            let labels = labels.detach();
            move |g: &Tensor, _: &[Tensor]| {
                let s = map_buffers3!(
                    "cross_entropy_backward",
                    &*probs.read(),
                    &*labels.read(),
                    &*g.read(),
                    |b, p, l, gg| b.softmax_cross_entropy_backward(
                        p,
                        l,
                        gg,
                        rows,
                        cols,
                        label_smoothing
                    )
                );
                Ok(vec![Some(Tensor::from_storage(
                    s,
                    Shape::new(vec![rows, cols]),
                    None,
                ))])
            }
        });
        Ok(Tensor::from_storage(loss, Shape::new(vec![rows]), node))
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales the rest by
    /// `1/(1−p)`. The mask is element `i` of the counter-based stream `seed`, identical on
    /// every device.
    pub fn dropout(&self, p: f32, seed: u64) -> Result<Tensor> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid(
                "dropout",
                format!("p must be in [0, 1); got {p}"),
            ));
        }
        if p == 0.0 {
            return Ok(self.clone());
        }
        let (y, mask) = map_buffer_pair!(&*self.read(), |b, x| b.dropout(x, p, seed));
        let mask = Tensor::from_storage(mask, self.shape().clone(), None);
        let node = record("dropout", &[self], || {
            move |g: &Tensor, _: &[Tensor]| Ok(vec![Some(g.mul(&mask)?)])
        });
        Ok(Tensor::from_storage(y, self.shape().clone(), node))
    }
}
