//! An image source (IDX files, MNIST): load, reshape and limit the samples, hold out the
//! validation share, and fit the image scaler on the training images (or reuse a saved one).

use std::path::{Path, PathBuf};

use strata_core::Result;
use strata_data::preprocess::{MinMaxScaler, StandardScaler};
use strata_data::{InMemoryDataset, Mnist, split};

use super::fitted::{ImageScaler, PreparedData, Preprocessing};
use super::schema::{DataConfig, SourceKind, StepKind, Task};
use crate::config::error::key_error;

impl DataConfig {
    pub(super) fn prepare_images(
        &self,
        file: &Path,
        base: &Path,
        seed: u64,
        fitted: Option<&Preprocessing>,
    ) -> Result<PreparedData> {
        let dir = match (&self.path, self.source) {
            (Some(p), _) => base.join(p),
            (None, SourceKind::Mnist) => default_mnist_dir(),
            (None, _) => {
                return Err(key_error(
                    file,
                    "data.path",
                    "missing key (idx needs the directory)",
                ));
            }
        };
        let mnist = Mnist::load(&dir)?;
        let (mut train, mut test) = (mnist.train, mnist.test);
        if let Some(shape) = &self.sample_shape {
            train = train.reshape_samples(shape.clone())?;
            test = test.reshape_samples(shape.clone())?;
        }
        if let Some(n) = self.limit {
            train = train.subset(&(0..n.min(train.len())).collect::<Vec<_>>())?;
        }
        if let Some(n) = self.test_limit {
            test = test.subset(&(0..n.min(test.len())).collect::<Vec<_>>())?;
        }
        let mut validation = None;
        if self.validation_split > 0.0 {
            let labels: Vec<u32> = train.targets().iter().map(|&t| t as u32).collect();
            let parts = if self.stratify {
                split::stratified_split(&labels, 0.0, self.validation_split, seed)?
            } else {
                split::train_val_test_split(train.len(), 0.0, self.validation_split, seed)?
            };
            validation = Some(train.subset(&parts.test)?);
            train = train.subset(&parts.train)?;
        }
        let preprocessing = match fitted {
            Some(Preprocessing::Images { sample_shape, .. })
                if sample_shape.as_slice() != train.sample_shape() =>
            {
                return Err(key_error(
                    file,
                    "data.sample_shape",
                    format!(
                        "gives samples of shape {:?} but the saved preprocessing was fitted                          on {sample_shape:?}",
                        train.sample_shape()
                    ),
                ));
            }
            Some(saved) => saved.clone(),
            None => Preprocessing::Images {
                sample_shape: train.sample_shape().to_vec(),
                scaler: self.fit_image_scaler(file, &train)?,
            },
        };
        for set in [Some(&mut train), validation.as_mut(), Some(&mut test)]
            .into_iter()
            .flatten()
        {
            preprocessing.transform_images(set.features_mut())?;
        }
        Ok(PreparedData {
            train,
            validation,
            test: Some(test),
            preprocessing,
            task: Task::Classification,
            classes: Some(strata_data::mnist::CLASSES),
            origin: dir,
        })
    }

    /// The configured `scale` step (the last one wins) fitted on the training images.
    fn fit_image_scaler(
        &self,
        file: &Path,
        train: &InMemoryDataset,
    ) -> Result<Option<ImageScaler>> {
        let mut scaler = None;
        for (i, step) in self.preprocess.iter().enumerate() {
            let key = format!("data.preprocess[{i}]");
            if step.step != StepKind::Scale || step.columns.is_some() {
                return Err(key_error(
                    file,
                    &format!("{key}.step"),
                    "image data takes only `scale` steps (over all values, no columns)",
                ));
            }
            let mut s = match step.method.as_deref().unwrap_or("standard") {
                "standard" => ImageScaler::Standard(StandardScaler::new()),
                "minmax" => ImageScaler::MinMax(
                    MinMaxScaler::new()
                        .with_range(step.low.unwrap_or(0.0), step.high.unwrap_or(1.0)),
                ),
                other => {
                    return Err(key_error(
                        file,
                        &format!("{key}.method"),
                        format!("unknown value \"{other}\"; expected standard, minmax"),
                    ));
                }
            };
            match &mut s {
                ImageScaler::Standard(x) => x.fit(train.features(), 1)?,
                ImageScaler::MinMax(x) => x.fit(train.features(), 1)?,
            }
            scaler = Some(s);
        }
        Ok(scaler)
    }
}

/// MNIST's directory when `data.path` is not given: `$STRATA_DATA/mnist`, else
/// `../shared/data/mnist` (from the current directory or the repository), else the subset
/// committed in strata-data.
pub fn default_mnist_dir() -> PathBuf {
    if let Ok(root) = std::env::var("STRATA_DATA") {
        let d = Path::new(&root).join("mnist");
        if d.is_dir() {
            return d;
        }
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for base in [
        PathBuf::from("../shared/data"),
        manifest.join("../../../shared/data"),
    ] {
        let d = base.join("mnist");
        if d.is_dir() {
            return d;
        }
    }
    strata_data::mnist::subset_dir()
}
