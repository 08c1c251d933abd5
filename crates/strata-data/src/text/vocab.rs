//! `Vocabulary`: tokens to ids, fitted on a corpus, with padding and out-of-vocabulary ids.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Tokenizer;
use crate::error::{DataError, Result};

/// Which end of a too-long sequence [`Vocabulary::encode_padded`] cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Truncate {
    /// Keep the first tokens (default).
    #[default]
    End,
    /// Keep the last tokens.
    Start,
}

/// Settings for fitting a [`Vocabulary`]: the tokenizer, the minimum count a token needs and
/// the maximum vocabulary size (padding and OOV included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabularyBuilder {
    tokenizer: Tokenizer,
    min_frequency: usize,
    max_size: Option<usize>,
}

impl Default for VocabularyBuilder {
    fn default() -> Self {
        VocabularyBuilder {
            tokenizer: Tokenizer::new(),
            min_frequency: 1,
            max_size: None,
        }
    }
}

impl VocabularyBuilder {
    /// Every token seen at least once, lower-cased.
    pub fn new() -> Self {
        VocabularyBuilder::default()
    }

    /// The tokenizer to split texts with.
    pub fn tokenizer(mut self, tokenizer: Tokenizer) -> Self {
        self.tokenizer = tokenizer;
        self
    }

    /// Keep only tokens seen at least `count` times (default 1).
    pub fn min_frequency(mut self, count: usize) -> Self {
        self.min_frequency = count;
        self
    }

    /// At most `size` ids in all, padding and OOV included (so `size - 2` tokens, the most
    /// frequent; ties broken alphabetically). At least 2.
    pub fn max_size(mut self, size: usize) -> Self {
        self.max_size = Some(size);
        self
    }

    /// Counts the tokens of `texts` and keeps the most frequent.
    pub fn fit<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vocabulary> {
        if let Some(size) = self.max_size.filter(|&s| s < 2) {
            return Err(DataError::invalid(
                "VocabularyBuilder::fit",
                "a max size of at least 2 (padding and OOV ids)",
                size.to_string(),
            ));
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for token in self.tokenizer.tokenize(text.as_ref()) {
                *counts.entry(token).or_insert(0) += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|&(_, n)| n >= self.min_frequency.max(1))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if let Some(size) = self.max_size {
            ranked.truncate(size - 2);
        }
        let tokens: Vec<String> = ranked.into_iter().map(|(t, _)| t).collect();
        Ok(Vocabulary::from_tokens(self.tokenizer.clone(), tokens))
    }
}

/// Token ids: 0 is padding, 1 is out-of-vocabulary, then the fitted tokens from most to
/// least frequent. Serializes with serde (the index is rebuilt on load).
///
/// ```
/// use strata_data::text::VocabularyBuilder;
/// let vocab = VocabularyBuilder::new().fit(&["a b b", "b c"]).unwrap();
/// assert_eq!(vocab.encode("B a zzz"), vec![2, 3, 1]);
/// assert_eq!(vocab.encode_padded("b a b a", 3), vec![2, 3, 2]);
/// assert_eq!(vocab.encode_padded("c", 3), vec![4, 0, 0]);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "VocabularyFile", into = "VocabularyFile")]
pub struct Vocabulary {
    tokenizer: Tokenizer,
    tokens: Vec<String>,
    truncate: Truncate,
    index: HashMap<String, u32>,
}

impl PartialEq for Vocabulary {
    fn eq(&self, other: &Self) -> bool {
        self.tokenizer == other.tokenizer
            && self.tokens == other.tokens
            && self.truncate == other.truncate
    }
}

/// The stored form of a [`Vocabulary`]: the index is derived.
#[derive(Serialize, Deserialize)]
struct VocabularyFile {
    tokenizer: Tokenizer,
    tokens: Vec<String>,
    truncate: Truncate,
}

impl From<VocabularyFile> for Vocabulary {
    fn from(f: VocabularyFile) -> Self {
        Vocabulary::from_tokens(f.tokenizer, f.tokens).truncate(f.truncate)
    }
}

impl From<Vocabulary> for VocabularyFile {
    fn from(v: Vocabulary) -> Self {
        VocabularyFile {
            tokenizer: v.tokenizer,
            tokens: v.tokens,
            truncate: v.truncate,
        }
    }
}

impl Vocabulary {
    /// The id of padding.
    pub const PAD: u32 = 0;
    /// The id of every token not in the vocabulary.
    pub const OOV: u32 = 1;

    /// A vocabulary of `tokens` in id order from 2 (a token listed twice keeps its first id).
    pub fn from_tokens(tokenizer: Tokenizer, tokens: Vec<String>) -> Vocabulary {
        let mut index = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            index.entry(t.clone()).or_insert(i as u32 + 2);
        }
        Vocabulary {
            tokenizer,
            tokens,
            truncate: Truncate::End,
            index,
        }
    }

    /// Which end [`Vocabulary::encode_padded`] cuts from a long text (default: the end).
    pub fn truncate(mut self, side: Truncate) -> Self {
        self.truncate = side;
        self
    }

    /// Number of ids, padding and OOV included: an embedding table's row count.
    pub fn len(&self) -> usize {
        self.tokens.len() + 2
    }

    /// Always false: padding and OOV are always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The id of `token` (as tokenized), [`Vocabulary::OOV`] if unknown.
    pub fn id(&self, token: &str) -> u32 {
        self.index.get(token).copied().unwrap_or(Self::OOV)
    }

    /// The token of `id`: `"<pad>"`, `"<oov>"`, or the fitted token; `None` past the end.
    pub fn token(&self, id: u32) -> Option<&str> {
        match id {
            Self::PAD => Some("<pad>"),
            Self::OOV => Some("<oov>"),
            _ => self.tokens.get(id as usize - 2).map(String::as_str),
        }
    }

    /// The fitted tokens, in id order from 2.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The ids of `text`'s tokens, any length.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.tokenizer
            .tokenize(text)
            .iter()
            .map(|t| self.id(t))
            .collect()
    }

    /// The ids of `text`, cut or padded (with [`Vocabulary::PAD`] after the text) to exactly
    /// `len`.
    pub fn encode_padded(&self, text: &str, len: usize) -> Vec<u32> {
        let mut ids = self.encode(text);
        if ids.len() > len {
            match self.truncate {
                Truncate::End => ids.truncate(len),
                Truncate::Start => {
                    ids.drain(..ids.len() - len);
                }
            }
        }
        ids.resize(len, Self::PAD);
        ids
    }

    /// Every text encoded to `len` ids, as `f32` row after row: `texts.len() × len` values,
    /// ready for `InMemoryDataset` and an embedding layer.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S], len: usize) -> Vec<f32> {
        texts
            .iter()
            .flat_map(|t| self.encode_padded(t.as_ref(), len))
            .map(|id| id as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<&'static str> {
        vec!["the cat sat", "The dog sat", "the end", "a cat"]
    }

    #[test]
    fn ids_follow_frequency_then_alphabet_after_pad_and_oov() {
        let v = VocabularyBuilder::new().fit(&corpus()).unwrap();
        // the:3, cat:2, sat:2, a:1, dog:1, end:1
        assert_eq!(v.tokens(), &["the", "cat", "sat", "a", "dog", "end"]);
        assert_eq!(v.len(), 8);
        assert_eq!(v.encode("The cat flew"), vec![2, 3, 1]);
        assert_eq!(
            (v.token(0), v.token(1), v.token(2), v.token(99)),
            (Some("<pad>"), Some("<oov>"), Some("the"), None)
        );
    }

    #[test]
    fn min_frequency_and_max_size_limit_the_vocabulary() {
        let v = VocabularyBuilder::new()
            .min_frequency(2)
            .fit(&corpus())
            .unwrap();
        assert_eq!(v.tokens(), &["the", "cat", "sat"]);
        let v = VocabularyBuilder::new().max_size(4).fit(&corpus()).unwrap();
        assert_eq!(v.tokens(), &["the", "cat"]);
        assert_eq!(v.encode("sat"), vec![Vocabulary::OOV]);
        assert!(VocabularyBuilder::new().max_size(1).fit(&corpus()).is_err());
    }

    #[test]
    fn keeps_case_with_a_case_sensitive_tokenizer() {
        let v = VocabularyBuilder::new()
            .tokenizer(Tokenizer::new().lowercase(false))
            .fit(&corpus())
            .unwrap();
        assert_eq!(v.encode("The the"), vec![v.id("The"), v.id("the")]);
        assert_ne!(v.id("The"), v.id("the"));
    }

    #[test]
    fn pads_after_and_truncates_either_end() {
        let v = VocabularyBuilder::new().fit(&corpus()).unwrap();
        assert_eq!(v.encode_padded("the cat", 4), vec![2, 3, 0, 0]);
        assert_eq!(v.encode_padded("the cat sat a", 2), vec![2, 3]);
        let v = v.truncate(Truncate::Start);
        assert_eq!(v.encode_padded("the cat sat a", 2), vec![4, 5]);
        assert_eq!(v.encode_padded("", 2), vec![0, 0]);
        assert_eq!(
            v.encode_batch(&["cat", "zz the"], 2),
            vec![3.0, 0.0, 1.0, 2.0]
        );
    }

    #[test]
    fn empty_corpus_gives_only_pad_and_oov() {
        let v = VocabularyBuilder::new().fit::<&str>(&[]).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v.encode("x"), vec![1]);
    }

    #[test]
    fn round_trips_through_json() {
        let v = VocabularyBuilder::new()
            .fit(&corpus())
            .unwrap()
            .truncate(Truncate::Start);
        let back: Vocabulary = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.encode("cat the"), v.encode("cat the"));
    }
}
