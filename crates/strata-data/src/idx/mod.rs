//! The IDX format of MNIST and its relatives: a magic number `00 00 TT NN` (element type
//! `TT`, `NN` dimensions), `NN` big-endian `u32` dimension sizes, then the elements,
//! big-endian, row-major. Files may be gzip-compressed (detected by content).
//!
//! This module owns decoding (`decode`: any byte sequence gives an array or a
//! [`crate::DataError`] naming the file, the byte offset, what was expected and what was found,
//! never a panic) and encoding (`encode`). Elements are returned as `f32`, which holds every
//! `u8`, `i8` and `i16` exactly, `i32` exactly up to ±2²⁴, and `f64` rounded.

mod decode;
mod encode;

use std::fmt;
use std::path::Path;

use crate::compress::{self, Compression};
use crate::error::{DataError, Result};

/// The element type of an IDX file, from its type code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// Unsigned byte, code `0x08`.
    U8,
    /// Signed byte, code `0x09`.
    I8,
    /// Big-endian `i16`, code `0x0B`.
    I16,
    /// Big-endian `i32`, code `0x0C`.
    I32,
    /// Big-endian `f32`, code `0x0D`.
    F32,
    /// Big-endian `f64`, code `0x0E`.
    F64,
}

impl IdxType {
    /// Every element type.
    pub const ALL: [IdxType; 6] = [
        IdxType::U8,
        IdxType::I8,
        IdxType::I16,
        IdxType::I32,
        IdxType::F32,
        IdxType::F64,
    ];

    /// The type of a type code, if it is one.
    pub fn from_code(code: u8) -> Option<IdxType> {
        IdxType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The type code stored in the magic number.
    pub fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }
}

impl fmt::Display for IdxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            IdxType::U8 => "u8",
            IdxType::I8 => "i8",
            IdxType::I16 => "i16",
            IdxType::I32 => "i32",
            IdxType::F32 => "f32",
            IdxType::F64 => "f64",
        };
        write!(f, "{name} (0x{:02x})", self.code())
    }
}

/// The contents of an IDX file: its element type, dimensions and elements (row-major) as
/// `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// The element type the file stores (and [`IdxArray::write`] writes).
    pub element_type: IdxType,
    /// The dimension sizes, outermost first.
    pub dims: Vec<usize>,
    /// The elements, row-major; as many as the product of `dims`.
    pub data: Vec<f32>,
}

impl IdxArray {
    /// Reads an IDX file, raw or gzip-compressed.
    pub fn read(path: impl AsRef<Path>) -> Result<IdxArray> {
        let path = path.as_ref();
        IdxArray::from_bytes(&compress::read_file(path)?, path)
    }

    /// Decodes the bytes of an IDX file, raw or gzip-compressed. `path` only names the file
    /// in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<IdxArray> {
        let (raw, gzipped) = compress::gunzip_if_gzip(bytes, path)?;
        decode::decode(&raw, path, gzipped)
    }

    /// The raw (uncompressed) IDX bytes. Every element must be representable in
    /// `element_type` (integral and in range for the integer types).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        encode::encode(self)
    }

    /// Writes the array as an IDX file at `path`.
    pub fn write(&self, path: impl AsRef<Path>, compression: Compression) -> Result<()> {
        compress::write_file(path.as_ref(), &self.to_bytes()?, compression)
    }

    /// The first `n` items along the first dimension (the first `n` images of an image file).
    pub fn take_first(&self, n: usize) -> Result<IdxArray> {
        let available = self.dims.first().copied().unwrap_or(0);
        if n > available {
            return Err(DataError::invalid(
                "IdxArray::take_first",
                format!("at most {available} items (dimensions {:?})", self.dims),
                format!("{n}"),
            ));
        }
        let item: usize = self.dims[1..].iter().product();
        let mut dims = self.dims.clone();
        dims[0] = n;
        Ok(IdxArray {
            element_type: self.element_type,
            dims,
            data: self.data[..n * item].to_vec(),
        })
    }
}
