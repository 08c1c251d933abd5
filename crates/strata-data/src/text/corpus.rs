//! Labelled text corpora: one sample per line, `label<DELIM>text`.

use std::path::Path;

use crate::error::{DataError, Position, Result};

/// Texts and their labels, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabeledText {
    /// The label of each text, as written.
    pub labels: Vec<String>,
    /// The texts.
    pub texts: Vec<String>,
}

impl LabeledText {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The distinct labels, sorted, and each text's label as an index into them.
    pub fn label_ids(&self) -> (Vec<String>, Vec<usize>) {
        let mut classes = self.labels.clone();
        classes.sort();
        classes.dedup();
        let ids = self
            .labels
            .iter()
            .map(|l| classes.binary_search(l).unwrap_or(0))
            .collect();
        (classes, ids)
    }
}

/// Reads `path`: each non-empty line is a label, the first `delimiter`, then the text (which
/// may contain more delimiters). With `has_header` the first line is skipped. A line with no
/// delimiter or an empty label is an error naming the line.
///
/// ```no_run
/// let sms = strata_data::text::read_labeled_text("sms_spam/sms_spam.tsv", '\t', true).unwrap();
/// ```
pub fn read_labeled_text(
    path: impl AsRef<Path>,
    delimiter: char,
    has_header: bool,
) -> Result<LabeledText> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_labeled_text(&bytes, path, delimiter, has_header)
}

/// [`read_labeled_text`] on the contents of a file called `name` (used in errors).
pub fn parse_labeled_text(
    bytes: &[u8],
    name: &Path,
    delimiter: char,
    has_header: bool,
) -> Result<LabeledText> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        DataError::format(
            name,
            Position::LineColumn { line, column: 1 },
            "UTF-8 text",
            format!("a byte that is not UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let mut out = LabeledText::default();
    for (i, line) in text.lines().enumerate().skip(usize::from(has_header)) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let at = Position::LineColumn {
            line: i as u64 + 1,
            column: 1,
        };
        let Some((label, body)) = line.split_once(delimiter) else {
            return Err(DataError::format(
                name,
                at,
                format!("`label{}text`", delimiter.escape_default()),
                "a line without the delimiter",
            ));
        };
        if label.trim().is_empty() {
            return Err(DataError::format(name, at, "a label", "an empty field"));
        }
        out.labels.push(label.trim().to_string());
        out.texts.push(body.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_and_texts_skipping_header_and_blank_lines() {
        let t = parse_labeled_text(
            b"label\ttext\nham\thi\tthere\n\nspam\tWIN\r\n",
            Path::new("s.tsv"),
            '\t',
            true,
        )
        .unwrap();
        assert_eq!(t.labels, vec!["ham", "spam"]);
        assert_eq!(t.texts, vec!["hi\tthere", "WIN"]);
        assert_eq!(
            t.label_ids(),
            (vec!["ham".into(), "spam".into()], vec![0, 1])
        );
    }

    #[test]
    fn a_line_without_delimiter_names_the_line() {
        let e = parse_labeled_text(b"ham\tok\nbroken\n", Path::new("s.tsv"), '\t', false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s.tsv (line 2, column 1): expected `label\\ttext`, found a line without the delimiter"
        );
    }

    #[test]
    fn empty_file_is_an_empty_corpus() {
        assert!(
            parse_labeled_text(b"", Path::new("e.tsv"), '\t', true)
                .unwrap()
                .is_empty()
        );
    }
}
