//! The `Backend` trait of Strata and everything a backend author needs to implement it.
//!
//! This crate owns the contract between the tensor/autograd layer (`strata-core`) and the
//! hardware (`strata-cpu`, `strata-cuda`). It knows nothing of tensors, autograd or layers:
//! every method takes flat row-major buffers plus the shapes and specs that describe them.
//! Shapes are validated once, above the backend, in `strata-core`; a backend may still return
//! [`BackendError`] for conditions only it can see (a label out of range, a device failure).
//!
//! The trait is split by op family (`ops::elementwise`, `ops::reduce`, ...), one module each,
//! with the same module names in every backend crate.

mod error;
pub mod ops;
pub mod random;
mod shape;

pub use error::{BackendError, Result};
pub use ops::conv::{Conv2dSpec, ConvOps};
pub use ops::elementwise::{BinaryOp, CmpOp, ElementwiseOps, ScalarOp, UnaryOp};
pub use ops::layout::{LayoutOps, concat_shape};
pub use ops::linalg::{LinalgOps, MatmulSpec};
pub use ops::norm::{ChannelSpec, NormOps};
pub use ops::optimizer::{AdagradSpec, AdamSpec, OptimizerOps, RmspropSpec, SgdSpec};
pub use ops::pool::{Pool2dSpec, PoolOps, PoolWindow, pool_out_len, pool_window};
pub use ops::random::RandomOps;
pub use ops::recurrent::{RecurrentOps, RnnCell, RnnForward, RnnGrads, RnnOperands, RnnSpec};
pub use ops::reduce::{ReduceOp, ReduceOps};
pub use ops::softmax::SoftmaxOps;
pub use shape::{Shape, broadcast_shapes, contiguous_strides};

/// The element type of a buffer. Only `F32` exists today; the enum is here so that half
/// precision can be added as a buffer property rather than as a second trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit IEEE float.
    F32,
}

/// Allocation and transfer: the part of a backend every other op family builds on.
///
/// A buffer is a flat array of `f32` in the backend's memory. Integer data (class labels,
/// indices) travels in `f32` buffers too; every integer below 2^24 is exact in `f32`.
pub trait BufferOps: Send + Sync + 'static {
    /// The backend's handle to device memory.
    type Buffer: Send + Sync + 'static;

    /// A short lowercase name for messages ("cpu", "cuda:0").
    fn name(&self) -> String;
    /// Copies host data into a new buffer.
    #[allow(clippy::wrong_self_convention)] // a constructor on the backend, not a conversion of it
    fn from_host(&self, data: &[f32]) -> Result<Self::Buffer>;
    /// Takes ownership of host data, avoiding a copy when the backend lives on the host.
    #[allow(clippy::wrong_self_convention)]
    fn from_host_vec(&self, data: Vec<f32>) -> Result<Self::Buffer> {
        self.from_host(&data)
    }
    /// A buffer of `len` elements, all `value`.
    fn full(&self, len: usize, value: f32) -> Result<Self::Buffer>;
    /// A buffer of `len` zeros.
    fn zeros(&self, len: usize) -> Result<Self::Buffer> {
        self.full(len, 0.0)
    }
    /// Copies a buffer back to the host.
    fn to_host(&self, buf: &Self::Buffer) -> Result<Vec<f32>>;
    /// Number of elements in `buf`.
    fn len(&self, buf: &Self::Buffer) -> usize;
    /// The element type of `buf`.
    fn dtype(&self, _buf: &Self::Buffer) -> DType {
        DType::F32
    }
    /// A deep copy of `buf`.
    fn copy(&self, buf: &Self::Buffer) -> Result<Self::Buffer>;
    /// `dst += src`, elementwise, same length (used to accumulate gradients without allocating).
    fn add_assign(&self, dst: &mut Self::Buffer, src: &Self::Buffer) -> Result<()>;
    /// Waits until all queued work on this backend has finished (a no-op on the CPU).
    fn synchronize(&self) -> Result<()> {
        Ok(())
    }
}

/// A complete backend: every op family. Implemented automatically for any type that
/// implements all of them.
pub trait Backend:
    BufferOps
    + ElementwiseOps
    + LayoutOps
    + ReduceOps
    + LinalgOps
    + SoftmaxOps
    + RandomOps
    + OptimizerOps
    + RecurrentOps
    + ConvOps
    + PoolOps
    + NormOps
{
}

impl<T> Backend for T where
    T: BufferOps
        + ElementwiseOps
        + LayoutOps
        + ReduceOps
        + LinalgOps
        + SoftmaxOps
        + RandomOps
        + OptimizerOps
        + RecurrentOps
        + ConvOps
        + PoolOps
        + NormOps
{
}
