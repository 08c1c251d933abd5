//! `strata-layers`: layer configs ([`LayerConfig`], serde data) that build layers
//! ([`Module`]), losses, initializers, [`Sequential`] with shape inference and [`Summary`],
//! the registry of layer kinds ([`LayerSpec`], [`LayerKind`]), and weights I/O in safetensors.
//!
//! Layers infer their input size: a model is a list of decisions (`Dense::new(128)` is a
//! [`DenseConfig`]), and [`SequentialConfig::build`] builds each layer for the per-sample
//! output shape of the one before, creating parameters on a device from a seed (reproducible
//! on every device). A built layer always has its parameters; the config it came from
//! serializes (JSON, TOML), so an architecture can be saved and rebuilt.
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
//! folder (`conv/`, `rnn/`), single layers a file each (the config beside its layer), and
//! `spec.rs` lists every kind a config can name.

mod activation;
mod config_serde;
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
mod spec;
mod summary;
pub mod weights;

pub use activation::{Elu, Gelu, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
pub use conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, Padding};
pub use dense::{Dense, DenseConfig};
pub use dropout::{Dropout, DropoutConfig};
pub use embedding::{Embedding, EmbeddingConfig};
pub use flatten::Flatten;
pub use init::Init;
pub use loss::{BceWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, Loss, MseLoss};
pub use module::{BuildContext, LayerConfig, Mode, Module};
pub use norm::{BatchNorm1d, BatchNorm1dConfig, BatchNorm2d, BatchNorm2dConfig};
pub use permute::Permute;
pub use pool::{AvgPool1d, AvgPool2d, GlobalAvgPool, GlobalMaxPool, MaxPool1d, MaxPool2d};
pub use rnn::{
    Gru, GruConfig, Lstm, LstmConfig, RecurrentConfig, RnnOutput, RnnState, SimpleRnn,
    SimpleRnnConfig,
};
pub use sequential::{Sequential, SequentialConfig};
pub use spec::{BuiltLayer, LayerKind, LayerSpec};
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
        HuberLoss, Init, L1Loss, LayerConfig, LeakyRelu, Loss, Mode, Module, MseLoss, Relu,
        Sequential, Sigmoid, Softmax, Summary, Tanh, load_weights, save_weights,
    };
}
