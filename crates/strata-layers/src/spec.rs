//! The registry of layer kinds: every kind a config file or a saved architecture can name,
//! listed once below with its config type, and [`LayerSpec`], any layer's config tagged by
//! its kind (`{ type = "dense", units = 128 }`), which is what [`crate::Sequential`] holds and
//! what serializes.
//!
//! Adding a layer is its file (the config with serde and [`LayerConfig`], the built
//! [`Module`]), its exports in `lib.rs`, and one line in `layer_kinds!` here; a config file
//! (the `strata` command's TOML) can then name it, with no other edit.
//!
//! Reading a spec from a format that tracks key paths (the CLI's TOML) goes through
//! [`LayerKind::deserialize`]: the caller peeks `type`, finds the kind, and hands the other
//! keys to that kind's config struct (each refuses unknown keys), so a wrong value is
//! reported at its exact key. The generic `Deserialize` of [`LayerSpec`] (JSON, a saved
//! architecture) does the same through a `serde_json` buffer.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};
use strata_core::{Param, Result, Tensor};

use crate::module::{BuildContext, LayerConfig, Mode, Module};
use crate::{
    AvgPool1d, AvgPool2d, BatchNorm1dConfig, BatchNorm2dConfig, Conv1dConfig, Conv2dConfig,
    DenseConfig, DropoutConfig, Elu, EmbeddingConfig, Flatten, Gelu, GlobalAvgPool, GlobalMaxPool,
    GruConfig, LeakyRelu, LstmConfig, MaxPool1d, MaxPool2d, Permute, Relu, SequentialConfig,
    Sigmoid, SimpleRnnConfig, Softmax, Tanh,
};

/// Declares the layer kinds: for each, the [`LayerSpec`] variant and config type, the `type`
/// name, the keys a config must set, and whether it is an activation (usable as the
/// `activation = "..."` shorthand of a config file).
macro_rules! layer_kinds {
    ($(
        $variant:ident($config:ty) = $name:literal, needs [$($need:literal),*] $(, $act:ident)?;
    )*) => {
        /// Any layer's config, tagged by its kind: what [`crate::Sequential`] holds, and what
        /// a model's architecture serializes as (`{"type": "dense", "units": 128, ...}`).
        ///
        /// Built-in configs convert into it (`Dense::new(128).into()`); [`LayerSpec::build`]
        /// makes the layer.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        #[allow(missing_docs)] // each variant is the config of the kind it names
        pub enum LayerSpec {
            $($variant($config),)*
            /// A layer added already built ([`SequentialConfig::add_built`]): building
            /// returns the same layer (its parameters are shared), after checking it takes
            /// the input. It has no config, so an architecture holding one does not
            /// serialize.
            Built(BuiltLayer),
        }

        /// Every kind of layer a config can name (the registry).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[allow(missing_docs)] // each variant is the kind it names
        pub enum LayerKind {
            $($variant,)*
        }

        impl LayerKind {
            /// Every kind, in the registry's order.
            pub const ALL: &'static [LayerKind] = &[$(LayerKind::$variant),*];

            /// The `type` name of this kind in a config (`"dense"`, `"maxpool2d"`).
            pub fn name(self) -> &'static str {
                match self {
                    $(LayerKind::$variant => $name,)*
                }
            }

            /// The keys a config of this kind must set (the others have defaults).
            pub fn required_fields(self) -> &'static [&'static str] {
                match self {
                    $(LayerKind::$variant => &[$($need),*],)*
                }
            }

            /// Whether this kind is an activation (a config file's `activation = "relu"`
            /// after a layer may name it).
            pub fn is_activation(self) -> bool {
                match self {
                    $(LayerKind::$variant => layer_kinds!(@act $($act)?),)*
                }
            }

            /// Reads this kind's config from `fields` (a table without the `type` key).
            /// Unknown keys are errors, reported by serde as `unknown field`.
            pub fn deserialize<'de, D: Deserializer<'de>>(
                self,
                fields: D,
            ) -> std::result::Result<LayerSpec, D::Error> {
                match self {
                    $(LayerKind::$variant => {
                        <$config>::deserialize(fields).map(LayerSpec::$variant)
                    })*
                }
            }
        }

        impl LayerSpec {
            /// The kind of this spec; `None` for a layer added built.
            pub fn kind(&self) -> Option<LayerKind> {
                match self {
                    $(LayerSpec::$variant(_) => Some(LayerKind::$variant),)*
                    LayerSpec::Built(_) => None,
                }
            }

            /// A short name for messages: the kind (`"dense"`), or the built layer's
            /// description.
            pub fn describe(&self) -> String {
                match self {
                    $(LayerSpec::$variant(_) => $name.to_string(),)*
                    LayerSpec::Built(b) => b.0.kind(),
                }
            }

            /// Builds the layer for the per-sample input shape `input`.
            pub fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<Box<dyn Module>> {
                match self {
                    $(LayerSpec::$variant(c) => Ok(Box::new(LayerConfig::build(c, input, ctx)?)),)*
                    LayerSpec::Built(b) => b.reuse(input),
                }
            }

            fn serialize_tagged<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                match self {
                    $(LayerSpec::$variant(c) => Tagged { kind: $name, fields: c }.serialize(s),)*
                    LayerSpec::Built(b) => Err(ser::Error::custom(format!(
                        "{} was added built, so it has no config to save; add its config \
                         instead (`Sequential::add`) to save the architecture",
                        b.0.kind()
                    ))),
                }
            }
        }

        $(
            impl From<$config> for LayerSpec {
                fn from(config: $config) -> Self {
                    LayerSpec::$variant(config)
                }
            }
        )*
    };
    (@act) => {
        false
    };
    (@act activation) => {
        true
    };
}

layer_kinds! {
    Dense(DenseConfig) = "dense", needs ["units"];
    Conv1d(Conv1dConfig) = "conv1d", needs ["filters", "kernel_size"];
    Conv2d(Conv2dConfig) = "conv2d", needs ["filters", "kernel_size"];
    MaxPool1d(MaxPool1d) = "maxpool1d", needs ["kernel_size"];
    MaxPool2d(MaxPool2d) = "maxpool2d", needs ["kernel_size"];
    AvgPool1d(AvgPool1d) = "avgpool1d", needs ["kernel_size"];
    AvgPool2d(AvgPool2d) = "avgpool2d", needs ["kernel_size"];
    GlobalAvgPool(GlobalAvgPool) = "global_avg_pool", needs [];
    GlobalMaxPool(GlobalMaxPool) = "global_max_pool", needs [];
    Flatten(Flatten) = "flatten", needs [];
    Dropout(DropoutConfig) = "dropout", needs ["p"];
    Relu(Relu) = "relu", needs [], activation;
    Sigmoid(Sigmoid) = "sigmoid", needs [], activation;
    Tanh(Tanh) = "tanh", needs [], activation;
    Gelu(Gelu) = "gelu", needs [], activation;
    Elu(Elu) = "elu", needs [], activation;
    LeakyRelu(LeakyRelu) = "leaky_relu", needs [], activation;
    Softmax(Softmax) = "softmax", needs [], activation;
    BatchNorm1d(BatchNorm1dConfig) = "batchnorm1d", needs [];
    BatchNorm2d(BatchNorm2dConfig) = "batchnorm2d", needs [];
    Embedding(EmbeddingConfig) = "embedding", needs ["vocab", "dim"];
    SimpleRnn(SimpleRnnConfig) = "simple_rnn", needs ["hidden"];
    Lstm(LstmConfig) = "lstm", needs ["hidden"];
    Gru(GruConfig) = "gru", needs ["hidden"];
    Permute(Permute) = "permute", needs ["axes"];
    Sequential(SequentialConfig) = "sequential", needs [];
}

impl LayerKind {
    /// The kind a config calls `name`.
    pub fn from_name(name: &str) -> Option<LayerKind> {
        LayerKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Every kind's name, comma-separated, for messages.
    pub fn names() -> String {
        let names: Vec<&str> = LayerKind::ALL.iter().map(|k| k.name()).collect();
        names.join(", ")
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A config serialized with its kind first: `{"type": "dense", "units": 128, ...}`.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    fields: &'a T,
}

impl Serialize for LayerSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.serialize_tagged(s)
    }
}

impl<'de> Deserialize<'de> for LayerSpec {
    /// Reads `{"type": ..., fields}` in any order of keys: the table is buffered, `type`
    /// taken out, and the rest read as that kind's config.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut table = serde_json::Map::deserialize(d)?;
        let kind = match table.remove("type") {
            Some(serde_json::Value::String(name)) => name,
            Some(other) => {
                return Err(de::Error::custom(format!(
                    "`type` must be a layer kind name; found {other}"
                )));
            }
            None => return Err(de::Error::missing_field("type")),
        };
        let Some(found) = LayerKind::from_name(&kind) else {
            return Err(de::Error::custom(format!(
                "unknown layer \"{kind}\"; expected one of {}",
                LayerKind::names()
            )));
        };
        found
            .deserialize(serde_json::Value::Object(table))
            .map_err(|e| de::Error::custom(format!("{kind}: {e}")))
    }
}

/// An already built layer placed in a stack (see [`LayerSpec::Built`]).
#[derive(Clone)]
pub struct BuiltLayer(Arc<dyn Module>);

impl BuiltLayer {
    /// Wraps a built layer.
    pub fn new(module: impl Module + 'static) -> Self {
        BuiltLayer(Arc::new(module))
    }

    /// The same layer, boxed, after checking that it takes `input`.
    fn reuse(&self, input: &[usize]) -> Result<Box<dyn Module>> {
        self.0.output_shape(input)?;
        Ok(Box::new(self.clone()))
    }
}

impl fmt::Debug for BuiltLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BuiltLayer").field(&self.0.kind()).finish()
    }
}

impl PartialEq for BuiltLayer {
    /// The same layer (not merely equal weights).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Module for BuiltLayer {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        self.0.forward(x, mode)
    }
    fn parameters(&self) -> Vec<Param> {
        self.0.parameters()
    }
    fn buffers(&self) -> Vec<Param> {
        self.0.buffers()
    }
    fn kind(&self) -> String {
        self.0.kind()
    }
    fn rng_state(&self) -> Vec<u64> {
        self.0.rng_state()
    }
    fn set_rng_state(&self, state: &[u64]) -> Result<()> {
        self.0.set_rng_state(state)
    }
    fn model_summary(&self) -> Option<crate::Summary> {
        self.0.model_summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Init, Padding};

    #[test]
    fn every_kind_has_a_unique_name_that_finds_it() {
        for &kind in LayerKind::ALL {
            assert_eq!(LayerKind::from_name(kind.name()), Some(kind));
        }
        let mut names: Vec<&str> = LayerKind::ALL.iter().map(|k| k.name()).collect();
        names.dedup();
        assert_eq!(names.len(), LayerKind::ALL.len());
        assert_eq!(LayerKind::from_name("densse"), None);
    }

    #[test]
    fn required_fields_are_exactly_what_an_empty_table_lacks() {
        for &kind in LayerKind::ALL {
            let empty = serde_json::Value::Object(serde_json::Map::new());
            match (kind.deserialize(empty), kind.required_fields()) {
                (Ok(_), []) => {}
                (Err(e), [first, ..]) => {
                    assert_eq!(e.to_string(), format!("missing field `{first}`"), "{kind}");
                }
                (got, needs) => panic!("{kind}: needs {needs:?} but an empty table gives {got:?}"),
            }
        }
    }

    #[test]
    fn a_spec_serializes_with_its_type_first_and_reads_back_in_any_key_order() {
        let spec = LayerSpec::from(Dense::new(3).init(Init::HeNormal));
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            json,
            r#"{"type":"dense","units":3,"bias":true,"init":"he_normal"}"#
        );
        let back: LayerSpec =
            serde_json::from_str(r#"{"units":3,"init":"he_normal","type":"dense"}"#).unwrap();
        assert_eq!(back, spec);
        let conv: LayerSpec =
            serde_json::from_str(r#"{"type":"conv2d","filters":2,"kernel_size":3,"padding":1}"#)
                .unwrap();
        let LayerSpec::Conv2d(c) = conv else {
            panic!("{conv:?}")
        };
        assert_eq!(c.padding, Padding::Explicit([1, 1]));
    }

    #[test]
    fn reading_a_spec_names_the_kind_and_the_problem() {
        let e = serde_json::from_str::<LayerSpec>(r#"{"type":"densse"}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unknown layer \"densse\"; expected one of dense, conv1d"),
            "{e}"
        );
        let e = serde_json::from_str::<LayerSpec>(r#"{"units":3}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `type`"), "{e}");
        let e = serde_json::from_str::<LayerSpec>(r#"{"type":"relu","alpha":1}"#).unwrap_err();
        assert!(
            e.to_string().starts_with("relu: unknown field `alpha`"),
            "{e}"
        );
    }

    #[test]
    fn a_built_layer_serializes_to_an_error_naming_it() {
        let w = Tensor::zeros([2, 3], &strata_core::Device::Cpu).unwrap();
        let spec = LayerSpec::Built(BuiltLayer::new(Dense::from_tensors(w, None).unwrap()));
        let e = serde_json::to_string(&spec).unwrap_err().to_string();
        assert!(e.contains("Dense(2) was added built"), "{e}");
    }
}
