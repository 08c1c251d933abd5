//! The metrics of an output share one host copy of each batch's predictions and targets:
//! a probe metric, added last, reads how many copies the batch it is handed has had.

mod common;

use std::sync::{Arc, Mutex};

use common::{blobs, mlp};
use strata_core::{Device, Result, Tensor};
use strata_data::{DataLoader, InMemoryDataset};
use strata_layers::{CrossEntropyLoss, Dense, MseLoss, Sequential};
use strata_optim::Sgd;
use strata_train::Trainer;
use strata_train::metrics::{
    Accuracy, ConfusionMatrix, F1, Mae, Metric, MetricBatch, Mse, Precision, R2, Recall, Rmse,
    TopKAccuracy,
};

/// Records [`MetricBatch::host_copies`] of every batch it is handed (`usize::MAX` when the
/// trainer goes around the shared batch and calls `update` itself).
struct Probe(Arc<Mutex<Vec<usize>>>);

impl Metric for Probe {
    fn name(&self) -> String {
        "probe".into()
    }
    fn update(&mut self, _: &Tensor, _: &Tensor) -> Result<()> {
        self.0.lock().unwrap().push(usize::MAX);
        Ok(())
    }
    fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
        self.0.lock().unwrap().push(batch.host_copies());
        Ok(())
    }
    fn compute(&self) -> f64 {
        f64::NAN
    }
    fn reset(&mut self) {}
}

/// Fits 2 epochs of 30 samples in batches of 8 (4 batches) with validation on 20 samples
/// in batches of 10 (2 batches), with `metrics` and then the probe; returns what it saw.
fn copies_seen(
    model: &Sequential,
    data: &InMemoryDataset,
    classification: bool,
    metrics: Vec<Box<dyn Metric>>,
) -> Vec<usize> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut trainer = if classification {
        Trainer::new(model, CrossEntropyLoss::new(), Sgd::new(0.1))
    } else {
        Trainer::new(model, MseLoss, Sgd::new(0.1))
    }
    .epochs(2)
    .verbose(false);
    for m in metrics {
        trainer = trainer.boxed_metric(m);
    }
    trainer = trainer.metric(Probe(Arc::clone(&seen)));
    let (train, valid) = (
        DataLoader::new(data, 8).unwrap(),
        DataLoader::new(data, 10).unwrap(),
    );
    trainer.fit(&train, Some(&valid)).unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2 * (4 + 3),
        "one probe update per batch: {seen:?}"
    );
    seen
}

fn classifiers() -> Vec<Box<dyn Metric>> {
    vec![
        Box::new(Accuracy::new()),
        Box::new(TopKAccuracy::new(2)),
        Box::new(Precision::new()),
        Box::new(Recall::new()),
        Box::new(F1::new()),
        Box::new(ConfusionMatrix::new()),
    ]
}

fn regressors() -> Vec<Box<dyn Metric>> {
    vec![
        Box::new(Mse::new()),
        Box::new(Rmse::new()),
        Box::new(Mae::new()),
        Box::new(R2::new()),
    ]
}

#[test]
fn six_classification_metrics_copy_each_batch_to_the_host_once() {
    let data = blobs(30, 41);
    let model = mlp(1);
    // Nothing reads the host: nothing is copied.
    assert!(
        copies_seen(&model, &data, true, Vec::new())
            .iter()
            .all(|&c| c == 0)
    );
    // One metric or six: one copy per batch.
    let one = copies_seen(&model, &data, true, vec![Box::new(Accuracy::new())]);
    assert!(one.iter().all(|&c| c == 1), "{one:?}");
    let six = copies_seen(&model, &data, true, classifiers());
    assert!(six.iter().all(|&c| c == 1), "{six:?}");
    // Each reads the shared copy (a metric copying on its own would leave it at 0).
    for metric in classifiers() {
        let name = metric.name();
        let seen = copies_seen(&model, &data, true, vec![metric]);
        assert!(seen.iter().all(|&c| c == 1), "{name}: {seen:?}");
    }
}

#[test]
fn four_regression_metrics_copy_each_batch_to_the_host_once() {
    let features: Vec<f32> = (0..30).map(|i| i as f32 / 30.0).collect();
    let targets: Vec<f32> = features.iter().map(|x| 2.0 * x + 1.0).collect();
    let data = InMemoryDataset::new(features, vec![1], targets, vec![1]).unwrap();
    let model = Sequential::new()
        .add(Dense::new(1))
        .build(&[1], &Device::cpu(), 0)
        .unwrap();
    let four = copies_seen(&model, &data, false, regressors());
    assert!(four.iter().all(|&c| c == 1), "{four:?}");
    for metric in regressors() {
        let name = metric.name();
        let seen = copies_seen(&model, &data, false, vec![metric]);
        assert!(seen.iter().all(|&c| c == 1), "{name}: {seen:?}");
    }
}
