//! `Embedding`: a lookup table from token ids to vectors, with an optional padding index.

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor};

use crate::module::{BuildContext, LayerConfig, Mode, Module};

/// The settings of an [`Embedding`] (`type = "embedding"` in a config): `vocab` rows of
/// `dim` features and an optional padding id.
///
/// ```
/// use strata_layers::Embedding;
/// let config = Embedding::new(10_000, 64).padding_idx(0);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// Number of rows (token ids `0..vocab`).
    pub vocab: usize,
    /// Features per row.
    pub dim: usize,
    /// The id whose row is zero and never trained (typically the padding token, 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding_idx: Option<usize>,
}

impl EmbeddingConfig {
    /// The id whose row is zero and never trained (typically the padding token, 0).
    pub fn padding_idx(mut self, idx: usize) -> Self {
        self.padding_idx = Some(idx);
        self
    }
}

impl LayerConfig for EmbeddingConfig {
    type Layer = Embedding;

    fn build(&self, _input: &[usize], ctx: &mut BuildContext) -> Result<Embedding> {
        let (vocab, dim) = (self.vocab, self.dim);
        let kind = format!("Embedding({vocab}, {dim})");
        if vocab == 0 || dim == 0 {
            return Err(Error::invalid(
                kind,
                format!("vocab and dim must be at least 1; got {vocab} and {dim}"),
            ));
        }
        if let Some(p) = self.padding_idx
            && p >= vocab
        {
            return Err(Error::invalid(
                kind,
                format!("padding_idx {p} is outside the vocabulary of {vocab}"),
            ));
        }
        let seed = ctx.next_seed();
        let drawn = Tensor::rand_normal([vocab, dim], 0.0, 1.0, seed, &ctx.device())?;
        let table = match self.padding_idx {
            Some(p) => {
                let mut data = drawn.to_vec()?;
                data[p * dim..(p + 1) * dim].fill(0.0);
                Tensor::from_vec(data, [vocab, dim], &ctx.device())?
            }
            None => drawn,
        };
        Ok(Embedding {
            padding_idx: self.padding_idx,
            weight: table.variable(),
        })
    }
}

/// Maps token ids (integers stored as `f32`, any shape) to rows of a `[vocab, dim]` table:
/// `[batch, seq_len]` ids become `[batch, seq_len, dim]`. Built from an [`EmbeddingConfig`].
///
/// Initialized as PyTorch's `nn.Embedding`, `N(0, 1)`, with the padding row zero; the padding
/// row receives no gradient, so it stays zero. An id outside `0..vocab` is an error naming it.
#[derive(Debug)]
pub struct Embedding {
    padding_idx: Option<usize>,
    weight: Tensor,
}

impl Embedding {
    /// The config of a table of `vocab` rows of `dim` features.
    // The Keras spelling users look for; the built layer comes from `LayerConfig::build`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(vocab: usize, dim: usize) -> EmbeddingConfig {
        EmbeddingConfig {
            vocab,
            dim,
            padding_idx: None,
        }
    }

    /// The table `[vocab, dim]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for Embedding {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut out = input.to_vec();
        out.push(self.weight.dims()[1]);
        Ok(out)
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.weight.embedding(x, self.padding_idx)
    }

    fn parameters(&self) -> Vec<Param> {
        vec![Param::new("weight", self.weight.clone())]
    }

    fn kind(&self) -> String {
        let d = self.weight.dims();
        format!("Embedding({}, {})", d[0], d[1])
    }
}
