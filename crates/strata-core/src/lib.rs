//! `strata-core`: the `Tensor`, reverse-mode automatic differentiation, the `Device` a tensor
//! lives on, and the crate-wide `Error`.
//!
//! A [`Tensor`] is a cheap handle (`Arc`) to a contiguous row-major `f32` buffer on one
//! [`Device`]. Operations check shapes here, once, and then call the device's backend
//! (`strata-backend`'s trait, implemented by `strata-cpu`). When an input tracks gradients and
//! recording is on, the operation also records a backward rule; [`Tensor::backward`] walks the
//! recorded graph in reverse topological order, frees it as it goes, and returns the
//! [`Gradients`] of every variable.
//!
//! This crate knows nothing of layers, optimizers or data: those live in the crates above it.

#[cfg(not(feature = "cpu"))]
compile_error!("strata-core needs at least one backend feature: enable `cpu`");

mod autograd;
mod device;
mod error;
pub mod gradcheck;
mod ops;
mod param;
mod storage;
mod tensor;

pub use autograd::{Gradients, NoGradGuard, is_grad_enabled, no_grad};
pub use device::Device;
pub use error::{Error, Result};
pub use ops::conv::Conv2dOptions;
pub use ops::optimizer::{adagrad_step, adam_step, rmsprop_step, sgd_step};
pub use ops::pool::Pool2dOptions;
pub use ops::recurrent::RnnInputs;
pub use param::Param;
pub use strata_backend::RnnCell;
pub use strata_backend::{
    AdagradSpec, AdamSpec, BinaryOp, CmpOp, DType, ReduceOp, RmspropSpec, ScalarOp, SgdSpec, Shape,
    UnaryOp,
};
pub use tensor::{Tensor, TensorId};

/// The CUDA backend crate (`strata-cuda`), for what only it has: allocator statistics
/// (`cuda::CudaBackend::shared(0)?.alloc_stats()`), TF32, the GPU tests' skip guard.
#[cfg(feature = "cuda")]
pub use strata_cuda as cuda;
