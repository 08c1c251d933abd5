//! The readers on the project's real data sets in `../shared/data` (beside the repository):
//! row counts, missing counts and formats as their READMEs state. Each test says in one line
//! when the folder is absent and then checks nothing else.

use std::path::PathBuf;

use strata_data::audio::{Mfcc, WavReader};
use strata_data::text::read_labeled_text;
use strata_data::{Column, CsvReader};

fn shared(set: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(set);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found", dir.display());
        None
    }
}

#[test]
fn penguins_csv_has_344_rows_with_19_missing_cells() {
    let Some(dir) = shared("penguins") else {
        return;
    };
    let t = CsvReader::new()
        .categorical(&["year"])
        .read(dir.join("penguins.csv"))
        .unwrap();
    assert_eq!(t.rows(), 344);
    let missing: usize = t
        .names()
        .iter()
        .map(|n| t.column(n).unwrap().missing_count())
        .sum();
    assert_eq!(missing, 19);
    assert!(matches!(
        t.column("bill_length_mm"),
        Some(Column::Numeric(_))
    ));
    assert!(matches!(t.column("island"), Some(Column::Categorical(_))));
}

#[test]
fn airquality_csv_has_153_rows_with_37_missing_ozone() {
    let Some(dir) = shared("airquality") else {
        return;
    };
    let t = CsvReader::new().read(dir.join("airquality.csv")).unwrap();
    assert_eq!(t.rows(), 153);
    assert_eq!(t.column("Ozone").unwrap().missing_count(), 37);
    assert_eq!(t.column("Solar.R").unwrap().missing_count(), 7);
}

#[test]
fn sms_spam_tsv_has_5574_messages_747_spam() {
    let Some(dir) = shared("sms_spam") else {
        return;
    };
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "tsv"))
        .unwrap();
    let sms = read_labeled_text(file, '\t', true).unwrap();
    assert_eq!(sms.len(), 5574);
    assert_eq!(sms.labels.iter().filter(|l| *l == "spam").count(), 747);
}

#[test]
fn spoken_digit_wavs_are_8khz_mono_and_give_mfcc_frames() {
    let Some(dir) = shared("spoken_digits_tts") else {
        return;
    };
    let labels = CsvReader::new().read(dir.join("labels.csv")).unwrap();
    assert_eq!(labels.rows(), 480);
    let first = labels.categorical("file").unwrap()[0].clone().unwrap();
    let clip = WavReader::new().read(dir.join(first)).unwrap();
    assert_eq!(clip.sample_rate, 8000);
    assert!(
        (0.19..=1.05).contains(&clip.duration_secs()),
        "{}",
        clip.duration_secs()
    );
    let m = Mfcc::new(8000)
        .n_fft(256)
        .hop(80)
        .compute(&clip.samples)
        .unwrap();
    assert_eq!(m.bins, 13);
    assert!(m.frames >= 16 && m.values.iter().all(|v| v.is_finite()));
}
