//! Atomic file writes: write `<path>.tmp`, sync it, rename it over `path`, then sync the
//! directory, so a crash at any point leaves either the old file or the new one, whole.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use strata_core::{Error, Result};

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, directory fsync).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let tmp = {
        let mut name = path.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    };
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        // Best effort: the write already failed, and that is the error to report.
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    // The rename is durable only once the directory entry is: best effort, as some file
    // systems refuse to open a directory for syncing.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}
