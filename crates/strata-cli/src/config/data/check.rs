//! The checks of `[data]` that serde cannot make (fractions in range, keys that only a CSV
//! source uses, a one-character delimiter), each an error naming the key, and the CSV reader
//! and path the keys describe.

use std::path::{Path, PathBuf};

use strata_core::Result;
use strata_data::CsvReader;

use super::schema::{DataConfig, SourceKind, Task};
use crate::config::error::key_error;

impl DataConfig {
    pub(super) fn check(&self, file: &Path) -> Result<()> {
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
}
