//! End-to-end: the public API trains a model on real data, and a diverging loss stops training
//! without touching the weights.

use strata::data::preprocess::StandardScaler;
use strata::data::{DataLoader, Mnist, mnist};
use strata::layers::{CrossEntropyLoss, Dense, Mode, Module, MseLoss, Relu, Sequential};
use strata::optim::{Adam, Sgd};
use strata::{Device, Error, Tensor, no_grad, train_step};

#[test]
fn mlp_reaches_90_percent_on_the_committed_mnist_subset() {
    let dev = Device::Cpu;
    let data = Mnist::load(mnist::subset_dir()).unwrap();
    let mut train = data.train.reshape_samples(vec![784]).unwrap();
    let mut test = data.test.reshape_samples(vec![784]).unwrap();
    let mut scaler = StandardScaler::new();
    scaler.fit(train.features(), 1).unwrap();
    scaler.transform_in_place(train.features_mut(), 1).unwrap();
    scaler.transform_in_place(test.features_mut(), 1).unwrap();

    let model = Sequential::new()
        .add(Dense::new(128))
        .add(Relu)
        .add(Dense::new(64))
        .add(Relu)
        .add(Dense::new(10))
        .build(&[784], &dev, 7)
        .unwrap();
    let params = model.parameters();
    let mut opt = Adam::new(2e-3);
    let loss_fn = CrossEntropyLoss::new();
    let loader = DataLoader::new(&train, 64).unwrap().shuffle(7);
    for epoch in 0..3 {
        for batch in loader.epoch(epoch) {
            let (x, y) = batch.unwrap().into_tensors(&dev).unwrap();
            train_step(&model, &params, &loss_fn, &mut opt, &x, &y).unwrap();
        }
    }
    let (x, y) = DataLoader::new(&test, test.len())
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
        .unwrap()
        .into_tensors(&dev)
        .unwrap();
    let predicted = no_grad(|| {
        model
            .forward(&x, Mode::Eval)
            .unwrap()
            .argmax(1)
            .unwrap()
            .to_vec()
            .unwrap()
    });
    let truth = y.to_vec().unwrap();
    let accuracy =
        predicted.iter().zip(&truth).filter(|(p, t)| p == t).count() as f32 / truth.len() as f32;
    assert!(
        accuracy >= 0.90,
        "test accuracy {accuracy} on the 1,000 held-out subset images"
    );
}

#[test]
fn nan_loss_stops_training_and_keeps_the_last_good_weights() {
    let dev = Device::Cpu;
    let model = Sequential::new()
        .add(Dense::new(3))
        .add(Relu)
        .add(Dense::new(1))
        .build(&[2], &dev, 1)
        .unwrap();
    let params = model.parameters();
    let mut opt = Sgd::new(0.1).momentum(0.9);
    let loss_fn = MseLoss;
    let x = Tensor::from_vec(vec![0.5, -1.0, 1.5, 2.0], [2, 2], &dev).unwrap();
    let y = Tensor::from_vec(vec![1.0, 0.0], [2, 1], &dev).unwrap();
    train_step(&model, &params, &loss_fn, &mut opt, &x, &y).unwrap();
    let good: Vec<Vec<f32>> = params
        .iter()
        .map(|p| p.tensor().to_vec().unwrap())
        .collect();

    let poisoned = Tensor::from_vec(vec![f32::NAN, -1.0, 1.5, 2.0], [2, 2], &dev).unwrap();
    let err = train_step(&model, &params, &loss_fn, &mut opt, &poisoned, &y).unwrap_err();
    assert!(
        matches!(&err, Error::NonFinite { what, .. } if what == "loss"),
        "{err}"
    );
    assert!(err.to_string().contains("step 2"), "{err}");
    let after: Vec<Vec<f32>> = params
        .iter()
        .map(|p| p.tensor().to_vec().unwrap())
        .collect();
    assert_eq!(good, after, "weights changed by a step whose loss was NaN");
}

#[test]
fn diverging_training_is_reported_as_non_finite_loss() {
    let dev = Device::Cpu;
    let model = Sequential::new()
        .add(Dense::new(1))
        .build(&[1], &dev, 3)
        .unwrap();
    let params = model.parameters();
    // A learning rate this large makes every step overshoot further: the loss explodes to inf.
    let mut opt = Sgd::new(1e6);
    let x = Tensor::from_vec(vec![10.0, -10.0], [2, 1], &dev).unwrap();
    let y = Tensor::from_vec(vec![1.0, -1.0], [2, 1], &dev).unwrap();
    let mut outcome = Ok(0.0);
    for _ in 0..50 {
        outcome = train_step(&model, &params, &MseLoss, &mut opt, &x, &y);
        if outcome.is_err() {
            break;
        }
    }
    assert!(
        matches!(outcome, Err(Error::NonFinite { .. })),
        "{outcome:?}"
    );
    for p in &params {
        assert!(
            p.tensor().to_vec().unwrap().iter().all(|v| v.is_finite()),
            "weights of the last good step are finite"
        );
    }
}

#[test]
fn train_step_and_fit_take_the_same_step() {
    let dev = Device::Cpu;
    let features: Vec<f32> = (0..120)
        .map(|i| ((i * 37) % 23) as f32 / 23.0 - 0.5)
        .collect();
    let labels: Vec<f32> = (0..60).map(|i| (i % 3) as f32).collect();
    let data = strata::data::InMemoryDataset::new(features, vec![2], labels, vec![]).unwrap();
    let build = || {
        Sequential::new()
            .add(Dense::new(8))
            .add(Relu)
            .add(strata::layers::Dropout::new(0.25))
            .add(Dense::new(3))
            .build(&[2], &dev, 11)
            .unwrap()
    };
    let loader = DataLoader::new(&data, 16).unwrap().shuffle(2);
    let bits = |model: &Sequential| -> Vec<Vec<u32>> {
        model
            .parameters()
            .iter()
            .map(|p| {
                p.tensor()
                    .to_vec()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect()
            })
            .collect()
    };

    let by_hand = build();
    let params = by_hand.parameters();
    let mut adam = Adam::new(0.01);
    let mut losses = Vec::new();
    for epoch in 0..2 {
        for batch in loader.epoch(epoch) {
            let (x, y) = batch.unwrap().into_tensors(&dev).unwrap();
            let loss = train_step(
                &by_hand,
                &params,
                &CrossEntropyLoss::new(),
                &mut adam,
                &x,
                &y,
            );
            losses.push(loss.unwrap());
        }
    }

    let fitted = build();
    let history = strata::train::Trainer::new(&fitted, CrossEntropyLoss::new(), Adam::new(0.01))
        .epochs(2)
        .verbose(false)
        .fit(&loader, None)
        .unwrap();
    assert_eq!(bits(&fitted), bits(&by_hand));
    // The epoch losses are the per-sample means of the same batch losses (16, 16, 16, 12).
    let sizes = [16.0, 16.0, 16.0, 12.0];
    for (epoch, logged) in history.series("loss").iter().enumerate() {
        let batch_losses = &losses[4 * epoch..4 * epoch + 4];
        let mean = batch_losses
            .iter()
            .zip(sizes)
            .map(|(l, n)| f64::from(*l) * n)
            .sum::<f64>()
            / 60.0;
        assert_eq!(logged.to_bits(), mean.to_bits(), "epoch {epoch}");
    }
}
