//! Golden values from PyTorch for the convolution, pooling and batch-norm layers (issue 3):
//! forward outputs and the gradients of `sum(y · upstream)` for the input and every
//! parameter. Written by `conv()` (`conv.json`) and `pool_options()` (`pool_options.json`:
//! ceil mode and averages without the padding) in `scripts/golden/generate.py`.

use serde_json::Value;
use strata::Tensor;
use strata::layers::{
    AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d, BuildContext, Conv1d, Conv2d, GlobalAvgPool,
    GlobalMaxPool, LayerSpec, MaxPool1d, MaxPool2d, Mode, Module, Padding,
};

mod common;
use common::{DEV, dims, floats, num};

/// Convolution sums many products: compare within 1e-4 absolute and relative.
#[track_caller]
fn assert_close(what: &str, found: &[f32], expected: &[f32]) {
    common::assert_close(what, found, expected, 1e-4, 1e-4);
}

fn cases() -> Vec<serde_json::Value> {
    common::cases("conv.json")
}

/// The case's `ceil_mode` (false when absent).
fn ceil_mode(case: &Value) -> bool {
    case.get("ceil_mode")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The case's `count_include_pad` (true, PyTorch's default, when absent).
fn count_include_pad(case: &Value) -> bool {
    case.get("count_include_pad")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

fn padding(v: &Value) -> Padding {
    match v {
        Value::String(s) if s == "same" => Padding::Same,
        other => Padding::from(num(other)),
    }
}

/// Builds the case's layer for per-sample input `sample`, loading its parameters.
fn layer(case: &Value, sample: &[usize]) -> Box<dyn Module> {
    let name = case["layer"].as_str().unwrap();
    let spec = match name {
        "conv2d" => {
            let k = dims(&case["kernel"]);
            LayerSpec::from(
                Conv2d::new(num(&case["filters"]), k[0])
                    .kernel_size([k[0], k[1]])
                    .stride(num(&case["stride"]))
                    .padding(padding(&case["padding"]))
                    .dilation(num(&case["dilation"]))
                    .groups(num(&case["groups"]))
                    .with_bias(case.get("bias").is_some()),
            )
        }
        "conv1d" => LayerSpec::from(
            Conv1d::new(num(&case["filters"]), dims(&case["kernel"])[0])
                .stride(num(&case["stride"]))
                .padding(padding(&case["padding"]))
                .dilation(num(&case["dilation"]))
                .groups(num(&case["groups"])),
        ),
        "max_pool2d" => LayerSpec::from(
            MaxPool2d::new(num(&case["kernel"]))
                .stride(num(&case["stride"]))
                .padding(num(&case["padding"]))
                .ceil_mode(ceil_mode(case)),
        ),
        "avg_pool2d" => LayerSpec::from(
            AvgPool2d::new(num(&case["kernel"]))
                .stride(num(&case["stride"]))
                .padding(num(&case["padding"]))
                .ceil_mode(ceil_mode(case))
                .count_include_pad(count_include_pad(case)),
        ),
        "max_pool1d" => LayerSpec::from(
            MaxPool1d::new(num(&case["kernel"]))
                .stride(num(&case["stride"]))
                .padding(num(&case["padding"]))
                .ceil_mode(ceil_mode(case)),
        ),
        "avg_pool1d" => LayerSpec::from(
            AvgPool1d::new(num(&case["kernel"]))
                .stride(num(&case["stride"]))
                .padding(num(&case["padding"]))
                .ceil_mode(ceil_mode(case))
                .count_include_pad(count_include_pad(case)),
        ),
        "global_avg_pool" => LayerSpec::from(GlobalAvgPool),
        "global_max_pool" => LayerSpec::from(GlobalMaxPool),
        "batch_norm2d" => LayerSpec::from(BatchNorm2d::new()),
        "batch_norm1d" => LayerSpec::from(BatchNorm1d::new()),
        other => panic!("unknown layer {other}"),
    };
    let m = spec.build(sample, &mut BuildContext::new(DEV, 0)).unwrap();
    let out = m.output_shape(sample).unwrap();
    assert_eq!(
        out,
        dims(&case["y_shape"])[1..],
        "{name}: built output shape"
    );
    for p in m.parameters() {
        let key = match (name, p.name()) {
            ("batch_norm2d" | "batch_norm1d", "weight") => "gamma",
            ("batch_norm2d" | "batch_norm1d", "bias") => "beta",
            (_, other) => other,
        };
        let t = p.tensor();
        t.assign(&Tensor::from_vec(floats(&case[key]), t.dims().to_vec(), &DEV).unwrap())
            .unwrap();
    }
    m
}

#[test]
fn conv_pool_and_batch_norm_layers_match_pytorch() {
    let all = cases();
    assert!(all.len() >= 19, "conv.json has {} cases", all.len());
    check_cases(&all);
}

#[test]
fn pooling_in_ceil_mode_and_without_the_padding_matches_pytorch() {
    let all = common::cases("pool_options.json");
    assert!(all.len() >= 9, "pool_options.json has {} cases", all.len());
    check_cases(&all);
}

/// Each case's layer, forward (shape and values) and gradients against PyTorch's.
fn check_cases(all: &[Value]) {
    for case in all {
        let name = case["layer"].as_str().unwrap();
        let shape = dims(&case["x_shape"]);
        let m = layer(case, &shape[1..]);
        let x = Tensor::from_vec(floats(&case["x"]), shape, &DEV)
            .unwrap()
            .variable();
        let y = m.forward(&x, Mode::Train).unwrap();
        assert_eq!(
            y.dims(),
            &dims(&case["y_shape"])[..],
            "{name}: output shape"
        );
        assert_close(
            &format!("{name} y"),
            &y.to_vec().unwrap(),
            &floats(&case["y"]),
        );
        let up = Tensor::from_vec(floats(&case["upstream"]), y.dims().to_vec(), &DEV).unwrap();
        let grads = y.mul(&up).unwrap().sum_all().unwrap().backward().unwrap();
        assert_close(
            &format!("{name} dx"),
            &grads.get(&x).unwrap().to_vec().unwrap(),
            &floats(&case["dx"]),
        );
        for p in m.parameters() {
            let key = match (name, p.name()) {
                ("batch_norm2d" | "batch_norm1d", "weight") => "dgamma",
                ("batch_norm2d" | "batch_norm1d", "bias") => "dbeta",
                (_, "weight") => "dweight",
                (_, _) => "dbias",
            };
            let g = grads.get(p.tensor()).unwrap().to_vec().unwrap();
            assert_close(&format!("{name} {key}"), &g, &floats(&case[key]));
        }
        if name.starts_with("batch_norm") {
            let b = m.buffers();
            assert_close(
                "running_mean",
                &b[0].tensor().to_vec().unwrap(),
                &floats(&case["running_mean"]),
            );
            assert_close(
                "running_var",
                &b[1].tensor().to_vec().unwrap(),
                &floats(&case["running_var"]),
            );
            let ye = m.forward(&x, Mode::Eval).unwrap();
            assert_close(
                &format!("{name} y_eval"),
                &ye.to_vec().unwrap(),
                &floats(&case["y_eval"]),
            );
        }
    }
}
