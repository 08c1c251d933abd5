//! Category encoders: one-hot and ordinal (label) codes for one categorical column, with a
//! chosen behaviour for categories not seen at fit time.

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// What an encoder does with a category (or a missing value) it did not see when fitting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum Unknown {
    /// Refuse: an error naming the value and the known categories.
    #[default]
    Error,
    /// One-hot: all zeros. Ordinal: the code `-1`.
    Ignore,
}

/// The sorted distinct present categories of `column`.
fn categories_of(column: &[Option<String>]) -> Vec<String> {
    let mut cats: Vec<String> = column.iter().flatten().cloned().collect();
    cats.sort();
    cats.dedup();
    cats
}

/// Index of `value` among sorted `categories`, or the unknown policy's answer.
fn lookup(
    context: &'static str,
    categories: &[String],
    unknown: Unknown,
    value: Option<&str>,
) -> Result<Option<usize>> {
    if categories.is_empty() {
        return Err(DataError::NotFitted { what: context });
    }
    match value.map(|v| categories.binary_search_by(|c| c.as_str().cmp(v))) {
        Some(Ok(i)) => Ok(Some(i)),
        _ if unknown == Unknown::Ignore => Ok(None),
        _ => Err(DataError::invalid(
            context,
            format!("one of the fitted categories {categories:?}"),
            value.map_or("a missing value".to_string(), |v| format!("{v:?}")),
        )),
    }
}

/// One column of categories into one 0/1 column per category seen at fit time (sorted).
///
/// ```
/// use strata_data::preprocess::{OneHotEncoder, Unknown};
/// let col = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
/// let mut enc = OneHotEncoder::new().unknown(Unknown::Ignore);
/// enc.fit(&col(&["b", "a", "b"])).unwrap();
/// assert_eq!(enc.transform(&col(&["a", "z"])).unwrap(), vec![1.0, 0.0, 0.0, 0.0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneHotEncoder {
    categories: Vec<String>,
    unknown: Unknown,
}

impl OneHotEncoder {
    /// An unfitted encoder that refuses unknown categories.
    pub fn new() -> Self {
        OneHotEncoder::default()
    }

    /// What to do with unknown categories and missing values.
    pub fn unknown(mut self, unknown: Unknown) -> Self {
        self.unknown = unknown;
        self
    }

    /// Learns the categories (at least one present value).
    pub fn fit(&mut self, column: &[Option<String>]) -> Result<()> {
        self.categories = categories_of(column);
        if self.categories.is_empty() {
            return Err(DataError::invalid(
                "OneHotEncoder::fit",
                "at least one present category",
                format!("{} values, all missing", column.len()),
            ));
        }
        Ok(())
    }

    /// `column.len() × categories` values, row-major.
    pub fn transform(&self, column: &[Option<String>]) -> Result<Vec<f32>> {
        const CONTEXT: &str = "OneHotEncoder::transform";
        let k = self.categories.len();
        if k == 0 {
            return Err(DataError::NotFitted { what: CONTEXT });
        }
        let mut out = vec![0.0; column.len() * k];
        for (row, v) in out.chunks_exact_mut(k).zip(column) {
            if let Some(i) = lookup(CONTEXT, &self.categories, self.unknown, v.as_deref())? {
                row[i] = 1.0;
            }
        }
        Ok(out)
    }

    /// The fitted categories, one per output column.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }
}

/// One column of categories into one column of codes `0..categories` (sorted order), as
/// scikit-learn's `OrdinalEncoder` / `LabelEncoder`.
///
/// ```
/// use strata_data::preprocess::OrdinalEncoder;
/// let col = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
/// let mut enc = OrdinalEncoder::new();
/// enc.fit(&col(&["gentoo", "adelie", "chinstrap"])).unwrap();
/// assert_eq!(enc.transform(&col(&["chinstrap", "adelie"])).unwrap(), vec![1.0, 0.0]);
/// assert!(enc.transform(&col(&["emperor"])).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrdinalEncoder {
    categories: Vec<String>,
    unknown: Unknown,
}

impl OrdinalEncoder {
    /// An unfitted encoder that refuses unknown categories.
    pub fn new() -> Self {
        OrdinalEncoder::default()
    }

    /// What to do with unknown categories and missing values (`Ignore` gives `-1`).
    pub fn unknown(mut self, unknown: Unknown) -> Self {
        self.unknown = unknown;
        self
    }

    /// Learns the categories (at least one present value).
    pub fn fit(&mut self, column: &[Option<String>]) -> Result<()> {
        self.categories = categories_of(column);
        if self.categories.is_empty() {
            return Err(DataError::invalid(
                "OrdinalEncoder::fit",
                "at least one present category",
                format!("{} values, all missing", column.len()),
            ));
        }
        Ok(())
    }

    /// One code per value.
    pub fn transform(&self, column: &[Option<String>]) -> Result<Vec<f32>> {
        column
            .iter()
            .map(|v| {
                lookup(
                    "OrdinalEncoder::transform",
                    &self.categories,
                    self.unknown,
                    v.as_deref(),
                )
                .map(|i| i.map_or(-1.0, |i| i as f32))
            })
            .collect()
    }

    /// The category of each code (`None` for codes out of range, such as `-1`).
    pub fn inverse_transform(&self, codes: &[f32]) -> Vec<Option<String>> {
        codes
            .iter()
            .map(|&c| {
                (c >= 0.0 && c.fract() == 0.0)
                    .then(|| self.categories.get(c as usize).cloned())
                    .flatten()
            })
            .collect()
    }

    /// The fitted categories, in code order.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|s| s.map(str::to_string)).collect()
    }

    #[test]
    fn one_hot_columns_follow_sorted_categories() {
        let mut enc = OneHotEncoder::new();
        enc.fit(&col(&[Some("m"), None, Some("f"), Some("m")]))
            .unwrap();
        assert_eq!(enc.categories(), &["f", "m"]);
        assert_eq!(
            enc.transform(&col(&[Some("m"), Some("f")])).unwrap(),
            vec![0.0, 1.0, 1.0, 0.0]
        );
    }

    #[test]
    fn one_hot_unknown_and_missing_error_or_give_zeros() {
        let mut enc = OneHotEncoder::new();
        enc.fit(&col(&[Some("a"), Some("b")])).unwrap();
        let e = enc.transform(&col(&[Some("c")])).unwrap_err().to_string();
        assert_eq!(
            e,
            "OneHotEncoder::transform: expected one of the fitted categories [\"a\", \"b\"], found \"c\""
        );
        assert!(enc.transform(&col(&[None])).is_err());
        let enc = enc.unknown(Unknown::Ignore);
        assert_eq!(
            enc.transform(&col(&[Some("c"), None, Some("b")])).unwrap(),
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
        );
    }

    #[test]
    fn ordinal_codes_unknown_as_minus_one_and_inverts() {
        let mut enc = OrdinalEncoder::new().unknown(Unknown::Ignore);
        enc.fit(&col(&[Some("b"), Some("a"), Some("c")])).unwrap();
        let codes = enc
            .transform(&col(&[Some("c"), Some("zz"), None, Some("a")]))
            .unwrap();
        assert_eq!(codes, vec![2.0, -1.0, -1.0, 0.0]);
        assert_eq!(
            enc.inverse_transform(&codes),
            col(&[Some("c"), None, None, Some("a")])
        );
    }

    #[test]
    fn all_missing_fit_and_unfitted_transform_are_errors() {
        assert!(OneHotEncoder::new().fit(&col(&[None])).is_err());
        assert!(OrdinalEncoder::new().fit(&col(&[])).is_err());
        assert!(matches!(
            OneHotEncoder::new().transform(&col(&[Some("a")])),
            Err(DataError::NotFitted { .. })
        ));
        assert!(matches!(
            OrdinalEncoder::new().transform(&col(&[Some("a")])),
            Err(DataError::NotFitted { .. })
        ));
    }
}
