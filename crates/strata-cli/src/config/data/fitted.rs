//! What a run fits and keeps: the preprocessing saved as `pipeline.json` beside the weights
//! (and reapplied by `evaluate` and `predict`), and the prepared datasets handed to the
//! loaders.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_core::Result;
use strata_data::preprocess::{MinMaxScaler, OrdinalEncoder, StandardScaler};
use strata_data::{InMemoryDataset, Pipeline};

use super::schema::Task;

/// A fitted scaler over all values of image samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ImageScaler {
    /// One mean and deviation over every value.
    Standard(StandardScaler),
    /// Onto a range.
    MinMax(MinMaxScaler),
}

/// The fitted preparation, saved as `pipeline.json` beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Preprocessing {
    /// CSV rows through a fitted [`Pipeline`].
    Table {
        /// The feature pipeline.
        pipeline: Pipeline,
        /// The target column.
        target: String,
        /// Class names (classification), in label order.
        labels: Option<OrdinalEncoder>,
    },
    /// Image samples, scaled as one block.
    Images {
        /// The per-sample shape.
        sample_shape: Vec<usize>,
        /// The fitted scaler, if any.
        scaler: Option<ImageScaler>,
    },
}

impl Preprocessing {
    /// Writes it as JSON at `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| strata_core::Error::format(path, e.to_string()))?;
        std::fs::write(path, json).map_err(|e| strata_core::Error::io(path, e))
    }

    /// Reads what [`Preprocessing::save`] wrote.
    pub fn load(path: &Path) -> Result<Preprocessing> {
        let bytes = std::fs::read(path).map_err(|e| strata_core::Error::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            strata_core::Error::format(path, format!("not a Strata preprocessing file: {e}"))
        })
    }

    /// Class names in label order (classifiers over CSV).
    pub fn class_names(&self) -> Option<Vec<String>> {
        match self {
            Preprocessing::Table {
                labels: Some(enc), ..
            } => Some(enc.categories().to_vec()),
            _ => None,
        }
    }

    /// Scales raw image samples (values as the IDX reader gives them, in `[0, 1]`) in place.
    pub fn transform_images(&self, pixels: &mut [f32]) -> Result<()> {
        if let Preprocessing::Images {
            scaler: Some(scaler),
            ..
        } = self
        {
            match scaler {
                ImageScaler::Standard(s) => s.transform_in_place(pixels, 1)?,
                ImageScaler::MinMax(s) => s.transform_in_place(pixels, 1)?,
            }
        }
        Ok(())
    }
}

/// Datasets ready for a loader, and how they were prepared.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Training samples.
    pub train: InMemoryDataset,
    /// Validation samples, when `validation_split > 0`.
    pub validation: Option<InMemoryDataset>,
    /// Test samples, when there are any.
    pub test: Option<InMemoryDataset>,
    /// The fitted preparation.
    pub preprocessing: Preprocessing,
    /// Classification or regression.
    pub task: Task,
    /// Number of classes (classification).
    pub classes: Option<usize>,
    /// Where the data came from (for messages).
    pub origin: PathBuf,
}
