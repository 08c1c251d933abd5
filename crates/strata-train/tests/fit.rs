//! `fit`, `evaluate` and `predict` on a small synthetic problem.

mod common;

use common::{blobs, mlp};
use strata_core::{Device, Tensor};
use strata_data::DataLoader;
use strata_layers::{CrossEntropyLoss, Module};
use strata_optim::{Adam, Schedule, Sgd};
use strata_train::metrics::{Accuracy, F1, TopKAccuracy};
use strata_train::{Clip, Trainer};

#[test]
fn fit_on_three_blobs_reaches_97_percent_validation_accuracy() {
    let (train, valid) = (blobs(300, 1), blobs(150, 2));
    let model = mlp(7);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(0.02))
        .epochs(10)
        .schedule(Schedule::cosine_annealing(10 * 10, 0.0))
        .metric(Accuracy::new())
        .metric(F1::new())
        .verbose(false);
    let history = trainer
        .fit(
            &DataLoader::new(&train, 32).unwrap().shuffle(3),
            Some(&DataLoader::new(&valid, 64).unwrap()),
        )
        .unwrap();
    assert_eq!(history.len(), 10);
    let last = history.last().unwrap();
    assert!(last.get("val_accuracy").unwrap() >= 0.97, "{last:?}");
    assert!(last.get("loss").unwrap() < history.epochs[0].get("loss").unwrap());
    for name in [
        "loss",
        "accuracy",
        "f1",
        "f1_2",
        "val_loss",
        "val_f1",
        "lr",
        "samples_per_sec",
    ] {
        assert!(last.get(name).is_some(), "{name} missing from {last:?}");
    }
    // The cosine schedule ends at 0 after the 100 steps.
    assert!(last.get("lr").unwrap().abs() < 1e-9);
}

#[test]
fn evaluate_reports_loss_and_metrics_and_predict_keeps_the_batch_dimension() {
    let data = blobs(70, 3);
    let model = mlp(1);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.1))
        .metric(TopKAccuracy::new(3))
        .predict_batch_size(32)
        .verbose(false);
    let scores = trainer
        .evaluate(&DataLoader::new(&data, 16).unwrap())
        .unwrap();
    assert_eq!(scores["top3_accuracy"], 1.0);
    assert!(scores["loss"] > 0.0);
    let x = Tensor::zeros([70, 2], &Device::cpu()).unwrap();
    let y = trainer.predict(&x).unwrap();
    assert_eq!(y.dims(), &[70, 3]);
    assert!(!y.requires_grad());
    let from_loader = trainer
        .predict_source(&DataLoader::new(&data, 16).unwrap())
        .unwrap();
    assert_eq!(from_loader.dims(), &[70, 3]);
    // Eval mode: dropout is off, so predicting twice gives the same outputs.
    assert_eq!(
        trainer.predict(&x).unwrap().to_vec().unwrap(),
        y.to_vec().unwrap()
    );
    assert_eq!(model.rng_state()[1], 0, "no dropout mask was drawn");
    let matrix = trainer
        .confusion_matrix(&DataLoader::new(&data, 16).unwrap(), 3)
        .unwrap();
    assert_eq!((matrix.classes(), matrix.total()), (3, 70));
}

#[test]
fn accumulating_two_half_batches_matches_one_full_batch() {
    let data = blobs(64, 4);
    let train = |batch: usize, accumulate: usize| {
        let model = strata_layers::Sequential::new()
            .add(strata_layers::Dense::new(8))
            .add(strata_layers::Tanh)
            .add(strata_layers::Dense::new(3))
            .build(&[2], &Device::cpu(), 5)
            .unwrap();
        let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.5))
            .epochs(2)
            .accumulate(accumulate)
            .verbose(false);
        trainer
            .fit(&DataLoader::new(&data, batch).unwrap(), None)
            .unwrap();
        assert_eq!(trainer.state().step, (2 * 64 / (batch * accumulate)) as u64);
        common::weight_bits(&model)
            .into_iter()
            .flat_map(|(_, b)| b.into_iter().map(f32::from_bits))
            .collect::<Vec<f32>>()
    };
    let full = train(16, 1);
    let halves = train(8, 2);
    for (a, b) in full.iter().zip(&halves) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert_ne!(full, train(8, 1)[..].to_vec());
}

#[test]
fn clipping_every_gradient_to_zero_leaves_the_weights_unchanged() {
    let data = blobs(30, 5);
    let model = mlp(2);
    let before = common::weight_bits(&model);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.5))
        .clip(Clip::Value(0.0))
        .verbose(false);
    trainer
        .fit(&DataLoader::new(&data, 10).unwrap(), None)
        .unwrap();
    assert_eq!(common::weight_bits(&model), before);
    assert_eq!(trainer.state().step, 3);
}

#[test]
fn resuming_with_a_loader_of_another_shape_is_refused() {
    let data = blobs(40, 6);
    let model = mlp(3);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.1))
        .epochs(2)
        .verbose(false);
    trainer
        .fit(&DataLoader::new(&data, 10).unwrap(), None)
        .unwrap();
    let checkpoint = trainer.checkpoint().unwrap();
    let mut again = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.1))
        .epochs(3)
        .verbose(false);
    again.restore(checkpoint).unwrap();
    let err = again
        .fit(&DataLoader::new(&data, 8).unwrap(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("4 batches of 10 per epoch but this loader gives 5 batches of 8"),
        "{err}"
    );
}

#[test]
fn the_description_shows_the_summary_and_a_memory_estimate() {
    let model = mlp(1);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(1e-3));
    let text = trainer.describe();
    // 2·16+16 + 16·3+3 = 99 parameters: 396 B each for weights, gradients, and Adam's two
    // moments (792 B).
    let memory = trainer.memory_estimate();
    assert_eq!(
        (memory.parameters, memory.gradients, memory.optimizer),
        (396, 396, 792)
    );
    assert!(
        text.contains("Dense(16)") && text.contains("Memory estimate"),
        "{text}"
    );
    // Plain SGD keeps no buffer, SGD with momentum one per parameter.
    let mut sgd = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.1));
    assert_eq!(sgd.memory_estimate().optimizer, 0);
    let mut momentum = Trainer::new(&model, CrossEntropyLoss::new(), Sgd::new(0.1).momentum(0.9));
    assert_eq!(momentum.memory_estimate().optimizer, 396);
    // The probe left the optimizer untouched.
    assert_eq!(trainer.optimizer().step_count(), 0);
    assert_eq!(trainer.optimizer().state().len(), 1);
}
