//! `[data]`: where samples come from (a CSV file, or an IDX/MNIST directory), the
//! preprocessing steps (`[[data.preprocess]]`: impute, scale, encode, clip), the splits and
//! the loader settings. [`DataConfig::prepare`] reads the data, splits it, fits the steps on
//! the training rows only and returns the datasets with the fitted [`Preprocessing`], which
//! serializes so prediction applies exactly what training used.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_core::Result;
use strata_data::pipeline::{Encoding, NumericStep};
use strata_data::preprocess::{
    CategoricalImputer, CategoricalStrategy, ClipMethod, ImputeStrategy, MinMaxScaler,
    OneHotEncoder, OrdinalEncoder, OutlierClipper, RobustScaler, SimpleImputer, StandardScaler,
    Unknown,
};
use strata_data::{Column, CsvReader, InMemoryDataset, Mnist, Pipeline, Table, split};

use super::error::key_error;

/// Where the samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A delimited text file with a header; one column is the target.
    Csv,
    /// A directory holding MNIST-layout IDX files (train/t10k images and labels).
    Idx,
    /// MNIST: `path`, else `$STRATA_DATA/mnist`, else `../shared/data/mnist`, else the
    /// subset committed in strata-data.
    Mnist,
}

/// Classification or regression (default: classification for a categorical target or an
/// image source, regression for a numeric CSV target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Class labels.
    Classification,
    /// Real-valued target.
    Regression,
}

/// A preprocessing step kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Fill missing values (`strategy`: mean, median, most_frequent, constant + `value`).
    Impute,
    /// Scale numeric columns (`method`: standard, minmax, robust).
    Scale,
    /// Encode categorical columns (`method`: one_hot, ordinal; `unknown`: error, ignore).
    Encode,
    /// Clip outliers (`method`: percentile with `low`/`high`, zscore with `k`).
    Clip,
}

/// One `[[data.preprocess]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// The step.
    pub step: StepKind,
    /// The columns it applies to (default: every feature column it can apply to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Impute: `mean`, `median`, `most_frequent` or `constant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Impute with `constant`: the fill value (a number or a category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<toml::Value>,
    /// Scale, encode, clip: the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Clip (percentile): lower percentile; scale (minmax): range low.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f32>,
    /// Clip (percentile): upper percentile; scale (minmax): range high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f32>,
    /// Clip (zscore): deviations kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<f32>,
    /// Encode: what an unseen category becomes (`error` or `ignore`, default `ignore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The reader.
    pub source: SourceKind,
    /// CSV file or IDX directory, relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// CSV: the target column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// CSV: the field separator, one character (default `,`; `\t` for TSV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// CSV: the values meaning "missing" (default `["", "NA"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub na_values: Option<Vec<String>>,
    /// CSV: columns left out.
    #[serde(default)]
    pub drop: Vec<String>,
    /// CSV: columns read as categories even when they hold numbers.
    #[serde(default)]
    pub categorical: Vec<String>,
    /// CSV: drop rows equal to an earlier row (default false).
    #[serde(default)]
    pub drop_duplicates: bool,
    /// Classification or regression (default: inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Preprocessing steps, in order.
    #[serde(default)]
    pub preprocess: Vec<StepConfig>,
    /// Fraction of the training rows held out for validation (default 0.1).
    #[serde(default = "default_validation")]
    pub validation_split: f64,
    /// CSV: fraction of the rows held out for testing (default 0.2). Image sources use
    /// their own test split.
    #[serde(default = "default_test")]
    pub test_split: f64,
    /// Splits keep each class's share (classification; default true).
    #[serde(default = "default_true")]
    pub stratify: bool,
    /// Training batch size (default 32).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Shuffle the training rows each epoch (default true).
    #[serde(default = "default_true")]
    pub shuffle: bool,
    /// Seed of the splits and shuffles (default: `train.seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Use only the first N training samples (quick runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Use only the first N test samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_limit: Option<usize>,
    /// Image sources: the per-sample shape (default `[1, rows, cols]`; `[784]` for an MLP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_shape: Option<Vec<usize>>,
}

fn default_validation() -> f64 {
    0.1
}

fn default_test() -> f64 {
    0.2
}

fn default_batch() -> usize {
    32
}

fn default_true() -> bool {
    true
}

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

    fn check(&self, file: &Path) -> Result<()> {
        let fraction = |key: &str, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(key_error(
                    file,
                    key,
                    format!("expected a fraction in [0, 1), found {v}"),
                ))
            }
        };
        fraction("data.validation_split", self.validation_split)?;
        fraction("data.test_split", self.test_split)?;
        if self.batch_size == 0 {
            return Err(key_error(
                file,
                "data.batch_size",
                "expected at least 1, found 0",
            ));
        }
        let csv_only = [
            ("target", self.target.is_some()),
            ("delimiter", self.delimiter.is_some()),
            ("na_values", self.na_values.is_some()),
            ("drop", !self.drop.is_empty()),
            ("categorical", !self.categorical.is_empty()),
            ("drop_duplicates", self.drop_duplicates),
        ];
        if self.source != SourceKind::Csv {
            if let Some((key, _)) = csv_only.iter().find(|(_, on)| *on) {
                return Err(key_error(
                    file,
                    &format!("data.{key}"),
                    "only used with source = \"csv\"",
                ));
            }
        } else if self.sample_shape.is_some() {
            return Err(key_error(
                file,
                "data.sample_shape",
                "only used with image sources (idx, mnist)",
            ));
        }
        Ok(())
    }

    /// The CSV reader these settings describe.
    pub fn csv_reader(&self, file: &Path) -> Result<CsvReader> {
        let mut reader = CsvReader::new();
        if let Some(d) = &self.delimiter {
            let d = if d == "\\t" { "\t" } else { d.as_str() };
            match d.as_bytes() {
                [b] => reader = reader.delimiter(*b),
                _ => {
                    return Err(key_error(
                        file,
                        "data.delimiter",
                        format!("expected one character, found \"{d}\""),
                    ));
                }
            }
        }
        if let Some(na) = &self.na_values {
            let na: Vec<&str> = na.iter().map(String::as_str).collect();
            reader = reader.missing_values(&na);
        }
        let mut categorical: Vec<&str> = self.categorical.iter().map(String::as_str).collect();
        // A classification target holding numbers (class codes) is read as categories.
        if let Some(t) = &self.target
            && self.task == Some(Task::Classification)
            && !categorical.contains(&t.as_str())
        {
            categorical.push(t);
        }
        Ok(reader.categorical(&categorical))
    }

    /// The CSV file, resolved against `base`.
    pub fn resolve_path(&self, file: &Path, base: &Path) -> Result<PathBuf> {
        let path = self
            .path
            .as_ref()
            .ok_or_else(|| key_error(file, "data.path", "missing key"))?;
        Ok(base.join(path))
    }

    fn read_table(&self, file: &Path, base: &Path) -> Result<(Table, PathBuf)> {
        let path = self.resolve_path(file, base)?;
        if !path.exists() {
            return Err(key_error(
                file,
                "data.path",
                format!("no file at {}", path.display()),
            ));
        }
        let mut table = self.csv_reader(file)?.read(&path)?;
        for (i, name) in self.drop.iter().enumerate() {
            if table.column(name).is_none() {
                return Err(key_error(
                    file,
                    &format!("data.drop[{i}]"),
                    format!("no column `{name}`; columns are {:?}", table.names()),
                ));
            }
            table.remove(name)?;
        }
        if self.drop_duplicates {
            table = table.drop_duplicates().0;
        }
        Ok((table, path))
    }

    fn prepare_csv(
        &self,
        file: &Path,
        base: &Path,
        seed: u64,
        fitted: Option<&Preprocessing>,
    ) -> Result<PreparedData> {
        let target = self
            .target
            .clone()
            .ok_or_else(|| key_error(file, "data.target", "missing key (csv needs it)"))?;
        let fitted = match fitted {
            Some(Preprocessing::Table {
                pipeline,
                target: fitted_target,
                labels,
            }) => {
                if *fitted_target != target {
                    return Err(key_error(
                        file,
                        "data.target",
                        format!(
                            "is `{target}` but the saved preprocessing was fitted for                              `{fitted_target}`"
                        ),
                    ));
                }
                Some((pipeline, labels))
            }
            _ => None,
        };
        let (table, path) = self.read_table(file, base)?;
        let column = table.column(&target).cloned().ok_or_else(|| {
            key_error(
                file,
                "data.target",
                format!("no column `{target}`; columns are {:?}", table.names()),
            )
        })?;
        let task = self.task.unwrap_or(match column {
            Column::Categorical(_) => Task::Classification,
            Column::Numeric(_) => Task::Regression,
        });
        // Rows without a target cannot be learnt from.
        let table = match &column {
            Column::Categorical(v) => table.filter_rows(|r| v[r].is_some()),
            Column::Numeric(v) => table.filter_rows(|r| !v[r].is_nan()),
        };
        let mut labels = None;
        let targets: Vec<f32> = match (task, table.column(&target)) {
            (Task::Classification, Some(Column::Categorical(v))) => {
                let enc = match fitted {
                    Some((_, Some(saved))) => saved.clone(),
                    _ => {
                        let mut enc = OrdinalEncoder::new();
                        enc.fit(v)?;
                        enc
                    }
                };
                let t = enc.transform(v)?;
                labels = Some(enc);
                t
            }
            (_, Some(Column::Numeric(v))) => v.clone(),
            _ => {
                return Err(key_error(
                    file,
                    "data.task",
                    format!("regression needs a numeric target; `{target}` holds categories"),
                ));
            }
        };
        let parts = if task == Task::Classification && self.stratify {
            let ids: Vec<u32> = targets.iter().map(|&t| t as u32).collect();
            split::stratified_split(&ids, self.validation_split, self.test_split, seed)?
        } else {
            split::train_val_test_split(table.rows(), self.validation_split, self.test_split, seed)?
        };
        let mut train_rows = parts.train.clone();
        if let Some(n) = self.limit {
            train_rows.truncate(n);
        }
        let mut features = table.clone();
        features.remove(&target)?;
        let train_table = features.take_rows(&train_rows)?;
        let (pipeline, (x, width)) = match fitted {
            Some((saved, _)) => (saved.clone(), saved.transform(&train_table)?),
            None => {
                let mut pipeline = self.pipeline(file, &features)?;
                let out = pipeline.fit_transform(&train_table)?;
                (pipeline, out)
            }
        };
        let take = |rows: &[usize]| rows.iter().map(|&r| targets[r]).collect::<Vec<f32>>();
        let target_shape = if task == Task::Regression {
            vec![1]
        } else {
            vec![]
        };
        let dataset = |rows: &[usize]| -> Result<Option<InMemoryDataset>> {
            if rows.is_empty() {
                return Ok(None);
            }
            let (x, _) = pipeline.transform(&features.take_rows(rows)?)?;
            Ok(Some(InMemoryDataset::new(
                x,
                vec![width],
                take(rows),
                target_shape.clone(),
            )?))
        };
        let validation = dataset(&parts.validation)?;
        let mut test_rows = parts.test.clone();
        if let Some(n) = self.test_limit {
            test_rows.truncate(n);
        }
        let test = dataset(&test_rows)?;
        let train = InMemoryDataset::new(x, vec![width], take(&train_rows), target_shape.clone())?;
        let classes = labels.as_ref().map(|l| l.categories().len());
        Ok(PreparedData {
            train,
            validation,
            test,
            preprocessing: Preprocessing::Table {
                pipeline,
                target,
                labels,
            },
            task,
            classes,
            origin: path,
        })
    }

    /// The feature pipeline for `table` (target removed) from the configured steps.
    fn pipeline(&self, file: &Path, table: &Table) -> Result<Pipeline> {
        let numeric: Vec<String> = table
            .names()
            .iter()
            .filter(|n| matches!(table.column(n), Some(Column::Numeric(_))))
            .cloned()
            .collect();
        let categorical: Vec<String> = table
            .names()
            .iter()
            .filter(|n| matches!(table.column(n), Some(Column::Categorical(_))))
            .cloned()
            .collect();
        for (i, step) in self.preprocess.iter().enumerate() {
            for (j, c) in step.columns.iter().flatten().enumerate() {
                if table.column(c).is_none() {
                    return Err(key_error(
                        file,
                        &format!("data.preprocess[{i}].columns[{j}]"),
                        format!("no feature column `{c}`; columns are {:?}", table.names()),
                    ));
                }
            }
        }
        let applies = |step: &StepConfig, column: &str| {
            step.columns
                .as_ref()
                .is_none_or(|cs| cs.iter().any(|c| c == column))
        };
        // Numeric columns with the same list of steps share one block.
        let mut groups: Vec<(Vec<usize>, Vec<String>)> = Vec::new();
        for col in &numeric {
            let steps: Vec<usize> = (0..self.preprocess.len())
                .filter(|&i| {
                    let s = &self.preprocess[i];
                    (s.step != StepKind::Encode || s.columns.is_some()) && applies(s, col)
                })
                .collect();
            match groups.iter_mut().find(|(s, _)| *s == steps) {
                Some((_, cols)) => cols.push(col.clone()),
                None => groups.push((steps, vec![col.clone()])),
            }
        }
        let mut pipeline = Pipeline::new();
        for (steps, cols) in &groups {
            let built = steps
                .iter()
                .map(|&i| numeric_step(file, i, &self.preprocess[i]))
                .collect::<Result<Vec<_>>>()?;
            let names: Vec<&str> = cols.iter().map(String::as_str).collect();
            pipeline = pipeline.numeric(&names, built);
        }
        for col in &categorical {
            let mut imputer = None;
            let mut encoding = Encoding::OneHot(OneHotEncoder::new().unknown(Unknown::Ignore));
            for (i, step) in self.preprocess.iter().enumerate() {
                if !applies(step, col) {
                    continue;
                }
                let key = format!("data.preprocess[{i}]");
                match step.step {
                    StepKind::Impute => {
                        if let Some(imp) = categorical_imputer(file, &key, step)? {
                            imputer = Some(imp);
                        }
                    }
                    StepKind::Encode => encoding = encoder(file, &key, step)?,
                    StepKind::Scale | StepKind::Clip if step.columns.is_some() => {
                        return Err(key_error(
                            file,
                            &format!("{key}.columns"),
                            format!("`{col}` is categorical; scale and clip take numbers"),
                        ));
                    }
                    StepKind::Scale | StepKind::Clip => {}
                }
            }
            pipeline = pipeline.categorical(&[col.as_str()], imputer, encoding);
        }
        Ok(pipeline)
    }

    fn prepare_images(
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

fn numeric_step(file: &Path, i: usize, step: &StepConfig) -> Result<NumericStep> {
    let key = format!("data.preprocess[{i}]");
    let unknown = |field: &str, value: &str, expected: &str| {
        key_error(
            file,
            &format!("{key}.{field}"),
            format!("unknown value \"{value}\"; expected {expected}"),
        )
    };
    Ok(match step.step {
        StepKind::Impute => {
            let strategy = match step.strategy.as_deref().unwrap_or("mean") {
                "mean" => ImputeStrategy::Mean,
                "median" => ImputeStrategy::Median,
                "most_frequent" => ImputeStrategy::MostFrequent,
                "constant" => ImputeStrategy::Constant(
                    step.value
                        .as_ref()
                        .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                        .ok_or_else(|| {
                            key_error(
                                file,
                                &format!("{key}.value"),
                                "expected a number for a numeric constant fill",
                            )
                        })? as f32,
                ),
                other => {
                    return Err(unknown(
                        "strategy",
                        other,
                        "mean, median, most_frequent, constant",
                    ));
                }
            };
            NumericStep::Impute(SimpleImputer::new(strategy))
        }
        StepKind::Scale => match step.method.as_deref().unwrap_or("standard") {
            "standard" => NumericStep::Standard(StandardScaler::new()),
            "minmax" => NumericStep::MinMax(
                MinMaxScaler::new().with_range(step.low.unwrap_or(0.0), step.high.unwrap_or(1.0)),
            ),
            "robust" => NumericStep::Robust(RobustScaler::new()),
            other => return Err(unknown("method", other, "standard, minmax, robust")),
        },
        StepKind::Clip => match step.method.as_deref().unwrap_or("percentile") {
            "percentile" => NumericStep::Clip(OutlierClipper::new(ClipMethod::Percentile {
                low: step.low.unwrap_or(1.0),
                high: step.high.unwrap_or(99.0),
            })),
            "zscore" => NumericStep::Clip(OutlierClipper::new(ClipMethod::ZScore(
                step.k.unwrap_or(3.0),
            ))),
            other => return Err(unknown("method", other, "percentile, zscore")),
        },
        StepKind::Encode => {
            return Err(key_error(
                file,
                &format!("{key}.columns"),
                "encode takes categorical columns; list numeric codes in data.categorical",
            ));
        }
    })
}

/// The imputer of a categorical column, or `None` for a numeric strategy given without
/// columns (it fills the numeric columns only).
fn categorical_imputer(
    file: &Path,
    key: &str,
    step: &StepConfig,
) -> Result<Option<CategoricalImputer>> {
    let strategy = match step.strategy.as_deref().unwrap_or("most_frequent") {
        "most_frequent" => CategoricalStrategy::MostFrequent,
        "constant" => CategoricalStrategy::Constant(match &step.value {
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "missing".to_string(),
        }),
        // A numeric strategy given without columns applies to the numeric columns only.
        "mean" | "median" if step.columns.is_none() => return Ok(None),
        other => {
            return Err(key_error(
                file,
                &format!("{key}.strategy"),
                format!(
                    "\"{other}\" cannot fill a categorical column; expected most_frequent, constant"
                ),
            ));
        }
    };
    Ok(Some(CategoricalImputer::new(strategy)))
}

fn encoder(file: &Path, key: &str, step: &StepConfig) -> Result<Encoding> {
    let unknown = match step.unknown.as_deref().unwrap_or("ignore") {
        "ignore" => Unknown::Ignore,
        "error" => Unknown::Error,
        other => {
            return Err(key_error(
                file,
                &format!("{key}.unknown"),
                format!("unknown value \"{other}\"; expected ignore, error"),
            ));
        }
    };
    match step.method.as_deref().unwrap_or("one_hot") {
        "one_hot" => Ok(Encoding::OneHot(OneHotEncoder::new().unknown(unknown))),
        "ordinal" => Ok(Encoding::Ordinal(OrdinalEncoder::new().unknown(unknown))),
        other => Err(key_error(
            file,
            &format!("{key}.method"),
            format!("unknown value \"{other}\"; expected one_hot, ordinal"),
        )),
    }
}
