//! Misuse gives errors a person can act on: they name the layer, the shapes and the fix.

use strata_core::{Device, Error, Tensor};
use strata_layers::prelude::*;

fn dev() -> Device {
    Device::best()
}

#[test]
fn wrong_input_size_to_a_built_model_names_the_layer_and_both_sizes() {
    let model = Sequential::new()
        .add(Dense::new(8))
        .add(Relu)
        .build(&[784], &dev(), 0)
        .unwrap();
    let x = Tensor::zeros([4, 100], &dev()).unwrap();
    let err = model.forward(&x, Mode::Eval).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("layer 0 (Dense(8))"), "{text}");
    assert!(text.contains("100") && text.contains("784"), "{text}");
}

#[test]
fn forward_on_an_unbuilt_model_says_how_to_build_it() {
    let model = Sequential::new().add(Dense::new(128));
    let x = Tensor::zeros([1, 3], &dev()).unwrap();
    let text = model.forward(&x, Mode::Eval).unwrap_err().to_string();
    assert!(text.contains("Dense(128) was not built"), "{text}");
    assert!(text.contains("Sequential::build"), "{text}");
}

#[test]
fn build_error_names_the_layer_index_and_kind() {
    let err = Sequential::new()
        .add(Dense::new(4))
        .add(Relu)
        .add(Dense::new(0))
        .build(&[3], &dev(), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("layer 2 (Dense(0))"), "{err}");
}

#[test]
fn invalid_dropout_probability_is_refused_at_build() {
    let err = Sequential::new()
        .add(Dropout::new(1.5))
        .build(&[3], &dev(), 0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 0 (Dropout(1.5))") && err.contains("[0, 1)"),
        "{err}"
    );
}

#[test]
fn loss_with_mismatched_shapes_names_both_shapes() {
    let p = Tensor::zeros([4, 1], &dev()).unwrap();
    let y = Tensor::zeros([4], &dev()).unwrap();
    let losses: Vec<Box<dyn Loss>> = vec![
        Box::new(MseLoss),
        Box::new(L1Loss),
        Box::new(HuberLoss::default()),
        Box::new(BceWithLogitsLoss),
    ];
    for loss in &losses {
        let err = loss.forward(&p, &y).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("[4, 1]") && text.contains("[4]"), "{text}");
    }
}

#[test]
fn cross_entropy_with_labels_of_the_wrong_length_names_both_shapes() {
    let logits = Tensor::zeros([4, 3], &dev()).unwrap();
    let labels = Tensor::zeros([3], &dev()).unwrap();
    let text = CrossEntropyLoss::new()
        .forward(&logits, &labels)
        .unwrap_err()
        .to_string();
    assert!(text.contains("[4, 3]") && text.contains("[3]"), "{text}");
}

#[test]
fn cross_entropy_label_out_of_range_is_an_error() {
    let logits = Tensor::zeros([2, 3], &dev()).unwrap();
    let labels = Tensor::from_vec(vec![0.0, 3.0], [2], &dev()).unwrap();
    assert!(CrossEntropyLoss::new().forward(&logits, &labels).is_err());
}

#[test]
fn cross_entropy_label_smoothing_of_one_or_more_is_an_error() {
    let logits = Tensor::zeros([2, 3], &dev()).unwrap();
    let labels = Tensor::zeros([2], &dev()).unwrap();
    assert!(
        CrossEntropyLoss::new()
            .label_smoothing(1.0)
            .forward(&logits, &labels)
            .is_err()
    );
}
