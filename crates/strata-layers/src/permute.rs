//! `Permute`: reorders the per-sample axes (Keras' `Permute`), e.g. `[seq_len, features]` to
//! the `[channels, length]` a `Conv1d` reads.

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor};

use crate::module::{Mode, Module, own_config};

/// Reorders the axes of each sample; the batch axis stays first. `Permute::new(&[1, 0])` turns
/// per-sample `[T, D]` into `[D, T]` (an `Embedding` output into `Conv1d` input). Its own
/// config (`{ type = "permute", axes = [1, 0] }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permute {
    axes: Vec<usize>,
}

own_config!(Permute);

impl Permute {
    /// Output axis `i` is input axis `axes[i]`, counting per-sample axes from 0.
    pub fn new(axes: &[usize]) -> Self {
        Permute {
            axes: axes.to_vec(),
        }
    }

    fn check(&self, rank: usize) -> Result<()> {
        let mut seen = vec![false; rank];
        let valid = self.axes.len() == rank
            && self
                .axes
                .iter()
                .all(|&a| a < rank && !std::mem::replace(&mut seen[a], true));
        if valid {
            Ok(())
        } else {
            Err(Error::invalid(
                self.kind(),
                format!(
                    "axes {:?} are not a permutation of the {rank} per-sample axes",
                    self.axes
                ),
            ))
        }
    }
}

impl Module for Permute {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.check(input.len())?;
        Ok(self.axes.iter().map(|&a| input[a]).collect())
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        if x.rank() == 0 {
            return Err(Error::shape("Permute", "expects a batch, got a scalar"));
        }
        self.check(x.rank() - 1)?;
        let mut axes = vec![0];
        axes.extend(self.axes.iter().map(|&a| a + 1));
        x.permute(&axes)
    }

    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }

    fn kind(&self) -> String {
        format!("Permute({:?})", self.axes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{BuildContext, LayerConfig};
    use strata_core::Device;

    #[test]
    fn swaps_sequence_and_feature_axes() {
        let mut ctx = BuildContext::new(Device::Cpu, 0);
        let p = Permute::new(&[1, 0]).build(&[5, 3], &mut ctx).unwrap();
        assert_eq!(p.output_shape(&[5, 3]).unwrap(), vec![3, 5]);
        let x =
            Tensor::from_vec((0..6).map(|v| v as f32).collect(), [1, 2, 3], &Device::Cpu).unwrap();
        let y = p.forward(&x, Mode::Eval).unwrap();
        assert_eq!(y.dims(), [1, 3, 2]);
        assert_eq!(y.to_vec().unwrap(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert!(Permute::new(&[0, 0]).build(&[5, 3], &mut ctx).is_err());
    }
}
