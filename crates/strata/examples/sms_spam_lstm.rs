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

use common::Args;
use sms::run::{SmsData, fit_and_report};
use strata::layers::{BuildContext, Dense, Embedding, LayerConfig, Lstm, Mode, Module, RnnState};
use strata::{Param, Result, Tensor};

const MAX_LEN: usize = 50;
const VOCAB: usize = 10_000;

/// Embedding → BiLSTM (lengths from the padding) → Dense over both final states.
struct SpamLstm {
    embedding: Embedding,
    lstm: Lstm,
    head: Dense,
}

impl SpamLstm {
    /// Builds the three layers for `[steps]` token ids, each for the output of the one before.
    fn build(vocab: usize, steps: usize, ctx: &mut BuildContext) -> Result<Self> {
        let embedding = Embedding::new(vocab, 64)
            .padding_idx(sms::PAD)
            .build(&[steps], ctx)?;
        let e = embedding.output_shape(&[steps])?;
        let lstm = Lstm::new(64).bidirectional(true).build(&e, ctx)?;
        let head = Dense::new(2).build(&lstm.output_shape(&e)?, ctx)?;
        Ok(SpamLstm {
            embedding,
            lstm,
            head,
        })
    }
}

impl Module for SpamLstm {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let e = self.embedding.output_shape(input)?;
        self.head.output_shape(&self.lstm.output_shape(&e)?)
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
    let data = SmsData::prepare(&args, MAX_LEN, VOCAB)?;
    let vocab = &data.vocab;
    let device = args.device;
    let model = SpamLstm::build(
        vocab.len(),
        MAX_LEN,
        &mut BuildContext::new(device, args.seed),
    )?;
    fit_and_report("sms_spam_lstm", &model, &data, &args, 2e-3)
}
