//! The TOML config: a valid file reads into the right values, and every kind of mistake is
//! an error naming the key that is wrong.

use strata::Device;
use strata::layers::{LayerKind, LayerSpec};
use strata_cli::config::{Config, OptimizerKind};

const VALID: &str = r#"
[data]
source = "mnist"
batch_size = 64
preprocess = [{ step = "scale", method = "standard" }]

[model]
input_shape = [1, 28, 28]
[[model.layers]]
type = "conv2d"
filters = 4
kernel_size = 3
activation = "relu"
[[model.layers]]
type = "maxpool2d"
kernel_size = 2
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 10

[optimizer]
type = "adam"
lr = 1e-3
betas = [0.9, 0.99]

[schedule]
type = "cosine_annealing"

[train]
epochs = 2
metrics = ["accuracy"]

[callbacks.early_stopping]
monitor = "val_accuracy"
mode = "max"
patience = 2
"#;

fn error_of(text: &str) -> String {
    Config::from_toml_str(text, "bad.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn a_valid_file_reads_into_its_values() {
    let c = Config::from_toml_str(VALID, "ok.toml").unwrap();
    assert_eq!(c.data.batch_size, 64);
    let layers = c.model.layers(&c.file).unwrap();
    assert_eq!(layers[0].layer.kind(), Some(LayerKind::Conv2d));
    assert_eq!(
        layers[0].activation.as_ref().unwrap().kind(),
        Some(LayerKind::Relu)
    );
    assert_eq!(c.optimizer.kind, OptimizerKind::Adam);
    assert_eq!(c.train.epochs, 2);
    assert_eq!(c.callbacks.early_stopping.as_ref().unwrap().patience, 2);
    assert!(c.callbacks.terminate_on_nan);
}

#[test]
fn the_model_spec_builds_a_sequential_with_inferred_sizes() {
    let c = Config::from_toml_str(VALID, "ok.toml").unwrap();
    let model = c
        .model
        .build(&c.file, &[1, 28, 28], &Device::cpu(), 0)
        .unwrap();
    // conv + its relu, pool, flatten, dense.
    assert_eq!(model.len(), 5);
    assert_eq!(model.output_shape(), &[10]);
    assert_eq!(model.summary().rows()[1].kind, "ReLU");
}

#[test]
fn an_unknown_layer_type_names_the_layer_key_and_the_choices() {
    let e = error_of(&VALID.replace("type = \"dense\"", "type = \"densse\""));
    assert!(
        e.starts_with("bad.toml: model.layers[3].type: unknown layer \"densse\"; expected one of dense, conv1d, conv2d"),
        "{e}"
    );
}

#[test]
fn a_missing_key_is_named_with_its_table() {
    let e = error_of(&VALID.replace("lr = 1e-3", ""));
    assert_eq!(e, "bad.toml: optimizer.lr: missing key");
    let e = error_of(&VALID.replace("units = 10", ""));
    assert_eq!(
        e,
        "bad.toml: model.layers[3].units: missing key (dense needs units)"
    );
}

#[test]
fn a_wrong_type_names_the_key_and_both_types() {
    let e = error_of(&VALID.replace("lr = 1e-3", "lr = \"fast\""));
    assert_eq!(
        e,
        "bad.toml: optimizer.lr: expected a float, found a string (\"fast\")"
    );
    let e = error_of(&VALID.replace("batch_size = 64", "batch_size = 6.5"));
    assert!(
        e.starts_with("bad.toml: data.batch_size: expected a non-negative integer, found a float"),
        "{e}"
    );
    let e = error_of(&VALID.replace("filters = 4", "filters = -4"));
    assert!(
        e.starts_with("bad.toml: model.layers[0].filters: expected a non-negative integer"),
        "{e}"
    );
}

#[test]
fn an_unknown_key_is_named_with_the_keys_allowed() {
    let e = error_of(&VALID.replace("patience = 2", "patiense = 2"));
    assert!(
        e.starts_with("bad.toml: callbacks.early_stopping.patiense: unknown key; expected"),
        "{e}"
    );
    let e = error_of(&VALID.replace("[train]", "[trian]"));
    assert!(e.starts_with("bad.toml: trian: unknown key"), "{e}");
}

#[test]
fn a_field_the_layer_does_not_take_is_refused() {
    let e = error_of(&VALID.replace("type = \"flatten\"", "type = \"flatten\"\nunits = 3"));
    assert_eq!(
        e,
        "bad.toml: model.layers[2].units: not a field of flatten (it takes no fields)"
    );
}

#[test]
fn an_optimizer_field_of_another_kind_is_refused() {
    let c = Config::from_toml_str(&VALID.replace("betas", "momentum = 0.9\n#"), "x.toml").unwrap();
    let e = c.optimizer.build(&c.file).err().unwrap().to_string();
    assert!(
        e.starts_with("x.toml: optimizer.momentum: not used by adam"),
        "{e}"
    );
}

#[test]
fn a_syntax_error_is_reported_with_its_line() {
    let e = error_of("[data\nsource = 1");
    assert!(e.starts_with("bad.toml: not valid TOML"), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn overrides_set_nested_keys_and_are_checked_like_the_file() {
    let table: toml::Table = VALID.parse().unwrap();
    let file = std::path::Path::new("t.toml");
    let over = |path: &str, v: toml::Value| {
        Config::with_overrides(table.clone(), &[(path.to_string(), v)], file)
    };
    let t = over("model.layers.3.units", toml::Value::Integer(32)).unwrap();
    let c = Config::from_table(t, file).unwrap();
    let LayerSpec::Dense(dense) = &c.model.layers(file).unwrap()[3].layer else {
        panic!("layer 3 is dense")
    };
    assert_eq!(dense.units, 32);
    let t = over("optimizer.lr", toml::Value::Float(0.01)).unwrap();
    assert_eq!(Config::from_table(t, file).unwrap().optimizer.lr, 0.01);
    let e = over("model.layers.9.units", toml::Value::Integer(3))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "t.toml: model.layers.9.units: index 9 is past the end of `model.layers` (4 entries)"
    );
    let t = over("data.batch_size", toml::Value::String("big".into())).unwrap();
    let e = Config::from_table(t, file).unwrap_err().to_string();
    assert!(
        e.starts_with("t.toml: data.batch_size: expected a non-negative integer, found a string"),
        "{e}"
    );
}

#[test]
fn pool_options_reach_the_layer_and_count_include_pad_is_for_averages_only() {
    let ceil = VALID.replace(
        "type = \"maxpool2d\"\nkernel_size = 2",
        "type = \"maxpool2d\"\nkernel_size = 3\nstride = 2\nceil_mode = true",
    );
    let c = Config::from_toml_str(&ceil, "ok.toml").unwrap();
    let model = c
        .model
        .build(&c.file, &[1, 28, 28], &Device::cpu(), 0)
        .unwrap();
    // 26x26 after the convolution: 12x12 windows in floor mode, 13x13 in ceil mode.
    let summary = model.summary();
    let row = &summary.rows()[2];
    assert_eq!(row.output_shape, vec![4, 13, 13]);
    assert_eq!(row.kind, "MaxPool2d(3x3, stride 2x2, ceil mode)");
    let e = error_of(&VALID.replace(
        "type = \"maxpool2d\"\nkernel_size = 2",
        "type = \"maxpool2d\"\nkernel_size = 2\ncount_include_pad = false",
    ));
    assert!(e.contains("count_include_pad"), "{e}");
}

#[test]
fn a_layer_table_reads_every_key_of_its_config_with_exact_paths() {
    // `init` is a key of strata-layers' DenseConfig that this crate never names.
    let c = Config::from_toml_str(
        &VALID.replace(
            "units = 10",
            "units = 10\ninit = \"he_uniform\"\nrepeat = 2",
        ),
        "ok.toml",
    )
    .unwrap();
    let arch = c.model.architecture(&c.file).unwrap();
    let expected = strata::layers::Sequential::new()
        .add(strata::layers::Conv2d::new(4, 3))
        .add(strata::layers::Relu)
        .add(strata::layers::MaxPool2d::new(2))
        .add(strata::layers::Flatten)
        .add(strata::layers::Dense::new(10).init(strata::layers::Init::HeUniform))
        .add(strata::layers::Dense::new(10).init(strata::layers::Init::HeUniform));
    assert_eq!(arch.layers, expected.layers);
    assert_eq!(arch.input_shape, Some(vec![1, 28, 28]));

    let e = error_of(&VALID.replace("kernel_size = 3", "kernel_size = [3, 5, 7]"));
    assert!(
        e.starts_with("bad.toml: model.layers[0].kernel_size: "),
        "{e}"
    );
    let e = error_of(&VALID.replace("units = 10", "units = 10\ninit = \"he\""));
    assert!(
        e.starts_with("bad.toml: model.layers[3].init: unknown value \"he\""),
        "{e}"
    );
    let e = error_of(&VALID.replace("filters = 4\nkernel_size = 3\n", ""));
    assert_eq!(
        e,
        "bad.toml: model.layers[0].filters: missing key (conv2d needs filters, kernel_size)"
    );
    let e = error_of(&VALID.replace("[[model.layers]]\ntype = \"flatten\"", "[[model.layers]]"));
    assert_eq!(e, "bad.toml: model.layers[2].type: missing key");
}

#[test]
fn the_conveniences_activation_and_repeat_are_checked() {
    let c = Config::from_toml_str(
        &VALID.replace("activation = \"relu\"", "activation = \"leaky_relu\""),
        "ok.toml",
    )
    .unwrap();
    let layers = c.model.layers(&c.file).unwrap();
    assert_eq!(
        layers[0].activation.as_ref().unwrap().kind(),
        Some(LayerKind::LeakyRelu)
    );
    let e = error_of(&VALID.replace("activation = \"relu\"", "activation = \"flatten\""));
    assert_eq!(
        e,
        "bad.toml: model.layers[0].activation: unknown value \"flatten\"; expected relu, \
         sigmoid, tanh, gelu, elu, leaky_relu, softmax"
    );
    let e = error_of(&VALID.replace("units = 10", "units = 10\nrepeat = 0"));
    assert_eq!(
        e,
        "bad.toml: model.layers[3].repeat: expected at least 1, found 0"
    );
    let e = error_of(&VALID.replace("units = 10", "units = 10\nrepeat = \"x\""));
    assert!(
        e.starts_with("bad.toml: model.layers[3].repeat: expected a non-negative integer"),
        "{e}"
    );
}
