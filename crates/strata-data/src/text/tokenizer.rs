//! `Tokenizer`: text into word tokens.

use serde::{Deserialize, Serialize};

/// Splits text into tokens: runs of letters and digits (an apostrophe inside a word stays, as
/// in `don't`); everything else separates. Lower-cases by default.
///
/// ```
/// use strata_data::text::Tokenizer;
/// assert_eq!(Tokenizer::new().tokenize("Don't STOP, 2 go!"), vec!["don't", "stop", "2", "go"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokenizer {
    lowercase: bool,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer { lowercase: true }
    }
}

impl Tokenizer {
    /// A lower-casing word tokenizer.
    pub fn new() -> Self {
        Tokenizer::default()
    }

    /// Whether to lower-case tokens (default: yes).
    pub fn lowercase(mut self, lowercase: bool) -> Self {
        self.lowercase = lowercase;
        self
    }

    /// The tokens of `text`, in order.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        let mut current = String::new();
        let chars: Vec<char> = text.chars().collect();
        for (i, &ch) in chars.iter().enumerate() {
            let inner_apostrophe = ch == '\''
                && !current.is_empty()
                && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
            if ch.is_alphanumeric() || inner_apostrophe {
                if self.lowercase {
                    current.extend(ch.to_lowercase());
                } else {
                    current.push(ch);
                }
            } else if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            tokens.push(current);
        }
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_punctuation_and_space_and_lowercases() {
        assert_eq!(
            Tokenizer::new().tokenize("  Hello,world!! 42x  'quoted' it's"),
            vec!["hello", "world", "42x", "quoted", "it's"]
        );
    }

    #[test]
    fn keeps_case_when_asked_and_handles_empty_text() {
        assert_eq!(
            Tokenizer::new().lowercase(false).tokenize("Ab cD"),
            vec!["Ab", "cD"]
        );
        assert!(Tokenizer::new().tokenize("").is_empty());
        assert!(Tokenizer::new().tokenize(" ,.! ").is_empty());
    }

    #[test]
    fn lowercases_non_ascii_letters() {
        assert_eq!(
            Tokenizer::new().tokenize("ÉTÉ Straße"),
            vec!["été", "straße"]
        );
    }
}
