//! `CsvLogger`: the history as a CSV file, rewritten after every epoch.

use std::path::PathBuf;

use strata_core::Result;

use super::{Callback, Context};

/// Keeps `path` equal to the history as CSV ([`crate::History::to_csv`]), rewritten
/// atomically after every epoch, so the file is always whole and a resumed run continues it.
#[derive(Debug, Clone)]
pub struct CsvLogger {
    path: PathBuf,
}

impl CsvLogger {
    /// Logs to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger { path: path.into() }
    }
}

impl Callback for CsvLogger {
    fn on_epoch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        ctx.history().save_csv(&self.path)
    }
}
