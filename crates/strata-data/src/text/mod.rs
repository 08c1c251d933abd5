//! Text: a tokenizer, a vocabulary fitted on a corpus (token ids with padding and
//! out-of-vocabulary ids, pad/truncate to a fixed length) and a reader for labelled corpora
//! (`label<TAB>text` lines). Host-side only; the ids become an `Embedding` layer's input.

mod corpus;
mod tokenizer;
mod vocab;

pub use corpus::{LabeledText, parse_labeled_text, read_labeled_text};
pub use tokenizer::Tokenizer;
pub use vocab::{Truncate, Vocabulary, VocabularyBuilder};
