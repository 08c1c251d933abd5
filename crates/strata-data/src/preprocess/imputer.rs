//! Imputers: missing values filled from statistics of the training data.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::quantile::{mode, quantile, sorted_present};
use super::{check_columns, rows};
use crate::error::{DataError, Result};

/// How [`SimpleImputer`] picks each column's fill value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ImputeStrategy {
    /// The mean of the present values.
    Mean,
    /// The median of the present values.
    Median,
    /// The most frequent present value (the smallest on a tie).
    MostFrequent,
    /// This value.
    Constant(f32),
}

/// Replaces missing values (`NaN`) of each numeric column by a value learnt at fit time. A
/// column with no present value at all is filled with 0 (or the constant), not dropped, so
/// the column count never changes.
///
/// ```
/// use strata_data::preprocess::{ImputeStrategy, SimpleImputer};
/// let nan = f32::NAN;
/// let mut imp = SimpleImputer::new(ImputeStrategy::Median);
/// let y = imp.fit_transform(&[1.0, nan, 5.0, 2.0, nan, 4.0], 2).unwrap();
/// assert_eq!(y, vec![1.0, 3.0, 5.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleImputer {
    strategy: ImputeStrategy,
    fill: Vec<f32>,
}

impl SimpleImputer {
    /// An unfitted imputer with `strategy`.
    pub fn new(strategy: ImputeStrategy) -> Self {
        SimpleImputer {
            strategy,
            fill: Vec::new(),
        }
    }

    /// Learns each column's fill value from `data` (`rows × cols`, row-major, NaN = missing).
    pub fn fit(&mut self, data: &[f32], cols: usize) -> Result<()> {
        rows("SimpleImputer::fit", data, cols)?;
        if let Some(i) = data.iter().position(|x| x.is_infinite()) {
            return Err(DataError::invalid(
                "SimpleImputer::fit",
                "finite values or NaN for missing",
                format!("{} at row {}, column {}", data[i], i / cols, i % cols),
            ));
        }
        self.fill = (0..cols)
            .map(|c| {
                let v = sorted_present(data, cols, c);
                match self.strategy {
                    ImputeStrategy::Constant(x) => x,
                    _ if v.is_empty() => 0.0,
                    ImputeStrategy::Mean => (v.iter().sum::<f64>() / v.len() as f64) as f32,
                    ImputeStrategy::Median => quantile(&v, 0.5) as f32,
                    ImputeStrategy::MostFrequent => mode(&v) as f32,
                }
            })
            .collect();
        Ok(())
    }

    /// `data` with every NaN replaced by its column's fill value.
    pub fn transform(&self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        let mut out = data.to_vec();
        self.transform_in_place(&mut out, cols)?;
        Ok(out)
    }

    /// [`SimpleImputer::transform`] in place.
    pub fn transform_in_place(&self, data: &mut [f32], cols: usize) -> Result<()> {
        check_columns("SimpleImputer::transform", data, cols, self.fill.len())?;
        for row in data.chunks_exact_mut(cols) {
            for (v, &f) in row.iter_mut().zip(&self.fill) {
                if v.is_nan() {
                    *v = f;
                }
            }
        }
        Ok(())
    }

    /// [`SimpleImputer::fit`] then [`SimpleImputer::transform`].
    pub fn fit_transform(&mut self, data: &[f32], cols: usize) -> Result<Vec<f32>> {
        self.fit(data, cols)?;
        self.transform(data, cols)
    }

    /// The fitted fill value of each column (empty before fitting).
    pub fn fill_values(&self) -> &[f32] {
        &self.fill
    }
}

/// How [`CategoricalImputer`] fills a missing category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CategoricalStrategy {
    /// The most frequent category of the training column (the first in sort order on a tie).
    MostFrequent,
    /// This category (e.g. `"missing"`, making absence a category of its own).
    Constant(String),
}

/// Fills missing (`None`) values of one categorical column.
///
/// ```
/// use strata_data::preprocess::{CategoricalImputer, CategoricalStrategy};
/// let col = vec![Some("a".to_string()), None, Some("b".into()), Some("a".into())];
/// let mut imp = CategoricalImputer::new(CategoricalStrategy::MostFrequent);
/// imp.fit(&col).unwrap();
/// assert_eq!(imp.transform(&col).unwrap()[1], "a");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoricalImputer {
    strategy: CategoricalStrategy,
    fill: Option<String>,
}

impl CategoricalImputer {
    /// An unfitted imputer with `strategy`.
    pub fn new(strategy: CategoricalStrategy) -> Self {
        CategoricalImputer {
            strategy,
            fill: None,
        }
    }

    /// Learns the fill value. With `MostFrequent`, a column with no present value is an error
    /// (there is nothing to learn; use a constant).
    pub fn fit(&mut self, column: &[Option<String>]) -> Result<()> {
        self.fill = Some(match &self.strategy {
            CategoricalStrategy::Constant(s) => s.clone(),
            CategoricalStrategy::MostFrequent => {
                let mut counts: HashMap<&str, usize> = HashMap::new();
                for v in column.iter().flatten() {
                    *counts.entry(v).or_insert(0) += 1;
                }
                let best = counts
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                    .ok_or_else(|| {
                        DataError::invalid(
                            "CategoricalImputer::fit",
                            "at least one present value for the most frequent category",
                            format!("{} values, all missing", column.len()),
                        )
                    })?;
                best.0.to_string()
            }
        });
        Ok(())
    }

    /// The column with every `None` replaced by the fill value.
    pub fn transform(&self, column: &[Option<String>]) -> Result<Vec<String>> {
        let fill = self.fill.as_ref().ok_or(DataError::NotFitted {
            what: "CategoricalImputer::transform",
        })?;
        Ok(column
            .iter()
            .map(|v| v.clone().unwrap_or_else(|| fill.clone()))
            .collect())
    }

    /// The fitted fill value.
    pub fn fill_value(&self) -> Option<&str> {
        self.fill.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f32 = f32::NAN;

    /// Column 0: 1, NaN, 3, 3; column 1: all missing; column 2: 2, 4, NaN, 9.
    fn data() -> Vec<f32> {
        vec![1.0, NAN, 2.0, NAN, NAN, 4.0, 3.0, NAN, NAN, 3.0, NAN, 9.0]
    }

    fn filled(strategy: ImputeStrategy) -> Vec<f32> {
        SimpleImputer::new(strategy)
            .fit_transform(&data(), 3)
            .unwrap()
    }

    #[test]
    fn mean_fills_with_the_mean_and_all_missing_with_zero() {
        let y = filled(ImputeStrategy::Mean);
        assert_eq!(
            y,
            vec![
                1.0,
                0.0,
                2.0,
                7.0 / 3.0,
                0.0,
                4.0,
                3.0,
                0.0,
                5.0,
                3.0,
                0.0,
                9.0
            ]
        );
    }

    #[test]
    fn median_and_most_frequent_fill_with_their_statistic() {
        assert_eq!(filled(ImputeStrategy::Median)[3], 3.0);
        assert_eq!(filled(ImputeStrategy::Median)[8], 4.0);
        assert_eq!(filled(ImputeStrategy::MostFrequent)[3], 3.0);
        assert_eq!(filled(ImputeStrategy::MostFrequent)[8], 2.0);
    }

    #[test]
    fn constant_fills_every_column_including_all_missing() {
        let y = filled(ImputeStrategy::Constant(-1.0));
        assert_eq!(y[1], -1.0);
        assert_eq!(y[3], -1.0);
        assert_eq!(y[0], 1.0);
    }

    #[test]
    fn fitting_on_no_rows_fills_with_zero_and_transforms_empty_input() {
        let mut imp = SimpleImputer::new(ImputeStrategy::Median);
        imp.fit(&[], 2).unwrap();
        assert_eq!(imp.fill_values(), &[0.0, 0.0]);
        assert_eq!(imp.transform(&[NAN, 1.0], 2).unwrap(), vec![0.0, 1.0]);
        assert!(imp.transform(&[], 2).unwrap().is_empty());
    }

    #[test]
    fn unfitted_wrong_width_and_infinite_values_are_errors() {
        let imp = SimpleImputer::new(ImputeStrategy::Mean);
        assert!(matches!(
            imp.transform(&[1.0], 1),
            Err(DataError::NotFitted { .. })
        ));
        let mut imp = SimpleImputer::new(ImputeStrategy::Mean);
        imp.fit(&data(), 3).unwrap();
        assert!(imp.transform(&[1.0, 2.0], 2).is_err());
        assert!(imp.fit(&[f32::INFINITY], 1).is_err());
    }

    #[test]
    fn categorical_most_frequent_and_constant() {
        let col = vec![
            Some("b".to_string()),
            None,
            Some("a".into()),
            Some("b".into()),
        ];
        let mut imp = CategoricalImputer::new(CategoricalStrategy::MostFrequent);
        imp.fit(&col).unwrap();
        assert_eq!(imp.transform(&col).unwrap(), vec!["b", "b", "a", "b"]);
        let mut imp = CategoricalImputer::new(CategoricalStrategy::Constant("missing".into()));
        imp.fit(&[None]).unwrap();
        assert_eq!(
            imp.transform(&[None, Some("x".into())]).unwrap(),
            vec!["missing", "x"]
        );
    }

    #[test]
    fn categorical_all_missing_most_frequent_is_an_error() {
        let mut imp = CategoricalImputer::new(CategoricalStrategy::MostFrequent);
        assert!(imp.fit(&[None, None]).is_err());
        assert!(imp.transform(&[None]).is_err());
    }

    #[test]
    fn round_trips_through_json() {
        let mut imp = SimpleImputer::new(ImputeStrategy::Median);
        imp.fit(&data(), 3).unwrap();
        let back: SimpleImputer =
            serde_json::from_str(&serde_json::to_string(&imp).unwrap()).unwrap();
        assert_eq!(back, imp);
    }
}
