//! `Embedding`: a lookup table from token ids to vectors, with an optional padding index.

use strata_core::{Error, Param, Result, Tensor};

use crate::module::{BuildContext, Mode, Module};

/// Maps token ids (integers stored as `f32`, any shape) to rows of a `[vocab, dim]` table:
/// `[batch, seq_len]` ids become `[batch, seq_len, dim]`.
///
/// Initialized as PyTorch's `nn.Embedding`, `N(0, 1)`, with the padding row zero; the padding
/// row receives no gradient, so it stays zero. An id outside `0..vocab` is an error naming it.
///
/// ```
/// use strata_layers::Embedding;
/// let layer = Embedding::new(10_000, 64).padding_idx(0);
/// ```
#[derive(Debug)]
pub struct Embedding {
    vocab: usize,
    dim: usize,
    padding_idx: Option<usize>,
    weight: Option<Tensor>,
}

impl Embedding {
    /// An unbuilt table of `vocab` rows of `dim` features.
    pub fn new(vocab: usize, dim: usize) -> Self {
        Embedding {
            vocab,
            dim,
            padding_idx: None,
            weight: None,
        }
    }

    /// The id whose row is zero and never trained (typically the padding token, 0).
    pub fn padding_idx(mut self, idx: usize) -> Self {
        self.padding_idx = Some(idx);
        self
    }

    /// The table `[vocab, dim]`, once built.
    pub fn weight(&self) -> Option<&Tensor> {
        self.weight.as_ref()
    }
}

impl Module for Embedding {
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
        if self.vocab == 0 || self.dim == 0 {
            return Err(Error::invalid(
                self.kind(),
                format!(
                    "vocab and dim must be at least 1; got {} and {}",
                    self.vocab, self.dim
                ),
            ));
        }
        if let Some(p) = self.padding_idx
            && p >= self.vocab
        {
            return Err(Error::invalid(
                self.kind(),
                format!(
                    "padding_idx {p} is outside the vocabulary of {}",
                    self.vocab
                ),
            ));
        }
        let seed = ctx.next_seed();
        if self.weight.is_none() {
            let drawn = Tensor::rand_normal([self.vocab, self.dim], 0.0, 1.0, seed, &ctx.device())?;
            let table = match self.padding_idx {
                Some(p) => {
                    let mut data = drawn.to_vec()?;
                    data[p * self.dim..(p + 1) * self.dim].fill(0.0);
                    Tensor::from_vec(data, [self.vocab, self.dim], &ctx.device())?
                }
                None => drawn,
            };
            self.weight = Some(table.variable());
        }
        let mut out = input.to_vec();
        out.push(self.dim);
        Ok(out)
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        let weight = self.weight.as_ref().ok_or_else(|| {
            Error::invalid(
                "forward",
                "Embedding was not built: call Sequential::build or Module::build first",
            )
        })?;
        weight.embedding(x, self.padding_idx)
    }

    fn parameters(&self) -> Vec<Param> {
        self.weight
            .iter()
            .map(|w| Param::new("weight", w.clone()))
            .collect()
    }

    fn kind(&self) -> String {
        format!("Embedding({}, {})", self.vocab, self.dim)
    }
}
