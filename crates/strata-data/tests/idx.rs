//! IDX files: every element type round-trips raw and gzipped; malformed files are errors that
//! name the file and say what was expected.

mod common;

use common::TempDir;
use strata_data::{Compression, DataError, IdxArray, IdxType};

/// A small array of `element_type` with values that type holds exactly.
fn sample(element_type: IdxType) -> IdxArray {
    let data = match element_type {
        IdxType::U8 => vec![0.0, 1.0, 127.0, 128.0, 254.0, 255.0],
        IdxType::I8 => vec![-128.0, -1.0, 0.0, 1.0, 100.0, 127.0],
        IdxType::I16 => vec![-32768.0, -300.0, 0.0, 1.0, 1000.0, 32767.0],
        IdxType::I32 => vec![
            -2_147_483_648.0,
            -70000.0,
            0.0,
            1.0,
            16_777_216.0,
            2_147_483_520.0,
        ],
        IdxType::F32 => vec![-1.5, 0.0, 1e-30, 3.25, f32::MAX, -7.0],
        IdxType::F64 => vec![-1.5, 0.0, 0.1, 3.25, 1e20, -7.0],
    };
    IdxArray {
        element_type,
        dims: vec![2, 3],
        data,
    }
}

#[test]
fn every_element_type_round_trips_raw_and_gzipped() {
    let dir = TempDir::new("roundtrip");
    for element_type in IdxType::ALL {
        let array = sample(element_type);
        for (compression, name) in [
            (Compression::None, "raw.idx"),
            (Compression::Gzip, "packed.idx.gz"),
        ] {
            let path = dir.path().join(name);
            array.write(&path, compression).unwrap();
            assert_eq!(
                IdxArray::read(&path).unwrap(),
                array,
                "{element_type} {compression:?}"
            );
        }
    }
}

#[test]
fn header_is_big_endian_with_the_type_code() {
    let bytes = sample(IdxType::I16).to_bytes().unwrap();
    assert_eq!(&bytes[..12], &[0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
    assert_eq!(&bytes[12..14], &(-32768i16).to_be_bytes());
    assert_eq!(bytes.len(), 12 + 6 * 2);
}

#[test]
fn gzip_is_detected_by_content_not_by_name() {
    let dir = TempDir::new("detect");
    let array = sample(IdxType::U8);
    let gz_without_suffix = dir.path().join("images-idx3-ubyte");
    let raw_with_suffix = dir.path().join("labels.gz");
    array.write(&gz_without_suffix, Compression::Gzip).unwrap();
    array.write(&raw_with_suffix, Compression::None).unwrap();
    assert_eq!(IdxArray::read(&gz_without_suffix).unwrap(), array);
    assert_eq!(IdxArray::read(&raw_with_suffix).unwrap(), array);
}

#[test]
fn truncated_file_names_the_file_and_the_missing_data() {
    let dir = TempDir::new("truncated");
    let path = dir.path().join("cut.idx");
    let bytes = sample(IdxType::F32).to_bytes().unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let err = IdxArray::read(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::Format { .. }));
    assert!(msg.contains("cut.idx"), "{msg}");
    assert!(
        msg.contains("24 bytes") && msg.contains("21 byte(s)"),
        "{msg}"
    );
}

#[test]
fn truncated_gzip_file_is_an_error_naming_the_file() {
    let dir = TempDir::new("truncated-gz");
    let path = dir.path().join("cut.idx.gz");
    sample(IdxType::U8).write(&path, Compression::Gzip).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
    let msg = IdxArray::read(&path).unwrap_err().to_string();
    assert!(msg.contains("cut.idx.gz") && msg.contains("gzip"), "{msg}");
}

#[test]
fn a_file_that_is_not_idx_names_the_file_and_the_magic() {
    let dir = TempDir::new("not-idx");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, this is text").unwrap();
    let msg = IdxArray::read(&path).unwrap_err().to_string();
    assert!(
        msg.contains("notes.txt") && msg.contains("byte 0") && msg.contains("not an IDX file"),
        "{msg}"
    );
}

#[test]
fn an_unknown_type_code_is_named() {
    let err = IdxArray::from_bytes(&[0, 0, 0x0A, 1, 0, 0, 0, 0], "x.idx".as_ref()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("byte 2") && msg.contains("found 0a"), "{msg}");
}

#[test]
fn dims_that_do_not_match_the_data_length_are_errors() {
    // dims [2] of u8 but three data bytes
    let msg = IdxArray::from_bytes(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 8, 9], "x.idx".as_ref())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("1 extra byte(s)"), "{msg}");
    // dims whose product overflows
    let huge = [
        0, 0, 0x0E, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    ];
    assert!(IdxArray::from_bytes(&huge, "x.idx".as_ref()).is_err());
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = TempDir::new("missing");
    let path = dir.path().join("absent.idx");
    let err = IdxArray::read(&path).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(err.to_string().contains("absent.idx"));
}

#[test]
fn writing_a_value_the_type_cannot_hold_is_refused() {
    for (element_type, bad) in [
        (IdxType::U8, 256.0),
        (IdxType::U8, 0.5),
        (IdxType::I8, -129.0),
        (IdxType::I16, f32::NAN),
    ] {
        let array = IdxArray {
            element_type,
            dims: vec![2],
            data: vec![1.0, bad],
        };
        let msg = array.to_bytes().unwrap_err().to_string();
        assert!(msg.contains("index 1"), "{msg}");
    }
    let wrong_count = IdxArray {
        element_type: IdxType::U8,
        dims: vec![3],
        data: vec![1.0],
    };
    assert!(wrong_count.to_bytes().is_err());
}

#[test]
fn take_first_keeps_leading_items() {
    let first = sample(IdxType::U8).take_first(1).unwrap();
    assert_eq!(first.dims, vec![1, 3]);
    assert_eq!(first.data, vec![0.0, 1.0, 127.0]);
    assert!(sample(IdxType::U8).take_first(3).is_err());
}
