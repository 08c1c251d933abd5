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
fn a_layer_refusing_its_input_at_build_names_the_layer_and_both_shapes() {
    let text = Sequential::new()
        .add(Flatten)
        .add(Conv2d::new(4, 3))
        .build(&[1, 28, 28], &dev(), 0)
        .unwrap_err()
        .to_string();
    assert!(text.contains("layer 1 (conv2d)"), "{text}");
    assert!(
        text.contains("[channels, height, width]") && text.contains("[784]"),
        "{text}"
    );
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
    assert!(
        err.contains("layer 2 (dense): Dense(0): needs at least one unit"),
        "{err}"
    );
}

#[test]
fn invalid_dropout_probability_is_refused_at_build() {
    let err = Sequential::new()
        .add(Dropout::new(1.5))
        .build(&[3], &dev(), 0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 0 (dropout): Dropout(1.5)") && err.contains("[0, 1)"),
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
