//! The SMS spam data for the text examples, prepared with `strata-data`: the labelled TSV
//! reader, a vocabulary fitted on the training split (lower-cased word tokens, digits kept:
//! phone numbers and prices are strong spam cues), padding/truncation, a seeded stratified
//! 80/20 split, plus the binary metrics the examples report.

#![allow(dead_code)]

pub mod run;

use std::path::Path;

use strata::data::split::{Split, stratified_split, train_val_test_split};
use strata::data::text::{LabeledText, Vocabulary, VocabularyBuilder, read_labeled_text};
use strata::{Device, Error, Result, Tensor};

/// Id of the padding token.
pub const PAD: usize = Vocabulary::PAD as usize;

/// The messages of `dir/sms_spam.tsv` (`label<TAB>text`, a header line) and whether each is
/// spam. A label other than `ham`/`spam` is an error naming it.
pub fn load(dir: &Path) -> Result<(LabeledText, Vec<bool>)> {
    let path = dir.join("sms_spam.tsv");
    let corpus = read_labeled_text(&path, '\t', true)?;
    let spam = corpus
        .labels
        .iter()
        .map(|label| match label.as_str() {
            "spam" => Ok(true),
            "ham" => Ok(false),
            other => Err(Error::format(
                &path,
                format!("label `{other}` is neither ham nor spam"),
            )),
        })
        .collect::<Result<Vec<bool>>>()?;
    Ok((corpus, spam))
}

/// The held-out split: 20 % of each class for testing, the rest for training (seeded).
pub fn split(spam: &[bool], seed: u64) -> Result<Split> {
    Ok(stratified_split(spam, 0.0, 0.2, seed)?)
}

/// A seeded permutation of `0..n` (a new one each epoch when the seed changes).
pub fn permutation(n: usize, seed: u64) -> Result<Vec<usize>> {
    Ok(train_val_test_split(n, 0.0, 0.0, seed)?.train)
}

/// Fits at most `max_size` ids (padding and OOV included) on the training texts.
pub fn fit_vocabulary(texts: &[&str], max_size: usize) -> Result<Vocabulary> {
    Ok(VocabularyBuilder::new().max_size(max_size).fit(texts)?)
}

/// Padded ids `[rows.len(), max_len]` and labels `[rows.len()]` (1 = spam) of messages `rows`.
pub fn encode_rows(
    vocab: &Vocabulary,
    corpus: &LabeledText,
    spam: &[bool],
    rows: &[usize],
    max_len: usize,
) -> (Vec<f32>, Vec<f32>) {
    let texts: Vec<&str> = rows.iter().map(|&r| corpus.texts[r].as_str()).collect();
    let labels = rows.iter().map(|&r| f32::from(u8::from(spam[r]))).collect();
    (vocab.encode_batch(&texts, max_len), labels)
}

/// Rows `rows` of a `[n, width]` host matrix as a tensor `[rows.len(), width]`.
pub fn gather(data: &[f32], width: usize, rows: &[usize], device: &Device) -> Result<Tensor> {
    let mut out = Vec::with_capacity(rows.len() * width);
    for &r in rows {
        out.extend_from_slice(&data[r * width..(r + 1) * width]);
    }
    Tensor::from_vec(out, [rows.len(), width], device)
}

/// Accuracy, precision, recall and F1 of binary predictions (spam = positive).
pub struct BinaryMetrics {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl BinaryMetrics {
    /// From predicted and true labels (0 or 1).
    pub fn new(predicted: &[bool], truth: &[bool]) -> Self {
        let (mut tp, mut fp, mut fneg, mut correct) = (0.0, 0.0, 0.0, 0.0);
        for (&p, &t) in predicted.iter().zip(truth) {
            match (p, t) {
                (true, true) => tp += 1.0,
                (true, false) => fp += 1.0,
                (false, true) => fneg += 1.0,
                _ => {}
            }
            if p == t {
                correct += 1.0;
            }
        }
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        let recall = if tp + fneg > 0.0 {
            tp / (tp + fneg)
        } else {
            0.0
        };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        BinaryMetrics {
            accuracy: correct / predicted.len().max(1) as f64,
            precision,
            recall,
            f1,
        }
    }
}
