//! The error type a backend returns.

use thiserror::Error;

/// A failure inside a backend. `strata-core` wraps it into `strata::Error`.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BackendError {
    /// An argument the backend cannot accept (a class label out of range, a bad spec).
    #[error("{op}: {message}")]
    InvalidArgument {
        /// The op that refused the argument.
        op: &'static str,
        /// What was expected and what was found.
        message: String,
    },
    /// Buffer lengths that do not agree with the shapes or spec passed alongside.
    #[error("{op}: buffer has {found} elements but the shape needs {expected}")]
    LengthMismatch {
        /// The op that found the mismatch.
        op: &'static str,
        /// Elements the shape implies.
        expected: usize,
        /// Elements the buffer holds.
        found: usize,
    },
    /// The device, driver or a library under the backend failed.
    #[error("{backend} device error: {message}")]
    Device {
        /// The backend's name.
        backend: String,
        /// The device or driver message.
        message: String,
    },
    /// The backend does not implement this op.
    #[error("{backend} backend does not support {op}")]
    Unsupported {
        /// The backend's name.
        backend: String,
        /// The op that is missing.
        op: &'static str,
    },
}

/// Result type of every backend method.
pub type Result<T> = std::result::Result<T, BackendError>;

impl BackendError {
    /// Checks that a buffer has the number of elements its shape implies.
    pub fn check_len(op: &'static str, expected: usize, found: usize) -> Result<()> {
        if expected == found {
            Ok(())
        } else {
            Err(BackendError::LengthMismatch {
                op,
                expected,
                found,
            })
        }
    }
}
