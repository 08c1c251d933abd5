//! `Flatten`: merges every per-sample dimension into one, keeping the batch dimension.

use strata_core::{Error, Param, Result, Tensor};

use crate::config_serde::empty_table_serde;
use crate::module::{Mode, Module, own_config};

/// Reshapes `[batch, d1, d2, ...]` to `[batch, d1·d2·...]` (a free view; gradients flow back
/// reshaped). Typically sits between convolutional and dense layers. Its own config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flatten;

empty_table_serde!(Flatten);
own_config!(Flatten);

impl Module for Flatten {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![input.iter().product()])
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        if x.rank() == 0 {
            return Err(Error::shape(
                "Flatten",
                "expects a batch [batch, ...]; got a zero-dimensional tensor",
            ));
        }
        x.flatten_from(1)
    }

    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }

    fn kind(&self) -> String {
        "Flatten".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    #[test]
    fn output_shape_multiplies_the_sample_dims() {
        assert_eq!(Flatten.output_shape(&[1, 28, 28]).unwrap(), vec![784]);
    }

    #[test]
    fn forward_keeps_the_batch_dim() {
        let x = Tensor::zeros([5, 2, 3, 4], &Device::best()).unwrap();
        assert_eq!(Flatten.forward(&x, Mode::Eval).unwrap().dims(), [5, 24]);
    }
}
