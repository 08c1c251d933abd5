//! Epoch losses are per-sample means of one full pass, also when the data set ends in a
//! partial batch: `loss` and `val_loss` in `fit`, and `loss` in `evaluate`.
//!
//! The data make the batch means very unequal, so an unweighted mean of batch means (each
//! batch counted once whatever its size) is far from the per-sample mean and fails these
//! tests. The learning rate is 0, so every batch sees the same weights and one full pass
//! is one forward over the whole set.

mod common;

use strata_core::{Device, Tensor};
use strata_data::{DataLoader, InMemoryDataset};
use strata_layers::{Dense, Loss, Mode, Module, MseLoss, Sequential};
use strata_optim::Sgd;
use strata_train::Trainer;

const N: usize = 10;

/// 10 samples of 2 features; the targets of the last 4 are far from the others, so batches
/// of 4 (4, 4, 2) and of 3 (3, 3, 3, 1) have very different mean losses.
fn data() -> InMemoryDataset {
    let features: Vec<f32> = (0..2 * N).map(|i| (i % 7) as f32 / 7.0 - 0.4).collect();
    let targets: Vec<f32> = (0..N)
        .map(|i| {
            if i < 6 {
                0.1 * i as f32
            } else {
                8.0 + i as f32
            }
        })
        .collect();
    InMemoryDataset::new(features, vec![2], targets, vec![1]).unwrap()
}

fn model() -> Sequential {
    Sequential::new()
        .add(Dense::new(1))
        .build(&[2], &Device::cpu(), 3)
        .unwrap()
}

/// The per-sample mean loss of one pass, as one forward over all samples.
fn full_pass_mean(model: &Sequential, data: &InMemoryDataset) -> f64 {
    let batch = DataLoader::new(data, N)
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    let x = Tensor::from_slice(&batch.features, [N, 2], &Device::cpu()).unwrap();
    let y = Tensor::from_slice(&batch.targets, [N, 1], &Device::cpu()).unwrap();
    let prediction = model.forward(&x, Mode::Eval).unwrap();
    f64::from(
        MseLoss
            .forward(&prediction, &y)
            .unwrap()
            .to_scalar()
            .unwrap(),
    )
}

/// The unweighted mean of the batch means of `loader`: the wrong answer, computed here only
/// to check that the data tell it apart from the right one.
fn mean_of_batch_means(model: &Sequential, loader: &DataLoader<'_, InMemoryDataset>) -> f64 {
    let means: Vec<f64> = loader
        .epoch(0)
        .map(|b| {
            let (x, y) = b.unwrap().into_tensors(&Device::cpu()).unwrap();
            let prediction = model.forward(&x, Mode::Eval).unwrap();
            f64::from(
                MseLoss
                    .forward(&prediction, &y)
                    .unwrap()
                    .to_scalar()
                    .unwrap(),
            )
        })
        .collect();
    means.iter().sum::<f64>() / means.len() as f64
}

fn assert_close(what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= 1e-6 * expected.abs(),
        "{what}: {got}, but the per-sample mean of a full pass is {expected}"
    );
}

#[test]
fn the_data_tell_a_per_sample_mean_from_a_mean_of_batch_means() {
    let (data, model) = (data(), model());
    let expected = full_pass_mean(&model, &data);
    for batch_size in [3, 4] {
        let wrong = mean_of_batch_means(&model, &DataLoader::new(&data, batch_size).unwrap());
        assert!(
            (wrong - expected).abs() > 0.05 * expected,
            "batches of {batch_size}: {wrong} vs {expected}"
        );
    }
}

#[test]
fn fit_loss_and_val_loss_are_per_sample_means_with_a_partial_last_batch() {
    let data = data();
    for accumulate in [1, 2] {
        let model = model();
        let expected = full_pass_mean(&model, &data);
        let mut trainer = Trainer::new(&model, MseLoss, Sgd::new(0.0))
            .epochs(2)
            .accumulate(accumulate)
            .verbose(false);
        let history = trainer
            .fit(
                &DataLoader::new(&data, 4).unwrap(),
                Some(&DataLoader::new(&data, 3).unwrap()),
            )
            .unwrap();
        for epoch in &history.epochs {
            assert_close("loss", epoch.get("loss").unwrap(), expected);
            assert_close("val_loss", epoch.get("val_loss").unwrap(), expected);
        }
    }
}

#[test]
fn evaluate_loss_is_the_per_sample_mean_with_a_partial_last_batch() {
    let (data, model) = (data(), model());
    let expected = full_pass_mean(&model, &data);
    let mut trainer = Trainer::new(&model, MseLoss, Sgd::new(0.0)).verbose(false);
    for batch_size in [3, 4, 7] {
        let scores = trainer
            .evaluate(&DataLoader::new(&data, batch_size).unwrap())
            .unwrap();
        assert_close(
            &format!("loss over batches of {batch_size}"),
            scores["loss"],
            expected,
        );
    }
}
