//! `[data]`: where samples come from (a CSV file, or an IDX/MNIST directory), the
//! preprocessing steps (`[[data.preprocess]]`: impute, scale, encode, clip), the splits and
//! the loader settings. [`DataConfig::prepare`] reads the data, splits it, fits the steps on
//! the training rows only and returns the datasets with the fitted [`Preprocessing`], which
//! serializes so prediction applies exactly what training used.
//!
//! One job per file: `schema` (the keys of `[data]`), `check` (key checks that serde cannot
//! make, and the CSV reader they configure), `fitted` (what a run saves and reapplies),
//! `csv` and `images` (reading, splitting and fitting each kind of source), `steps` (a
//! preprocessing entry turned into a data step). This file dispatches on the source.

mod check;
mod csv;
mod fitted;
mod images;
mod schema;
mod steps;

use std::path::Path;

use strata_core::Result;

use super::error::key_error;

pub use fitted::{ImageScaler, PreparedData, Preprocessing};
pub use images::default_mnist_dir;
pub use schema::{DataConfig, SourceKind, StepConfig, StepKind, Task};

impl DataConfig {
    /// Reads, splits and prepares the data. `base` is the config file's directory (relative
    /// paths start there), `file` names the config in errors, `seed` is used when the
    /// config has no `data.seed`.
    pub fn prepare(&self, file: &Path, base: &Path, seed: u64) -> Result<PreparedData> {
        self.prepare_fitted(file, base, seed, None)
    }

    /// Like [`DataConfig::prepare`], but with `fitted` given (the `pipeline.json` a training
    /// run saved) every split goes through those fitted steps instead of steps fitted anew:
    /// what `strata evaluate` scores is then prepared exactly as the model saw it in
    /// training. A `fitted` preparation of the other kind (images for a CSV source), or for
    /// another target column, is an error.
    pub fn prepare_fitted(
        &self,
        file: &Path,
        base: &Path,
        seed: u64,
        fitted: Option<&Preprocessing>,
    ) -> Result<PreparedData> {
        self.check(file)?;
        let seed = self.seed.unwrap_or(seed);
        match (self.source, fitted) {
            (SourceKind::Csv, None | Some(Preprocessing::Table { .. })) => {
                self.prepare_csv(file, base, seed, fitted)
            }
            (SourceKind::Idx | SourceKind::Mnist, None | Some(Preprocessing::Images { .. })) => {
                self.prepare_images(file, base, seed, fitted)
            }
            (source, Some(_)) => Err(key_error(
                file,
                "data.source",
                format!(
                    "the saved preprocessing was fitted for another kind of source than                      {source:?}; train again with this config"
                ),
            )),
        }
    }
}
