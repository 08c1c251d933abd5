//! `strata-train`: the practice of training a model in a few lines — a [`Trainer`] with
//! `fit` / `evaluate` / `predict`, streaming [`metrics`], [`callbacks`] (early stopping,
//! checkpoints, reduce-on-plateau, terminate-on-NaN, CSV log), [`Checkpoint`]s that resume
//! bit-identically on the CPU, a progress bar, the [`History`] as JSON/CSV, and [`plot`]s of
//! curves and confusion matrices as PNG.
//!
//! ```no_run
//! use strata_core::Device;
//! use strata_data::{DataLoader, InMemoryDataset};
//! use strata_layers::{CrossEntropyLoss, Dense, Relu, Sequential};
//! use strata_optim::Adam;
//! use strata_train::callbacks::{EarlyStopping, ModelCheckpoint};
//! use strata_train::metrics::Accuracy;
//! use strata_train::Trainer;
//!
//! # fn main() -> strata_core::Result<()> {
//! // 4 samples of 2 features, labels 0/1.
//! let data = InMemoryDataset::new(vec![0., 0., 0., 1., 1., 0., 1., 1.], vec![2],
//!                                 vec![0., 1., 1., 0.], vec![])?;
//! let model = Sequential::new()
//!     .add(Dense::new(16))
//!     .add(Relu)
//!     .add(Dense::new(2))
//!     .build(&[2], &Device::cpu(), 42)?;
//! let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(1e-2))
//!     .epochs(50)
//!     .metric(Accuracy::new())
//!     .callback(EarlyStopping::new("val_loss").patience(5).restore_best_weights(true))
//!     .callback(ModelCheckpoint::new("runs/xor").save_best("val_accuracy"));
//! let history = trainer.fit(&DataLoader::new(&data, 2)?.shuffle(7), Some(&DataLoader::new(&data, 4)?))?;
//! history.save_json("runs/xor/history.json")?;
//! let scores = trainer.evaluate(&DataLoader::new(&data, 4)?)?;
//! println!("accuracy {}", scores["accuracy"]);
//! # Ok(()) }
//! ```
//!
//! Resuming: build the same model, optimizer, schedule and loaders, call
//! [`Trainer::resume`] with `ModelCheckpoint::last_path(dir)`, then `fit` again — the run
//! continues at the same epoch and batch, with the same optimizer moments, learning rate,
//! dropout masks and shuffle order, and ends with the same weights bit for bit.
//!
//! Module map (one job each): `trainer` (the builder, the loop, evaluate/predict,
//! checkpoint in/out, the start-up summary), [`step`] (the one training step `fit` and
//! `strata::train_step` share, and the hook that supplies a step's forward pass and loss),
//! `source` (what `fit` reads batches from), [`metrics`], [`callbacks`], `checkpoint` (the file format), `history`, `progress` (the
//! bar), [`plot`] (PNG curves), `io` (atomic writes). This crate sits above `strata-layers`,
//! `strata-optim` and `strata-data` and never touches a backend directly; the `strata`
//! facade re-exports it as `strata::train`.

pub mod callbacks;
mod checkpoint;
mod history;
mod io;
pub mod metrics;
pub mod plot;
mod progress;
mod source;
pub mod step;
mod trainer;
pub mod tune;

pub use checkpoint::{Checkpoint, TrainState};
pub use history::{EpochLog, History};
pub use metrics::Metric;
pub use source::BatchSource;
pub use step::Clip;
pub use trainer::{MemoryEstimate, ScheduleUnit, Trainer};
