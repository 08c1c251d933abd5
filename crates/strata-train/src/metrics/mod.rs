//! Streaming metrics: each [`Metric`] accumulates over the batches of an epoch
//! ([`Metric::update`]) and gives its value at the end ([`Metric::compute`]), so nothing the
//! size of a dataset is ever kept.
//!
//! Module map: `classification` (accuracy, top-k, confusion matrix, precision / recall / F1),
//! `regression` (MSE, RMSE, MAE, R²), `mean` (a running mean, the trainer's loss), `batch`
//! (the batch every metric of an output shares, with one host copy). A user metric
//! implements the trait.

mod batch;
mod classification;
mod mean;
mod regression;

pub use batch::MetricBatch;
pub use classification::{Accuracy, ConfusionMatrix, F1, Precision, Recall, TopKAccuracy};
pub use mean::Mean;
pub use regression::{Mae, Mse, R2, Rmse};

use strata_core::{Error, Result, Tensor};

/// A quantity computed over a stream of `(predictions, targets)` batches.
///
/// Classification metrics read predictions as `[batch, classes]` scores (logits or
/// probabilities: only their order matters) and targets as `[batch]` class indices stored as
/// `f32`; a single score column (`[batch]` or `[batch, 1]`) is a binary logit, class 1 when
/// it is above 0. Regression metrics compare predictions and targets element by element.
pub trait Metric: Send {
    /// The name the value is reported under (`"accuracy"`); the trainer prefixes `"val_"` for
    /// the validation pass.
    fn name(&self) -> String;

    /// Adds one batch.
    fn update(&mut self, predictions: &Tensor, targets: &Tensor) -> Result<()>;

    /// Adds one batch that other metrics read too: the trainer calls this, with one
    /// [`MetricBatch`] per output and batch shared by all of that output's metrics. A metric
    /// that needs the values on the host reads [`MetricBatch::host`], which copies them once
    /// for all. By default it calls [`Metric::update`] with the batch's tensors (a metric
    /// that copies them itself then copies them again).
    fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
        self.update(batch.predictions(), batch.targets())
    }

    /// The value over every batch since the last [`Metric::reset`]; NaN before any batch.
    fn compute(&self) -> f64;

    /// Forgets every batch (the trainer calls it at the start of each epoch).
    fn reset(&mut self);

    /// Every value the metric reports, named: by default just `(name, compute())`. Metrics
    /// with per-class values add them (`"precision_0"`, `"precision_1"`, ...).
    fn values(&self) -> Vec<(String, f64)> {
        vec![(self.name(), self.compute())]
    }
}

/// The host copy of a batch, checked to hold as many predictions as targets (regression
/// metrics compare them element by element).
pub(crate) fn host_pair<'b>(
    op: &'static str,
    batch: &'b MetricBatch<'_>,
) -> Result<(&'b [f32], &'b [f32])> {
    let (predictions, targets) = (batch.predictions(), batch.targets());
    if predictions.elem_count() != targets.elem_count() {
        return Err(Error::shape(
            op,
            format!(
                "predictions are {} but targets are {}; they must hold the same number of \
                 values",
                predictions.shape(),
                targets.shape()
            ),
        ));
    }
    batch.host()
}
