//! `strata-data`: getting data into a training loop, on the host, with no GPU and (for the
//! readers and preprocessing) no tensors.
//!
//! - [`Dataset`] / [`InMemoryDataset`]: indexed samples of fixed shapes.
//! - [`DataLoader`]: batches in dataset order or shuffled by a seed, reproducibly per epoch.
//! - [`idx`]: the IDX format (raw or gzip); [`mnist`]: the MNIST digits from IDX files, plus a
//!   small subset committed in this crate ([`mnist::subset_dir`]).
//! - [`preprocess`]: fit/transform scalers, serializable with serde.
//! - [`DataError`]: every error names the file and place, what was expected and what was
//!   found.
//!
//! With the default `tensor` feature a [`Batch`] becomes `strata_core` tensors
//! ([`Batch::to_tensors`]) and `DataError` converts into `strata_core::Error`; without it the
//! crate does not depend on `strata-core` at all.
//!
//! Module map: `error`, `compress` (gzip by magic bytes), `rng` (the seeded shuffle),
//! `dataset`, `loader`, `idx`, `mnist`, `preprocess`.

mod compress;
mod dataset;
mod error;
pub mod idx;
mod loader;
pub mod mnist;
pub mod preprocess;
mod rng;

pub use compress::Compression;
pub use dataset::{Dataset, InMemoryDataset};
pub use error::{DataError, Position, Result};
pub use idx::{IdxArray, IdxType};
pub use loader::{Batch, Batches, DataLoader};
pub use mnist::Mnist;
