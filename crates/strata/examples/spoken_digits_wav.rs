//! Spoken digits from WAV files: `labels.csv` names each clip and its digit; every clip is
//! read (`WavReader`, mixed down to mono at 8 kHz), turned into MFCC frames (`Mfcc`), and
//! summarised as the mean MFCC of four equal time segments plus each coefficient's
//! deviation over the clip. A dense classifier learns from those, with Gaussian-noise
//! augmentation applied on the loader's prefetch thread.
//!
//! The clips in `../shared/data/spoken_digits_tts/` are synthetic (speech synthesizers), so
//! the accuracy shows the pipeline works end to end, not speech-recognition quality.
//!
//! `cargo run --release -p strata --example spoken_digits_wav -- --json`

mod common;

use std::path::Path;

use common::{Args, Stopwatch, print_json, train_epochs};
use strata::data::audio::{Mfcc, WavReader};
use strata::data::augment::GaussianNoise;
use strata::data::preprocess::StandardScaler;
use strata::data::{CsvReader, DataLoader, InMemoryDataset, split};
use strata::layers::{CrossEntropyLoss, Dense, Mode, Module, Relu, Sequential, save_weights};
use strata::optim::Adam;
use strata::{Result, Tensor, no_grad};

const RATE: u32 = 8000;
const SEGMENTS: usize = 4;
const N_MFCC: usize = 13;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(40, 32)?;
    let (dir, _) = args.data_dir(
        "spoken_digits_tts",
        Path::new("../shared/data/spoken_digits_tts"),
    );
    let labels = CsvReader::new()
        .categorical(&["file"])
        .numeric(&["digit"])
        .read(dir.join("labels.csv"))?;
    let files = labels.categorical("file")?;
    let digits = labels.numeric("digit")?;
    let reader = WavReader::new().target_rate(RATE);
    let mfcc = Mfcc::new(RATE).n_fft(256).hop(80).n_mels(40).n_mfcc(N_MFCC);
    let clock = Stopwatch::start();
    let width = N_MFCC * (SEGMENTS + 1);
    let mut features = Vec::with_capacity(files.len() * width);
    for (r, file) in files.iter().enumerate() {
        let Some(file) = file else {
            return Err(strata::Error::invalid(
                "labels.csv",
                format!("a file name on data row {}", r + 1),
            ));
        };
        let clip = reader.read(dir.join(file))?;
        features.extend(summarise(&mfcc.compute(&clip.samples)?.values));
    }
    eprintln!(
        "{} clips -> {width} MFCC features each in {:.2}s",
        files.len(),
        clock.secs()
    );

    let label_ids: Vec<u32> = digits.iter().map(|&d| d as u32).collect();
    let parts = split::stratified_split(&label_ids, 0.0, 0.2, args.seed)?;
    let all = InMemoryDataset::new(features, vec![width], digits.to_vec(), vec![])?;
    let mut train = all.subset(&parts.train)?;
    let mut test = all.subset(&parts.test)?;
    let mut scaler = StandardScaler::new();
    scaler.fit(train.features(), width)?;
    scaler.transform_in_place(train.features_mut(), width)?;
    scaler.transform_in_place(test.features_mut(), width)?;

    let model = Sequential::new()
        .add(Dense::new(64))
        .add(Relu)
        .add(Dense::new(10))
        .build(&[width], &args.device, args.seed)?;
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(args.lr.unwrap_or(3e-3));
    let loader = DataLoader::new(&train, args.batch_size)?
        .shuffle(args.seed)
        .augment(GaussianNoise { std: 0.1 })
        .prefetch(2);
    let clock = Stopwatch::start();
    train_epochs(&model, &loss_fn, &mut optimizer, &loader, &args, 10, "loss")?;
    let train_secs = clock.secs();

    let x = Tensor::from_slice(test.features(), vec![test.len(), width], &args.device)?;
    let predicted = no_grad(|| model.forward(&x, Mode::Eval)?.argmax(1))?.to_vec()?;
    let correct = predicted
        .iter()
        .zip(test.targets())
        .filter(|(p, t)| p == t)
        .count();
    let accuracy = correct as f64 / test.len().max(1) as f64;
    println!(
        "test accuracy: {:.2}% ({correct}/{}) on synthetic clips",
        100.0 * accuracy,
        test.len()
    );

    let save = args
        .save
        .clone()
        .unwrap_or_else(|| "runs/spoken_digits_wav/model.safetensors".into());
    if let Some(parent) = save.parent() {
        std::fs::create_dir_all(parent).map_err(|e| strata::Error::io(parent, e))?;
    }
    save_weights(&model, &save)?;
    if args.json {
        print_json(serde_json::json!({
            "example": "spoken_digits_wav",
            "device": args.device.to_string(),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "train_samples": train.len(),
            "test_samples": test.len(),
            "train_samples_per_sec": (train.len() * args.epochs) as f64 / train_secs.max(1e-9),
            "test_accuracy": accuracy,
            "synthetic_data": true,
        }));
    }
    Ok(())
}

/// The mean of each coefficient over each of `SEGMENTS` equal stretches of frames, then each
/// coefficient's standard deviation over all frames: a fixed-length vector for any clip.
fn summarise(frames: &[f32]) -> Vec<f32> {
    let n = frames.len() / N_MFCC;
    let mut out = Vec::with_capacity(N_MFCC * (SEGMENTS + 1));
    for s in 0..SEGMENTS {
        let (lo, hi) = (
            s * n / SEGMENTS,
            ((s + 1) * n / SEGMENTS).max(s * n / SEGMENTS + 1).min(n),
        );
        let rows = &frames[lo * N_MFCC..hi * N_MFCC];
        let count = (hi - lo).max(1) as f32;
        out.extend((0..N_MFCC).map(|c| rows.iter().skip(c).step_by(N_MFCC).sum::<f32>() / count));
    }
    for c in 0..N_MFCC {
        let col: Vec<f32> = frames.iter().skip(c).step_by(N_MFCC).copied().collect();
        let mean = col.iter().sum::<f32>() / col.len().max(1) as f32;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / col.len().max(1) as f32;
        out.push(var.sqrt());
    }
    out
}
