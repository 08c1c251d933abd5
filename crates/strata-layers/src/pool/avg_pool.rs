//! `AvgPool1d` and `AvgPool2d`: the mean of each window, padded positions counted as zeros
//! (PyTorch's `nn.AvgPool1d/2d` with `count_include_pad=True`).

use strata_core::{Param, Result, Tensor};

use super::max_pool::pool_layer;
use super::window::{Reduce, Window};
use crate::module::{BuildContext, Mode, Module};

pool_layer!(
    /// Average pooling over `[batch, channels, length]`.
    AvgPool1d,
    Reduce::Avg,
    one_d: true
);
pool_layer!(
    /// Average pooling over `[batch, channels, height, width]`.
    ///
    /// ```
    /// use strata_layers::AvgPool2d;
    /// let pool = AvgPool2d::new(2);
    /// ```
    AvgPool2d,
    Reduce::Avg,
    one_d: false
);

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    #[test]
    fn avg_pool2d_averages_each_window() {
        let x = Tensor::from_vec(
            (0..16).map(|v| v as f32).collect(),
            [1, 1, 4, 4],
            &Device::best(),
        )
        .unwrap();
        let y = AvgPool2d::new(2).forward(&x, Mode::Eval).unwrap();
        assert_eq!(y.to_vec().unwrap(), vec![2.5, 4.5, 10.5, 12.5]);
        let mut ctx = BuildContext::new(Device::best(), 0);
        assert_eq!(
            AvgPool1d::new(3).build(&[2, 10], &mut ctx).unwrap(),
            vec![2, 3]
        );
    }
}
