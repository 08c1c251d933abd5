//! `Summary`: a model's layers, output shapes and parameter counts, as data and as a table
//! (like Keras's `model.summary()`).

use std::fmt;

/// One layer of a [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Position in the container (also the prefix of its parameter names).
    pub index: usize,
    /// The layer's [`crate::Module::kind`], e.g. `"Dense(128)"`.
    pub kind: String,
    /// Per-sample output shape (no batch dimension).
    pub output_shape: Vec<usize>,
    /// Number of trainable scalars.
    pub params: usize,
    /// Number of non-trainable saved scalars (buffers).
    pub buffers: usize,
}

/// A table of a model's layers. `Display` prints it with the batch dimension as `None`:
///
/// ```text
/// #  Layer       Output shape  Params
/// ===================================
/// 0  Dense(128)  (None, 128)   100,480
/// ...
/// Total params: 101,770
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    input_shape: Vec<usize>,
    rows: Vec<SummaryRow>,
}

impl Summary {
    /// A summary of a model built for the per-sample `input_shape`.
    pub fn new(input_shape: Vec<usize>, rows: Vec<SummaryRow>) -> Self {
        Summary { input_shape, rows }
    }

    /// The per-sample input shape the model was built for.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// One row per layer.
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// The per-sample output shape of the last layer (of the input for an empty model).
    pub fn output_shape(&self) -> &[usize] {
        match self.rows.last() {
            Some(row) => &row.output_shape,
            None => self.input_shape(),
        }
    }

    /// Trainable scalars over all layers.
    pub fn trainable_params(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }

    /// Non-trainable saved scalars over all layers.
    pub fn non_trainable_params(&self) -> usize {
        self.rows.iter().map(|r| r.buffers).sum()
    }

    /// Every saved scalar: trainable plus non-trainable.
    pub fn total_params(&self) -> usize {
        self.trainable_params() + self.non_trainable_params()
    }
}

/// A per-sample shape with the batch dimension shown as `None`, Python tuple style.
fn batch_shape(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "(None,)".to_string();
    }
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("(None, {})", dims.join(", "))
}

/// `1234567` as `1,234,567`.
fn with_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ["#", "Layer", "Output shape", "Params"];
        let cells: Vec<[String; 4]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.index.to_string(),
                    r.kind.clone(),
                    batch_shape(&r.output_shape),
                    with_thousands(r.params + r.buffers),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line_width = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        writeln!(f, "Input: {}", batch_shape(self.input_shape()))?;
        writeln!(
            f,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
            header[0],
            header[1],
            header[2],
            header[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )?;
        writeln!(f, "{}", "=".repeat(line_width))?;
        for row in &cells {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )?;
        }
        writeln!(f, "{}", "=".repeat(line_width))?;
        writeln!(f, "Total params: {}", with_thousands(self.total_params()))?;
        writeln!(
            f,
            "Trainable params: {}",
            with_thousands(self.trainable_params())
        )?;
        write!(
            f,
            "Non-trainable params: {}",
            with_thousands(self.non_trainable_params())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: usize, kind: &str, shape: &[usize], params: usize) -> SummaryRow {
        SummaryRow {
            index,
            kind: kind.to_string(),
            output_shape: shape.to_vec(),
            params,
            buffers: 0,
        }
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(with_thousands(0), "0");
        assert_eq!(with_thousands(999), "999");
        assert_eq!(with_thousands(1000), "1,000");
        assert_eq!(with_thousands(101_770), "101,770");
        assert_eq!(with_thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn shapes_show_the_batch_as_none() {
        assert_eq!(batch_shape(&[128]), "(None, 128)");
        assert_eq!(batch_shape(&[3, 4]), "(None, 3, 4)");
        assert_eq!(batch_shape(&[]), "(None,)");
    }

    #[test]
    fn table_lists_every_layer_and_the_totals() {
        let s = Summary::new(
            vec![784],
            vec![
                row(0, "Dense(128)", &[128], 100_480),
                row(1, "ReLU", &[128], 0),
            ],
        );
        let text = s.to_string();
        assert!(
            text.contains("Dense(128)") && text.contains("(None, 128)"),
            "{text}"
        );
        assert!(text.contains("100,480"), "{text}");
        assert!(text.contains("Total params: 100,480"), "{text}");
        assert_eq!(s.output_shape(), &[128]);
    }
}
