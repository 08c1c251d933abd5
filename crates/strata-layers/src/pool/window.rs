//! The window arithmetic every windowed pooling layer shares: options, per-sample shape
//! inference, and the forward call (1-D runs as 2-D of height 1). The layers keep their
//! settings as serde fields and assemble a `Window` to run.

use strata_backend::pool_out_len;
use strata_core::{Error, Pool2dOptions, Result, Tensor};

/// Max or average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    Max,
    Avg,
}

/// A pooling window: `[height, width]` sizes (height 1 for 1-D layers).
#[derive(Debug, Clone)]
pub(crate) struct Window {
    pub name: &'static str,
    pub reduce: Reduce,
    pub one_d: bool,
    pub kernel: [usize; 2],
    /// `None`: the window size (PyTorch's default).
    pub stride: Option<[usize; 2]>,
    pub padding: [usize; 2],
    /// Round the output size up (PyTorch's `ceil_mode`).
    pub ceil_mode: bool,
    /// Averages count padded positions (PyTorch's `count_include_pad`, default true).
    pub count_include_pad: bool,
}

impl Window {
    pub fn options(&self) -> Pool2dOptions {
        Pool2dOptions {
            kernel: self.kernel,
            stride: self.stride.unwrap_or(self.kernel),
            padding: self.padding,
            ceil_mode: self.ceil_mode,
            count_include_pad: self.count_include_pad,
        }
    }

    /// The per-sample output shape for a per-sample input (`[C, L]` or `[C, H, W]`).
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (c, h, w) = match (self.one_d, input) {
            (true, &[c, l]) => (c, 1, l),
            (false, &[c, h, w]) => (c, h, w),
            _ => {
                return Err(Error::shape(
                    self.name,
                    format!(
                        "expects per-sample input {}; got {input:?}",
                        if self.one_d {
                            "[channels, length]"
                        } else {
                            "[channels, height, width]"
                        }
                    ),
                ));
            }
        };
        let o = self.options();
        if o.kernel.contains(&0) || o.stride.contains(&0) {
            return Err(Error::invalid(
                self.name,
                format!(
                    "window {:?} and stride {:?} must be at least 1",
                    o.kernel, o.stride
                ),
            ));
        }
        if 2 * o.padding[0] > o.kernel[0] || 2 * o.padding[1] > o.kernel[1] {
            return Err(Error::invalid(
                self.name,
                format!(
                    "padding must be at most half the window; got {}",
                    self.describe()
                ),
            ));
        }
        let padded = [h + 2 * o.padding[0], w + 2 * o.padding[1]];
        if o.kernel[0] > padded[0] || o.kernel[1] > padded[1] {
            return Err(Error::shape(
                self.name,
                format!(
                    "window {}x{} is larger than the padded input {}x{}",
                    o.kernel[0], o.kernel[1], padded[0], padded[1]
                ),
            ));
        }
        let size = [h, w];
        let out =
            |a: usize| pool_out_len(size[a], o.padding[a], o.kernel[a], o.stride[a], o.ceil_mode);
        Ok(if self.one_d {
            vec![c, out(1)]
        } else {
            vec![c, out(0), out(1)]
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let pool = |x: &Tensor| match self.reduce {
            Reduce::Max => x.max_pool2d(self.options()),
            Reduce::Avg => x.avg_pool2d(self.options()),
        };
        match (self.one_d, x.dims()) {
            (true, &[n, c, l]) => {
                let y = pool(&x.reshape([n, c, 1, l])?)?;
                let d = y.dims().to_vec();
                y.reshape([d[0], d[1], d[3]])
            }
            (false, d) if d.len() == 4 => pool(x),
            _ => Err(Error::shape(
                self.name,
                format!(
                    "expects a batch {}; got {}",
                    if self.one_d {
                        "[batch, channels, length]"
                    } else {
                        "[batch, channels, height, width]"
                    },
                    x.shape()
                ),
            )),
        }
    }

    /// `"MaxPool2d(2x2)"`, with stride, padding and the options when they are not the
    /// defaults.
    pub fn describe(&self) -> String {
        let size = |v: [usize; 2]| {
            if self.one_d {
                v[1].to_string()
            } else {
                format!("{}x{}", v[0], v[1])
            }
        };
        let mut s = format!("{}({}", self.name, size(self.kernel));
        if let Some(st) = self.stride.filter(|&st| st != self.kernel) {
            s += &format!(", stride {}", size(st));
        }
        if self.padding != [0, 0] {
            s += &format!(", padding {}", size(self.padding));
        }
        if self.ceil_mode {
            s += ", ceil mode";
        }
        if self.reduce == Reduce::Avg && !self.count_include_pad {
            s += ", padding not counted";
        }
        s + ")"
    }
}
