//! `MaxPool1d` and `MaxPool2d`: the maximum of each window (PyTorch's `nn.MaxPool1d/2d`).

use strata_core::{Param, Result, Tensor};

use super::window::{Reduce, Window};
use crate::module::{BuildContext, Mode, Module};

macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident, $reduce:expr, one_d: true) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(Window);

        impl $name {
            /// A `kernel`-wide window moved by `kernel` (non-overlapping), no padding.
            pub fn new(kernel: usize) -> Self {
                $name(Window::new(stringify!($name), $reduce, true, [1, kernel]))
            }
            /// Step between windows (default: the window size).
            pub fn stride(mut self, stride: usize) -> Self {
                self.0.stride = Some([1, stride]);
                self
            }
            /// Implicit padding on each side, at most half the window.
            pub fn padding(mut self, padding: usize) -> Self {
                self.0.padding = [0, padding];
                self
            }
            /// Round the output length up, keeping a last partial window that starts inside
            /// the input or its left padding (PyTorch's `ceil_mode`; default false).
            pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
                self.0.ceil_mode = ceil_mode;
                self
            }
        }
        pool_layer!(@module $name);
    };
    ($(#[$doc:meta])* $name:ident, $reduce:expr, one_d: false) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(Window);

        impl $name {
            /// A square `kernel` window moved by `kernel` (non-overlapping), no padding.
            pub fn new(kernel: usize) -> Self {
                $name(Window::new(stringify!($name), $reduce, false, [kernel, kernel]))
            }
            /// A rectangular window `[height, width]`.
            pub fn kernel_size(mut self, kernel: [usize; 2]) -> Self {
                self.0.kernel = kernel;
                self
            }
            /// The same step on both axes (default: the window size).
            pub fn stride(mut self, stride: usize) -> Self {
                self.0.stride = Some([stride, stride]);
                self
            }
            /// A step per axis `[vertical, horizontal]`.
            pub fn strides(mut self, stride: [usize; 2]) -> Self {
                self.0.stride = Some(stride);
                self
            }
            /// Implicit padding on every side, at most half the window.
            pub fn padding(mut self, padding: usize) -> Self {
                self.0.padding = [padding, padding];
                self
            }
            /// Round the output size up, keeping a last partial window that starts inside
            /// the input or its top/left padding (PyTorch's `ceil_mode`; default false).
            pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
                self.0.ceil_mode = ceil_mode;
                self
            }
        }
        pool_layer!(@module $name);
    };
    (@module $name:ident) => {
        impl Module for $name {
            fn build(&mut self, input: &[usize], _ctx: &mut BuildContext) -> Result<Vec<usize>> {
                self.0.build(input)
            }
            fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
                self.0.forward(x)
            }
            fn parameters(&self) -> Vec<Param> {
                Vec::new()
            }
            fn kind(&self) -> String {
                self.0.describe()
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
    use strata_core::Device;

    #[test]
    fn max_pool_shapes_follow_pytorch() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        assert_eq!(
            MaxPool2d::new(2).build(&[32, 26, 26], &mut ctx).unwrap(),
            vec![32, 13, 13]
        );
        assert_eq!(
            MaxPool2d::new(2).build(&[64, 11, 11], &mut ctx).unwrap(),
            vec![64, 5, 5]
        );
        let p = MaxPool2d::new(3).stride(2).padding(1);
        assert_eq!(
            p.clone().build(&[1, 7, 8], &mut ctx).unwrap(),
            vec![1, 4, 4]
        );
        assert_eq!(p.kind(), "MaxPool2d(3x3, stride 2x2, padding 1x1)");
        let mut p1 = MaxPool1d::new(2);
        assert_eq!(p1.build(&[4, 9], &mut ctx).unwrap(), vec![4, 4]);
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
}
