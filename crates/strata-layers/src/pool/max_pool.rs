//! `MaxPool1d` and `MaxPool2d`: the maximum of each window (PyTorch's `nn.MaxPool1d/2d`).

use serde::{Deserialize, Serialize};
use strata_core::{Param, Result, Tensor};

use super::window::{Reduce, Window};
use crate::module::{Mode, Module, own_config};

/// Defines a pooling layer: its settings as serde fields (PyTorch's names, `kernel_size`,
/// `stride`, `padding`, `ceil_mode`, and `count_include_pad` for averages), its builder
/// methods, and the `Module` running a [`Window`]. A pooling layer is its own config.
macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident, $reduce:expr, one_d: true $(, $cip:ident)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            kernel_size: usize,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            stride: Option<usize>,
            #[serde(default)]
            padding: usize,
            #[serde(default)]
            ceil_mode: bool,
            $(
                #[serde(default = "crate::config_serde::yes")]
                $cip: bool,
            )?
        }

        impl $name {
            /// A `kernel`-wide window moved by `kernel` (non-overlapping), no padding.
            pub fn new(kernel: usize) -> Self {
                $name {
                    kernel_size: kernel,
                    stride: None,
                    padding: 0,
                    ceil_mode: false,
                    $($cip: true,)?
                }
            }
            /// Step between windows (default: the window size).
            pub fn stride(mut self, stride: usize) -> Self {
                self.stride = Some(stride);
                self
            }
            /// Implicit padding on each side, at most half the window.
            pub fn padding(mut self, padding: usize) -> Self {
                self.padding = padding;
                self
            }
            /// Round the output length up, keeping a last partial window that starts inside
            /// the input or its left padding (PyTorch's `ceil_mode`; default false).
            pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
                self.ceil_mode = ceil_mode;
                self
            }
            fn window(&self) -> Window {
                Window {
                    name: stringify!($name),
                    reduce: $reduce,
                    one_d: true,
                    kernel: [1, self.kernel_size],
                    stride: self.stride.map(|s| [1, s]),
                    padding: [0, self.padding],
                    ceil_mode: self.ceil_mode,
                    count_include_pad: pool_layer!(@cip self $(, $cip)?),
                }
            }
        }
        pool_layer!(@module $name);
    };
    ($(#[$doc:meta])* $name:ident, $reduce:expr, one_d: false $(, $cip:ident)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            #[serde(with = "crate::config_serde::pair")]
            kernel_size: [usize; 2],
            #[serde(
                default,
                with = "crate::config_serde::opt_pair",
                skip_serializing_if = "Option::is_none"
            )]
            stride: Option<[usize; 2]>,
            #[serde(default, with = "crate::config_serde::pair")]
            padding: [usize; 2],
            #[serde(default)]
            ceil_mode: bool,
            $(
                #[serde(default = "crate::config_serde::yes")]
                $cip: bool,
            )?
        }

        impl $name {
            /// A square `kernel` window moved by `kernel` (non-overlapping), no padding.
            pub fn new(kernel: usize) -> Self {
                $name {
                    kernel_size: [kernel, kernel],
                    stride: None,
                    padding: [0, 0],
                    ceil_mode: false,
                    $($cip: true,)?
                }
            }
            /// A rectangular window `[height, width]`.
            pub fn kernel_size(mut self, kernel: [usize; 2]) -> Self {
                self.kernel_size = kernel;
                self
            }
            /// The same step on both axes (default: the window size).
            pub fn stride(mut self, stride: usize) -> Self {
                self.stride = Some([stride, stride]);
                self
            }
            /// A step per axis `[vertical, horizontal]`.
            pub fn strides(mut self, stride: [usize; 2]) -> Self {
                self.stride = Some(stride);
                self
            }
            /// Implicit padding on every side, at most half the window.
            pub fn padding(mut self, padding: usize) -> Self {
                self.padding = [padding, padding];
                self
            }
            /// Round the output size up, keeping a last partial window that starts inside
            /// the input or its top/left padding (PyTorch's `ceil_mode`; default false).
            pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
                self.ceil_mode = ceil_mode;
                self
            }
            fn window(&self) -> Window {
                Window {
                    name: stringify!($name),
                    reduce: $reduce,
                    one_d: false,
                    kernel: self.kernel_size,
                    stride: self.stride,
                    padding: self.padding,
                    ceil_mode: self.ceil_mode,
                    count_include_pad: pool_layer!(@cip self $(, $cip)?),
                }
            }
        }
        pool_layer!(@module $name);
    };
    (@cip $self:ident) => {
        true
    };
    (@cip $self:ident, $cip:ident) => {
        $self.$cip
    };
    (@module $name:ident) => {
        own_config!($name);

        impl Module for $name {
            fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
                self.window().output_shape(input)
            }
            fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
                self.window().forward(x)
            }
            fn parameters(&self) -> Vec<Param> {
                Vec::new()
            }
            fn kind(&self) -> String {
                self.window().describe()
            }
        }
    };
}

pub(crate) use pool_layer;

pool_layer!(
    /// Max pooling over `[batch, channels, length]`; padded positions never win.
    MaxPool1d,
    Reduce::Max,
    one_d: true
);
pool_layer!(
    /// Max pooling over `[batch, channels, height, width]`; padded positions never win.
    ///
    /// ```
    /// use strata_layers::MaxPool2d;
    /// let pool = MaxPool2d::new(2);
    /// let overlapping = MaxPool2d::new(3).stride(2).padding(1);
    /// ```
    MaxPool2d,
    Reduce::Max,
    one_d: false
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{BuildContext, LayerConfig};
    use strata_core::Device;

    #[test]
    fn max_pool_shapes_follow_pytorch() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        assert_eq!(
            MaxPool2d::new(2).output_shape(&[32, 26, 26]).unwrap(),
            vec![32, 13, 13]
        );
        assert_eq!(
            MaxPool2d::new(2).output_shape(&[64, 11, 11]).unwrap(),
            vec![64, 5, 5]
        );
        let p = MaxPool2d::new(3).stride(2).padding(1);
        assert_eq!(p.output_shape(&[1, 7, 8]).unwrap(), vec![1, 4, 4]);
        assert_eq!(p.kind(), "MaxPool2d(3x3, stride 2x2, padding 1x1)");
        let p1 = MaxPool1d::new(2).build(&[4, 9], &mut ctx).unwrap();
        assert_eq!(p1.output_shape(&[4, 9]).unwrap(), vec![4, 4]);
        let x = Tensor::zeros([2, 4, 9], &Device::best()).unwrap();
        assert_eq!(p1.forward(&x, Mode::Eval).unwrap().dims(), &[2, 4, 4]);
    }

    #[test]
    fn max_pool_rejects_a_window_larger_than_the_input() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        let e = MaxPool2d::new(4).build(&[1, 3, 3], &mut ctx).unwrap_err();
        assert!(
            e.to_string().contains("4x4") && e.to_string().contains("3x3"),
            "{e}"
        );
    }

    #[test]
    fn pool_configs_read_a_size_or_a_pair_and_refuse_foreign_keys() {
        let p: MaxPool2d =
            serde_json::from_str(r#"{"kernel_size": [3, 2], "stride": 2, "ceil_mode": true}"#)
                .unwrap();
        assert_eq!(
            p,
            MaxPool2d::new(3)
                .kernel_size([3, 2])
                .stride(2)
                .ceil_mode(true)
        );
        assert_eq!(
            serde_json::to_string(&MaxPool2d::new(2)).unwrap(),
            r#"{"kernel_size":2,"padding":0,"ceil_mode":false}"#
        );
        let e =
            serde_json::from_str::<MaxPool1d>(r#"{"kernel_size": 2, "count_include_pad": true}"#)
                .unwrap_err();
        assert!(e.to_string().contains("count_include_pad"), "{e}");
    }
}
