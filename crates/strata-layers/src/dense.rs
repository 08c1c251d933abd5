//! `Dense`: the fully connected layer `y = x · Wᵀ + b`, with its input size inferred at build.

use strata_core::{Error, Param, Result, Tensor};

use crate::init::Init;
use crate::module::{BuildContext, Mode, Module};

/// A fully connected layer on the last axis: `y = x · Wᵀ + b`.
///
/// The weight has PyTorch's layout `[units, in_features]` and the bias `[units]`.
/// `in_features` is the last dimension of the input shape given to [`Module::build`]; other
/// leading per-sample dimensions pass through (`[T, in] → [T, units]`). By default weight and
/// bias are drawn as PyTorch's `nn.Linear` does ([`Init::TorchLinearDefault`]), so training
/// behaves as it does there.
///
/// ```
/// use strata_layers::{Dense, Init};
/// let layer = Dense::new(128).init(Init::HeUniform).with_bias(false);
/// ```
#[derive(Debug)]
pub struct Dense {
    units: usize,
    use_bias: bool,
    weight_init: Init,
    bias_init: Option<Init>,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
}

impl Dense {
    /// An unbuilt layer with `units` outputs, a bias, and PyTorch's default initialization.
    pub fn new(units: usize) -> Self {
        Dense {
            units,
            use_bias: true,
            weight_init: Init::TorchLinearDefault,
            bias_init: None,
            weight: None,
            bias: None,
        }
    }

    /// A built layer holding the given weight `[units, in]` and optional bias `[units]`
    /// (`Dense::from_tensors(w, b)`, `Dense::from_tensors(w, None)`). Tensors that are not
    /// yet variables are made variables sharing their data; variables are used as they are,
    /// so their gradients can be looked up by the caller.
    pub fn from_tensors(weight: Tensor, bias: impl Into<Option<Tensor>>) -> Result<Self> {
        let bias = bias.into();
        if weight.rank() != 2 {
            return Err(Error::shape(
                "Dense::from_tensors",
                format!(
                    "weight must be [units, in_features]; got {}",
                    weight.shape()
                ),
            ));
        }
        let units = weight.dims()[0];
        if let Some(b) = &bias {
            if b.dims() != [units] {
                return Err(Error::shape(
                    "Dense::from_tensors",
                    format!(
                        "weight is {} so bias must be [{units}]; got {}",
                        weight.shape(),
                        b.shape()
                    ),
                ));
            }
            if b.device() != weight.device() {
                return Err(Error::DeviceMismatch {
                    op: "Dense::from_tensors",
                    lhs: weight.device().to_string(),
                    rhs: b.device().to_string(),
                });
            }
        }
        let as_variable = |t: Tensor| if t.is_variable() { t } else { t.variable() };
        Ok(Dense {
            units,
            use_bias: bias.is_some(),
            weight_init: Init::TorchLinearDefault,
            bias_init: None,
            weight: Some(as_variable(weight)),
            bias: bias.map(as_variable),
        })
    }

    /// Whether the layer adds a bias (default `true`).
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// The weight initializer (default [`Init::TorchLinearDefault`]).
    pub fn init(mut self, init: Init) -> Self {
        self.weight_init = init;
        self
    }

    /// The bias initializer. By default the bias follows PyTorch with
    /// [`Init::TorchLinearDefault`] and is zero with any other weight initializer (Keras).
    pub fn bias_init(mut self, init: Init) -> Self {
        self.bias_init = Some(init);
        self
    }

    /// Number of outputs.
    pub fn units(&self) -> usize {
        self.units
    }

    /// Number of input features, once built.
    pub fn in_features(&self) -> Option<usize> {
        self.weight.as_ref().map(|w| w.dims()[1])
    }

    /// Whether the parameters exist.
    pub fn is_built(&self) -> bool {
        self.weight.is_some()
    }

    /// The weight `[units, in_features]`, once built.
    pub fn weight(&self) -> Option<&Tensor> {
        self.weight.as_ref()
    }

    /// The bias `[units]`, once built with a bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    fn resolved_bias_init(&self) -> Init {
        match (self.bias_init, self.weight_init) {
            (Some(init), _) => init,
            (None, Init::TorchLinearDefault) => Init::TorchLinearDefault,
            (None, _) => Init::Zeros,
        }
    }
}

impl Module for Dense {
    fn build(&mut self, input: &[usize], ctx: &mut BuildContext) -> Result<Vec<usize>> {
        let Some((&in_features, lead)) = input.split_last() else {
            return Err(Error::shape(
                "Dense",
                "needs at least one input dimension (features on the last axis); got []; \
                 add Flatten before it for scalar samples",
            ));
        };
        let mut output = lead.to_vec();
        output.push(self.units);
        if let Some(built_for) = self.in_features() {
            if built_for != in_features {
                return Err(Error::shape(
                    "Dense",
                    format!(
                        "the layer has {built_for} input features but the input shape {input:?} \
                         has {in_features}"
                    ),
                ));
            }
            return Ok(output);
        }
        if self.units == 0 {
            return Err(Error::invalid(self.kind(), "needs at least one unit"));
        }
        // Two seeds whether or not there is a bias, so toggling one layer's bias leaves the
        // other layers' draws unchanged.
        let (weight_seed, bias_seed) = (ctx.next_seed(), ctx.next_seed());
        let device = ctx.device();
        let (fan_in, fan_out) = (in_features, self.units);
        let weight = self.weight_init.tensor(
            &[self.units, in_features],
            fan_in,
            fan_out,
            weight_seed,
            &device,
        )?;
        let bias = if self.use_bias {
            let init = self.resolved_bias_init();
            Some(
                init.tensor(&[self.units], fan_in, fan_out, bias_seed, &device)?
                    .variable(),
            )
        } else {
            None
        };
        self.weight = Some(weight.variable());
        self.bias = bias;
        Ok(output)
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        let Some(weight) = &self.weight else {
            return Err(Error::invalid(
                "forward",
                format!(
                    "{} was not built: call Sequential::build or Module::build with the input shape",
                    self.kind()
                ),
            ));
        };
        let expected = weight.dims()[1];
        if x.rank() < 2 {
            return Err(Error::shape(
                "Dense",
                format!(
                    "expects a batch [batch, ..., {expected}] but got {}; add the batch \
                     dimension (reshape a single sample to [1, ...])",
                    x.shape()
                ),
            ));
        }
        let got = x.dims()[x.rank() - 1];
        if got != expected {
            return Err(Error::shape(
                "Dense",
                format!(
                    "input is {} ({got} features on the last axis) but the layer was built \
                     for {expected} input features",
                    x.shape()
                ),
            ));
        }
        x.linear(weight, self.bias.as_ref())
    }

    fn parameters(&self) -> Vec<Param> {
        let mut params = Vec::with_capacity(2);
        if let Some(w) = &self.weight {
            params.push(Param::new("weight", w.clone()));
        }
        if let Some(b) = &self.bias {
            params.push(Param::new("bias", b.clone()));
        }
        params
    }

    fn kind(&self) -> String {
        format!("Dense({})", self.units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn built(units: usize, input: &[usize]) -> Dense {
        let mut layer = Dense::new(units);
        layer
            .build(input, &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        layer
    }

    #[test]
    fn build_infers_input_size_and_returns_output_shape() {
        let mut layer = Dense::new(4);
        let out = layer
            .build(&[3], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        assert_eq!(out, vec![4]);
        assert_eq!(layer.weight().unwrap().dims(), [4, 3]);
        assert_eq!(layer.bias().unwrap().dims(), [4]);
    }

    #[test]
    fn leading_sample_dims_pass_through() {
        let mut layer = Dense::new(5);
        let out = layer
            .build(&[7, 3], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        assert_eq!(out, vec![7, 5]);
    }

    #[test]
    fn without_bias_has_only_a_weight() {
        let mut layer = Dense::new(2).with_bias(false);
        layer
            .build(&[3], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        let names: Vec<String> = layer
            .parameters()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        assert_eq!(names, ["weight"]);
    }

    #[test]
    fn parameters_are_the_same_variables_on_every_call() {
        let layer = built(2, &[3]);
        let (a, b) = (layer.parameters(), layer.parameters());
        assert_eq!(a[0].tensor().id(), b[0].tensor().id());
        assert!(a[0].tensor().is_variable());
    }

    #[test]
    fn forward_computes_x_times_weight_transposed_plus_bias() {
        let dev = Device::best();
        let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3], &dev).unwrap();
        let b = Tensor::from_vec(vec![0.5, -0.5], [2], &dev).unwrap();
        let layer = Dense::from_tensors(w, b).unwrap();
        let x = Tensor::from_vec(vec![1.0, 0.0, -1.0], [1, 3], &dev).unwrap();
        let y = layer.forward(&x, Mode::Eval).unwrap().to_vec().unwrap();
        assert_eq!(y, vec![1.0 - 3.0 + 0.5, 4.0 - 6.0 - 0.5]);
    }

    #[test]
    fn torch_default_bias_is_random_and_glorot_bias_is_zero() {
        let torch = built(8, &[4]);
        assert!(
            torch
                .bias()
                .unwrap()
                .to_vec()
                .unwrap()
                .iter()
                .any(|&v| v != 0.0)
        );
        let mut glorot = Dense::new(8).init(Init::GlorotUniform);
        glorot
            .build(&[4], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        assert!(
            glorot
                .bias()
                .unwrap()
                .to_vec()
                .unwrap()
                .iter()
                .all(|&v| v == 0.0)
        );
    }

    #[test]
    fn rebuilding_keeps_parameters_and_checks_the_input_size() {
        let mut layer = built(2, &[3]);
        let id = layer.weight().unwrap().id();
        let mut ctx = BuildContext::new(Device::best(), 9);
        assert_eq!(layer.build(&[3], &mut ctx).unwrap(), vec![2]);
        assert_eq!(layer.weight().unwrap().id(), id);
        let err = layer.build(&[5], &mut ctx).unwrap_err().to_string();
        assert!(err.contains('3') && err.contains('5'), "{err}");
    }

    #[test]
    fn forward_before_build_says_how_to_build() {
        let dev = Device::best();
        let x = Tensor::zeros([1, 3], &dev).unwrap();
        let err = Dense::new(128)
            .forward(&x, Mode::Eval)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Dense(128) was not built"), "{err}");
        assert!(err.contains("Sequential::build"), "{err}");
    }

    #[test]
    fn forward_with_wrong_feature_count_names_both_sizes() {
        let layer = built(2, &[3]);
        let x = Tensor::zeros([4, 5], &Device::best()).unwrap();
        let err = layer.forward(&x, Mode::Eval).unwrap_err().to_string();
        assert!(
            err.contains("[4, 5]") && err.contains("3 input features"),
            "{err}"
        );
    }

    #[test]
    fn from_tensors_rejects_a_bias_of_the_wrong_length() {
        let dev = Device::best();
        let w = Tensor::zeros([2, 3], &dev).unwrap();
        let b = Tensor::zeros([3], &dev).unwrap();
        assert!(Dense::from_tensors(w, b).is_err());
    }
}
