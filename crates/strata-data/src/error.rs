//! `DataError`: what went wrong while reading or preparing data, with the file, the place in
//! it, what was expected and what was found.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Where in a file a problem lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The file as a whole (a gzip stream that does not decode, a count that disagrees with
    /// another file).
    Whole,
    /// A byte offset in the file as stored.
    Byte(u64),
    /// A byte offset in the decompressed contents of a gzip file.
    DecompressedByte(u64),
    /// A 1-based line and column of a text file.
    LineColumn {
        /// Line, from 1.
        line: u64,
        /// Column, from 1.
        column: u64,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Whole => write!(f, "whole file"),
            Position::Byte(offset) => write!(f, "byte {offset}"),
            Position::DecompressedByte(offset) => write!(f, "byte {offset} after gunzip"),
            Position::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
        }
    }
}

/// Everything that can go wrong in `strata-data`.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// None of the accepted names of a file exists in a directory.
    #[error("{}: no file named {}", dir.display(), names.join(" or "))]
    MissingFile {
        /// The directory searched.
        dir: PathBuf,
        /// The names tried, in order.
        names: Vec<String>,
    },
    /// A file's contents are not what its format requires.
    #[error("{} ({position}): expected {expected}, found {found}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Where in the file.
        position: Position,
        /// What the format requires there.
        expected: String,
        /// What the file holds instead.
        found: String,
    },
    /// An argument or input array that does not fit the operation.
    #[error("{context}: expected {expected}, found {found}")]
    Invalid {
        /// The operation (`"StandardScaler::transform"`).
        context: String,
        /// What it needs.
        expected: String,
        /// What it was given.
        found: String,
    },
    /// A fit/transform step used before it was fitted.
    #[error("{what}: not fitted; call `fit` or `fit_transform` first")]
    NotFitted {
        /// The operation (`"MinMaxScaler::transform"`).
        what: &'static str,
    },
}

impl DataError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// A format error in `path` at `position`.
    pub fn format(
        path: impl Into<PathBuf>,
        position: Position,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        DataError::Format {
            path: path.into(),
            position,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// An invalid-argument error for `context`.
    pub fn invalid(
        context: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        DataError::Invalid {
            context: context.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// Carries a `DataError` unchanged inside `strata_core::Error::External`, so `?` works in
/// code returning `strata_core::Result`.
#[cfg(feature = "tensor")]
impl From<DataError> for strata_core::Error {
    fn from(e: DataError) -> Self {
        strata_core::Error::External(Box::new(e))
    }
}

/// Result type of `strata-data`.
pub type Result<T> = std::result::Result<T, DataError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_error_names_file_position_expected_and_found() {
        let e = DataError::format(
            "/d/x.idx",
            Position::Byte(4),
            "dimension sizes",
            "end of file",
        );
        assert_eq!(
            e.to_string(),
            "/d/x.idx (byte 4): expected dimension sizes, found end of file"
        );
    }

    #[cfg(feature = "tensor")]
    #[test]
    fn converts_into_a_core_error_keeping_the_message() {
        let e = DataError::invalid("loader", "batch size > 0", "0");
        let core: strata_core::Error = e.into();
        assert!(matches!(core, strata_core::Error::External(_)));
        assert_eq!(core.to_string(), "loader: expected batch size > 0, found 0");
    }
}
