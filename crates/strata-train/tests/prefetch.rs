//! `fit`, `evaluate` and `predict_source` read a `DataLoader` with `.prefetch(n)` through its
//! worker thread (observed from the dataset: on which thread each sample is copied), and the
//! results are bit-identical to the same runs without prefetch.

mod common;

use common::{ThreadCounting, blobs, mlp, series_bits, weight_bits};
use strata_data::DataLoader;
use strata_data::augment::GaussianNoise;
use strata_layers::CrossEntropyLoss;
use strata_optim::Adam;
use strata_train::Trainer;
use strata_train::metrics::{Accuracy, F1};

const EPOCHS: usize = 3;

#[test]
fn fit_with_prefetch_2_assembles_batches_on_the_worker_and_ends_with_the_same_weights() {
    let (train, valid) = (
        ThreadCounting::new(blobs(90, 21)),
        ThreadCounting::new(blobs(40, 22)),
    );
    // Dropout, a shuffling loader with an augmentation, Adam: every random stream and every
    // order must be the same whichever thread assembles the batches.
    let run = |prefetch: usize| {
        let model = mlp(3);
        let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(0.01))
            .epochs(EPOCHS as u64)
            .metric(Accuracy::new())
            .metric(F1::new())
            .verbose(false);
        let loader = DataLoader::new(&train, 8)
            .unwrap()
            .shuffle(5)
            .augment(GaussianNoise { std: 0.05 })
            .prefetch(prefetch);
        let valid_loader = DataLoader::new(&valid, 16).unwrap().prefetch(prefetch);
        let history = trainer.fit(&loader, Some(&valid_loader)).unwrap();
        (weight_bits(&model), history)
    };

    let (plain_weights, plain_history) = run(0);
    assert_eq!((train.here(), train.elsewhere()), (EPOCHS * 90, 0));
    assert_eq!((valid.here(), valid.elsewhere()), (EPOCHS * 40, 0));

    let (weights, history) = run(2);
    assert_eq!(
        (train.here(), train.elsewhere()),
        (EPOCHS * 90, EPOCHS * 90),
        "with prefetch every training sample is copied on the loader's worker thread"
    );
    assert_eq!(
        (valid.here(), valid.elsewhere()),
        (EPOCHS * 40, EPOCHS * 40),
        "and every validation sample too"
    );
    assert_eq!(weights, plain_weights);
    for name in ["loss", "accuracy", "f1", "val_loss", "val_accuracy"] {
        assert_eq!(
            series_bits(&history, name),
            series_bits(&plain_history, name),
            "{name}"
        );
    }
}

#[test]
fn evaluate_and_predict_source_read_through_the_prefetch_worker() {
    let data = ThreadCounting::new(blobs(70, 23));
    let model = mlp(4);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(0.01))
        .metric(Accuracy::new())
        .verbose(false);
    let plain = DataLoader::new(&data, 16).unwrap();
    let ahead = plain.clone().prefetch(2);

    let scores = trainer.evaluate(&plain).unwrap();
    let predictions = trainer.predict_source(&plain).unwrap().to_vec().unwrap();
    assert_eq!((data.here(), data.elsewhere()), (2 * 70, 0));

    assert_eq!(trainer.evaluate(&ahead).unwrap(), scores);
    assert_eq!(
        trainer.predict_source(&ahead).unwrap().to_vec().unwrap(),
        predictions
    );
    assert_eq!((data.here(), data.elsewhere()), (2 * 70, 2 * 70));
}
