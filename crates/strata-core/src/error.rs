//! The crate-wide error type, re-exported by the facade as `strata::Error`.

use std::path::PathBuf;

use strata_backend::BackendError;
use thiserror::Error;

/// Everything that can go wrong in Strata, with enough context to act on.
#[derive(Debug, Error)]
pub enum Error {
    /// Operand shapes that do not fit the operation. The message names the op, both shapes
    /// and, where obvious, the fix.
    #[error("{op}: {message}")]
    Shape {
        /// The operation that refused the shapes.
        op: &'static str,
        /// What was expected and what was found.
        message: String,
    },
    /// An argument outside the range an operation accepts.
    #[error("{op}: {message}")]
    InvalidArgument {
        /// The operation or setting that refused the value.
        op: String,
        /// What was expected and what was found.
        message: String,
    },
    /// Operands on different devices.
    #[error("{op}: operands are on different devices ({lhs} and {rhs}); move one with `to_device`")]
    DeviceMismatch {
        /// The operation.
        op: &'static str,
        /// Device of the first operand.
        lhs: String,
        /// Device of the second operand.
        rhs: String,
    },
    /// The requested device is not compiled in or not present.
    #[error("device unavailable: {0}")]
    DeviceUnavailable(String),
    /// A failure inside the backend (a label out of range, a driver error).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Misuse of automatic differentiation (backward twice, backward of a non-scalar).
    #[error("autograd: {0}")]
    Autograd(String),
    /// A value became NaN or infinite (a diverging loss).
    #[error("{what} is not finite ({value}) at {context}")]
    NonFinite {
        /// What became non-finite ("loss").
        what: String,
        /// The value found.
        value: f32,
        /// Where: epoch and step, or the op.
        context: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file's contents are not what its format requires (truncated, wrong magic, ...).
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where in the file.
        message: String,
    },
    /// An error from a crate above core (data pipeline, serialization) carried unchanged.
    #[error(transparent)]
    External(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// Result type of every fallible Strata operation.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A shape error for `op`.
    pub fn shape(op: &'static str, message: impl Into<String>) -> Self {
        Error::Shape {
            op,
            message: message.into(),
        }
    }
    /// An invalid-argument error for `op`.
    pub fn invalid(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op: op.into(),
            message: message.into(),
        }
    }
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// A format error in `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}
