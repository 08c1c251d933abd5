//! `IdxArray` → IDX bytes, refusing values the element type cannot hold.

use super::{IdxArray, IdxType};
use crate::error::{DataError, Result};

const CONTEXT: &str = "IdxArray::to_bytes";

/// The raw IDX bytes of `array`.
pub(super) fn encode(array: &IdxArray) -> Result<Vec<u8>> {
    let IdxArray {
        element_type,
        dims,
        data,
    } = array;
    let ndim = u8::try_from(dims.len()).map_err(|_| {
        DataError::invalid(CONTEXT, "at most 255 dimensions", dims.len().to_string())
    })?;
    let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if count != Some(data.len()) {
        return Err(DataError::invalid(
            CONTEXT,
            format!("as many values as dimensions {dims:?} hold"),
            format!("{} values", data.len()),
        ));
    }
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len() * element_type.size());
    out.extend_from_slice(&[0, 0, element_type.code(), ndim]);
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            DataError::invalid(CONTEXT, "dimension sizes below 2^32", d.to_string())
        })?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    for (i, &v) in data.iter().enumerate() {
        let unrepresentable = || {
            DataError::invalid(
                CONTEXT,
                format!("values representable as {element_type}"),
                format!("{v} at index {i}"),
            )
        };
        let integer = |min: f32, max: f32| {
            if v.is_finite() && v.fract() == 0.0 && (min..=max).contains(&v) {
                Ok(v)
            } else {
                Err(unrepresentable())
            }
        };
        match element_type {
            IdxType::U8 => out.push(integer(0.0, 255.0)? as u8),
            IdxType::I8 => out.extend_from_slice(&(integer(-128.0, 127.0)? as i8).to_be_bytes()),
            IdxType::I16 => {
                out.extend_from_slice(&(integer(-32768.0, 32767.0)? as i16).to_be_bytes())
            }
            // 2^31 − 1 is not an f32; the largest f32 below 2^31 is 2^31 − 128.
            IdxType::I32 => out.extend_from_slice(
                &(integer(-2_147_483_648.0, 2_147_483_520.0)? as i32).to_be_bytes(),
            ),
            IdxType::F32 => out.extend_from_slice(&v.to_be_bytes()),
            IdxType::F64 => out.extend_from_slice(&f64::from(v).to_be_bytes()),
        }
    }
    Ok(out)
}
