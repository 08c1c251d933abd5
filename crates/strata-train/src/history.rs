//! `History`: the values logged at the end of every epoch (loss, metrics, validation values,
//! learning rate, throughput), kept in memory and saved as JSON or CSV.
//!
//! JSON has no NaN: a NaN value (a metric over an empty stream) is written as `null` and read
//! back as NaN. CSV leaves it empty. Floats are written in their shortest round-trip form, so
//! both files read back exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

use crate::io::write_atomically;

/// The values of one epoch, by name (`"loss"`, `"val_accuracy"`, `"lr"`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// The epoch, counted from 0.
    pub epoch: u64,
    /// Its values, by name. NaN is kept as NaN (written as `null` in JSON).
    #[serde(with = "nan_as_null")]
    pub values: BTreeMap<String, f64>,
}

impl EpochLog {
    /// The value named `name`, if logged.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }
}

/// Every epoch's [`EpochLog`], in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One entry per finished epoch.
    pub epochs: Vec<EpochLog>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// Appends an epoch.
    pub fn push(&mut self, log: EpochLog) {
        self.epochs.push(log);
    }

    /// Number of epochs logged.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// Whether no epoch was logged.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// The last epoch's log.
    pub fn last(&self) -> Option<&EpochLog> {
        self.epochs.last()
    }

    /// Every value name logged in any epoch, sorted.
    pub fn names(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self.epochs.iter().flat_map(|e| e.values.keys()).collect();
        names.into_iter().cloned().collect()
    }

    /// The series of `name`, one value per epoch (NaN where an epoch did not log it).
    pub fn series(&self, name: &str) -> Vec<f64> {
        self.epochs
            .iter()
            .map(|e| e.get(name).unwrap_or(f64::NAN))
            .collect()
    }

    /// The history as pretty JSON: `{"epochs": [{"epoch": 0, "values": {...}}, ...]}`.
    pub fn to_json(&self) -> String {
        // A map of strings to numbers or null always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a history written by [`History::to_json`].
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid("History::from_json", format!("not a history: {e}")))
    }

    /// Writes [`History::to_json`] to `path` (atomically).
    pub fn save_json(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), self.to_json().as_bytes())
    }

    /// Reads a JSON history file.
    pub fn load_json(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::format(path, format!("not a training history: {e}")))
    }

    /// The history as CSV: a header `epoch,<names...>` (names sorted) and one row per epoch,
    /// an empty cell for a value not logged or NaN.
    pub fn to_csv(&self) -> String {
        let names = self.names();
        let mut out = String::from("epoch");
        for name in &names {
            out.push(',');
            out.push_str(&csv_field(name));
        }
        out.push('\n');
        for e in &self.epochs {
            out.push_str(&e.epoch.to_string());
            for name in &names {
                out.push(',');
                match e.get(name) {
                    Some(v) if !v.is_nan() => out.push_str(&v.to_string()),
                    _ => {}
                }
            }
            out.push('\n');
        }
        out
    }

    /// Reads CSV written by [`History::to_csv`]; an empty cell is a value not logged.
    pub fn from_csv(text: &str) -> Result<Self> {
        let op = "History::from_csv";
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| Error::invalid(op, format!("cannot read the header: {e}")))?
            .clone();
        if header.get(0) != Some("epoch") {
            return Err(Error::invalid(
                op,
                format!(
                    "the first column must be `epoch`; found {:?}",
                    header.get(0)
                ),
            ));
        }
        let mut history = History::new();
        for (line, record) in reader.records().enumerate() {
            let record =
                record.map_err(|e| Error::invalid(op, format!("row {}: {e}", line + 1)))?;
            let number = |col: usize, cell: &str| {
                Error::invalid(
                    op,
                    format!(
                        "row {}, column `{}`: `{cell}` is not a number",
                        line + 1,
                        &header[col]
                    ),
                )
            };
            let epoch_cell = &record[0];
            let epoch = epoch_cell.parse().map_err(|_| number(0, epoch_cell))?;
            let mut values = BTreeMap::new();
            for (col, cell) in record.iter().enumerate().skip(1) {
                if !cell.is_empty() {
                    let v: f64 = cell.parse().map_err(|_| number(col, cell))?;
                    values.insert(header[col].to_string(), v);
                }
            }
            history.push(EpochLog { epoch, values });
        }
        Ok(history)
    }

    /// Writes [`History::to_csv`] to `path` (atomically).
    pub fn save_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), self.to_csv().as_bytes())
    }

    /// Reads a CSV history file.
    pub fn load_csv(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        History::from_csv(&text)
    }
}

/// A CSV field, quoted when it holds a comma, quote or newline.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Serializes NaN as `null` and reads `null` back as NaN.
mod nan_as_null {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        values: &BTreeMap<String, f64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let opt: BTreeMap<&String, Option<f64>> = values
            .iter()
            .map(|(k, v)| (k, (!v.is_nan()).then_some(*v)))
            .collect();
        opt.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let opt = BTreeMap::<String, Option<f64>>::deserialize(d)?;
        Ok(opt
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::new();
        for epoch in 0..3u64 {
            let mut values = BTreeMap::new();
            values.insert("loss".into(), 1.0 / (epoch as f64 + 3.0));
            values.insert("lr".into(), 1e-3 * 0.1f64.powi(epoch as i32));
            if epoch > 0 {
                values.insert("val_loss".into(), 0.1 + epoch as f64 / 7.0);
            }
            values.insert("val_f1".into(), if epoch == 2 { f64::NAN } else { 0.5 });
            h.push(EpochLog { epoch, values });
        }
        h
    }

    /// Equality that treats NaN as equal to NaN.
    fn same(a: &History, b: &History) -> bool {
        a.len() == b.len()
            && a.epochs.iter().zip(&b.epochs).all(|(x, y)| {
                x.epoch == y.epoch
                    && x.values.len() == y.values.len()
                    && x.values.iter().all(|(k, v)| {
                        y.values.get(k).is_some_and(|w| {
                            v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan())
                        })
                    })
            })
    }

    #[test]
    fn json_round_trip_is_exact_including_nan() {
        let h = sample();
        let back = History::from_json(&h.to_json()).unwrap();
        assert!(same(&h, &back), "{back:?}");
        assert!(h.to_json().contains("null"));
    }

    #[test]
    fn csv_round_trip_is_exact_and_missing_values_stay_missing() {
        let h = sample();
        let text = h.to_csv();
        assert!(
            text.starts_with("epoch,loss,lr,val_f1,val_loss\n"),
            "{text}"
        );
        let back = History::from_csv(&text).unwrap();
        assert_eq!(back.epochs[0].get("val_loss"), None);
        assert!(back.epochs[2].get("val_f1").is_none());
        // NaN is not written to CSV: it reads back as "not logged".
        let mut expected = h.clone();
        expected.epochs[2].values.remove("val_f1");
        assert!(same(&expected, &back), "{back:?}");
    }

    #[test]
    fn files_round_trip() {
        let dir = std::env::temp_dir().join(format!("strata-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let h = sample();
        h.save_json(dir.join("h.json")).unwrap();
        h.save_csv(dir.join("h.csv")).unwrap();
        assert!(same(&h, &History::load_json(dir.join("h.json")).unwrap()));
        assert_eq!(History::load_csv(dir.join("h.csv")).unwrap().len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_cell_names_its_row_and_column() {
        let err = History::from_csv("epoch,loss\n0,abc\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row 1, column `loss`: `abc` is not a number"),
            "{err}"
        );
    }

    #[test]
    fn series_fills_missing_epochs_with_nan() {
        let s = sample().series("val_loss");
        assert!(s[0].is_nan());
        assert_eq!(s[1], 0.1 + 1.0 / 7.0);
    }
}
