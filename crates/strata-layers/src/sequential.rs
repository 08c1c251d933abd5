//! `Sequential`: a stack of modules applied in order, with input-size inference and a
//! summary. It is itself a [`Module`], so stacks nest.

use std::fmt;

use strata_core::{Device, Error, Param, Result, Tensor};

use crate::module::{BuildContext, Mode, Module, check_rng_state_len};
use crate::summary::{Summary, SummaryRow};

/// Modules applied one after another.
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
/// # Ok::<(), strata_core::Error>(())
/// ```
///
/// Parameters are named by position, as PyTorch's `nn.Sequential` names them in a
/// `state_dict`: `"0.weight"`, `"0.bias"`, `"2.weight"`, ...
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    input_shape: Option<Vec<usize>>,
    output_shapes: Vec<Vec<usize>>,
}

impl Sequential {
    /// An empty stack.
    pub fn new() -> Self {
        Sequential::default()
    }

    /// Appends a module (builder style).
    // `add` is the Keras name users look for; a `std::ops::Add` impl would read worse.
    #[allow(clippy::should_implement_trait)]
    pub fn add<M: Module + 'static>(mut self, module: M) -> Self {
        self.layers.push(Box::new(module));
        self
    }

    /// Appends a boxed module.
    pub fn push(&mut self, module: Box<dyn Module>) {
        self.layers.push(module);
    }

    /// Builds every module for the per-sample input shape `input` (no batch dimension),
    /// creating parameters on `device` from `seed`, and returns the built model. An error names
    /// the layer that refused its input: `layer 2 (Dense(10)): ...`.
    pub fn build(mut self, input: &[usize], device: &Device, seed: u64) -> Result<Self> {
        Module::build(&mut self, input, &mut BuildContext::new(*device, seed))?;
        Ok(self)
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the stack is empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The modules, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The per-sample input shape the model was built for.
    pub fn input_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_deref()
    }

    /// The per-sample output shape, once built.
    pub fn output_shape(&self) -> Option<&[usize]> {
        self.input_shape.as_ref()?;
        match self.output_shapes.last() {
            Some(shape) if self.output_shapes.len() == self.layers.len() => Some(shape),
            Some(_) => None,
            None => self.input_shape(),
        }
    }

    /// The layers with their output shapes and parameter counts.
    pub fn summary(&self) -> Summary {
        let rows = self
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| SummaryRow {
                index,
                kind: layer.kind(),
                output_shape: self.output_shapes.get(index).cloned(),
                params: layer.num_parameters(),
                buffers: layer
                    .buffers()
                    .iter()
                    .map(|b| b.tensor().elem_count())
                    .sum(),
            })
            .collect();
        Summary::new(self.input_shape.clone(), rows)
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

impl Module for Sequential {
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
        let mut shapes = Vec::with_capacity(self.layers.len());
        let mut shape = input.to_vec();
        for (index, layer) in self.layers.iter_mut().enumerate() {
            shape = layer
                .build(&shape, ctx)
                .map_err(|e| in_layer("Sequential::build", index, &layer.kind(), e))?;
            shapes.push(shape.clone());
        }
        self.input_shape = Some(input.to_vec());
        self.output_shapes = shapes;
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
            .field("input_shape", &self.input_shape)
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
        assert!(err.contains("layer 0 (Dense(4))"), "{err}");
    }

    #[test]
    fn an_empty_stack_is_the_identity() {
        let model = Sequential::new().build(&[3], &Device::best(), 0).unwrap();
        let x = Tensor::ones([2, 3], &Device::best()).unwrap();
        assert_eq!(
            model.forward(&x, Mode::Eval).unwrap().to_vec().unwrap(),
            vec![1.0; 6]
        );
        assert_eq!(model.output_shape(), Some(&[3][..]));
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
    fn layers_pushed_after_build_have_no_shape_until_rebuilt() {
        let mut model = Sequential::new()
            .add(Dense::new(4))
            .build(&[3], &Device::best(), 0)
            .unwrap();
        model.push(Box::new(Relu));
        assert_eq!(model.output_shape(), None);
        let model = model.build(&[3], &Device::best(), 0).unwrap();
        assert_eq!(model.output_shape(), Some(&[4][..]));
    }
}
