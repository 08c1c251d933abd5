//! What both SMS classifiers do around their model: prepare the encoded split, train with
//! Adam over seeded reshuffles, and report accuracy, precision, recall and F1 on the held-out
//! 20 %.

use std::path::Path;

use strata::layers::{CrossEntropyLoss, Mode, Module};
use strata::optim::Adam;
use strata::{Result, no_grad, train_step};

use strata::data::text::Vocabulary;

use super::{BinaryMetrics, encode_rows, fit_vocabulary, gather, load, permutation, split};
use crate::common::{Args, Stopwatch, print_json};

/// The SMS messages encoded as padded token ids, split 80/20 (stratified) with the run's seed.
pub struct SmsData {
    /// The vocabulary fitted on the training split.
    pub vocab: Vocabulary,
    /// Padded ids of the training messages, `max_len` each.
    pub train_x: Vec<f32>,
    /// Training labels (1 = spam).
    pub train_y: Vec<f32>,
    /// Padded ids of the held-out messages.
    pub test_x: Vec<f32>,
    /// Held-out labels.
    pub test_y: Vec<f32>,
    /// Tokens per message after padding/truncation.
    pub max_len: usize,
    /// Whether the data is the small committed subset.
    pub is_subset: bool,
}

impl SmsData {
    /// Loads the TSV (shared data or the committed subset), splits it, fits the vocabulary
    /// (at most `vocab_size` words) on the training split and encodes both splits.
    pub fn prepare(args: &Args, max_len: usize, vocab_size: usize) -> Result<SmsData> {
        let subset =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/sms-spam-subset");
        let (dir, is_subset) = args.data_dir("sms_spam", &subset);
        let note = if is_subset {
            " (small committed subset)"
        } else {
            ""
        };
        eprintln!("data: {}{note}", dir.display());
        let (corpus, spam) = load(&dir)?;
        let parts = split(&spam, args.seed)?;
        let mut train = parts.train;
        let test = parts.test;
        if let Some(n) = args.limit {
            train.truncate(n);
        }
        let train_texts: Vec<&str> = train.iter().map(|&r| corpus.texts[r].as_str()).collect();
        let vocab = fit_vocabulary(&train_texts, vocab_size)?;
        let (train_x, train_y) = encode_rows(&vocab, &corpus, &spam, &train, max_len);
        let (test_x, test_y) = encode_rows(&vocab, &corpus, &spam, &test, max_len);
        eprintln!(
            "train {} messages, test {}, vocabulary {}",
            train.len(),
            test.len(),
            vocab.len()
        );
        Ok(SmsData {
            vocab,
            train_x,
            train_y,
            test_x,
            test_y,
            max_len,
            is_subset,
        })
    }

    fn train_len(&self) -> usize {
        self.train_y.len()
    }

    fn test_len(&self) -> usize {
        self.test_y.len()
    }
}

/// Trains `model` (logits `[batch, 2]`) with Adam (`lr` unless `--lr`), reshuffling each
/// epoch with the run's seed, then prints the held-out metrics and, with `--json`, the final
/// JSON line of example `name`.
pub fn fit_and_report(
    name: &str,
    model: &dyn Module,
    data: &SmsData,
    args: &Args,
    lr: f32,
) -> Result<()> {
    let device = args.device;
    let params = model.parameters();
    let mut optimizer = Adam::new(args.lr.unwrap_or(lr));
    let loss_fn = CrossEntropyLoss::new();
    let clock = Stopwatch::start();
    let mut seen = 0usize;
    for epoch in 0..args.epochs {
        let order = permutation(data.train_len(), args.seed + epoch as u64)?;
        let mut total = 0.0;
        for rows in order.chunks(args.batch_size) {
            let x = gather(&data.train_x, data.max_len, rows, &device)?;
            let y = gather(&data.train_y, 1, rows, &device)?.reshape([rows.len()])?;
            total +=
                train_step(model, &params, &loss_fn, &mut optimizer, &x, &y)? * rows.len() as f32;
            seen += rows.len();
        }
        eprintln!(
            "epoch {}: loss {:.4}",
            epoch + 1,
            total / data.train_len() as f32
        );
    }
    let train_secs = clock.secs();

    let mut predicted = Vec::with_capacity(data.test_len());
    let all: Vec<usize> = (0..data.test_len()).collect();
    for rows in all.chunks(256) {
        let x = gather(&data.test_x, data.max_len, rows, &device)?;
        let logits = no_grad(|| model.forward(&x, Mode::Eval))?.to_vec()?;
        predicted.extend(logits.chunks(2).map(|l| l[1] > l[0]));
    }
    let truth: Vec<bool> = data.test_y.iter().map(|&v| v == 1.0).collect();
    let m = BinaryMetrics::new(&predicted, &truth);
    eprintln!(
        "test: accuracy {:.4}, precision {:.4}, recall {:.4}, F1 {:.4}",
        m.accuracy, m.precision, m.recall, m.f1
    );
    if args.json {
        print_json(serde_json::json!({
            "example": name,
            "device": device.to_string(),
            "epochs": args.epochs,
            "train_samples_per_sec": seen as f64 / train_secs,
            "test_accuracy": m.accuracy,
            "test_precision": m.precision,
            "test_recall": m.recall,
            "test_f1": m.f1,
            "train_samples": data.train_len(),
            "test_samples": data.test_len(),
            "subset": data.is_subset,
        }));
    }
    Ok(())
}
