//! `Sequential`: a stack of layers applied in order, with input-size inference and a
//! summary, built from a [`SequentialConfig`] (the list of layer configs, serde data). A
//! built stack is itself a [`Module`] and a config is itself a layer config, so stacks nest.

use std::fmt;

use serde::{Deserialize, Serialize};
use strata_core::{Device, Error, Param, Result, Tensor};

use crate::module::{BuildContext, LayerConfig, Mode, Module, check_rng_state_len};
use crate::spec::{BuiltLayer, LayerSpec};
use crate::summary::{Summary, SummaryRow};

/// The layers of a stack, in order, as configs: what `Sequential::new().add(..)` makes, and
/// what a model's architecture saves as (`{"input_shape": [784], "layers": [{"type":
/// "dense", "units": 128, ...}, {"type": "relu"}, ...]}`, in JSON or TOML), so a checkpoint can
/// rebuild the model from its config alone ([`SequentialConfig::rebuild`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialConfig {
    /// The per-sample input shape the stack is for: recorded by
    /// [`Sequential::config`]; when set, building for another shape is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<Vec<usize>>,
    /// The layers' configs, in order.
    #[serde(default)]
    pub layers: Vec<LayerSpec>,
}

impl SequentialConfig {
    /// An empty stack.
    pub fn new() -> Self {
        SequentialConfig::default()
    }

    /// Appends a layer's config (builder style): `.add(Dense::new(128)).add(Relu)`.
    // `add` is the Keras name users look for; a `std::ops::Add` impl would read worse.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Into<LayerSpec>) -> Self {
        self.layers.push(layer.into());
        self
    }

    /// Appends a layer that is already built (`Dense::from_tensors(w, b)?`, a custom
    /// module): the stack uses that very layer, and its architecture no longer serializes.
    pub fn add_built(mut self, layer: impl Module + 'static) -> Self {
        self.layers.push(LayerSpec::Built(BuiltLayer::new(layer)));
        self
    }

    /// Appends a layer's config.
    pub fn push(&mut self, layer: impl Into<LayerSpec>) {
        self.layers.push(layer.into());
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the stack is empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Builds every layer for the per-sample input shape `input` (no batch dimension),
    /// creating parameters on `device` from `seed`, and returns the built model. An error
    /// names the layer that refused its input: `layer 2 (dense): ...`.
    pub fn build(&self, input: &[usize], device: &Device, seed: u64) -> Result<Sequential> {
        LayerConfig::build(self, input, &mut BuildContext::new(*device, seed))
    }

    /// Builds the model for the recorded [`SequentialConfig::input_shape`]: what a saved
    /// architecture (`Sequential::config`, written as JSON or TOML and read back) needs to
    /// come back to life; load the weights into it afterwards.
    pub fn rebuild(&self, device: &Device, seed: u64) -> Result<Sequential> {
        let input = self.input_shape.as_deref().ok_or_else(|| {
            Error::invalid(
                "SequentialConfig::rebuild",
                "the config records no input_shape; call build with the input shape",
            )
        })?;
        self.build(input, device, seed)
    }
}

/// Adds the layer's position and kind to an error raised inside it, keeping the variant.
fn in_layer(op: &'static str, index: usize, kind: &str, err: Error) -> Error {
    match err {
        Error::Shape { op: inner, message } => {
            Error::shape(op, format!("layer {index} ({kind}): {inner}: {message}"))
        }
        Error::InvalidArgument { op: inner, message } => {
            Error::invalid(op, format!("layer {index} ({kind}): {inner}: {message}"))
        }
        Error::Autograd(message) => Error::Autograd(format!("layer {index} ({kind}): {message}")),
        other => other,
    }
}

impl LayerConfig for SequentialConfig {
    type Layer = Sequential;

    fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<Sequential> {
        if let Some(expected) = &self.input_shape
            && expected != input
        {
            return Err(Error::shape(
                "Sequential::build",
                format!("the config is for inputs {expected:?} but the input shape is {input:?}"),
            ));
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut output_shapes = Vec::with_capacity(self.layers.len());
        let mut shape = input.to_vec();
        for (index, spec) in self.layers.iter().enumerate() {
            let op = "Sequential::build";
            let layer = spec
                .build(&shape, ctx)
                .map_err(|e| in_layer(op, index, &spec.describe(), e))?;
            shape = layer
                .output_shape(&shape)
                .map_err(|e| in_layer(op, index, &layer.kind(), e))?;
            output_shapes.push(shape.clone());
            layers.push(layer);
        }
        Ok(Sequential {
            config: SequentialConfig {
                input_shape: Some(input.to_vec()),
                layers: self.layers.clone(),
            },
            layers,
            output_shapes,
        })
    }
}

/// Layers applied one after another, built from a [`SequentialConfig`].
///
/// ```no_run
/// use strata_core::Device;
/// use strata_layers::{Dense, Relu, Sequential};
/// let model = Sequential::new()
///     .add(Dense::new(128))
///     .add(Relu)
///     .add(Dense::new(10))
///     .build(&[784], &Device::best(), 42)?;
/// println!("{}", model.summary());
/// let saved = serde_json::to_string(model.config()).expect("every layer has a config");
/// # Ok::<(), strata_core::Error>(())
/// ```
///
/// Parameters are named by position, as PyTorch's `nn.Sequential` names them in a
/// `state_dict`: `"0.weight"`, `"0.bias"`, `"2.weight"`, ...
pub struct Sequential {
    config: SequentialConfig,
    layers: Vec<Box<dyn Module>>,
    output_shapes: Vec<Vec<usize>>,
}

impl Sequential {
    /// An empty stack's config; `.add(..)` layers, then `.build(input, device, seed)`.
    // The Keras spelling users look for; the built model comes from `SequentialConfig::build`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> SequentialConfig {
        SequentialConfig::new()
    }

    /// The config the model was built from, with the input shape it was built for: serialize
    /// it to save the architecture, [`SequentialConfig::rebuild`] it to get the model back.
    pub fn config(&self) -> &SequentialConfig {
        &self.config
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the stack is empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The per-sample input shape the model was built for.
    pub fn input_shape(&self) -> &[usize] {
        self.config.input_shape.as_deref().unwrap_or_default()
    }

    /// The per-sample output shape.
    pub fn output_shape(&self) -> &[usize] {
        self.output_shapes
            .last()
            .map(Vec::as_slice)
            .unwrap_or_else(|| self.input_shape())
    }

    /// The layers with their output shapes and parameter counts.
    pub fn summary(&self) -> Summary {
        let rows = self
            .layers
            .iter()
            .zip(&self.output_shapes)
            .enumerate()
            .map(|(index, (layer, shape))| SummaryRow {
                index,
                kind: layer.kind(),
                output_shape: shape.clone(),
                params: layer.num_parameters(),
                buffers: layer
                    .buffers()
                    .iter()
                    .map(|b| b.tensor().elem_count())
                    .sum(),
            })
            .collect();
        Summary::new(self.input_shape().to_vec(), rows)
    }
}

impl Module for Sequential {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut shape = input.to_vec();
        for (index, layer) in self.layers.iter().enumerate() {
            shape = layer
                .output_shape(&shape)
                .map_err(|e| in_layer("Sequential", index, &layer.kind(), e))?;
        }
        Ok(shape)
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        let mut y = x.clone();
        for (index, layer) in self.layers.iter().enumerate() {
            y = layer
                .forward(&y, mode)
                .map_err(|e| in_layer("Sequential::forward", index, &layer.kind(), e))?;
        }
        Ok(y)
    }

    fn parameters(&self) -> Vec<Param> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                let prefix = i.to_string();
                layer
                    .parameters()
                    .into_iter()
                    .map(move |p| p.with_prefix(&prefix))
            })
            .collect()
    }

    fn buffers(&self) -> Vec<Param> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                let prefix = i.to_string();
                layer
                    .buffers()
                    .into_iter()
                    .map(move |p| p.with_prefix(&prefix))
            })
            .collect()
    }

    fn kind(&self) -> String {
        "Sequential".to_string()
    }

    fn rng_state(&self) -> Vec<u64> {
        self.layers.iter().flat_map(|l| l.rng_state()).collect()
    }

    fn set_rng_state(&self, state: &[u64]) -> Result<()> {
        let lens: Vec<usize> = self.layers.iter().map(|l| l.rng_state().len()).collect();
        check_rng_state_len("Sequential", lens.iter().sum(), state)?;
        let mut rest = state;
        for (layer, len) in self.layers.iter().zip(lens) {
            let (mine, tail) = rest.split_at(len);
            layer.set_rng_state(mine)?;
            rest = tail;
        }
        Ok(())
    }

    fn model_summary(&self) -> Option<Summary> {
        Some(self.summary())
    }
}

impl fmt::Debug for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<String> = self.layers.iter().map(|l| l.kind()).collect();
        f.debug_struct("Sequential")
            .field("layers", &kinds)
            .field("input_shape", &self.input_shape())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Relu};

    #[test]
    fn errors_inside_a_layer_name_its_index_and_kind() {
        let err = Sequential::new()
            .add(Dense::new(4))
            .add(Relu)
            .add(Dense::new(10))
            .build(&[], &Device::best(), 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("layer 0 (dense): Dense"), "{err}");
    }

    #[test]
    fn an_empty_stack_is_the_identity() {
        let model = Sequential::new().build(&[3], &Device::best(), 0).unwrap();
        let x = Tensor::ones([2, 3], &Device::best()).unwrap();
        assert_eq!(
            model.forward(&x, Mode::Eval).unwrap().to_vec().unwrap(),
            vec![1.0; 6]
        );
        assert_eq!(model.output_shape(), &[3]);
    }

    #[test]
    fn rng_state_gathers_and_restores_every_dropout_counter() {
        use crate::Dropout;
        let model = Sequential::new()
            .add(Dense::new(4))
            .add(Dropout::new(0.5))
            .add(Relu)
            .add(Dropout::new(0.5))
            .build(&[3], &Device::best(), 0)
            .unwrap();
        let x = Tensor::ones([2, 3], &Device::best()).unwrap();
        model.forward(&x, Mode::Train).unwrap();
        let state = model.rng_state();
        assert_eq!((state.len(), state[1], state[3]), (4, 1, 1));
        assert_ne!(
            state[0], state[2],
            "each dropout layer has its own base seed"
        );
        model.set_rng_state(&[5, 7, 6, 9]).unwrap();
        assert_eq!(model.rng_state(), vec![5, 7, 6, 9]);
        let err = model.set_rng_state(&[1]).unwrap_err().to_string();
        assert!(
            err.contains("keeps 4 RNG state value(s) but the state has 1"),
            "{err}"
        );
        assert_eq!(model.rng_state(), vec![5, 7, 6, 9]);
    }

    #[test]
    fn a_built_models_config_extended_and_rebuilt_gives_the_longer_model() {
        let model = Sequential::new()
            .add(Dense::new(4))
            .build(&[3], &Device::best(), 0)
            .unwrap();
        let mut config = model.config().clone();
        config.push(Relu);
        config.push(Dense::new(2));
        let longer = config.rebuild(&Device::best(), 0).unwrap();
        assert_eq!((longer.len(), longer.output_shape()), (3, &[2][..]));
        assert_eq!(
            longer.parameters()[0].tensor().to_vec().unwrap(),
            model.parameters()[0].tensor().to_vec().unwrap(),
            "the same seed draws the same first layer"
        );
    }

    #[test]
    fn a_config_recorded_for_one_input_shape_refuses_another() {
        let model = Sequential::new()
            .add(Dense::new(4))
            .build(&[3], &Device::best(), 0)
            .unwrap();
        let e = model
            .config()
            .build(&[5], &Device::best(), 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[3]") && e.contains("[5]"), "{e}");
        let e = Sequential::new()
            .rebuild(&Device::best(), 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no input_shape"), "{e}");
    }

    #[test]
    fn a_layer_added_built_is_used_as_is_and_checks_its_input() {
        let dev = Device::best();
        let dense = Dense::from_tensors(Tensor::ones([2, 3], &dev).unwrap(), None).unwrap();
        let id = dense.weight().id();
        let config = Sequential::new().add_built(dense);
        let model = config.build(&[3], &dev, 0).unwrap();
        assert_eq!(model.parameters()[0].tensor().id(), id);
        let e = config.build(&[4], &dev, 0).unwrap_err().to_string();
        assert!(e.contains("layer 0 (Dense(2))"), "{e}");
    }
}
