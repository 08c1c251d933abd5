//! `[model]`: a `Sequential` described as a list of layers (`[[model.layers]]`, each with a
//! `type` and that layer's fields) and the per-sample input shape; [`ModelConfig::build`]
//! turns it into a built [`Sequential`].
//!
//! Layer specs are flat (one struct with every field any layer takes) so that serde reports
//! the exact key of a wrong value; which fields a layer takes is checked here, with errors
//! such as `model.layers[1].units: not a field of relu`.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use strata_core::{Device, Result};
use strata_layers::{
    AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dense, Dropout, Elu, Embedding,
    Flatten, Gelu, GlobalAvgPool, GlobalMaxPool, Gru, LeakyRelu, Lstm, MaxPool1d, MaxPool2d,
    Module, Padding, Permute, Relu, Sequential, Sigmoid, SimpleRnn, Softmax, Tanh,
};

use super::error::key_error;

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Per-sample input shape (no batch dimension), e.g. `[1, 28, 28]`. When absent the
    /// shape of the data's samples is used.
    #[serde(default)]
    pub input_shape: Option<Vec<usize>>,
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
}

/// Every layer type a config can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum LayerKind {
    Dense,
    Conv1d,
    Conv2d,
    Maxpool1d,
    Maxpool2d,
    Avgpool1d,
    Avgpool2d,
    GlobalAvgPool,
    GlobalMaxPool,
    Flatten,
    Dropout,
    Relu,
    Sigmoid,
    Tanh,
    Gelu,
    Elu,
    LeakyRelu,
    Softmax,
    Batchnorm1d,
    Batchnorm2d,
    Embedding,
    SimpleRnn,
    Lstm,
    Gru,
    Permute,
}

impl LayerKind {
    /// The `type` string of this kind.
    pub fn name(self) -> String {
        toml::Value::try_from(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The fields this layer takes besides `type` and `repeat`, and which of them it needs.
    fn fields(self) -> (&'static [&'static str], &'static [&'static str]) {
        use LayerKind::*;
        const CONV: &[&str] = &[
            "filters",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "activation",
        ];
        const RNN: &[&str] = &[
            "hidden",
            "num_layers",
            "bidirectional",
            "return_sequences",
            "dropout",
        ];
        match self {
            Dense => (&["units", "bias", "activation"], &["units"]),
            Conv1d | Conv2d => (CONV, &["filters", "kernel_size"]),
            Maxpool1d | Maxpool2d => (
                &["kernel_size", "stride", "padding", "ceil_mode"],
                &["kernel_size"],
            ),
            Avgpool1d | Avgpool2d => (
                &[
                    "kernel_size",
                    "stride",
                    "padding",
                    "ceil_mode",
                    "count_include_pad",
                ],
                &["kernel_size"],
            ),
            Dropout => (&["p"], &["p"]),
            Elu | LeakyRelu => (&["alpha"], &[]),
            Batchnorm1d | Batchnorm2d => (&["momentum", "eps", "affine"], &[]),
            Embedding => (&["vocab", "dim", "padding_idx"], &["vocab", "dim"]),
            SimpleRnn | Lstm | Gru => (RNN, &["hidden"]),
            Permute => (&["axes"], &["axes"]),
            GlobalAvgPool | GlobalMaxPool | Flatten | Relu | Sigmoid | Tanh | Gelu | Softmax => {
                (&[], &[])
            }
        }
    }
}

/// An activation applied right after a dense or convolution layer (`activation = "relu"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
    Gelu,
    Softmax,
}

/// One `[[model.layers]]` entry: `type` plus the fields of that layer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// The layer type.
    #[serde(rename = "type")]
    pub kind: Option<LayerKind>,
    /// How many times the layer (with its activation) is stacked (default 1): the depth knob
    /// a search can vary (`model.layers.0.repeat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<usize>,
    /// Dense: output features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<usize>,
    /// Convolutions: output channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<usize>,
    /// Convolutions and pools: window size, `3` or `[3, 5]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_size: Option<OneOrTwo>,
    /// Convolutions and pools: stride, `2` or `[2, 1]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<OneOrTwo>,
    /// Convolutions: `"valid"`, `"same"`, `1` or `[1, 2]`; pools: a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<PaddingSpec>,
    /// Pools: round the output size up, keeping a last partial window (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceil_mode: Option<bool>,
    /// Average pools: count padded positions in the divisor (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_include_pad: Option<bool>,
    /// Convolutions: dilation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dilation: Option<usize>,
    /// Convolutions: groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<usize>,
    /// Dense and convolutions: whether to add a bias (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<bool>,
    /// Dense and convolutions: an activation after the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
    /// Dropout: probability of zeroing an input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<f32>,
    /// ELU and leaky ReLU: slope parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    /// Batch norm: running-statistics momentum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f32>,
    /// Batch norm: epsilon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<f32>,
    /// Batch norm: learnable scale and shift (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affine: Option<bool>,
    /// Embedding: vocabulary size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocab: Option<usize>,
    /// Embedding: vector size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Embedding: the index whose vector stays zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding_idx: Option<usize>,
    /// Recurrent layers: hidden features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<usize>,
    /// Recurrent layers: stacked layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_layers: Option<usize>,
    /// Recurrent layers: run both directions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bidirectional: Option<bool>,
    /// Recurrent layers: return every step's output instead of the final state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_sequences: Option<bool>,
    /// Recurrent layers: dropout between stacked layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f32>,
    /// Permute: the new order of the per-sample axes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axes: Option<Vec<usize>>,
}

/// A size given once for both axes (`3`) or per axis (`[3, 5]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OneOrTwo {
    /// The same size on both axes.
    One(usize),
    /// `[height, width]`.
    Two([usize; 2]),
}

impl OneOrTwo {
    fn pair(self) -> [usize; 2] {
        match self {
            OneOrTwo::One(n) => [n, n],
            OneOrTwo::Two(p) => p,
        }
    }

    fn single(self, file: &Path, key: &str) -> Result<usize> {
        match self {
            OneOrTwo::One(n) => Ok(n),
            OneOrTwo::Two(p) if p[0] == p[1] => Ok(p[0]),
            OneOrTwo::Two(p) => Err(key_error(
                file,
                key,
                format!("expected one size, found [{}, {}]", p[0], p[1]),
            )),
        }
    }
}

struct OneOrTwoVisitor;

impl<'de> Visitor<'de> for OneOrTwoVisitor {
    type Value = OneOrTwo;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer or a pair [height, width]")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<OneOrTwo, E> {
        usize::try_from(v)
            .map(OneOrTwo::One)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<OneOrTwo, E> {
        Ok(OneOrTwo::One(v as usize))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<OneOrTwo, A::Error> {
        let h: usize = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let w: usize = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<usize>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(OneOrTwo::Two([h, w]))
    }
}

impl<'de> Deserialize<'de> for OneOrTwo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(OneOrTwoVisitor)
    }
}

/// Convolution padding: `"valid"`, `"same"`, a number or `[height, width]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaddingSpec {
    /// No padding.
    Valid,
    /// Output the size of the input (stride 1).
    Same,
    /// Zeros on both sides of each axis.
    Explicit(OneOrTwo),
}

impl Serialize for PaddingSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            PaddingSpec::Valid => s.serialize_str("valid"),
            PaddingSpec::Same => s.serialize_str("same"),
            PaddingSpec::Explicit(p) => p.serialize(s),
        }
    }
}

struct PaddingVisitor;

impl<'de> Visitor<'de> for PaddingVisitor {
    type Value = PaddingSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"valid\", \"same\", a non-negative integer or [height, width]")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<PaddingSpec, E> {
        match v {
            "valid" => Ok(PaddingSpec::Valid),
            "same" => Ok(PaddingSpec::Same),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<PaddingSpec, E> {
        OneOrTwoVisitor.visit_i64(v).map(PaddingSpec::Explicit)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<PaddingSpec, E> {
        OneOrTwoVisitor.visit_u64(v).map(PaddingSpec::Explicit)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<PaddingSpec, A::Error> {
        OneOrTwoVisitor.visit_seq(seq).map(PaddingSpec::Explicit)
    }
}

impl<'de> Deserialize<'de> for PaddingSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(PaddingVisitor)
    }
}

impl ModelConfig {
    /// Checks every layer: a known `type`, the fields it needs present, no field it does
    /// not take. `file` names the config in errors.
    pub fn validate(&self, file: &Path) -> Result<()> {
        if self.layers.is_empty() {
            return Err(key_error(
                file,
                "model.layers",
                "expected at least one layer",
            ));
        }
        for (i, spec) in self.layers.iter().enumerate() {
            spec.validate(file, &format!("model.layers[{i}]"))?;
        }
        Ok(())
    }

    /// The model, built for `input_shape` (or the data's `sample_shape` when the config has
    /// none) on `device` from `seed`.
    pub fn build(
        &self,
        file: &Path,
        sample_shape: &[usize],
        device: &Device,
        seed: u64,
    ) -> Result<Sequential> {
        self.validate(file)?;
        let input = self.input_shape.as_deref().unwrap_or(sample_shape);
        let mut model = Sequential::new();
        for (i, spec) in self.layers.iter().enumerate() {
            let key = format!("model.layers[{i}]");
            for _ in 0..spec.repeat.unwrap_or(1) {
                for layer in spec.layers(file, &key)? {
                    model.push(layer);
                }
            }
        }
        model
            .build(input, device, seed)
            .map_err(|e| key_error(file, "model", e))
    }
}

impl LayerSpec {
    fn kind(&self, file: &Path, key: &str) -> Result<LayerKind> {
        self.kind
            .ok_or_else(|| key_error(file, &format!("{key}.type"), "missing key"))
    }

    /// The fields set in this spec (besides `type` and `repeat`).
    fn present_fields(&self) -> Vec<String> {
        match toml::Value::try_from(self) {
            Ok(toml::Value::Table(t)) => t
                .keys()
                .filter(|k| *k != "type" && *k != "repeat")
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }

    fn validate(&self, file: &Path, key: &str) -> Result<()> {
        let kind = self.kind(file, key)?;
        let (allowed, required) = kind.fields();
        for field in self.present_fields() {
            if !allowed.contains(&field.as_str()) {
                let takes = if allowed.is_empty() {
                    "it takes no fields".to_string()
                } else {
                    format!("it takes {}", allowed.join(", "))
                };
                return Err(key_error(
                    file,
                    &format!("{key}.{field}"),
                    format!("not a field of {} ({takes})", kind.name()),
                ));
            }
        }
        let present = self.present_fields();
        for field in required {
            if !present.iter().any(|p| p == field) {
                return Err(key_error(
                    file,
                    &format!("{key}.{field}"),
                    format!(
                        "missing key ({} needs {})",
                        kind.name(),
                        required.join(", ")
                    ),
                ));
            }
        }
        if self.repeat == Some(0) {
            return Err(key_error(
                file,
                &format!("{key}.repeat"),
                "expected at least 1, found 0",
            ));
        }
        Ok(())
    }

    /// The modules of one copy of this spec: the layer, then its activation if any.
    fn layers(&self, file: &Path, key: &str) -> Result<Vec<Box<dyn Module>>> {
        use LayerKind as K;
        self.validate(file, key)?;
        let kind = self.kind(file, key)?;
        let need = |v: Option<usize>| v.unwrap_or_default();
        let layer: Box<dyn Module> = match kind {
            K::Dense => Box::new(Dense::new(need(self.units)).with_bias(self.bias.unwrap_or(true))),
            K::Conv1d => {
                let k = self.kernel_size.map(OneOrTwo::pair).unwrap_or([1, 1]);
                let kernel = self
                    .kernel_size
                    .map_or(Ok(k[1]), |v| v.single(file, &format!("{key}.kernel_size")))?;
                let mut c =
                    Conv1d::new(need(self.filters), kernel).with_bias(self.bias.unwrap_or(true));
                if let Some(s) = self.stride {
                    c = c.stride(s.single(file, &format!("{key}.stride"))?);
                }
                if let Some(p) = self.padding {
                    c = c.padding(padding(p));
                }
                if let Some(d) = self.dilation {
                    c = c.dilation(d);
                }
                if let Some(g) = self.groups {
                    c = c.groups(g);
                }
                Box::new(c)
            }
            K::Conv2d => {
                let k = self.kernel_size.map(OneOrTwo::pair).unwrap_or([1, 1]);
                let mut c = Conv2d::new(need(self.filters), k[0])
                    .kernel_size(k)
                    .with_bias(self.bias.unwrap_or(true));
                if let Some(s) = self.stride {
                    c = c.strides(s.pair());
                }
                if let Some(p) = self.padding {
                    c = c.padding(padding(p));
                }
                if let Some(d) = self.dilation {
                    c = c.dilation(d);
                }
                if let Some(g) = self.groups {
                    c = c.groups(g);
                }
                Box::new(c)
            }
            K::Maxpool1d | K::Avgpool1d => {
                let k = self
                    .kernel_size
                    .map_or(Ok(1), |v| v.single(file, &format!("{key}.kernel_size")))?;
                let s = match self.stride {
                    Some(s) => Some(s.single(file, &format!("{key}.stride"))?),
                    None => None,
                };
                let p = self.pool_padding(file, key)?;
                let ceil = self.ceil_mode.unwrap_or(false);
                let count_pad = self.count_include_pad.unwrap_or(true);
                if kind == K::Maxpool1d {
                    let mut l = MaxPool1d::new(k);
                    if let Some(s) = s {
                        l = l.stride(s);
                    }
                    Box::new(l.padding(p).ceil_mode(ceil))
                } else {
                    let mut l = AvgPool1d::new(k);
                    if let Some(s) = s {
                        l = l.stride(s);
                    }
                    Box::new(l.padding(p).ceil_mode(ceil).count_include_pad(count_pad))
                }
            }
            K::Maxpool2d | K::Avgpool2d => {
                let k = self.kernel_size.map(OneOrTwo::pair).unwrap_or([1, 1]);
                let p = self.pool_padding(file, key)?;
                let ceil = self.ceil_mode.unwrap_or(false);
                let count_pad = self.count_include_pad.unwrap_or(true);
                if kind == K::Maxpool2d {
                    let mut l = MaxPool2d::new(k[0]).kernel_size(k);
                    if let Some(s) = self.stride {
                        l = l.strides(s.pair());
                    }
                    Box::new(l.padding(p).ceil_mode(ceil))
                } else {
                    let mut l = AvgPool2d::new(k[0]).kernel_size(k);
                    if let Some(s) = self.stride {
                        l = l.strides(s.pair());
                    }
                    Box::new(l.padding(p).ceil_mode(ceil).count_include_pad(count_pad))
                }
            }
            K::GlobalAvgPool => Box::new(GlobalAvgPool),
            K::GlobalMaxPool => Box::new(GlobalMaxPool),
            K::Flatten => Box::new(Flatten),
            K::Dropout => Box::new(Dropout::new(self.p.unwrap_or_default())),
            K::Relu => Box::new(Relu),
            K::Sigmoid => Box::new(Sigmoid),
            K::Tanh => Box::new(Tanh),
            K::Gelu => Box::new(Gelu),
            K::Softmax => Box::new(Softmax),
            K::Elu => Box::new(Elu::new(self.alpha.unwrap_or(1.0))),
            K::LeakyRelu => Box::new(LeakyRelu::new(self.alpha.unwrap_or(0.01))),
            K::Batchnorm1d | K::Batchnorm2d => {
                macro_rules! norm {
                    ($t:ty) => {{
                        let mut n = <$t>::new();
                        if let Some(m) = self.momentum {
                            n = n.momentum(m);
                        }
                        if let Some(e) = self.eps {
                            n = n.eps(e);
                        }
                        if let Some(a) = self.affine {
                            n = n.affine(a);
                        }
                        Box::new(n) as Box<dyn Module>
                    }};
                }
                if kind == K::Batchnorm1d {
                    norm!(BatchNorm1d)
                } else {
                    norm!(BatchNorm2d)
                }
            }
            K::Embedding => {
                let mut e = Embedding::new(need(self.vocab), need(self.dim));
                if let Some(p) = self.padding_idx {
                    e = e.padding_idx(p);
                }
                Box::new(e)
            }
            K::SimpleRnn | K::Lstm | K::Gru => {
                macro_rules! rnn {
                    ($t:ty) => {{
                        let l = <$t>::new(need(self.hidden))
                            .num_layers(self.num_layers.unwrap_or(1))
                            .bidirectional(self.bidirectional.unwrap_or(false))
                            .return_sequences(self.return_sequences.unwrap_or(false))
                            .dropout(self.dropout.unwrap_or(0.0));
                        Box::new(l) as Box<dyn Module>
                    }};
                }
                match kind {
                    K::SimpleRnn => rnn!(SimpleRnn),
                    K::Lstm => rnn!(Lstm),
                    _ => rnn!(Gru),
                }
            }
            K::Permute => Box::new(Permute::new(self.axes.as_deref().unwrap_or_default())),
        };
        let mut out = vec![layer];
        if let Some(a) = self.activation {
            out.push(match a {
                Activation::Relu => Box::new(Relu) as Box<dyn Module>,
                Activation::Sigmoid => Box::new(Sigmoid),
                Activation::Tanh => Box::new(Tanh),
                Activation::Gelu => Box::new(Gelu),
                Activation::Softmax => Box::new(Softmax),
            });
        }
        Ok(out)
    }

    fn pool_padding(&self, file: &Path, key: &str) -> Result<usize> {
        match self.padding {
            None | Some(PaddingSpec::Valid) => Ok(0),
            Some(PaddingSpec::Explicit(p)) => p.single(file, &format!("{key}.padding")),
            Some(PaddingSpec::Same) => Err(key_error(
                file,
                &format!("{key}.padding"),
                "expected a number of zeros for a pool, found \"same\"",
            )),
        }
    }
}

fn padding(p: PaddingSpec) -> Padding {
    match p {
        PaddingSpec::Valid => Padding::Valid,
        PaddingSpec::Same => Padding::Same,
        PaddingSpec::Explicit(p) => Padding::Explicit(p.pair()),
    }
}
