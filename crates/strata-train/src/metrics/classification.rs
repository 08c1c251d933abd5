//! Classification metrics: accuracy, top-k accuracy, the confusion matrix, and precision,
//! recall and F1 (macro-averaged and per class) read from it.

use std::borrow::Cow;

use strata_core::{Error, Result, Tensor};

use super::{Metric, MetricBatch};

/// A batch read from the shared host copy: `scores` row-major `[batch, classes]`, `labels`
/// as indices.
struct ClassBatch<'b> {
    scores: Cow<'b, [f32]>,
    classes: usize,
    labels: Vec<usize>,
}

impl<'b> ClassBatch<'b> {
    /// Reads and checks a batch: predictions `[batch, classes]` (or one binary logit column,
    /// turned into the two scores `[0, logit]`), targets `[batch]` (or `[batch, 1]`) of
    /// integer class indices in `0..classes`.
    fn read(op: &'static str, batch: &'b MetricBatch<'_>) -> Result<Self> {
        let (predictions, targets) = (batch.predictions(), batch.targets());
        let dims = predictions.dims();
        let (rows, columns) = match dims {
            [b] => (*b, 1),
            [b, c] => (*b, *c),
            _ => {
                return Err(Error::shape(
                    op,
                    format!(
                        "predictions must be [batch, classes] scores (or [batch] binary logits); \
                         got {}",
                        predictions.shape()
                    ),
                ));
            }
        };
        if targets.elem_count() != rows || targets.rank() > 2 {
            return Err(Error::shape(
                op,
                format!(
                    "targets must be [batch] class indices for predictions {}; got {}",
                    predictions.shape(),
                    targets.shape()
                ),
            ));
        }
        let (raw, raw_labels) = batch.host()?;
        let (scores, classes) = if columns == 1 {
            (
                Cow::Owned(raw.iter().flat_map(|&logit| [0.0, logit]).collect()),
                2,
            )
        } else {
            (Cow::Borrowed(raw), columns)
        };
        let labels = raw_labels
            .iter()
            .map(|&v| {
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes {
                    Ok(v as usize)
                } else {
                    Err(Error::invalid(
                        op,
                        format!(
                            "target {v} is not a class index in 0..{classes} (predictions are {})",
                            predictions.shape()
                        ),
                    ))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ClassBatch {
            scores,
            classes,
            labels,
        })
    }

    fn rows(&self) -> impl Iterator<Item = (&[f32], usize)> {
        self.scores
            .chunks_exact(self.classes)
            .zip(self.labels.iter().copied())
    }
}

/// The index of the largest score (the first on ties, as `torch.argmax`); NaN never wins.
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}

/// The fraction of samples whose highest score is at their label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accuracy {
    correct: u64,
    total: u64,
}

impl Accuracy {
    /// Accuracy over an empty stream.
    pub fn new() -> Self {
        Accuracy::default()
    }
}

impl Metric for Accuracy {
    fn name(&self) -> String {
        "accuracy".into()
    }

    fn update(&mut self, predictions: &Tensor, targets: &Tensor) -> Result<()> {
        self.update_batch(&MetricBatch::new(predictions, targets))
    }

    fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
        let batch = ClassBatch::read("Accuracy", batch)?;
        for (row, label) in batch.rows() {
            self.correct += u64::from(argmax(row) == label);
            self.total += 1;
        }
        Ok(())
    }

    fn compute(&self) -> f64 {
        ratio(self.correct, self.total)
    }

    fn reset(&mut self) {
        *self = Accuracy::default();
    }
}

/// The fraction of samples whose label is among their `k` highest scores. A label tied with
/// the `k`-th score counts only if fewer than `k` scores are strictly higher (ties favour the
/// sample, as `torch.topk` usually does for the first occurrence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopKAccuracy {
    k: usize,
    correct: u64,
    total: u64,
}

impl TopKAccuracy {
    /// Top-`k` accuracy; `k` must be at least 1 (checked at the first update).
    pub fn new(k: usize) -> Self {
        TopKAccuracy {
            k,
            correct: 0,
            total: 0,
        }
    }
}

impl Metric for TopKAccuracy {
    fn name(&self) -> String {
        format!("top{}_accuracy", self.k)
    }

    fn update(&mut self, predictions: &Tensor, targets: &Tensor) -> Result<()> {
        self.update_batch(&MetricBatch::new(predictions, targets))
    }

    fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
        if self.k == 0 {
            return Err(Error::invalid(
                "TopKAccuracy",
                "k must be at least 1; got 0",
            ));
        }
        let batch = ClassBatch::read("TopKAccuracy", batch)?;
        for (row, label) in batch.rows() {
            let target = row[label];
            let higher = row.iter().filter(|&&v| v > target).count();
            self.correct += u64::from(!target.is_nan() && higher < self.k);
            self.total += 1;
        }
        Ok(())
    }

    fn compute(&self) -> f64 {
        ratio(self.correct, self.total)
    }

    fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
    }
}

/// Counts of (true class, predicted class) pairs. The number of classes grows with the widest
/// prediction seen (or can be fixed up front with [`ConfusionMatrix::with_classes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `[true][predicted]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix that learns the number of classes from the predictions.
    pub fn new() -> Self {
        ConfusionMatrix::default()
    }

    /// An empty matrix of `classes` × `classes`.
    pub fn with_classes(classes: usize) -> Self {
        let mut m = ConfusionMatrix::new();
        m.grow(classes);
        m
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many samples of true class `actual` were predicted as `predicted` (0 outside the
    /// matrix).
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        if actual < self.classes && predicted < self.classes {
            self.counts[actual * self.classes + predicted]
        } else {
            0
        }
    }

    /// The rows: `rows()[actual][predicted]`.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        if self.classes == 0 {
            return Vec::new();
        }
        self.counts
            .chunks_exact(self.classes)
            .map(<[u64]>::to_vec)
            .collect()
    }

    /// Number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds one sample.
    pub fn add(&mut self, actual: usize, predicted: usize) {
        self.grow(actual.max(predicted) + 1);
        self.counts[actual * self.classes + predicted] += 1;
    }

    fn grow(&mut self, classes: usize) {
        if classes <= self.classes {
            return;
        }
        let mut counts = vec![0; classes * classes];
        for a in 0..self.classes {
            for p in 0..self.classes {
                counts[a * classes + p] = self.counts[a * self.classes + p];
            }
        }
        self.classes = classes;
        self.counts = counts;
    }

    /// Precision of class `c`: true positives over predicted positives (0 when nothing was
    /// predicted as `c`, scikit-learn's `zero_division=0`).
    pub fn precision(&self, c: usize) -> f64 {
        let predicted: u64 = (0..self.classes).map(|a| self.count(a, c)).sum();
        ratio_or_zero(self.count(c, c), predicted)
    }

    /// Recall of class `c`: true positives over actual positives (0 when `c` never occurs).
    pub fn recall(&self, c: usize) -> f64 {
        let actual: u64 = (0..self.classes).map(|p| self.count(c, p)).sum();
        ratio_or_zero(self.count(c, c), actual)
    }

    /// F1 of class `c`: the harmonic mean of its precision and recall (0 when both are 0).
    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// The fraction of samples on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let diagonal: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        ratio(diagonal, self.total())
    }

    fn update_from(&mut self, op: &'static str, batch: &MetricBatch<'_>) -> Result<()> {
        let batch = ClassBatch::read(op, batch)?;
        self.grow(batch.classes);
        for (row, label) in batch.rows() {
            self.add(label, argmax(row));
        }
        Ok(())
    }

    fn macro_average(&self, per_class: impl Fn(&Self, usize) -> f64) -> f64 {
        if self.classes == 0 {
            return f64::NAN;
        }
        (0..self.classes).map(|c| per_class(self, c)).sum::<f64>() / self.classes as f64
    }
}

impl Metric for ConfusionMatrix {
    fn name(&self) -> String {
        "confusion_accuracy".into()
    }

    fn update(&mut self, predictions: &Tensor, targets: &Tensor) -> Result<()> {
        self.update_batch(&MetricBatch::new(predictions, targets))
    }

    fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
        self.update_from("ConfusionMatrix", batch)
    }

    /// The accuracy read from the matrix; the counts themselves are in
    /// [`ConfusionMatrix::rows`].
    fn compute(&self) -> f64 {
        self.accuracy()
    }

    fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
    }
}

macro_rules! per_class_metric {
    ($(#[$doc:meta])* $name:ident, $label:literal, $method:ident) => {
        $(#[$doc])*
        ///
        /// [`Metric::compute`] is the macro average (the unweighted mean over classes, as
        /// scikit-learn's `average="macro"`, with `zero_division=0`); [`Metric::values`] adds
        /// one value per class.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            matrix: ConfusionMatrix,
        }

        impl $name {
            /// The metric over an empty stream; the number of classes is learnt from the
            /// predictions.
            pub fn new() -> Self {
                $name::default()
            }

            /// The metric with a fixed number of classes (so classes absent from the data
            /// still count in the macro average).
            pub fn with_classes(classes: usize) -> Self {
                $name {
                    matrix: ConfusionMatrix::with_classes(classes),
                }
            }

            /// The value of each class, in class order.
            pub fn per_class(&self) -> Vec<f64> {
                (0..self.matrix.classes())
                    .map(|c| self.matrix.$method(c))
                    .collect()
            }

            /// The confusion matrix it is read from.
            pub fn matrix(&self) -> &ConfusionMatrix {
                &self.matrix
            }
        }

        impl Metric for $name {
            fn name(&self) -> String {
                $label.into()
            }

            fn update(&mut self, predictions: &Tensor, targets: &Tensor) -> Result<()> {
                self.update_batch(&MetricBatch::new(predictions, targets))
            }

            fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
                self.matrix.update_from(stringify!($name), batch)
            }

            fn compute(&self) -> f64 {
                self.matrix.macro_average(ConfusionMatrix::$method)
            }

            fn reset(&mut self) {
                self.matrix.reset();
            }

            fn values(&self) -> Vec<(String, f64)> {
                let mut out = vec![(self.name(), self.compute())];
                out.extend(
                    self.per_class()
                        .into_iter()
                        .enumerate()
                        .map(|(c, v)| (format!("{}_{c}", $label), v)),
                );
                out
            }
        }
    };
}

per_class_metric!(
    /// Precision: of the samples predicted as a class, the fraction that belong to it.
    Precision,
    "precision",
    precision
);
per_class_metric!(
    /// Recall: of the samples of a class, the fraction predicted as it.
    Recall,
    "recall",
    recall
);
per_class_metric!(
    /// F1: the harmonic mean of precision and recall, per class.
    F1,
    "f1",
    f1
);

/// `num / den`, NaN for an empty stream.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}

/// `num / den`, 0 when `den` is 0 (scikit-learn's `zero_division=0`).
fn ratio_or_zero(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn t(values: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_slice(values, shape.to_vec(), &Device::cpu()).unwrap()
    }

    /// Four samples, three classes. Predicted (argmax): 0, 2, 1, 2; labels: 0, 1, 1, 2.
    fn batch() -> (Tensor, Tensor) {
        (
            t(
                &[
                    0.9, 0.05, 0.05, //
                    0.1, 0.3, 0.6, //
                    0.2, 0.5, 0.3, //
                    0.1, 0.2, 0.7,
                ],
                &[4, 3],
            ),
            t(&[0.0, 1.0, 1.0, 2.0], &[4]),
        )
    }

    #[test]
    fn accuracy_counts_argmax_hits_across_batches() {
        let (p, y) = batch();
        let mut m = Accuracy::new();
        assert!(m.compute().is_nan());
        m.update(&p, &y).unwrap();
        assert_eq!(m.compute(), 0.75);
        m.update(&p, &y).unwrap();
        assert_eq!(m.compute(), 0.75);
        m.reset();
        assert!(m.compute().is_nan());
    }

    #[test]
    fn top2_accuracy_accepts_the_second_highest_score() {
        let (p, y) = batch();
        let mut m = TopKAccuracy::new(2);
        m.update(&p, &y).unwrap();
        // Sample 1: label 1 scores 0.3, second highest: counted. All four hit.
        assert_eq!(m.compute(), 1.0);
        let mut top1 = TopKAccuracy::new(1);
        top1.update(&p, &y).unwrap();
        assert_eq!(top1.compute(), 0.75);
        assert_eq!(m.name(), "top2_accuracy");
    }

    #[test]
    fn confusion_matrix_counts_true_rows_and_predicted_columns() {
        let (p, y) = batch();
        let mut m = ConfusionMatrix::new();
        m.update(&p, &y).unwrap();
        assert_eq!(m.rows(), vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert_eq!(m.total(), 4);
    }

    #[test]
    fn precision_recall_f1_macro_and_per_class_by_hand() {
        let (p, y) = batch();
        // Class 0: P 1/1, R 1/1. Class 1: P 1/1, R 1/2. Class 2: P 1/2, R 1/1.
        let mut precision = Precision::new();
        let mut recall = Recall::new();
        let mut f1 = F1::new();
        for m in [
            &mut precision as &mut dyn Metric,
            &mut recall as &mut dyn Metric,
            &mut f1 as &mut dyn Metric,
        ] {
            m.update(&p, &y).unwrap();
        }
        assert_eq!(precision.per_class(), vec![1.0, 1.0, 0.5]);
        assert_eq!(recall.per_class(), vec![1.0, 0.5, 1.0]);
        assert!((precision.compute() - 2.5 / 3.0).abs() < 1e-12);
        assert!((recall.compute() - 2.5 / 3.0).abs() < 1e-12);
        let f1_class = 2.0 * 0.5 / 1.5;
        assert_eq!(f1.per_class(), vec![1.0, f1_class, f1_class]);
        assert!((f1.compute() - (1.0 + 2.0 * f1_class) / 3.0).abs() < 1e-12);
        let names: Vec<String> = f1.values().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["f1", "f1_0", "f1_1", "f1_2"]);
    }

    #[test]
    fn a_class_never_predicted_has_zero_precision() {
        let mut m = Precision::with_classes(3);
        m.update(
            &t(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], &[2, 3]),
            &t(&[0.0, 1.0], &[2]),
        )
        .unwrap();
        assert_eq!(m.per_class(), vec![0.5, 0.0, 0.0]);
    }

    #[test]
    fn a_single_column_is_a_binary_logit() {
        let mut m = Accuracy::new();
        m.update(&t(&[2.0, -1.0, 0.5], &[3, 1]), &t(&[1.0, 0.0, 0.0], &[3]))
            .unwrap();
        assert!((m.compute() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_label_outside_the_classes_names_the_value_and_shape() {
        let (p, _) = batch();
        let err = Accuracy::new()
            .update(&p, &t(&[0.0, 1.0, 3.0, 2.0], &[4]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("target 3 is not a class index in 0..3"),
            "{err}"
        );
    }

    #[test]
    fn targets_of_another_batch_size_are_refused() {
        let (p, _) = batch();
        let err = Accuracy::new()
            .update(&p, &t(&[0.0, 1.0], &[2]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("targets must be [batch]"), "{err}");
    }
}
