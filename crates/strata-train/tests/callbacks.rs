//! Callbacks: early stopping restores the best weights, terminate-on-NaN keeps the last good
//! checkpoint, reduce-on-plateau lowers the rate, the CSV logger writes the history.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{blobs, mlp, temp_dir, tensor_bits, weight_bits};
use strata_core::Device;
use strata_data::{DataLoader, Dataset, InMemoryDataset};
use strata_layers::{CrossEntropyLoss, Dense, MseLoss, Sequential};
use strata_optim::{Adam, Sgd};
use strata_train::callbacks::{
    CsvLogger, EarlyStopping, ModelCheckpoint, ReduceLrOnPlateau, TerminateOnNan,
};
use strata_train::{Checkpoint, History, Trainer};

/// The validation labels are the training labels shifted by one class: the better the model
/// fits the training set, the worse its validation loss, so the best epoch is an early one.
fn shifted(data: &InMemoryDataset) -> InMemoryDataset {
    let n = data.len();
    let mut features = vec![0.0; 2 * n];
    let mut targets = vec![0.0; n];
    for i in 0..n {
        let (x, y) = (&mut features[2 * i..2 * i + 2], &mut targets[i..i + 1]);
        data.copy_sample(i, x, y).unwrap();
        y[0] = (y[0] + 1.0) % 3.0;
    }
    InMemoryDataset::new(features, vec![2], targets, vec![]).unwrap()
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_epochs_weights() {
    let train = blobs(60, 1);
    let valid = shifted(&blobs(30, 2));
    let dir = temp_dir("early");
    let model = mlp(3);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(0.05))
        .epochs(30)
        .callback(ModelCheckpoint::new(&dir).every_epochs(1))
        .callback(
            EarlyStopping::new("val_loss")
                .patience(2)
                .restore_best_weights(true),
        )
        .verbose(false);
    let history = trainer
        .fit(
            &DataLoader::new(&train, 10).unwrap().shuffle(4),
            Some(&DataLoader::new(&valid, 30).unwrap()),
        )
        .unwrap();
    let val = history.series("val_loss");
    let best = (0..val.len())
        .min_by(|&a, &b| val[a].total_cmp(&val[b]))
        .unwrap();
    // Stopped after `patience + 1` epochs without improvement on the best one.
    assert_eq!(history.len(), best + 3, "{val:?}");
    assert!(history.len() < 30);
    let best_checkpoint = Checkpoint::load(
        ModelCheckpoint::epoch_path(&dir, best as u64 + 1),
        &Device::cpu(),
    )
    .unwrap();
    let mut current: Vec<(String, Vec<u32>)> = weight_bits(&model);
    current.sort();
    assert_eq!(current, tensor_bits(&best_checkpoint.weights));
    let last = Checkpoint::load(ModelCheckpoint::last_path(&dir), &Device::cpu()).unwrap();
    assert_ne!(
        current,
        tensor_bits(&last.weights),
        "the last epoch differs from the best"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A dataset that turns NaN after `healthy` samples have been read: a diverging input
/// pipeline, deterministic.
struct GoesNan {
    inner: InMemoryDataset,
    healthy: usize,
    reads: AtomicUsize,
}

impl Dataset for GoesNan {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn sample_shape(&self) -> &[usize] {
        self.inner.sample_shape()
    }
    fn target_shape(&self) -> &[usize] {
        self.inner.target_shape()
    }
    fn copy_sample(&self, i: usize, x: &mut [f32], y: &mut [f32]) -> strata_data::Result<()> {
        self.inner.copy_sample(i, x, y)?;
        if self.reads.fetch_add(1, Ordering::Relaxed) >= self.healthy {
            x.fill(f32::NAN);
        }
        Ok(())
    }
}

fn regression(n: usize) -> InMemoryDataset {
    let features: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
    let targets: Vec<f32> = features.iter().map(|x| 3.0 * x - 1.0).collect();
    InMemoryDataset::new(features, vec![1], targets, vec![1]).unwrap()
}

fn linear() -> Sequential {
    Sequential::new()
        .add(Dense::new(1))
        .build(&[1], &Device::cpu(), 0)
        .unwrap()
}

#[test]
fn terminate_on_nan_stops_and_keeps_the_last_good_weights_and_checkpoint() {
    // 40 samples, batches of 8: two healthy epochs (80 reads), then batch 3 of epoch 3 is NaN.
    let data = GoesNan {
        inner: regression(40),
        healthy: 80 + 16,
        reads: AtomicUsize::new(0),
    };
    let dir = temp_dir("nan");
    let model = linear();
    let mut trainer = Trainer::new(&model, MseLoss, Sgd::new(0.1))
        .epochs(5)
        .callback(TerminateOnNan)
        .callback(ModelCheckpoint::new(&dir))
        .verbose(false);
    let history = trainer
        .fit(&DataLoader::new(&data, 8).unwrap(), None)
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((trainer.state().epoch, trainer.state().batch), (2, 2));
    assert_eq!(trainer.state().step, 12);
    let weights = weight_bits(&model);
    assert!(
        weights
            .iter()
            .flat_map(|(_, b)| b)
            .all(|&b| f32::from_bits(b).is_finite())
    );
    // The checkpoint is the end of epoch 2, the last good epoch; it loads and resumes.
    let last = Checkpoint::load(ModelCheckpoint::last_path(&dir), &Device::cpu()).unwrap();
    assert_eq!(
        (last.state.epoch, last.state.batch, last.state.step),
        (2, 0, 10)
    );
    assert!(
        tensor_bits(&last.weights)
            .iter()
            .flat_map(|(_, b)| b)
            .all(|&b| f32::from_bits(b).is_finite())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_terminate_on_nan_a_non_finite_loss_is_an_error_naming_the_batch() {
    let data = GoesNan {
        inner: regression(16),
        healthy: 8,
        reads: AtomicUsize::new(0),
    };
    let model = linear();
    let before = weight_bits(&model);
    let mut trainer = Trainer::new(&model, MseLoss, Sgd::new(0.1)).verbose(false);
    let err = trainer
        .fit(&DataLoader::new(&data, 8).unwrap(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("loss is not finite"), "{err}");
    assert!(err.contains("epoch 1, batch 2"), "{err}");
    assert_ne!(
        weight_bits(&model),
        before,
        "the first, healthy batch was applied"
    );
}

#[test]
fn reduce_lr_on_plateau_divides_the_rate_when_the_loss_stalls() {
    // A learning rate of 0 never improves the loss: every `patience` epochs the rate is cut.
    let data = regression(16);
    let model = linear();
    let mut trainer = Trainer::new(&model, MseLoss, Sgd::new(1.0))
        .epochs(5)
        .callback(
            ReduceLrOnPlateau::new("loss")
                .patience(1)
                .factor(0.5)
                .min_delta(1e9),
        )
        .verbose(false);
    let history = trainer
        .fit(&DataLoader::new(&data, 16).unwrap(), None)
        .unwrap();
    // Epoch 1 sets the best; epochs 2..5 each fail to improve by 1e9 → halve after each.
    assert_eq!(history.series("lr"), vec![1.0, 1.0, 0.5, 0.25, 0.125]);
    assert_eq!(trainer.optimizer().learning_rate(), 0.0625);
    assert_eq!(trainer.state().lr_scale, 0.0625);
}

#[test]
fn csv_logger_writes_the_history_after_every_epoch() {
    let dir = temp_dir("csv");
    let path = dir.join("log.csv");
    let data = regression(16);
    let model = linear();
    let mut trainer = Trainer::new(&model, MseLoss, Sgd::new(0.1))
        .epochs(3)
        .callback(CsvLogger::new(&path))
        .verbose(false);
    let history = trainer
        .fit(&DataLoader::new(&data, 8).unwrap(), None)
        .unwrap();
    let logged = History::load_csv(&path).unwrap();
    assert_eq!(logged.len(), 3);
    assert_eq!(logged.series("loss"), history.series("loss"));
    std::fs::remove_dir_all(&dir).unwrap();
}
