//! `MetricBatch`: one batch of one output as every metric of that output sees it, with a
//! single host copy of its predictions and targets shared by all of them.
//!
//! Metrics that count on the host (argmax, confusion counts, error sums) read
//! [`MetricBatch::host`]; the first call copies the two tensors to the host and every later
//! call, from any metric, reads the same copy. On a GPU each copy waits for the device, so
//! this is one wait per batch, not one per metric.

use std::cell::OnceCell;

use strata_core::{Result, Tensor};

/// The predictions and targets of one batch for one output, handed to every metric of that
/// output in turn ([`super::Metric::update_batch`]).
///
/// ```
/// use strata_core::{Device, Tensor};
/// use strata_train::metrics::{Accuracy, F1, Metric, MetricBatch};
/// # fn main() -> strata_core::Result<()> {
/// let scores = Tensor::from_slice(&[0.9, 0.1, 0.2, 0.8], [2, 2], &Device::cpu())?;
/// let labels = Tensor::from_slice(&[0.0, 0.0], [2], &Device::cpu())?;
/// let batch = MetricBatch::new(&scores, &labels);
/// let (mut accuracy, mut f1) = (Accuracy::new(), F1::new());
/// accuracy.update_batch(&batch)?;
/// f1.update_batch(&batch)?;
/// assert_eq!(batch.host_copies(), 1); // two metrics, one copy
/// assert_eq!(accuracy.compute(), 0.5);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MetricBatch<'a> {
    predictions: &'a Tensor,
    targets: &'a Tensor,
    host: OnceCell<HostCopy>,
}

/// The two tensors' values on the host.
#[derive(Debug)]
struct HostCopy {
    predictions: Vec<f32>,
    targets: Vec<f32>,
}

impl<'a> MetricBatch<'a> {
    /// A batch of `predictions` scored against `targets`; nothing is copied yet.
    pub fn new(predictions: &'a Tensor, targets: &'a Tensor) -> Self {
        MetricBatch {
            predictions,
            targets,
            host: OnceCell::new(),
        }
    }

    /// The predictions, where the model left them (for a metric computed on the device).
    pub fn predictions(&self) -> &'a Tensor {
        self.predictions
    }

    /// The targets, where the batch left them.
    pub fn targets(&self) -> &'a Tensor {
        self.targets
    }

    /// The predictions and targets on the host, row-major: copied on the first call, shared
    /// by every call after it.
    pub fn host(&self) -> Result<(&[f32], &[f32])> {
        let copy = match self.host.get() {
            Some(copy) => copy,
            None => {
                let copy = HostCopy {
                    predictions: self.predictions.to_vec()?,
                    targets: self.targets.to_vec()?,
                };
                self.host.get_or_init(|| copy)
            }
        };
        Ok((&copy.predictions, &copy.targets))
    }

    /// How many times this batch was copied to the host: 0 until a metric asks for
    /// [`MetricBatch::host`], then 1 however many metrics read it.
    pub fn host_copies(&self) -> usize {
        usize::from(self.host.get().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{
        Accuracy, ConfusionMatrix, F1, Mae, Metric, Mse, Precision, R2, Recall, Rmse, TopKAccuracy,
    };
    use strata_core::Device;

    /// Every built-in metric, each able to read a batch of binary logits `[4, 1]` against
    /// 0/1 targets `[4]` (classification) or as four values against four (regression).
    fn all() -> Vec<Box<dyn Metric>> {
        vec![
            Box::new(Accuracy::new()),
            Box::new(TopKAccuracy::new(1)),
            Box::new(Precision::new()),
            Box::new(Recall::new()),
            Box::new(F1::new()),
            Box::new(ConfusionMatrix::new()),
            Box::new(Mse::new()),
            Box::new(Rmse::new()),
            Box::new(Mae::new()),
            Box::new(R2::new()),
        ]
    }

    fn tensors() -> (Tensor, Tensor) {
        let cpu = Device::cpu();
        (
            Tensor::from_slice(&[2.0, -1.0, 0.5, -0.5], [4, 1], &cpu).unwrap(),
            Tensor::from_slice(&[1.0, 0.0, 0.0, 0.0], [4], &cpu).unwrap(),
        )
    }

    #[test]
    fn every_built_in_metric_reads_the_shared_copy_and_all_of_them_make_one() {
        let (p, y) = tensors();
        for mut metric in all() {
            let batch = MetricBatch::new(&p, &y);
            assert_eq!(batch.host_copies(), 0);
            metric.update_batch(&batch).unwrap();
            assert_eq!(batch.host_copies(), 1, "{}", metric.name());
        }
        let batch = MetricBatch::new(&p, &y);
        let mut metrics = all();
        for m in &mut metrics {
            m.update_batch(&batch).unwrap();
        }
        assert_eq!(batch.host_copies(), 1);
        // The shared copy gives the same values as each metric's own `update`.
        for (shared, mut alone) in metrics.iter().zip(all()) {
            alone.update(&p, &y).unwrap();
            assert_eq!(
                shared.compute().to_bits(),
                alone.compute().to_bits(),
                "{}",
                alone.name()
            );
        }
    }
}
