//! Reading and writing files that may be gzip-compressed. Compression is recognised by the
//! gzip magic bytes `1f 8b`, never by the file name, so a renamed file still reads.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{DataError, Position, Result};

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How a writer stores a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// The bytes as they are.
    None,
    /// A gzip stream at the best compression level, with no name and modification time 0,
    /// so the same contents always give the same bytes.
    Gzip,
}

/// The contents of `path`, read whole.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// `bytes` decompressed when they start with the gzip magic, else as they are; the flag
/// tells which. `path` only names the file in errors.
pub(crate) fn gunzip_if_gzip<'a>(bytes: &'a [u8], path: &Path) -> Result<(Cow<'a, [u8]>, bool)> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok((Cow::Borrowed(bytes), false));
    }
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| {
            DataError::format(
                path,
                Position::Whole,
                "a complete gzip stream",
                e.to_string(),
            )
        })?;
    Ok((Cow::Owned(out), true))
}

/// Writes `bytes` to `path`, compressed as `compression` says.
pub(crate) fn write_file(path: &Path, bytes: &[u8], compression: Compression) -> Result<()> {
    let stored = match compression {
        Compression::None => Cow::Borrowed(bytes),
        Compression::Gzip => {
            let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder
                .write_all(bytes)
                .map_err(|e| DataError::io(path, e))?;
            Cow::Owned(encoder.finish().map_err(|e| DataError::io(path, e))?)
        }
    };
    std::fs::write(path, stored).map_err(|e| DataError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_bytes_pass_through_borrowed() {
        let (out, gz) = gunzip_if_gzip(b"\x00\x00\x08\x01", Path::new("x")).unwrap();
        assert!(!gz);
        assert!(matches!(out, Cow::Borrowed(_)));
    }

    #[test]
    fn a_broken_gzip_stream_is_a_format_error_naming_the_file() {
        let err = gunzip_if_gzip(
            &[0x1f, 0x8b, 0x08, 0x00, 0x01],
            Path::new("/data/broken.gz"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/data/broken.gz"), "{msg}");
        assert!(msg.contains("gzip"), "{msg}");
    }
}
