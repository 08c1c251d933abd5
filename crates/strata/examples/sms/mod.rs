//! The SMS spam data for the text examples: the TSV (`label<TAB>text`), a lowercase
//! word tokenizer, a vocabulary fitted on the training split, padding/truncation, a seeded
//! stratification-free 80/20 split, and binary metrics. Minimal parsing kept here because the
//! data crate's text readers were still being written when these examples were.

#![allow(dead_code)]

pub mod run;

use std::collections::HashMap;
use std::path::Path;

use strata::{Device, Error, Result, Tensor};

/// Id of the padding token.
pub const PAD: usize = 0;
/// Id of every word outside the vocabulary.
pub const OOV: usize = 1;

/// One message: its words and whether it is spam.
pub struct Message {
    pub words: Vec<String>,
    pub spam: bool,
}

/// Lowercase alphanumeric words (digits kept: phone numbers and prices are strong spam cues).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Reads `dir/sms_spam.tsv`.
pub fn load(dir: &Path) -> Result<Vec<Message>> {
    let path = dir.join("sms_spam.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let Some((label, body)) = line.split_once('\t') else {
            return Err(Error::format(
                &path,
                format!("line {}: no tab between label and text", n + 1),
            ));
        };
        let spam = match label {
            "spam" => true,
            "ham" => false,
            other => {
                return Err(Error::format(
                    &path,
                    format!("line {}: label `{other}` is neither ham nor spam", n + 1),
                ));
            }
        };
        out.push(Message {
            words: tokenize(body),
            spam,
        });
    }
    Ok(out)
}

/// A seeded permutation split: `(train, test)` with `test_fraction` of the messages in test.
pub fn split<T>(mut items: Vec<T>, test_fraction: f64, seed: u64) -> (Vec<T>, Vec<T>) {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    let n_test = (items.len() as f64 * test_fraction).round() as usize;
    let test = items.split_off(items.len() - n_test);
    (items, test)
}

/// Word → id for the `max_size` most frequent training words (ids from 2; 0 pad, 1 unknown).
pub struct Vocab(HashMap<String, usize>);

impl Vocab {
    /// Fits on the training messages.
    pub fn fit(messages: &[Message], max_size: usize) -> Vocab {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for m in messages {
            for w in &m.words {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<(&str, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let map = words
            .into_iter()
            .take(max_size.saturating_sub(2))
            .enumerate()
            .map(|(i, (w, _))| (w.to_string(), i + 2))
            .collect();
        Vocab(map)
    }
    /// Ids including padding and unknown.
    pub fn len(&self) -> usize {
        self.0.len() + 2
    }
    /// Ids of `words`, truncated to `max_len` and padded with `PAD` at the end.
    pub fn encode(&self, words: &[String], max_len: usize) -> Vec<f32> {
        let mut ids: Vec<f32> = words
            .iter()
            .take(max_len)
            .map(|w| *self.0.get(w).unwrap_or(&OOV) as f32)
            .collect();
        if ids.is_empty() {
            ids.push(OOV as f32);
        }
        ids.resize(max_len, PAD as f32);
        ids
    }
}

/// Padded ids `[n, max_len]` and labels `[n]` (1 = spam) of `messages`.
pub fn encode_all(vocab: &Vocab, messages: &[Message], max_len: usize) -> (Vec<f32>, Vec<f32>) {
    let mut ids = Vec::with_capacity(messages.len() * max_len);
    let mut labels = Vec::with_capacity(messages.len());
    for m in messages {
        ids.extend(vocab.encode(&m.words, max_len));
        labels.push(if m.spam { 1.0 } else { 0.0 });
    }
    (ids, labels)
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
