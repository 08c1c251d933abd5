//! `AvgPool1d` and `AvgPool2d`: the mean of each window, padded positions counted as zeros
//! (PyTorch's `nn.AvgPool1d/2d` with its default `count_include_pad=True`) or left out of the
//! divisor with `.count_include_pad(false)`.

use serde::{Deserialize, Serialize};
use strata_core::{Param, Result, Tensor};

use super::max_pool::pool_layer;
use super::window::{Reduce, Window};
use crate::module::{Mode, Module, own_config};

pool_layer!(
    /// Average pooling over `[batch, channels, length]`.
    AvgPool1d,
    Reduce::Avg,
    one_d: true,
    count_include_pad
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
    one_d: false,
    count_include_pad
);

macro_rules! count_include_pad {
    ($($name:ident),*) => {$(
        impl $name {
            /// Whether the divisor counts the padded positions a window covers (true, the
            /// default, as PyTorch) or only the real inputs (false).
            pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
                self.count_include_pad = count_include_pad;
                self
            }
        }
    )*};
}
count_include_pad!(AvgPool1d, AvgPool2d);

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
        assert_eq!(
            AvgPool1d::new(3).output_shape(&[2, 10]).unwrap(),
            vec![2, 3]
        );
    }

    #[test]
    fn ceil_mode_keeps_the_partial_window_and_the_divisor_option_changes_it() {
        let x = Tensor::from_vec(vec![2.0, 4.0, 6.0, 8.0], [1, 1, 4], &Device::best()).unwrap();
        let counted = AvgPool1d::new(3).stride(2).padding(1).ceil_mode(true);
        let real_only = counted.clone().count_include_pad(false);
        assert_eq!(counted.output_shape(&[1, 4]).unwrap(), vec![1, 3]);
        assert_eq!(
            AvgPool1d::new(3)
                .stride(2)
                .padding(1)
                .output_shape(&[1, 4])
                .unwrap(),
            vec![1, 2]
        );
        let y = counted.forward(&x, Mode::Eval).unwrap();
        assert_eq!(y.to_vec().unwrap(), vec![2.0, 6.0, 4.0]);
        let y = real_only.forward(&x, Mode::Eval).unwrap();
        assert_eq!(y.to_vec().unwrap(), vec![3.0, 6.0, 8.0]);
        assert_eq!(
            real_only.kind(),
            "AvgPool1d(3, stride 2, padding 1, ceil mode, padding not counted)"
        );
    }
}
