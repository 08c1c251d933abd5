//! `CsvReader`: delimited text (CSV, TSV) into a [`Table`], through the `csv` crate.
//!
//! A column is numeric when declared so or when every present value parses as a number;
//! otherwise categorical. Every error names the file, the 1-based line and field, what was
//! expected and what was found.

use std::path::{Path, PathBuf};

use super::{Column, Table};
use crate::error::{DataError, Position, Result};

/// Reads delimited text files into a [`Table`].
///
/// ```
/// use strata_data::CsvReader;
/// let text = "a,b\n1,x\nNA,y\n";
/// let t = CsvReader::new().read_bytes(text.as_bytes(), "inline.csv").unwrap();
/// assert_eq!(t.numeric("a").unwrap()[0], 1.0);
/// assert!(t.numeric("a").unwrap()[1].is_nan());
/// assert_eq!(t.categorical("b").unwrap()[1].as_deref(), Some("y"));
/// ```
#[derive(Debug, Clone)]
pub struct CsvReader {
    delimiter: u8,
    has_header: bool,
    missing: Vec<String>,
    numeric: Vec<String>,
    categorical: Vec<String>,
}

impl Default for CsvReader {
    fn default() -> Self {
        CsvReader {
            delimiter: b',',
            has_header: true,
            missing: vec![String::new(), "NA".to_string()],
            numeric: Vec::new(),
            categorical: Vec::new(),
        }
    }
}

impl CsvReader {
    /// Comma-separated, with a header line, `NA` and empty fields missing, column kinds
    /// inferred.
    pub fn new() -> Self {
        CsvReader::default()
    }

    /// Tab-separated, otherwise as [`CsvReader::new`].
    pub fn tsv() -> Self {
        CsvReader::new().delimiter(b'\t')
    }

    /// The field separator (one byte).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Whether the first line names the columns (default: yes). Without one, columns are
    /// named `column_1`, `column_2`, ...
    pub fn has_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }

    /// The field values that mean "missing" (after trimming spaces), replacing the default
    /// `["", "NA"]`.
    pub fn missing_values(mut self, values: &[&str]) -> Self {
        self.missing = values.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Columns that must hold numbers: a value that does not parse is an error naming the
    /// line and field.
    pub fn numeric(mut self, columns: &[&str]) -> Self {
        self.numeric = columns.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Columns read as categories even where every value is a number (a year, a code).
    pub fn categorical(mut self, columns: &[&str]) -> Self {
        self.categorical = columns.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Reads the file at `path`.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Table> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        self.read_bytes(&bytes, path)
    }

    /// Reads `bytes` as the contents of a file called `name` (used in errors).
    pub fn read_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<Table> {
        let path = name.as_ref().to_path_buf();
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut names: Option<Vec<String>> = None;
        let mut cells: Vec<Vec<Option<String>>> = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        let mut record = ::csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_error(&path, e)),
            }
            let line = record.position().map_or(0, |p| p.line());
            let Some(names) = names.as_ref() else {
                let header: Vec<String> = if self.has_header {
                    record.iter().map(|s| s.trim().to_string()).collect()
                } else {
                    (1..=record.len()).map(|i| format!("column_{i}")).collect()
                };
                check_header(&path, line, &header)?;
                cells = vec![Vec::new(); record.len()];
                names = Some(header);
                if self.has_header {
                    continue;
                }
                self.push_row(&path, line, &record, &mut cells)?;
                lines.push(line);
                continue;
            };
            if record.len() != names.len() {
                return Err(DataError::format(
                    &path,
                    Position::LineColumn {
                        line,
                        column: record.len().min(names.len()) as u64 + 1,
                    },
                    format!("{} fields, as in the first line", names.len()),
                    format!("{} fields", record.len()),
                ));
            }
            self.push_row(&path, line, &record, &mut cells)?;
            lines.push(line);
        }
        let Some(names) = names else {
            return Err(DataError::format(
                &path,
                Position::Whole,
                if self.has_header {
                    "a header line naming the columns"
                } else {
                    "at least one line"
                },
                "an empty file",
            ));
        };
        for declared in self.numeric.iter().chain(&self.categorical) {
            if !names.contains(declared) {
                return Err(DataError::format(
                    &path,
                    Position::LineColumn { line: 1, column: 1 },
                    format!("a column named `{declared}` (declared in the reader)"),
                    format!("columns {names:?}"),
                ));
            }
        }
        let mut columns = Vec::with_capacity(names.len());
        for (c, (name, values)) in names.iter().zip(cells).enumerate() {
            let column = self.typed_column(&path, c, name, values, &lines)?;
            columns.push((name.clone(), column));
        }
        Table::new(columns)
    }

    fn push_row(
        &self,
        path: &Path,
        line: u64,
        record: &::csv::StringRecord,
        cells: &mut [Vec<Option<String>>],
    ) -> Result<()> {
        if record.len() != cells.len() {
            return Err(DataError::format(
                path,
                Position::LineColumn { line, column: 1 },
                format!("{} fields", cells.len()),
                format!("{} fields", record.len()),
            ));
        }
        for (column, field) in cells.iter_mut().zip(record.iter()) {
            let field = field.trim();
            column.push(if self.missing.iter().any(|m| m == field) {
                None
            } else {
                Some(field.to_string())
            });
        }
        Ok(())
    }

    fn typed_column(
        &self,
        path: &Path,
        c: usize,
        name: &str,
        values: Vec<Option<String>>,
        lines: &[u64],
    ) -> Result<Column> {
        if self.categorical.iter().any(|n| n == name) {
            return Ok(Column::Categorical(values));
        }
        let parsed: Vec<Option<f32>> = values
            .iter()
            .map(|v| {
                v.as_deref()
                    .map(|s| s.parse::<f32>().ok())
                    .unwrap_or(Some(f32::NAN))
            })
            .collect();
        match parsed.iter().position(Option::is_none) {
            None => Ok(Column::Numeric(parsed.into_iter().flatten().collect())),
            Some(bad) if self.numeric.iter().any(|n| n == name) => Err(DataError::format(
                path,
                Position::LineColumn {
                    line: lines[bad],
                    column: c as u64 + 1,
                },
                format!("a number in numeric column `{name}`"),
                format!("{:?}", values[bad].as_deref().unwrap_or("")),
            )),
            Some(_) => Ok(Column::Categorical(values)),
        }
    }
}

/// A header needs at least one field, none empty, no name twice.
fn check_header(path: &Path, line: u64, header: &[String]) -> Result<()> {
    for (i, name) in header.iter().enumerate() {
        let column = i as u64 + 1;
        if name.is_empty() {
            return Err(DataError::format(
                path,
                Position::LineColumn { line, column },
                "a column name",
                "an empty field",
            ));
        }
        if header[..i].contains(name) {
            return Err(DataError::format(
                path,
                Position::LineColumn { line, column },
                "unique column names",
                format!("`{name}` a second time"),
            ));
        }
    }
    Ok(())
}

/// The `csv` crate's error (bad UTF-8, I/O) with our file and position.
fn csv_error(path: &PathBuf, e: ::csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    let found = match e.kind() {
        ::csv::ErrorKind::Utf8 { err, .. } => {
            return DataError::format(
                path,
                Position::LineColumn {
                    line,
                    column: err.field() as u64 + 1,
                },
                "UTF-8 text",
                "bytes that are not UTF-8",
            );
        }
        _ => e.to_string(),
    };
    DataError::format(
        path,
        Position::LineColumn { line, column: 1 },
        "delimited text",
        found,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Table> {
        CsvReader::new().read_bytes(text.as_bytes(), "t.csv")
    }

    #[test]
    fn infers_numeric_and_categorical_columns_with_missing_values() {
        let t = read("a,b,c\n1, x ,2.5\n,NA,-1e2\n3,y,NA\n").unwrap();
        let a = t.numeric("a").unwrap();
        assert_eq!((a[0], a[2]), (1.0, 3.0));
        assert!(a[1].is_nan());
        assert_eq!(
            t.categorical("b").unwrap(),
            &[Some("x".to_string()), None, Some("y".to_string())]
        );
        let c = t.numeric("c").unwrap();
        assert_eq!((c[0], c[1]), (2.5, -100.0));
        assert!(c[2].is_nan());
    }

    #[test]
    fn an_all_missing_column_is_numeric_and_all_nan() {
        let t = read("a,b\nNA,1\n,2\n").unwrap();
        assert!(t.numeric("a").unwrap().iter().all(|x| x.is_nan()));
    }

    #[test]
    fn reads_tsv_and_files_without_header() {
        let t = CsvReader::tsv()
            .has_header(false)
            .read_bytes(b"ham\thello there\nspam\twin, now\n", "s.tsv")
            .unwrap();
        assert_eq!(t.names(), &["column_1", "column_2"]);
        assert_eq!(
            t.categorical("column_2").unwrap()[1].as_deref(),
            Some("win, now")
        );
    }

    #[test]
    fn declared_categorical_keeps_numbers_as_strings() {
        let t = CsvReader::new()
            .categorical(&["year"])
            .read_bytes(b"year\n2007\n2008\n", "y.csv")
            .unwrap();
        assert_eq!(t.categorical("year").unwrap()[0].as_deref(), Some("2007"));
    }

    #[test]
    fn ragged_row_names_file_line_and_field() {
        let e = read("a,b\n1,2\n3\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv (line 3, column 2): expected 2 fields, as in the first line, found 1 fields"
        );
    }

    #[test]
    fn non_number_in_a_declared_numeric_column_names_line_and_field() {
        let e = CsvReader::new()
            .numeric(&["b"])
            .read_bytes(b"a,b\n1,2\n3,x7\n", "n.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "n.csv (line 3, column 2): expected a number in numeric column `b`, found \"x7\""
        );
    }

    #[test]
    fn empty_file_header_only_and_bad_declarations() {
        let e = read("").unwrap_err().to_string();
        assert!(e.contains("empty file") && e.contains("t.csv"), "{e}");
        let t = read("a,b\n").unwrap();
        assert_eq!((t.rows(), t.names().len()), (0, 2));
        assert!(
            CsvReader::new()
                .numeric(&["z"])
                .read_bytes(b"a\n1\n", "d.csv")
                .is_err()
        );
        assert!(read("a,a\n1,2\n").is_err());
        assert!(read("a,\n1,2\n").is_err());
    }

    #[test]
    fn invalid_utf8_is_an_error_with_a_position() {
        let e = read("a\n\u{0}\n").map(|_| ());
        assert!(e.is_ok());
        let e = CsvReader::new()
            .read_bytes(b"a,b\n1,\xff\n", "u.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("u.csv (line 2, column 2)") && e.contains("UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let e = CsvReader::new()
            .read("/nonexistent/x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/x.csv"), "{e}");
    }
}
