//! Max and average pooling of NCHW tensors (windowed and global), with shape checks and
//! backward rules. Max pooling keeps the index of each maximum for its backward scatter.

use strata_backend::{Pool2dSpec, PoolOps, Shape};

use crate::autograd::record;
use crate::storage::{map_buffer, map_buffer_pair, map_buffers2};
use crate::{Error, Result, Tensor};

/// Window, stride and padding of a 2-D pooling (`[vertical, horizontal]` each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dOptions {
    /// Window size.
    pub kernel: [usize; 2],
    /// Step between windows (PyTorch's default is the window size).
    pub stride: [usize; 2],
    /// Implicit padding on each side, at most half the window.
    pub padding: [usize; 2],
    /// Round the output size up, keeping a last partial window (PyTorch's `ceil_mode`).
    pub ceil_mode: bool,
    /// Average pooling divides by the window's size within the padded input (true, the
    /// default) or by the number of real inputs it holds (false). Max pooling ignores it.
    pub count_include_pad: bool,
}

impl Pool2dOptions {
    /// A `kernel` window moved by `kernel` (non-overlapping), no padding, floor mode, padding
    /// counted by averages: PyTorch's defaults.
    pub fn new(kernel: [usize; 2]) -> Self {
        Pool2dOptions {
            kernel,
            stride: kernel,
            padding: [0, 0],
            ceil_mode: false,
            count_include_pad: true,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Max,
    Avg,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Max => "max_pool2d",
            Kind::Avg => "avg_pool2d",
        }
    }
}

impl Tensor {
    /// Max pooling of `[N, C, H, W]` to `[N, C, H', W']`; padded positions never win.
    pub fn max_pool2d(&self, options: Pool2dOptions) -> Result<Tensor> {
        let spec = pool_spec(self, Kind::Max, options)?;
        self.pool(Kind::Max, spec)
    }

    /// Average pooling of `[N, C, H, W]` to `[N, C, H', W']`; padded positions count as zeros
    /// unless `options.count_include_pad` is false.
    pub fn avg_pool2d(&self, options: Pool2dOptions) -> Result<Tensor> {
        let spec = pool_spec(self, Kind::Avg, options)?;
        self.pool(Kind::Avg, spec)
    }

    /// The mean of each channel plane: `[N, C, H, W]` (or `[N, C, L]`) to `[N, C]`.
    pub fn global_avg_pool(&self) -> Result<Tensor> {
        self.global(Kind::Avg, "global_avg_pool")
    }

    /// The maximum of each channel plane: `[N, C, H, W]` (or `[N, C, L]`) to `[N, C]`.
    pub fn global_max_pool(&self) -> Result<Tensor> {
        self.global(Kind::Max, "global_max_pool")
    }

    fn global(&self, kind: Kind, op: &'static str) -> Result<Tensor> {
        let (n, c, h, w) = match *self.dims() {
            [n, c, h, w] => (n, c, h, w),
            [n, c, l] => (n, c, 1, l),
            _ => {
                return Err(Error::shape(
                    op,
                    format!(
                        "input must be [batch, channels, height, width] or [batch, channels, \
                         length]; got {}",
                        self.shape()
                    ),
                ));
            }
        };
        if h == 0 || w == 0 {
            return Err(Error::shape(
                op,
                format!("input {} has an empty plane to pool", self.shape()),
            ));
        }
        let x = self.reshape([n, c, h, w])?;
        let spec = Pool2dSpec::new([n, c, h, w], [h, w], [1, 1], [0, 0]);
        x.pool(kind, spec)?.reshape([n, c])
    }

    fn pool(&self, kind: Kind, spec: Pool2dSpec) -> Result<Tensor> {
        let out = Shape::new(vec![spec.batch, spec.channels, spec.out_h(), spec.out_w()]);
        match kind {
            Kind::Max => {
                let (y, idx) = map_buffer_pair!(&*self.read(), |be, x| be.max_pool2d(x, spec));
                let idx = Tensor::from_storage(idx, out.clone(), None);
                let node = record("max_pool2d", &[self], || {
                    move |g: &Tensor, inp: &[Tensor]| {
                        let s = map_buffers2!(
                            "max_pool2d_backward",
                            &*g.read(),
                            &*idx.read(),
                            |be, gg, ii| be.max_pool2d_backward(gg, ii, spec)
                        );
                        Ok(vec![Some(Tensor::from_storage(
                            s,
                            inp[0].shape().clone(),
                            None,
                        ))])
                    }
                });
                Ok(Tensor::from_storage(y, out, node))
            }
            Kind::Avg => {
                let y = map_buffer!(&*self.read(), |be, x| be.avg_pool2d(x, spec));
                let node = record("avg_pool2d", &[self], || {
                    move |g: &Tensor, inp: &[Tensor]| {
                        let s = map_buffer!(&*g.read(), |be, gg| be.avg_pool2d_backward(gg, spec));
                        Ok(vec![Some(Tensor::from_storage(
                            s,
                            inp[0].shape().clone(),
                            None,
                        ))])
                    }
                });
                Ok(Tensor::from_storage(y, out, node))
            }
        }
    }
}

/// Checks a windowed pooling's input and options, naming the shapes in errors.
fn pool_spec(x: &Tensor, kind: Kind, o: Pool2dOptions) -> Result<Pool2dSpec> {
    let op = kind.name();
    let [n, c, h, w] = *x.dims() else {
        return Err(Error::shape(
            op,
            format!(
                "input must be 4-D [batch, channels, height, width]; got {}",
                x.shape()
            ),
        ));
    };
    if o.kernel.contains(&0) || o.stride.contains(&0) {
        return Err(Error::invalid(
            op,
            format!(
                "window {:?} and stride {:?} must be at least 1",
                o.kernel, o.stride
            ),
        ));
    }
    if 2 * o.padding[0] > o.kernel[0] || 2 * o.padding[1] > o.kernel[1] {
        return Err(Error::invalid(
            op,
            format!(
                "padding {:?} must be at most half the window {:?}",
                o.padding, o.kernel
            ),
        ));
    }
    let (ph, pw) = (h + 2 * o.padding[0], w + 2 * o.padding[1]);
    if o.kernel[0] > ph || o.kernel[1] > pw {
        return Err(Error::shape(
            op,
            format!(
                "window {}x{} is larger than the padded input {ph}x{pw} (input {}, padding {:?})",
                o.kernel[0],
                o.kernel[1],
                x.shape(),
                o.padding
            ),
        ));
    }
    Ok(Pool2dSpec {
        ceil_mode: o.ceil_mode,
        count_include_pad: o.count_include_pad,
        ..Pool2dSpec::new([n, c, h, w], o.kernel, o.stride, o.padding)
    })
}
