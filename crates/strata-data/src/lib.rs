//! `strata-data`: getting data from a raw file into a training loop, on the host, with no
//! GPU and (for the readers and preprocessing) no tensors.
//!
//! - Readers: [`CsvReader`] (CSV/TSV into a [`Table`] of numeric and categorical columns),
//!   [`idx`] (raw or gzip) and [`mnist`], [`text`] (labelled corpora, tokenizer and
//!   vocabulary), [`audio`] (WAV, resampling, spectrogram, mel filterbank, MFCC),
//!   [`ImageFolderReader`] (PNG/JPEG, one sub-folder per class).
//! - Preparation: [`preprocess`] (fit/transform imputers, scalers, clipping, encoders,
//!   serializable with serde), [`series`] (gap filling, denoising filters, windowing),
//!   [`Pipeline`] (steps per column group, saved beside the model weights), [`split`]
//!   (train/validation/test, stratified, k-fold).
//! - Feeding: [`Dataset`] / [`InMemoryDataset`]; [`DataLoader`] (seeded shuffles, drop-last,
//!   [`augment`]ations, background prefetch with [`DataLoader::for_each_batch`]).
//! - [`DataError`]: every error names the file and place, what was expected and what was
//!   found.
//!
//! With the default `tensor` feature a [`Batch`] becomes `strata_core` tensors
//! ([`Batch::to_tensors`]) and `DataError` converts into `strata_core::Error`; without it the
//! crate does not depend on `strata-core` at all.
//!
//! Module map: `error`, `compress` (gzip by magic bytes), `rng` (the seeded shuffle),
//! `dataset`, `loader` (+ `prefetch`), `augment`, `idx`, `mnist`, `table` (+ `csv_reader`),
//! `text`, `audio`, `image_folder`, `preprocess`, `series`, `pipeline`, `split`.

pub mod audio;
pub mod augment;
mod compress;
mod dataset;
mod error;
pub mod idx;
mod image_folder;
mod loader;
pub mod mnist;
pub mod pipeline;
pub mod preprocess;
mod rng;
pub mod series;
pub mod split;
mod table;
pub mod text;

pub use compress::Compression;
pub use dataset::{Dataset, InMemoryDataset};
pub use error::{DataError, Position, Result};
pub use idx::{IdxArray, IdxType};
pub use image_folder::{ImageFolder, ImageFolderReader};
pub use loader::{Batch, Batches, DataLoader};
pub use mnist::Mnist;
pub use pipeline::Pipeline;
pub use table::{Column, CsvReader, Table};
