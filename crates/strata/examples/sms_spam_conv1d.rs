//! SMS spam with a 1-D convolutional text classifier, for comparison with `sms_spam_lstm`:
//! the same tokens, vocabulary, 50-token padding and held-out seeded 20% split; Embedding(64,
//! padding 0) → Conv1d(128, kernel 5, same padding) + ReLU → global max pool → Dense(2), Adam
//! lr 2e-3. Reports accuracy, precision, recall and F1 (spam = positive); with `--json` the
//! last line is one JSON object.
//!
//! `cargo run --release --example sms_spam_conv1d -- --json`.

mod common;
mod sms;

use std::path::Path;

use common::{Args, Stopwatch, print_json};
use sms::{BinaryMetrics, Vocab, encode_all, gather, load, split};
use strata::layers::{
    Conv1d, CrossEntropyLoss, Dense, Embedding, GlobalMaxPool, Mode, Module, Padding, Permute,
    Relu, Sequential,
};
use strata::optim::Adam;
use strata::{Result, no_grad, train_step};

const MAX_LEN: usize = 50;
const VOCAB: usize = 10_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(5, 32)?;
    let subset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/sms-spam-subset");
    let (dir, is_subset) = args.data_dir("sms_spam", &subset);
    eprintln!(
        "data: {}{}",
        dir.display(),
        if is_subset {
            " (small committed subset)"
        } else {
            ""
        }
    );
    let (mut train, test) = split(load(&dir)?, 0.2, args.seed);
    if let Some(n) = args.limit {
        train.truncate(n);
    }
    let vocab = Vocab::fit(&train, VOCAB);
    let (train_x, train_y) = encode_all(&vocab, &train, MAX_LEN);
    let (test_x, test_y) = encode_all(&vocab, &test, MAX_LEN);
    eprintln!(
        "train {} messages, test {}, vocabulary {}",
        train.len(),
        test.len(),
        vocab.len()
    );

    let device = args.device;
    let model = Sequential::new()
        .add(Embedding::new(vocab.len(), 64).padding_idx(sms::PAD))
        .add(Permute::new(&[1, 0]))
        .add(Conv1d::new(128, 5).padding(Padding::Same))
        .add(Relu)
        .add(GlobalMaxPool)
        .add(Dense::new(2))
        .build(&[MAX_LEN], &device, args.seed)?;
    eprintln!("{}", model.summary());
    let params = model.parameters();
    let mut optimizer = Adam::new(args.lr.unwrap_or(2e-3));
    let loss_fn = CrossEntropyLoss::new();
    let clock = Stopwatch::start();
    let mut seen = 0usize;
    for epoch in 0..args.epochs {
        let (order, _) = split(
            (0..train.len()).collect::<Vec<_>>(),
            0.0,
            args.seed + epoch as u64,
        );
        let mut total = 0.0;
        for rows in order.chunks(args.batch_size) {
            let x = gather(&train_x, MAX_LEN, rows, &device)?;
            let y = gather(&train_y, 1, rows, &device)?.reshape([rows.len()])?;
            total +=
                train_step(&model, &params, &loss_fn, &mut optimizer, &x, &y)? * rows.len() as f32;
            seen += rows.len();
        }
        eprintln!(
            "epoch {}: loss {:.4}",
            epoch + 1,
            total / train.len() as f32
        );
    }
    let train_secs = clock.secs();

    let mut predicted = Vec::with_capacity(test.len());
    let all: Vec<usize> = (0..test.len()).collect();
    for rows in all.chunks(256) {
        let x = gather(&test_x, MAX_LEN, rows, &device)?;
        let logits = no_grad(|| model.forward(&x, Mode::Eval))?.to_vec()?;
        predicted.extend(logits.chunks(2).map(|l| l[1] > l[0]));
    }
    let truth: Vec<bool> = test_y.iter().map(|&v| v == 1.0).collect();
    let m = BinaryMetrics::new(&predicted, &truth);
    eprintln!(
        "test: accuracy {:.4}, precision {:.4}, recall {:.4}, F1 {:.4}",
        m.accuracy, m.precision, m.recall, m.f1
    );
    if args.json {
        print_json(serde_json::json!({
            "example": "sms_spam_conv1d",
            "device": device.to_string(),
            "epochs": args.epochs,
            "train_samples_per_sec": seen as f64 / train_secs,
            "test_accuracy": m.accuracy,
            "test_precision": m.precision,
            "test_recall": m.recall,
            "test_f1": m.f1,
            "train_samples": train.len(),
            "test_samples": test.len(),
            "subset": is_subset,
        }));
    }
    Ok(())
}
