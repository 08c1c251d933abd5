//! SMS spam with a bidirectional LSTM: lowercase word tokens, a 10,000-word vocabulary fitted
//! on the training split, sequences truncated/padded to 50 tokens, Embedding(64, padding 0) →
//! BiLSTM(64) over each message's true length (padding never reaches the state) → Dense(2).
//! Adam lr 2e-3. Reports accuracy, precision, recall and F1 (spam = positive) on a held-out,
//! seeded 20% split; with `--json` the last line is one JSON object.
//!
//! `cargo run --release --example sms_spam_lstm -- --json` (the full set under
//! `../shared/data/sms_spam`, else the small committed subset).

mod common;
mod sms;

use std::path::Path;

use common::{Args, Stopwatch, print_json};
use sms::{BinaryMetrics, Vocab, encode_all, gather, load, split};
use strata::layers::{
    BuildContext, CrossEntropyLoss, Dense, Embedding, Lstm, Mode, Module, RnnState,
};
use strata::optim::Adam;
use strata::{Param, Result, Tensor, no_grad, train_step};

const MAX_LEN: usize = 50;
const VOCAB: usize = 10_000;

/// Embedding → BiLSTM (lengths from the padding) → Dense over both final states.
struct SpamLstm {
    embedding: Embedding,
    lstm: Lstm,
    head: Dense,
}

impl Module for SpamLstm {
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
        let e = self.embedding.build(input, ctx)?;
        let l = self.lstm.build(&e, ctx)?;
        self.head.build(&l, ctx)
    }

    fn forward(&self, ids: &Tensor, mode: Mode) -> Result<Tensor> {
        let (batch, steps) = (ids.dims()[0], ids.dims()[1]);
        // Padding is only at the end, so a message's length is its count of non-pad ids.
        let host = ids.to_vec()?;
        let lengths: Vec<f32> = host
            .chunks(steps)
            .map(|r| r.iter().filter(|&&v| v != 0.0).count() as f32)
            .collect();
        let state = RnnState {
            lengths: Some(Tensor::from_vec(lengths, [batch], &ids.device())?),
            ..RnnState::default()
        };
        let out = self
            .lstm
            .forward_seq(&self.embedding.forward(ids, mode)?, &state, mode)?;
        let hidden = out.h_n.dims()[2];
        let last = out.h_n.permute(&[1, 0, 2])?.reshape([batch, 2 * hidden])?;
        self.head.forward(&last, mode)
    }

    fn parameters(&self) -> Vec<Param> {
        let prefixed = |prefix: &str, ps: Vec<Param>| {
            ps.into_iter()
                .map(|p| p.with_prefix(prefix))
                .collect::<Vec<_>>()
        };
        let mut all = prefixed("embedding", self.embedding.parameters());
        all.extend(prefixed("lstm", self.lstm.parameters()));
        all.extend(prefixed("head", self.head.parameters()));
        all
    }

    fn kind(&self) -> String {
        "SpamLstm".into()
    }
}

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
    let mut model = SpamLstm {
        embedding: Embedding::new(vocab.len(), 64).padding_idx(sms::PAD),
        lstm: Lstm::new(64).bidirectional(true),
        head: Dense::new(2),
    };
    model.build(&[MAX_LEN], &mut BuildContext::new(device, args.seed))?;
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
            "example": "sms_spam_lstm",
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
