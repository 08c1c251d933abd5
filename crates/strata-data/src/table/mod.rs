//! `Table`: named columns read from a delimited text file (see [`CsvReader`]), each numeric
//! (`f32`, missing values as `NaN`) or categorical (strings, missing values as `None`).
//!
//! This module owns the in-memory table and row-level cleaning (selecting, removing a target
//! column, dropping duplicate rows); parsing lives in `csv_reader`, fitted steps in
//! [`crate::preprocess`].

mod csv_reader;

pub use csv_reader::CsvReader;

use std::collections::HashSet;

use crate::error::{DataError, Result};

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; a missing value is `NaN`.
    Numeric(Vec<f32>),
    /// Category names; a missing value is `None`.
    Categorical(Vec<Option<String>>),
}

impl Column {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical(v) => v.len(),
        }
    }

    /// Whether the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of missing values.
    pub fn missing_count(&self) -> usize {
        match self {
            Column::Numeric(v) => v.iter().filter(|x| x.is_nan()).count(),
            Column::Categorical(v) => v.iter().filter(|x| x.is_none()).count(),
        }
    }

    /// `"numeric"` or `"categorical"`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Column::Numeric(_) => "numeric",
            Column::Categorical(_) => "categorical",
        }
    }

    fn take(&self, rows: &[usize]) -> Column {
        match self {
            Column::Numeric(v) => Column::Numeric(rows.iter().map(|&r| v[r]).collect()),
            Column::Categorical(v) => {
                Column::Categorical(rows.iter().map(|&r| v[r].clone()).collect())
            }
        }
    }
}

/// Named columns of equal length.
///
/// ```
/// use strata_data::{Column, Table};
/// let t = Table::new(vec![
///     ("x".into(), Column::Numeric(vec![1.0, f32::NAN])),
///     ("c".into(), Column::Categorical(vec![Some("a".into()), None])),
/// ]).unwrap();
/// assert_eq!(t.rows(), 2);
/// assert_eq!(t.column("c").unwrap().missing_count(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// A table from `(name, column)` pairs: names unique, columns of one length.
    pub fn new(columns: Vec<(String, Column)>) -> Result<Table> {
        let rows = columns.first().map_or(0, |(_, c)| c.len());
        let mut seen = HashSet::new();
        for (name, column) in &columns {
            if !seen.insert(name.as_str()) {
                return Err(DataError::invalid(
                    "Table::new",
                    "unique column names",
                    format!("`{name}` twice"),
                ));
            }
            if column.len() != rows {
                return Err(DataError::invalid(
                    "Table::new",
                    format!("columns of {rows} rows (as the first)"),
                    format!("`{name}` with {} rows", column.len()),
                ));
            }
        }
        let (names, columns) = columns.into_iter().unzip();
        Ok(Table {
            names,
            columns,
            rows,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.position(name).map(|i| &self.columns[i])
    }

    /// The numeric column `name`, or an error naming what the table has.
    pub fn numeric(&self, name: &str) -> Result<&[f32]> {
        match self.get("Table::numeric", name)? {
            Column::Numeric(v) => Ok(v),
            other => Err(DataError::invalid(
                "Table::numeric",
                format!("`{name}` to be numeric"),
                format!("a {} column", other.kind()),
            )),
        }
    }

    /// The categorical column `name`, or an error naming what the table has.
    pub fn categorical(&self, name: &str) -> Result<&[Option<String>]> {
        match self.get("Table::categorical", name)? {
            Column::Categorical(v) => Ok(v),
            other => Err(DataError::invalid(
                "Table::categorical",
                format!("`{name}` to be categorical"),
                format!("a {} column", other.kind()),
            )),
        }
    }

    /// Removes the column `name` (a target) and returns it.
    pub fn remove(&mut self, name: &str) -> Result<Column> {
        let i = self
            .position(name)
            .ok_or_else(|| self.no_column("Table::remove", name))?;
        self.names.remove(i);
        Ok(self.columns.remove(i))
    }

    /// The rows at `rows` (indices below [`Table::rows`]), in that order, as a new table.
    pub fn take_rows(&self, rows: &[usize]) -> Result<Table> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.rows) {
            return Err(DataError::invalid(
                "Table::take_rows",
                format!("row indices below {}", self.rows),
                bad.to_string(),
            ));
        }
        Ok(Table {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(rows)).collect(),
            rows: rows.len(),
        })
    }

    /// Only the rows for which `keep(row)` is true.
    pub fn filter_rows(&self, keep: impl Fn(usize) -> bool) -> Table {
        let rows: Vec<usize> = (0..self.rows).filter(|&r| keep(r)).collect();
        Table {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(&rows)).collect(),
            rows: rows.len(),
        }
    }

    /// Drops every row equal in all columns to an earlier row (missing equals missing), keeping
    /// the first; returns the new table and how many rows were dropped.
    pub fn drop_duplicates(&self) -> (Table, usize) {
        let mut seen = HashSet::new();
        let keep: Vec<usize> = (0..self.rows)
            .filter(|&r| seen.insert(self.row_key(r)))
            .collect();
        let dropped = self.rows - keep.len();
        let table = Table {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(&keep)).collect(),
            rows: keep.len(),
        };
        (table, dropped)
    }

    /// Row `r` as a hashable key: numbers by bit pattern (all NaNs alike), strings as they are.
    fn row_key(&self, r: usize) -> Vec<Option<String>> {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => {
                    let x = v[r];
                    Some(if x.is_nan() {
                        "NaN".to_string()
                    } else {
                        format!("{:08x}", (x + 0.0).to_bits())
                    })
                }
                Column::Categorical(v) => v[r].clone(),
            })
            .collect()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn get(&self, context: &'static str, name: &str) -> Result<&Column> {
        self.column(name)
            .ok_or_else(|| self.no_column(context, name))
    }

    fn no_column(&self, context: &'static str, name: &str) -> DataError {
        DataError::invalid(
            context,
            format!("a column named `{name}`"),
            format!("columns {:?}", self.names),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table::new(vec![
            (
                "x".into(),
                Column::Numeric(vec![1.0, f32::NAN, 1.0, f32::NAN, 2.0]),
            ),
            (
                "c".into(),
                Column::Categorical(vec![
                    Some("a".into()),
                    None,
                    Some("a".into()),
                    None,
                    Some("a".into()),
                ]),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn drop_duplicates_keeps_first_rows_and_treats_missing_as_equal() {
        let (t, dropped) = table().drop_duplicates();
        assert_eq!(dropped, 2);
        assert_eq!(t.rows(), 3);
        assert_eq!(t.numeric("x").unwrap()[0], 1.0);
        assert!(t.numeric("x").unwrap()[1].is_nan());
        assert_eq!(t.numeric("x").unwrap()[2], 2.0);
    }

    #[test]
    fn remove_returns_the_column_and_unknown_names_are_errors() {
        let mut t = table();
        let c = t.remove("c").unwrap();
        assert_eq!(c.missing_count(), 2);
        assert_eq!(t.names(), &["x".to_string()]);
        let e = t.remove("nope").unwrap_err().to_string();
        assert!(e.contains("`nope`") && e.contains("[\"x\"]"), "{e}");
        assert!(t.categorical("x").is_err());
    }

    #[test]
    fn new_rejects_ragged_columns_and_duplicate_names() {
        assert!(
            Table::new(vec![
                ("a".into(), Column::Numeric(vec![1.0])),
                ("b".into(), Column::Numeric(vec![])),
            ])
            .is_err()
        );
        assert!(
            Table::new(vec![
                ("a".into(), Column::Numeric(vec![1.0])),
                ("a".into(), Column::Numeric(vec![2.0])),
            ])
            .is_err()
        );
    }

    #[test]
    fn take_rows_reorders_and_checks_bounds() {
        let t = table().take_rows(&[4, 0]).unwrap();
        assert_eq!(t.numeric("x").unwrap(), &[2.0, 1.0]);
        assert!(table().take_rows(&[5]).is_err());
    }
}
