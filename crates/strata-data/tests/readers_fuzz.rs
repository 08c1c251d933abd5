//! No reader panics: random bytes, and random bytes built from the characters that matter to
//! a format (delimiters, quotes, line ends, `NA`, digits), give a value or an error naming
//! the file.

use std::path::Path;

use proptest::prelude::*;
use strata_data::audio::WavReader;
use strata_data::text::parse_labeled_text;
use strata_data::{CsvReader, ImageFolderReader};

/// A valid 16-bit mono WAV file of `samples`.
fn wav16(samples: &[i16]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Vec::new();
    {
        let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut bytes), spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }
    bytes
}

/// Text made of the pieces a delimited file is built from.
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        ",", "\t", "\n", "\r\n", "\"", "NA", "", "1", "-2.5e3", "x", "nan", "inf", " ", "\u{ff}",
    ]);
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat().into_bytes())
}

proptest! {
    #[test]
    fn csv_reader_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = CsvReader::new().read_bytes(&bytes, "fuzz.csv") {
            prop_assert!(e.to_string().contains("fuzz.csv"), "{}", e);
        }
    }

    #[test]
    fn csv_reader_never_panics_on_csv_like_text(bytes in csv_like(), tsv in any::<bool>(), header in any::<bool>()) {
        let reader = if tsv { CsvReader::tsv() } else { CsvReader::new() }.has_header(header);
        match reader.read_bytes(&bytes, "fuzz.csv") {
            Ok(t) => {
                for name in t.names() {
                    prop_assert_eq!(t.column(name).map(|c| c.len()), Some(t.rows()));
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.csv"), "{}", e),
        }
    }

    #[test]
    fn declared_numeric_columns_never_panic(bytes in csv_like()) {
        let _ = CsvReader::new().has_header(false).numeric(&["column_1"]).read_bytes(&bytes, "n.csv");
    }

    #[test]
    fn labeled_text_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), header in any::<bool>()) {
        match parse_labeled_text(&bytes, Path::new("fuzz.tsv"), '\t', header) {
            Ok(t) => prop_assert_eq!(t.labels.len(), t.texts.len()),
            Err(e) => prop_assert!(e.to_string().contains("fuzz.tsv"), "{}", e),
        }
    }

    #[test]
    fn wav_reader_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = WavReader::new().read_bytes(&bytes, "fuzz.wav") {
            prop_assert!(e.to_string().contains("fuzz.wav"), "{}", e);
        }
    }

    #[test]
    fn wav_reader_never_panics_on_damaged_headers_or_truncation(
        samples in prop::collection::vec(any::<i16>(), 0..64),
        flips in prop::collection::vec((0usize..44, any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = wav16(&samples);
        for (at, v) in flips {
            bytes[at] = v;
        }
        let at = cut.index(bytes.len() + 1);
        if let Err(e) = WavReader::new().target_rate(11_025).read_bytes(&bytes[..at], "fuzz.wav") {
            prop_assert!(e.to_string().contains("fuzz.wav"), "{}", e);
        }
    }

    #[test]
    fn image_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), png in any::<bool>()) {
        let mut input = if png { b"\x89PNG\r\n\x1a\n".to_vec() } else { vec![0xff, 0xd8, 0xff] };
        input.extend(bytes);
        let e = ImageFolderReader::new().decode(&input, "fuzz.img").map(|_| ());
        if let Err(e) = e {
            prop_assert!(e.to_string().contains("fuzz.img"), "{}", e);
        }
    }
}
