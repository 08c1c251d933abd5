//! A model's architecture saved through its configs: every layer kind written as JSON and as
//! TOML, read back and rebuilt with the same seed, gives the same model (parameter names,
//! values to the bit, summary).

use std::collections::BTreeSet;

use strata_core::Device;
use strata_layers::prelude::*;
use strata_layers::{Embedding, LayerKind, LayerSpec, Permute, SequentialConfig};
use strata_layers::{Gru, Lstm, SimpleRnn};

/// Images: convolution, normalization, pools, activations, dropout, a nested stack.
fn image_model() -> SequentialConfig {
    Sequential::new()
        .add(
            Conv2d::new(4, 3)
                .padding(Padding::Same)
                .init(Init::HeUniform),
        )
        .add(BatchNorm2d::new().momentum(0.2))
        .add(Relu)
        .add(MaxPool2d::new(2).ceil_mode(true))
        .add(
            AvgPool2d::new(3)
                .stride(1)
                .padding(1)
                .count_include_pad(false),
        )
        .add(
            Sequential::new()
                .add(Conv2d::new(2, 3).kernel_size([3, 1]).strides([1, 2]))
                .add(Gelu),
        )
        .add(GlobalAvgPool)
        .add(Dense::new(5).bias_init(Init::Constant(0.25)))
        .add(LeakyRelu::new(0.2))
        .add(Dropout::new(0.3))
        .add(Dense::new(3).with_bias(false).init(Init::Uniform {
            low: -0.1,
            high: 0.1,
        }))
        .add(Softmax)
}

/// Token ids: embedding, 1-D convolution and pools, every recurrent layer.
fn sequence_model() -> SequentialConfig {
    Sequential::new()
        .add(Embedding::new(20, 6).padding_idx(0))
        .add(Permute::new(&[1, 0]))
        .add(Conv1d::new(4, 3).padding(1).dilation(1))
        .add(BatchNorm1d::new().eps(1e-3).affine(false))
        .add(Elu::new(0.5))
        .add(MaxPool1d::new(2).stride(1))
        .add(AvgPool1d::new(2))
        .add(GlobalMaxPool)
        .add(Dense::new(6))
        .add(Sigmoid)
        .add(Dense::new(4))
        .add(Tanh)
}

fn recurrent_model() -> SequentialConfig {
    Sequential::new()
        .add(
            Lstm::new(5)
                .return_sequences(true)
                .num_layers(2)
                .dropout(0.1),
        )
        .add(Gru::new(3).bidirectional(true).return_sequences(true))
        .add(SimpleRnn::new(4).return_sequences(true))
        .add(Flatten)
        .add(Dense::new(2))
}

fn models() -> Vec<(SequentialConfig, Vec<usize>)> {
    vec![
        (image_model(), vec![1, 12, 12]),
        (sequence_model(), vec![8]),
        (recurrent_model(), vec![7, 3]),
    ]
}

/// Every parameter and buffer: name and bits.
fn state(model: &Sequential) -> Vec<(String, Vec<u32>)> {
    model
        .parameters()
        .into_iter()
        .chain(model.buffers())
        .map(|p| {
            let bits = p.tensor().to_vec().unwrap().into_iter().map(f32::to_bits);
            (p.name().to_string(), bits.collect())
        })
        .collect()
}

fn kinds(specs: &[LayerSpec], seen: &mut BTreeSet<&'static str>) {
    for spec in specs {
        let kind = spec.kind().expect("a built-in kind");
        seen.insert(kind.name());
        if let LayerSpec::Sequential(inner) = spec {
            kinds(&inner.layers, seen);
        }
    }
}

#[test]
fn the_models_here_use_every_registered_layer_kind() {
    let mut seen = BTreeSet::new();
    for (config, _) in models() {
        kinds(&config.layers, &mut seen);
    }
    let missing: Vec<&str> = LayerKind::ALL
        .iter()
        .map(|k| k.name())
        .filter(|n| !seen.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "add these kinds to a model of this test: {missing:?}"
    );
}

#[test]
fn an_architecture_written_as_json_rebuilds_the_same_model() {
    for (config, input) in models() {
        let model = config.build(&input, &Device::Cpu, 7).unwrap();
        let json = serde_json::to_string_pretty(model.config()).unwrap();
        let read: SequentialConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(&read, model.config(), "{json}");
        let rebuilt = read.rebuild(&Device::Cpu, 7).unwrap();
        assert_eq!(state(&rebuilt), state(&model), "{json}");
        assert_eq!(rebuilt.summary(), model.summary());
    }
}

#[test]
fn an_architecture_written_as_toml_rebuilds_the_same_model() {
    for (config, input) in models() {
        let model = config.build(&input, &Device::Cpu, 11).unwrap();
        let text = toml::to_string(model.config()).unwrap();
        let read: SequentialConfig = toml::from_str(&text).unwrap();
        assert_eq!(&read, model.config(), "{text}");
        let rebuilt = read.rebuild(&Device::Cpu, 11).unwrap();
        assert_eq!(state(&rebuilt), state(&model), "{text}");
    }
}

#[test]
fn the_saved_form_reads_as_the_layers_a_person_wrote() {
    let model = Sequential::new()
        .add(Dense::new(16))
        .add(Relu)
        .add(Dropout::new(0.25))
        .add(Dense::new(2))
        .build(&[4], &Device::Cpu, 0)
        .unwrap();
    assert_eq!(
        serde_json::to_string(model.config()).unwrap(),
        r#"{"input_shape":[4],"layers":[{"type":"dense","units":16,"bias":true,"init":"torch_linear_default"},{"type":"relu"},{"type":"dropout","p":0.25},{"type":"dense","units":2,"bias":true,"init":"torch_linear_default"}]}"#
    );
}
