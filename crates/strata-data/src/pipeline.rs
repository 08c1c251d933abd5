//! `Pipeline`: fitted preparation of a [`Table`] into a feature matrix, per group of columns
//! (as scikit-learn's `ColumnTransformer`), serializable so it ships beside the model weights
//! and prediction applies exactly the steps training used.
//!
//! This module owns the composition and the file format (JSON); the steps themselves live in
//! [`crate::preprocess`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Position, Result};
use crate::preprocess::{
    CategoricalImputer, MinMaxScaler, OneHotEncoder, OrdinalEncoder, OutlierClipper, RobustScaler,
    SimpleImputer, StandardScaler,
};
use crate::table::Table;

/// One fit/transform step on a block of numeric columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NumericStep {
    /// Fill missing values.
    Impute(SimpleImputer),
    /// Winsorize outliers.
    Clip(OutlierClipper),
    /// Zero mean, unit variance.
    Standard(StandardScaler),
    /// Onto a range.
    MinMax(MinMaxScaler),
    /// Median / IQR.
    Robust(RobustScaler),
}

impl NumericStep {
    fn fit_transform(&mut self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        match self {
            NumericStep::Impute(s) => s.fit_transform(data, cols),
            NumericStep::Clip(s) => s.fit_transform(data, cols),
            NumericStep::Standard(s) => s.fit_transform(data, cols),
            NumericStep::MinMax(s) => s.fit_transform(data, cols),
            NumericStep::Robust(s) => s.fit_transform(data, cols),
        }
    }

    fn transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        match self {
            NumericStep::Impute(s) => s.transform(data, cols),
            NumericStep::Clip(s) => s.transform(data, cols),
            NumericStep::Standard(s) => s.transform(data, cols),
            NumericStep::MinMax(s) => s.transform(data, cols),
            NumericStep::Robust(s) => s.transform(data, cols),
        }
    }
}

/// How a categorical column becomes numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Encoding {
    /// One 0/1 column per category.
    OneHot(OneHotEncoder),
    /// One column of codes.
    Ordinal(OrdinalEncoder),
}

/// One categorical column's fitted steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CategoricalColumn {
    name: String,
    imputer: Option<CategoricalImputer>,
    encoding: Encoding,
}

/// A group of columns and its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Branch {
    Numeric {
        columns: Vec<String>,
        steps: Vec<NumericStep>,
    },
    Categorical(Vec<CategoricalColumn>),
}

/// Column groups, each with its steps; the output is the groups' features side by side, in
/// the order the groups were added. Columns named in no group are left out.
///
/// ```
/// use strata_data::{CsvReader, Pipeline, pipeline::{Encoding, NumericStep}};
/// use strata_data::preprocess::*;
/// let t = CsvReader::new().read_bytes(b"x,c\n1,a\nNA,b\n3,a\n", "t.csv").unwrap();
/// let mut p = Pipeline::new()
///     .numeric(&["x"], vec![NumericStep::Impute(SimpleImputer::new(ImputeStrategy::Mean))])
///     .categorical(&["c"], None, Encoding::OneHot(OneHotEncoder::new()));
/// let (features, cols) = p.fit_transform(&t).unwrap();
/// assert_eq!(cols, 3);
/// assert_eq!(features, vec![1.0, 1.0, 0.0, 2.0, 0.0, 1.0, 3.0, 1.0, 0.0]);
/// assert_eq!(p.feature_names(), &["x", "c=a", "c=b"]);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Pipeline {
    branches: Vec<Branch>,
    feature_names: Vec<String>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// Adds numeric `columns`, passed through `steps` in order (as one block, so a scaler
    /// sees all of them).
    pub fn numeric(mut self, columns: &[&str], steps: Vec<NumericStep>) -> Self {
        self.branches.push(Branch::Numeric {
            columns: columns.iter().map(|s| s.to_string()).collect(),
            steps,
        });
        self
    }

    /// Adds categorical `columns`, each filled by its own copy of `imputer` (if any) then
    /// encoded by its own copy of `encoding`.
    pub fn categorical(
        mut self,
        columns: &[&str],
        imputer: Option<CategoricalImputer>,
        encoding: Encoding,
    ) -> Self {
        self.branches.push(Branch::Categorical(
            columns
                .iter()
                .map(|name| CategoricalColumn {
                    name: name.to_string(),
                    imputer: imputer.clone(),
                    encoding: encoding.clone(),
                })
                .collect(),
        ));
        self
    }

    /// Fits every step on `table` (the training rows).
    pub fn fit(&mut self, table: &Table) -> Result<()> {
        self.fit_transform(table).map(|_| ())
    }

    /// Fits every step on `table` and returns its features: `(rows × cols values, cols)`.
    pub fn fit_transform(&mut self, table: &Table) -> Result<(Vec<f32>, usize)> {
        let mut blocks = Vec::new();
        let mut names = Vec::new();
        for branch in &mut self.branches {
            match branch {
                Branch::Numeric { columns, steps } => {
                    let mut data = numeric_block(table, columns)?;
                    for step in steps.iter_mut() {
                        data = step.fit_transform(&data, columns.len())?;
                    }
                    names.extend(columns.iter().cloned());
                    blocks.push((data, columns.len()));
                }
                Branch::Categorical(columns) => {
                    for col in columns.iter_mut() {
                        let raw = table.categorical(&col.name)?;
                        let filled = match col.imputer.as_mut() {
                            Some(imp) => {
                                imp.fit(raw)?;
                                imp.transform(raw)?.into_iter().map(Some).collect()
                            }
                            None => raw.to_vec(),
                        };
                        match &mut col.encoding {
                            Encoding::OneHot(e) => {
                                e.fit(&filled)?;
                                names.extend(
                                    e.categories().iter().map(|c| format!("{}={c}", col.name)),
                                );
                                blocks.push((e.transform(&filled)?, e.categories().len()));
                            }
                            Encoding::Ordinal(e) => {
                                e.fit(&filled)?;
                                names.push(col.name.clone());
                                blocks.push((e.transform(&filled)?, 1));
                            }
                        }
                    }
                }
            }
        }
        self.feature_names = names;
        Ok(concat_columns(&blocks, table.rows()))
    }

    /// The features of `table` through the fitted steps: `(rows × cols values, cols)`.
    pub fn transform(&self, table: &Table) -> Result<(Vec<f32>, usize)> {
        if self.feature_names.is_empty() {
            return Err(DataError::NotFitted {
                what: "Pipeline::transform",
            });
        }
        let mut blocks = Vec::new();
        for branch in &self.branches {
            match branch {
                Branch::Numeric { columns, steps } => {
                    let mut data = numeric_block(table, columns)?;
                    for step in steps {
                        data = step.transform(&data, columns.len())?;
                    }
                    blocks.push((data, columns.len()));
                }
                Branch::Categorical(columns) => {
                    for col in columns {
                        let raw = table.categorical(&col.name)?;
                        let filled = match &col.imputer {
                            Some(imp) => imp.transform(raw)?.into_iter().map(Some).collect(),
                            None => raw.to_vec(),
                        };
                        blocks.push(match &col.encoding {
                            Encoding::OneHot(e) => (e.transform(&filled)?, e.categories().len()),
                            Encoding::Ordinal(e) => (e.transform(&filled)?, 1),
                        });
                    }
                }
            }
        }
        Ok(concat_columns(&blocks, table.rows()))
    }

    /// The name of each output column: numeric columns by name, one-hot columns as
    /// `column=category` (empty before fitting).
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Writes the fitted pipeline to `path` as JSON (through a temporary file and a rename, so
    /// a crash never leaves half a file).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_vec_pretty(self).map_err(|e| {
            DataError::invalid(
                "Pipeline::save",
                "a pipeline serializable as JSON",
                e.to_string(),
            )
        })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(|e| DataError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
    }

    /// Reads a pipeline written by [`Pipeline::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Pipeline> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            DataError::format(
                path,
                Position::LineColumn {
                    line: e.line() as u64,
                    column: e.column() as u64,
                },
                "a Strata pipeline (JSON)",
                e.to_string(),
            )
        })
    }

    /// The pipeline's file beside model weights `weights` (`model.safetensors` →
    /// `model.pipeline.json`): where [`Pipeline::save`] should put it so the two travel
    /// together.
    pub fn path_beside(weights: impl AsRef<Path>) -> PathBuf {
        weights.as_ref().with_extension("pipeline.json")
    }
}

/// Numeric `columns` of `table` as a row-major `rows × columns.len()` block.
fn numeric_block(table: &Table, columns: &[String]) -> Result<Vec<f32>> {
    let cols: Vec<&[f32]> = columns
        .iter()
        .map(|c| table.numeric(c))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(table.rows() * cols.len());
    for r in 0..table.rows() {
        out.extend(cols.iter().map(|c| c[r]));
    }
    Ok(out)
}

/// Row-major blocks (`rows × width` each) side by side.
fn concat_columns(blocks: &[(Vec<f32>, usize)], rows: usize) -> (Vec<f32>, usize) {
    let width: usize = blocks.iter().map(|b| b.1).sum();
    let mut out = Vec::with_capacity(rows * width);
    for r in 0..rows {
        for (data, w) in blocks {
            out.extend_from_slice(&data[r * w..(r + 1) * w]);
        }
    }
    (out, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CsvReader;
    use crate::preprocess::{CategoricalStrategy, ImputeStrategy, Unknown};

    fn train() -> Table {
        CsvReader::new()
            .read_bytes(
                b"a,b,c,y\n1,10,x,0\nNA,20,NA,1\n3,NA,y,0\n5,30,x,1\n",
                "train.csv",
            )
            .unwrap()
    }

    fn pipeline() -> Pipeline {
        Pipeline::new()
            .numeric(
                &["a", "b"],
                vec![
                    NumericStep::Impute(SimpleImputer::new(ImputeStrategy::Median)),
                    NumericStep::MinMax(MinMaxScaler::new()),
                ],
            )
            .categorical(
                &["c"],
                Some(CategoricalImputer::new(CategoricalStrategy::MostFrequent)),
                Encoding::OneHot(OneHotEncoder::new().unknown(Unknown::Ignore)),
            )
    }

    #[test]
    fn fit_transform_imputes_scales_and_encodes_per_column() {
        let mut p = pipeline();
        let (x, cols) = p.fit_transform(&train()).unwrap();
        assert_eq!(cols, 4);
        assert_eq!(p.feature_names(), &["a", "b", "c=x", "c=y"]);
        // a: 1, 3(median), 3, 5 -> 0, .5, .5, 1; b: 10, 20, 20(median), 30 -> 0, .5, .5, 1.
        assert_eq!(
            x,
            vec![
                0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0
            ]
        );
    }

    #[test]
    fn transform_uses_training_statistics_and_handles_unseen_categories() {
        let mut p = pipeline();
        p.fit(&train()).unwrap();
        let new = CsvReader::new()
            .read_bytes(b"a,b,c,y\nNA,40,z,0\n", "new.csv")
            .unwrap();
        let (x, _) = p.transform(&new).unwrap();
        assert_eq!(x, vec![0.5, 1.5, 0.0, 0.0]);
    }

    #[test]
    fn missing_or_mistyped_columns_and_unfitted_use_are_errors() {
        assert!(matches!(
            pipeline().transform(&train()),
            Err(DataError::NotFitted { .. })
        ));
        let e = Pipeline::new()
            .numeric(&["c"], vec![])
            .fit(&train())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`c` to be numeric"), "{e}");
        assert!(
            Pipeline::new()
                .numeric(&["nope"], vec![])
                .fit(&train())
                .is_err()
        );
    }

    #[test]
    fn fitting_on_a_header_only_file_names_the_failing_step() {
        let empty = CsvReader::new()
            .read_bytes(b"a,b,c,y\n", "empty.csv")
            .unwrap();
        let e = pipeline().fit(&empty).unwrap_err().to_string();
        assert_eq!(
            e,
            "MinMaxScaler::fit: expected at least one row to fit, found no rows"
        );
    }

    #[test]
    fn saves_and_loads_identically() {
        let mut p = pipeline();
        p.fit(&train()).unwrap();
        let dir = std::env::temp_dir().join(format!("strata-pipeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = Pipeline::path_beside(dir.join("model.safetensors"));
        assert_eq!(path.file_name().unwrap(), "model.pipeline.json");
        p.save(&path).unwrap();
        let back = Pipeline::load(&path).unwrap();
        assert_eq!(back, p);
        std::fs::write(&path, b"{ not json").unwrap();
        let e = Pipeline::load(&path).unwrap_err().to_string();
        assert!(e.contains("model.pipeline.json (line 1"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
