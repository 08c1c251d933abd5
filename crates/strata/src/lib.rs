//! # Strata
//!
//! Define a model once in Rust, train it on the CPU (or, with the `cuda` feature, an NVIDIA
//! GPU) with the same code. This facade re-exports the pieces:
//!
//! - [`Tensor`], [`Device`], [`Error`] and autograd from `strata-core`;
//! - [`layers`]: `Module`, `Sequential`, `Dense`, activations, losses, weights I/O;
//! - [`optim`]: optimizers, learning-rate schedules, gradient clipping;
//! - [`data`]: readers (IDX/MNIST), datasets, the loader, scalers.
//! - [`train`]: the `Trainer`, metrics, callbacks, checkpoints, hyperparameter search.
//!
//! Training runs described in TOML and the `strata` command (`train`, `evaluate`, `predict`,
//! `tune`, `summary`) live in the `strata-cli` crate, so this library carries no config-file
//! schema.
//!
//! ```no_run
//! use strata::prelude::*;
//!
//! # fn main() -> strata::Result<()> {
//! let device = Device::best();
//! let model = Sequential::new()
//!     .add(Dense::new(128))
//!     .add(Relu)
//!     .add(Dense::new(10))
//!     .build(&[784], &device, 42)?;
//! println!("{}", model.summary());
//! # Ok(()) }
//! ```

mod step;

pub use step::train_step;
pub use strata_core::{
    Device, Error, Gradients, NoGradGuard, Param, Result, Shape, Tensor, gradcheck, no_grad,
};

/// The CUDA backend (`strata-cuda`, with the `cuda` feature): allocator statistics, TF32,
/// the GPU tests' skip guard. Tensors reach the GPU through `Device::cuda(n)`.
#[cfg(feature = "cuda")]
pub use strata_core::cuda;

/// Layers, losses, `Sequential`, initializers and weights I/O (`strata-layers`).
pub mod layers {
    pub use strata_layers::*;
}

/// Optimizers, learning-rate schedules and gradient clipping (`strata-optim`).
pub mod optim {
    pub use strata_optim::*;
}

/// Readers, datasets, the loader and preprocessing (`strata-data`).
pub mod data {
    pub use strata_data::*;
}

/// Training: `Trainer` (fit/evaluate/predict), metrics, callbacks, checkpoints, history,
/// hyperparameter search (`strata-train`).
pub mod train {
    pub use strata_train::*;
}

/// The names most programs need: `use strata::prelude::*;`.
pub mod prelude {
    pub use crate::train_step;
    pub use strata_core::{Device, Error, Param, Result, Tensor, no_grad};
    pub use strata_layers::*;
    pub use strata_optim::*;
    pub use strata_train::callbacks::{
        Callback, CsvLogger, EarlyStopping, ModelCheckpoint, ReduceLrOnPlateau, TerminateOnNan,
    };
    pub use strata_train::metrics::{
        Accuracy, ConfusionMatrix, F1, Mae, Mse, Precision, R2, Recall, Rmse, TopKAccuracy,
    };
    pub use strata_train::{Checkpoint, Clip, History, Metric, Trainer};
}

/// The README's code, compiled by `cargo test --doc` so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
