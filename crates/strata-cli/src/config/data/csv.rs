//! A CSV source: read the table (dropping the listed columns and duplicates), split it,
//! encode the target, and fit the feature pipeline the preprocessing entries describe on the
//! training rows only (or reuse a saved one).

use std::path::{Path, PathBuf};

use strata_core::Result;
use strata_data::pipeline::Encoding;
use strata_data::preprocess::{OneHotEncoder, OrdinalEncoder, Unknown};
use strata_data::{Column, InMemoryDataset, Pipeline, Table, split};

use super::fitted::{PreparedData, Preprocessing};
use super::schema::{DataConfig, StepConfig, StepKind, Task};
use super::steps::{categorical_imputer, encoder, numeric_step};
use crate::config::error::key_error;

impl DataConfig {
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

    pub(super) fn prepare_csv(
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
}
