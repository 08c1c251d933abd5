//! The IDX reader never panics: arbitrary bytes, bytes behind a gzip magic, and every kind of
//! truncation of a valid file (raw or gzipped) give an array or an error naming the file.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use strata_data::{IdxArray, IdxType};

const NAME: &str = "fuzz.idx";

/// A valid IDX array: any element type, up to three small dimensions, integral values that
/// every type can hold.
fn valid_idx_array() -> impl Strategy<Value = IdxArray> {
    (
        0..IdxType::ALL.len(),
        prop::collection::vec(1usize..5, 0..4),
    )
        .prop_flat_map(|(t, dims)| {
            let n: usize = dims.iter().product();
            prop::collection::vec(0u8..128, n).prop_map(move |values| IdxArray {
                element_type: IdxType::ALL[t],
                dims: dims.clone(),
                data: values.into_iter().map(f32::from).collect(),
            })
        })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn decode(bytes: &[u8]) -> Result<IdxArray, String> {
    IdxArray::from_bytes(bytes, Path::new(NAME)).map_err(|e| e.to_string())
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(msg) = decode(&bytes) {
            prop_assert!(msg.contains(NAME), "{}", msg);
        }
    }

    #[test]
    fn random_bytes_with_an_idx_prefix_never_panic(
        code in any::<u8>(),
        ndim in 0u8..6,
        rest in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut bytes = vec![0, 0, code, ndim];
        bytes.extend(rest);
        let _ = decode(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_gzip_magic_never_panic(rest in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = vec![0x1f, 0x8b];
        bytes.extend(rest);
        if let Err(msg) = decode(&bytes) {
            prop_assert!(msg.contains(NAME), "{}", msg);
        }
    }

    #[test]
    fn valid_arrays_round_trip(array in valid_idx_array()) {
        let bytes = array.to_bytes().unwrap();
        prop_assert_eq!(decode(&bytes).unwrap(), array.clone());
        prop_assert_eq!(decode(&gzip(&bytes)).unwrap(), array);
    }

    #[test]
    fn every_truncation_of_a_valid_file_is_an_error(array in valid_idx_array(), cut in any::<prop::sample::Index>()) {
        let raw = array.to_bytes().unwrap();
        let at = cut.index(raw.len());
        let msg = decode(&raw[..at]).unwrap_err();
        prop_assert!(msg.contains(NAME), "{}", msg);
        let packed = gzip(&raw);
        let at = cut.index(packed.len());
        let msg = decode(&packed[..at]).unwrap_err();
        prop_assert!(msg.contains(NAME), "{}", msg);
    }

    #[test]
    fn corrupting_one_byte_of_a_valid_file_never_panics(
        array in valid_idx_array(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut raw = array.to_bytes().unwrap();
        let i = at.index(raw.len());
        raw[i] = value;
        let _ = decode(&raw);
        let mut packed = gzip(&array.to_bytes().unwrap());
        let i = at.index(packed.len());
        packed[i] = value;
        let _ = decode(&packed);
    }
}
