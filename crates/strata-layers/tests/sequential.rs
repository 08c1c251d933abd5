//! `Sequential`: shape inference, summary, parameter names, seeding and modes.

use strata_core::{Device, Tensor};
use strata_layers::prelude::*;

fn mnist_mlp(seed: u64) -> Sequential {
    Sequential::new()
        .add(Dense::new(128))
        .add(Relu)
        .add(Dense::new(10))
        .build(&[784], &Device::best(), seed)
        .unwrap()
}

#[test]
fn mlp_infers_every_layer_shape_from_the_input_size() {
    let model = mnist_mlp(0);
    assert_eq!(model.output_shape(), &[10]);
    let shapes: Vec<_> = model
        .summary()
        .rows()
        .iter()
        .map(|r| r.output_shape.clone())
        .collect();
    assert_eq!(shapes, vec![vec![128], vec![128], vec![10]]);
}

#[test]
fn forward_maps_a_batch_to_batch_by_output_shape() {
    let model = mnist_mlp(0);
    let x = Tensor::zeros([7, 784], &Device::best()).unwrap();
    assert_eq!(model.forward(&x, Mode::Eval).unwrap().dims(), [7, 10]);
}

#[test]
fn summary_counts_parameters_per_layer_and_in_total() {
    let summary = mnist_mlp(0).summary();
    let params: Vec<usize> = summary.rows().iter().map(|r| r.params).collect();
    assert_eq!(params, vec![784 * 128 + 128, 0, 128 * 10 + 10]);
    assert_eq!(summary.total_params(), 101_770);
    assert_eq!(summary.trainable_params(), 101_770);
    assert_eq!(summary.non_trainable_params(), 0);
    let kinds: Vec<&str> = summary.rows().iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["Dense(128)", "ReLU", "Dense(10)"]);
}

#[test]
fn summary_table_shows_kinds_shapes_and_totals() {
    let text = mnist_mlp(0).summary().to_string();
    for expected in [
        "Dense(128)",
        "(None, 128)",
        "100,480",
        "ReLU",
        "(None, 10)",
        "1,290",
        "Total params: 101,770",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
}

#[test]
fn parameter_names_follow_pytorch_sequential_state_dict() {
    let names: Vec<String> = mnist_mlp(0)
        .parameters()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
}

#[test]
fn nested_sequential_prefixes_its_children() {
    let inner = Sequential::new()
        .add(Dense::new(4))
        .add(Tanh)
        .add(Dense::new(3));
    let model = Sequential::new()
        .add(Flatten)
        .add(inner)
        .build(&[2, 3], &Device::best(), 1)
        .unwrap();
    let names: Vec<String> = model
        .parameters()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert_eq!(names, ["1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"]);
    assert_eq!(model.output_shape(), &[3]);
    assert_eq!(model.summary().rows()[1].params, 6 * 4 + 4 + 4 * 3 + 3);
}

#[test]
fn flatten_then_dense_infers_the_flattened_size() {
    let model = Sequential::new()
        .add(Flatten)
        .add(Dense::new(3))
        .build(&[1, 4, 4], &Device::best(), 0)
        .unwrap();
    assert_eq!(model.parameters()[0].tensor().dims(), [3, 16]);
    let x = Tensor::zeros([2, 1, 4, 4], &Device::best()).unwrap();
    assert_eq!(model.forward(&x, Mode::Eval).unwrap().dims(), [2, 3]);
}

#[test]
fn the_same_seed_builds_the_same_parameters_and_another_seed_different_ones() {
    let values = |m: &Sequential| m.parameters()[0].tensor().to_vec().unwrap();
    assert_eq!(values(&mnist_mlp(3)), values(&mnist_mlp(3)));
    assert_ne!(values(&mnist_mlp(3)), values(&mnist_mlp(4)));
}

#[test]
fn layers_get_independent_seeds() {
    let model = Sequential::new()
        .add(Dense::new(4))
        .add(Dense::new(4))
        .build(&[4], &Device::best(), 0)
        .unwrap();
    let p = model.parameters();
    assert_ne!(
        p[0].tensor().to_vec().unwrap(),
        p[2].tensor().to_vec().unwrap()
    );
}

#[test]
fn dropout_is_active_in_train_mode_and_the_identity_in_eval_mode() {
    let model = Sequential::new()
        .add(Dropout::new(0.5))
        .build(&[64], &Device::best(), 0)
        .unwrap();
    let x = Tensor::ones([2, 64], &Device::best()).unwrap();
    assert_eq!(
        model.forward(&x, Mode::Eval).unwrap().to_vec().unwrap(),
        vec![1.0; 128]
    );
    let trained = model.forward(&x, Mode::Train).unwrap().to_vec().unwrap();
    assert!(trained.contains(&0.0) && trained.contains(&2.0));
}

#[test]
fn building_one_config_twice_gives_two_models_with_equal_draws() {
    let config = Sequential::new().add(Dense::new(4)).add(Dropout::new(0.5));
    let (a, b) = (
        config.build(&[3], &Device::best(), 9).unwrap(),
        config.build(&[3], &Device::best(), 9).unwrap(),
    );
    let (pa, pb) = (a.parameters(), b.parameters());
    assert_ne!(pa[0].tensor().id(), pb[0].tensor().id());
    assert_eq!(
        pa[0].tensor().to_vec().unwrap(),
        pb[0].tensor().to_vec().unwrap()
    );
    assert_eq!(a.rng_state(), b.rng_state());
}

#[test]
fn the_built_model_records_its_config_and_input_shape() {
    let model = mnist_mlp(0);
    assert_eq!(model.input_shape(), &[784]);
    assert_eq!(model.config().input_shape.as_deref(), Some(&[784][..]));
    assert_eq!(model.config().len(), 3);
    assert_eq!(model.summary().input_shape(), &[784]);
}
