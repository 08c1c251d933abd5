//! strata-data's mel filterbank and MFCC against librosa's, on a synthetic two-tone signal
//! (`golden/audio_mfcc.json`, written by `audio_mfcc()` in `scripts/golden/generate.py`).

use serde_json::Value;
use strata::data::audio::{Mfcc, Window, mel_filterbank};

mod common;
use common::floats;

fn cases() -> Vec<Value> {
    common::cases("audio_mfcc.json")
}

fn usize_of(case: &Value, key: &str) -> usize {
    case[key].as_u64().unwrap() as usize
}

#[test]
fn mel_filterbank_matches_librosa() {
    for case in cases() {
        let sr = usize_of(&case, "sample_rate") as u32;
        let ours = mel_filterbank(
            usize_of(&case, "n_mels"),
            usize_of(&case, "n_fft"),
            sr,
            0.0,
            sr as f32 / 2.0,
        )
        .unwrap();
        let theirs = floats(&case["mel_filters"]);
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 + 1e-4 * b.abs(),
                "filter value {i}: {a} vs librosa {b}"
            );
        }
    }
}

#[test]
fn mfcc_of_a_synthetic_two_tone_signal_matches_librosa() {
    for case in cases() {
        let window = match case["window"].as_str().unwrap() {
            "hann" => Window::Hann,
            "hamming" => Window::Hamming,
            other => panic!("unexpected window {other}"),
        };
        let mfcc = Mfcc::new(usize_of(&case, "sample_rate") as u32)
            .n_fft(usize_of(&case, "n_fft"))
            .hop(usize_of(&case, "hop"))
            .n_mels(usize_of(&case, "n_mels"))
            .n_mfcc(usize_of(&case, "n_mfcc"))
            .window(window)
            .compute(&floats(&case["signal"]))
            .unwrap();
        assert_eq!(
            (mfcc.frames, mfcc.bins),
            (usize_of(&case, "frames"), usize_of(&case, "n_mfcc"))
        );
        let theirs = floats(&case["mfcc"]);
        assert!(mfcc.values.iter().all(|v| v.is_finite()));
        let worst = mfcc
            .values
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
            .fold(0.0f32, f32::max);
        eprintln!("largest relative difference from librosa: {worst:e}");
        assert!(
            worst < 1e-3,
            "largest relative difference from librosa {worst}"
        );
    }
}
