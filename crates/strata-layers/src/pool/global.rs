//! `GlobalAvgPool` and `GlobalMaxPool`: one value per channel, for 1-D (`[C, L]`) and 2-D
//! (`[C, H, W]`) samples alike.

use strata_core::{Error, Param, Result, Tensor};

use crate::config_serde::empty_table_serde;
use crate::module::{Mode, Module, own_config};

fn channels(name: &str, input: &[usize]) -> Result<Vec<usize>> {
    match input {
        [c, rest @ ..] if (1..=2).contains(&rest.len()) && rest.iter().all(|&d| d > 0) => {
            Ok(vec![*c])
        }
        _ => Err(Error::invalid(
            name,
            format!(
                "expects per-sample input [channels, length] or [channels, height, width] \
                 with a non-empty plane; got {input:?}"
            ),
        )),
    }
}

/// The mean of each channel: `[batch, C, ...]` to `[batch, C]` (Keras' `GlobalAveragePooling`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalAvgPool;

/// The maximum of each channel: `[batch, C, ...]` to `[batch, C]` (Keras' `GlobalMaxPooling`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalMaxPool;

empty_table_serde!(GlobalAvgPool, GlobalMaxPool);
own_config!(GlobalAvgPool, GlobalMaxPool);

impl Module for GlobalAvgPool {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        channels("GlobalAvgPool", input)
    }
    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        x.global_avg_pool()
    }
    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }
    fn kind(&self) -> String {
        "GlobalAvgPool".to_string()
    }
}

impl Module for GlobalMaxPool {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        channels("GlobalMaxPool", input)
    }
    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        x.global_max_pool()
    }
    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }
    fn kind(&self) -> String {
        "GlobalMaxPool".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    #[test]
    fn global_pools_keep_one_value_per_channel() {
        assert_eq!(GlobalMaxPool.output_shape(&[128, 76]).unwrap(), vec![128]);
        assert_eq!(GlobalAvgPool.output_shape(&[8, 5, 5]).unwrap(), vec![8]);
        assert!(GlobalAvgPool.output_shape(&[8]).is_err());
        let x = Tensor::from_vec(vec![1.0, 3.0, -2.0, 4.0], [1, 2, 2], &Device::best()).unwrap();
        assert_eq!(
            GlobalMaxPool
                .forward(&x, Mode::Eval)
                .unwrap()
                .to_vec()
                .unwrap(),
            vec![3.0, 4.0]
        );
        assert_eq!(
            GlobalAvgPool
                .forward(&x, Mode::Eval)
                .unwrap()
                .to_vec()
                .unwrap(),
            vec![2.0, 1.0]
        );
    }
}
