//! IDX bytes → `IdxArray`. Every length is checked before it is used, so no input panics or
//! allocates more than the data it actually holds.

use std::path::Path;

use super::{IdxArray, IdxType};
use crate::error::{DataError, Position, Result};

/// Decodes raw (already decompressed) IDX `bytes`. `gzipped` says whether offsets in errors
/// refer to decompressed contents.
pub(super) fn decode(bytes: &[u8], path: &Path, gzipped: bool) -> Result<IdxArray> {
    let at = |offset: usize| {
        let offset = offset as u64;
        if gzipped {
            Position::DecompressedByte(offset)
        } else {
            Position::Byte(offset)
        }
    };
    let fail = |offset: usize, expected: String, found: String| {
        DataError::format(path, at(offset), expected, found)
    };
    let len = bytes.len();
    let Some(&[zero0, zero1, code, ndim]) = bytes.first_chunk::<4>() else {
        return Err(fail(
            len,
            "the 4-byte IDX magic number 00 00 TT NN".into(),
            format!("end of file after {len} byte(s)"),
        ));
    };
    if zero0 != 0 || zero1 != 0 {
        return Err(fail(
            0,
            "an IDX magic number starting 00 00".into(),
            format!("{zero0:02x} {zero1:02x} (this is not an IDX file)"),
        ));
    }
    let element_type = IdxType::from_code(code).ok_or_else(|| {
        fail(
            2,
            "an IDX element type code: 08 (u8), 09 (i8), 0b (i16), 0c (i32), 0d (f32) or 0e (f64)"
                .into(),
            format!("{code:02x}"),
        )
    })?;
    let ndim = usize::from(ndim);
    let header = 4 + 4 * ndim;
    if len < header {
        return Err(fail(
            len,
            format!("{ndim} dimension size(s), a header of {header} bytes"),
            format!("end of file after {len} byte(s)"),
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let data_len = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .and_then(|n| n.checked_mul(element_type.size()))
        .ok_or_else(|| {
            fail(
                4,
                "dimension sizes whose product fits in memory".into(),
                format!("{dims:?}"),
            )
        })?;
    let available = len - header;
    if available < data_len {
        return Err(fail(
            len,
            format!("{data_len} bytes of {element_type} data for dimensions {dims:?}"),
            format!("end of file after {available} byte(s) of data (truncated file?)"),
        ));
    }
    if available > data_len {
        return Err(fail(
            header + data_len,
            format!(
                "end of file after {data_len} bytes of {element_type} data for dimensions {dims:?}"
            ),
            format!("{} extra byte(s)", available - data_len),
        ));
    }
    let data = convert(&bytes[header..], element_type);
    Ok(IdxArray {
        element_type,
        dims,
        data,
    })
}

/// Big-endian elements of `element_type` as `f32` (`data.len()` is a multiple of the size).
fn convert(data: &[u8], element_type: IdxType) -> Vec<f32> {
    fn each<const N: usize>(data: &[u8], f: impl Fn([u8; N]) -> f32) -> Vec<f32> {
        data.chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                f(a)
            })
            .collect()
    }
    match element_type {
        IdxType::U8 => data.iter().map(|&b| f32::from(b)).collect(),
        IdxType::I8 => data.iter().map(|&b| f32::from(b as i8)).collect(),
        IdxType::I16 => each(data, |a| f32::from(i16::from_be_bytes(a))),
        IdxType::I32 => each(data, |a| i32::from_be_bytes(a) as f32),
        IdxType::F32 => each(data, f32::from_be_bytes),
        IdxType::F64 => each(data, |a| f64::from_be_bytes(a) as f32),
    }
}
