//! A `[[data.preprocess]]` entry turned into the strata-data step it names: a numeric step
//! (impute, scale, clip), a categorical imputer, or an encoder; unknown values are errors
//! naming the key and the choices.

use std::path::Path;

use strata_core::Result;
use strata_data::pipeline::{Encoding, NumericStep};
use strata_data::preprocess::{
    CategoricalImputer, CategoricalStrategy, ClipMethod, ImputeStrategy, MinMaxScaler,
    OneHotEncoder, OrdinalEncoder, OutlierClipper, RobustScaler, SimpleImputer, StandardScaler,
    Unknown,
};

use super::schema::{StepConfig, StepKind};
use crate::config::error::key_error;

pub(super) fn numeric_step(file: &Path, i: usize, step: &StepConfig) -> Result<NumericStep> {
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
pub(super) fn categorical_imputer(
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

pub(super) fn encoder(file: &Path, key: &str, step: &StepConfig) -> Result<Encoding> {
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
