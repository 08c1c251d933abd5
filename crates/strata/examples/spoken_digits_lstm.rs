//! Spoken digits (FSDD as 13-coefficient MFCC sequences, 6-92 frames) with a bidirectional
//! LSTM: coefficients standardized on the training split, sequences padded to the longest and
//! run over their true lengths, both final states → Dense(10). Adam lr 3e-3, held-out seeded
//! 20% split stratified by digit; with `--json` the last line is one JSON object.
//!
//! `cargo run --release --example spoken_digits_lstm -- --json`. The CSVs are read with
//! `strata-data`'s `CsvReader`, the split is its stratified split and the scaling its
//! `StandardScaler`.

mod common;

use std::path::Path;

use common::{Args, Stopwatch, print_json};
use strata::data::CsvReader;
use strata::data::preprocess::StandardScaler;
use strata::data::split::{stratified_split, train_val_test_split};
use strata::layers::{
    BuildContext, CrossEntropyLoss, Dense, LayerConfig, Lstm, Mode, Module, RnnState,
};
use strata::optim::Adam;
use strata::{Device, Error, Param, Result, Tensor, no_grad};

const COEFFS: usize = 13;

/// One utterance: frames × 13 coefficients and its digit.
struct Utterance {
    frames: Vec<f32>,
    label: usize,
}

/// Reads `utterances.csv` (utt, label, n_frames, first_row) and `mfcc.csv` (utt, frame,
/// c0..c12) and cuts the MFCC rows into utterances.
fn load(dir: &Path) -> Result<Vec<Utterance>> {
    let utts = CsvReader::new().read(dir.join("utterances.csv"))?;
    let mfcc = CsvReader::new().read(dir.join("mfcc.csv"))?;
    let coeffs: Vec<&[f32]> = (0..COEFFS)
        .map(|c| mfcc.numeric(&format!("c{c}")))
        .collect::<strata::data::Result<_>>()?;
    let (labels, n_frames, first_rows) = (
        utts.numeric("label")?,
        utts.numeric("n_frames")?,
        utts.numeric("first_row")?,
    );
    (0..utts.rows())
        .map(|u| {
            let (n, first) = (n_frames[u] as usize, first_rows[u] as usize);
            if first + n > mfcc.rows() {
                return Err(Error::format(
                    dir.join("mfcc.csv"),
                    format!(
                        "utterance {u} needs rows {first}..{} but the file has {}",
                        first + n,
                        mfcc.rows()
                    ),
                ));
            }
            let frames = (first..first + n)
                .flat_map(|row| coeffs.iter().map(move |c| c[row]))
                .collect();
            Ok(Utterance {
                frames,
                label: labels[u] as usize,
            })
        })
        .collect()
}

/// A seeded 80/20 split stratified by digit.
fn split(utts: Vec<Utterance>, seed: u64) -> Result<(Vec<Utterance>, Vec<Utterance>)> {
    let labels: Vec<usize> = utts.iter().map(|u| u.label).collect();
    let parts = stratified_split(&labels, 0.0, 0.2, seed)?;
    let mut slots: Vec<Option<Utterance>> = utts.into_iter().map(Some).collect();
    let mut take = |rows: &[usize]| -> Vec<Utterance> {
        rows.iter().filter_map(|&r| slots[r].take()).collect()
    };
    let train = take(&parts.train);
    let test = take(&parts.test);
    Ok((train, test))
}

/// BiLSTM over the true lengths → Dense on both final states.
struct DigitLstm {
    lstm: Lstm,
    head: Dense,
}

impl DigitLstm {
    fn logits(&self, x: &Tensor, lengths: &Tensor, mode: Mode) -> Result<Tensor> {
        let state = RnnState {
            lengths: Some(lengths.clone()),
            ..RnnState::default()
        };
        let out = self.lstm.forward_seq(x, &state, mode)?;
        let (batch, hidden) = (out.h_n.dims()[1], out.h_n.dims()[2]);
        self.head.forward(
            &out.h_n.permute(&[1, 0, 2])?.reshape([batch, 2 * hidden])?,
            mode,
        )
    }
    fn parameters(&self) -> Vec<Param> {
        let mut p = self.lstm.parameters();
        p.extend(
            self.head
                .parameters()
                .into_iter()
                .map(|p| p.with_prefix("head")),
        );
        p
    }
}

/// A batch: padded frames `[n, max_len, 13]`, lengths `[n]`, labels `[n]`.
fn batch(utts: &[&Utterance], device: &Device) -> Result<(Tensor, Tensor, Tensor)> {
    let max_len = utts
        .iter()
        .map(|u| u.frames.len() / COEFFS)
        .max()
        .unwrap_or(1);
    let mut x = vec![0.0f32; utts.len() * max_len * COEFFS];
    for (i, u) in utts.iter().enumerate() {
        x[i * max_len * COEFFS..i * max_len * COEFFS + u.frames.len()].copy_from_slice(&u.frames);
    }
    let lengths: Vec<f32> = utts
        .iter()
        .map(|u| (u.frames.len() / COEFFS) as f32)
        .collect();
    let labels: Vec<f32> = utts.iter().map(|u| u.label as f32).collect();
    Ok((
        Tensor::from_vec(x, [utts.len(), max_len, COEFFS], device)?,
        Tensor::from_vec(lengths, [utts.len()], device)?,
        Tensor::from_vec(labels, [utts.len()], device)?,
    ))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(15, 32)?;
    let subset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/fsdd-mfcc-subset");
    let (dir, is_subset) = args.data_dir("fsdd_mfcc", &subset);
    eprintln!(
        "data: {}{}",
        dir.display(),
        if is_subset {
            " (small committed subset)"
        } else {
            ""
        }
    );
    let (mut train, mut test) = split(load(&dir)?, args.seed)?;
    if let Some(n) = args.limit {
        train.truncate(n);
    }
    // Standardize each coefficient with the training frames' mean and standard deviation.
    let mut scaler = StandardScaler::new();
    let train_frames: Vec<f32> = train
        .iter()
        .flat_map(|u| u.frames.iter().copied())
        .collect();
    scaler.fit(&train_frames, COEFFS)?;
    for u in train.iter_mut().chain(test.iter_mut()) {
        scaler.transform_in_place(&mut u.frames, COEFFS)?;
    }
    eprintln!("train {} utterances, test {}", train.len(), test.len());

    let device = args.device;
    let mut ctx = BuildContext::new(device, args.seed);
    let lstm = Lstm::new(96)
        .bidirectional(true)
        .build(&[1, COEFFS], &mut ctx)?;
    let head = Dense::new(10).build(&lstm.output_shape(&[1, COEFFS])?, &mut ctx)?;
    let model = DigitLstm { lstm, head };
    let params = model.parameters();
    let mut optimizer = Adam::new(args.lr.unwrap_or(3e-3));
    let loss_fn = CrossEntropyLoss::new();
    let clock = Stopwatch::start();
    let mut seen = 0usize;
    for epoch in 0..args.epochs {
        // A fresh seeded permutation each epoch, then batches.
        let order =
            train_val_test_split(train.len(), 0.0, 0.0, args.seed + epoch as u64 + 1)?.train;
        let mut total = 0.0;
        for rows in order.chunks(args.batch_size) {
            let utts: Vec<&Utterance> = rows.iter().map(|&r| &train[r]).collect();
            let (x, lengths, y) = batch(&utts, &device)?;
            let logits = model.logits(&x, &lengths, Mode::Train)?;
            let loss = strata::layers::Loss::forward(&loss_fn, &logits, &y)?;
            let grads = loss.backward()?;
            strata::optim::Optimizer::step(&mut optimizer, &params, &grads)?;
            total += loss.to_scalar()? * rows.len() as f32;
            seen += rows.len();
        }
        eprintln!(
            "epoch {}: loss {:.4}",
            epoch + 1,
            total / train.len() as f32
        );
    }
    let train_secs = clock.secs();

    let mut correct = 0usize;
    for chunk in test.chunks(256) {
        let utts: Vec<&Utterance> = chunk.iter().collect();
        let (x, lengths, _) = batch(&utts, &device)?;
        let logits = no_grad(|| model.logits(&x, &lengths, Mode::Eval))?.to_vec()?;
        for (row, u) in logits.chunks(10).zip(chunk) {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > row[b] { i } else { b });
            correct += usize::from(best == u.label);
        }
    }
    let accuracy = correct as f64 / test.len().max(1) as f64;
    eprintln!("test accuracy {accuracy:.4}");
    if args.json {
        print_json(serde_json::json!({
            "example": "spoken_digits_lstm",
            "device": device.to_string(),
            "epochs": args.epochs,
            "train_samples_per_sec": seen as f64 / train_secs,
            "test_accuracy": accuracy,
            "train_samples": train.len(),
            "test_samples": test.len(),
            "subset": is_subset,
        }));
    }
    Ok(())
}
