//! `Flatten`: merges every per-sample dimension into one, keeping the batch dimension.

use strata_core::{Error, Param, Result, Tensor};

use crate::module::{BuildContext, Mode, Module};

/// Reshapes `[batch, d1, d2, ...]` to `[batch, d1·d2·...]` (a free view; gradients flow back
/// reshaped). Typically sits between convolutional and dense layers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flatten;

impl Module for Flatten {
    fn build(&mut self, input: &[usize], _ctx: &mut BuildContext) -> Result<Vec<usize>> {
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
    fn build_multiplies_the_sample_dims() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        assert_eq!(Flatten.build(&[1, 28, 28], &mut ctx).unwrap(), vec![784]);
    }

    #[test]
    fn forward_keeps_the_batch_dim() {
        let x = Tensor::zeros([5, 2, 3, 4], &Device::best()).unwrap();
        assert_eq!(Flatten.forward(&x, Mode::Eval).unwrap().dims(), [5, 24]);
    }
}
