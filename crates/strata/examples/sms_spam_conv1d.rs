//! SMS spam with a 1-D convolutional text classifier, for comparison with `sms_spam_lstm`:
//! the same tokens, vocabulary, 50-token padding and held-out seeded 20% split; Embedding(64,
//! padding 0) → Conv1d(128, kernel 5, same padding) + ReLU → global max pool → Dense(2), Adam
//! lr 2e-3. Reports accuracy, precision, recall and F1 (spam = positive); with `--json` the
//! last line is one JSON object.
//!
//! `cargo run --release --example sms_spam_conv1d -- --json`.

mod common;
mod sms;

use common::Args;
use sms::run::{SmsData, fit_and_report};
use strata::Result;
use strata::layers::{Conv1d, Dense, Embedding, GlobalMaxPool, Padding, Permute, Relu, Sequential};

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
    let data = SmsData::prepare(&args, MAX_LEN, VOCAB)?;
    let vocab = &data.vocab;
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
    fit_and_report("sms_spam_conv1d", &model, &data, &args, 2e-3)
}
