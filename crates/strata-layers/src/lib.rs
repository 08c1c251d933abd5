//! `strata-layers`: the [`Module`] trait, layers, losses, initializers, [`Sequential`] with
//! shape inference and [`Summary`], and weights I/O in safetensors.
//!
//! Layers infer their input size: a model is a list of decisions (`Dense::new(128)`), and
//! [`Sequential::build`] passes each layer the per-sample output shape of the one before,
//! creating parameters on a device from a seed (reproducible on every device).
//!
//! ```no_run
//! use strata_core::{Device, Tensor};
//! use strata_layers::prelude::*;
//!
//! let device = Device::best();
//! let model = Sequential::new()
//!     .add(Dense::new(128))
//!     .add(Relu)
//!     .add(Dropout::new(0.2))
//!     .add(Dense::new(10))
//!     .build(&[784], &device, 42)?;
//! let x = Tensor::zeros([32, 784], &device)?;
//! let labels = Tensor::zeros([32], &device)?;
//! let loss = CrossEntropyLoss::new().forward(&model.forward(&x, Mode::Train)?, &labels)?;
//! let grads = loss.backward()?;
//! # let _ = grads;
//! save_weights(&model, "model.safetensors")?;
//! # Ok::<(), strata_core::Error>(())
//! ```
//!
//! This crate builds on `strata-core`'s tensors and autograd only; optimizers, training loops
//! and data live in the crates above and beside it. Layer families with several files get a
//! folder (`conv/`, `rnn/`), single layers a file each.

mod activation;
pub mod conv;
mod dense;
mod dropout;
mod embedding;
mod flatten;
pub mod init;
pub mod loss;
mod module;
pub mod norm;
mod permute;
pub mod pool;
pub mod rnn;
mod sequential;
mod summary;
pub mod weights;

pub use activation::{Elu, Gelu, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
pub use conv::{Conv1d, Conv2d, Padding};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use init::Init;
pub use loss::{BceWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, Loss, MseLoss};
pub use module::{BuildContext, Mode, Module};
pub use norm::{BatchNorm1d, BatchNorm2d};
pub use permute::Permute;
pub use pool::{AvgPool1d, AvgPool2d, GlobalAvgPool, GlobalMaxPool, MaxPool1d, MaxPool2d};
pub use rnn::{Gru, Lstm, RnnOutput, RnnState, SimpleRnn};
pub use sequential::Sequential;
pub use summary::{Summary, SummaryRow};
pub use weights::{load_weights, save_weights};

/// Everything needed to define, train and save a model: `use strata_layers::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, GlobalAvgPool,
        GlobalMaxPool, MaxPool1d, MaxPool2d, Padding,
    };
    pub use crate::{
        BceWithLogitsLoss, BuildContext, CrossEntropyLoss, Dense, Dropout, Elu, Flatten, Gelu,
        HuberLoss, Init, L1Loss, LeakyRelu, Loss, Mode, Module, MseLoss, Relu, Sequential, Sigmoid,
        Softmax, Summary, Tanh, load_weights, save_weights,
    };
}
