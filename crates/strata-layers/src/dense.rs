//! `Dense`: the fully connected layer `y = x · Wᵀ + b`, with its input size inferred at build.

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor};

use crate::config_serde::yes;
use crate::init::Init;
use crate::module::{BuildContext, LayerConfig, Mode, Module};

/// The settings of a [`Dense`] layer (`type = "dense"` in a config): `units` outputs, a bias
/// or not, and the initializers.
///
/// ```
/// use strata_layers::{Dense, Init};
/// let config = Dense::new(128).init(Init::HeUniform).with_bias(false);
/// assert_eq!(config.units, 128);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    /// Number of outputs.
    pub units: usize,
    /// Whether the layer adds a bias (default `true`).
    #[serde(default = "yes")]
    pub bias: bool,
    /// The weight initializer (default [`Init::TorchLinearDefault`], as PyTorch's
    /// `nn.Linear`).
    #[serde(default)]
    pub init: Init,
    /// The bias initializer; by default the bias follows PyTorch with
    /// [`Init::TorchLinearDefault`] and is zero with any other weight initializer (Keras).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_init: Option<Init>,
}

impl DenseConfig {
    /// `units` outputs, a bias, and PyTorch's default initialization.
    pub fn new(units: usize) -> Self {
        DenseConfig {
            units,
            bias: true,
            init: Init::TorchLinearDefault,
            bias_init: None,
        }
    }

    /// Whether the layer adds a bias (default `true`).
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// The weight initializer (default [`Init::TorchLinearDefault`]).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// The bias initializer. By default the bias follows PyTorch with
    /// [`Init::TorchLinearDefault`] and is zero with any other weight initializer (Keras).
    pub fn bias_init(mut self, init: Init) -> Self {
        self.bias_init = Some(init);
        self
    }

    fn resolved_bias_init(&self) -> Init {
        match (self.bias_init, self.init) {
            (Some(init), _) => init,
            (None, Init::TorchLinearDefault) => Init::TorchLinearDefault,
            (None, _) => Init::Zeros,
        }
    }
}

impl LayerConfig for DenseConfig {
    type Layer = Dense;

    fn build(&self, input: &[usize], ctx: &mut BuildContext) -> Result<Dense> {
        let kind = format!("Dense({})", self.units);
        let Some(&in_features) = input.last() else {
            return Err(no_features());
        };
        if self.units == 0 {
            return Err(Error::invalid(kind, "needs at least one unit"));
        }
        // Two seeds whether or not there is a bias, so toggling one layer's bias leaves the
        // other layers' draws unchanged.
        let (weight_seed, bias_seed) = (ctx.next_seed(), ctx.next_seed());
        let device = ctx.device();
        let (fan_in, fan_out) = (in_features, self.units);
        let weight = self.init.tensor(
            &[self.units, in_features],
            fan_in,
            fan_out,
            weight_seed,
            &device,
        )?;
        let bias = if self.bias {
            let init = self.resolved_bias_init();
            Some(
                init.tensor(&[self.units], fan_in, fan_out, bias_seed, &device)?
                    .variable(),
            )
        } else {
            None
        };
        Ok(Dense {
            weight: weight.variable(),
            bias,
        })
    }
}

fn no_features() -> Error {
    Error::shape(
        "Dense",
        "needs at least one input dimension (features on the last axis); got []; \
         add Flatten before it for scalar samples",
    )
}

/// A fully connected layer on the last axis: `y = x · Wᵀ + b`, built from a [`DenseConfig`].
///
/// The weight has PyTorch's layout `[units, in_features]` and the bias `[units]`.
/// `in_features` is the last dimension of the input shape the config was built for; other
/// leading per-sample dimensions pass through (`[T, in] → [T, units]`). By default weight and
/// bias are drawn as PyTorch's `nn.Linear` does ([`Init::TorchLinearDefault`]), so training
/// behaves as it does there.
///
/// ```
/// use strata_core::Device;
/// use strata_layers::{BuildContext, Dense, LayerConfig};
/// let layer = Dense::new(128).build(&[784], &mut BuildContext::new(Device::Cpu, 0))?;
/// assert_eq!(layer.weight().dims(), [128, 784]);
/// # Ok::<(), strata_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Dense {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Dense {
    /// The config of a layer with `units` outputs, a bias, and PyTorch's default
    /// initialization: `Dense::new(128)` reads as the layer it builds.
    // The Keras spelling users look for; the built layer comes from `LayerConfig::build`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(units: usize) -> DenseConfig {
        DenseConfig::new(units)
    }

    /// A layer holding the given weight `[units, in]` and optional bias `[units]`
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
            weight: as_variable(weight),
            bias: bias.map(as_variable),
        })
    }

    /// Number of outputs.
    pub fn units(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Number of input features.
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// The weight `[units, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias `[units]`, when the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for Dense {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let Some((&in_features, lead)) = input.split_last() else {
            return Err(no_features());
        };
        if in_features != self.in_features() {
            return Err(Error::shape(
                "Dense",
                format!(
                    "the layer has {} input features but the input shape {input:?} has \
                     {in_features}",
                    self.in_features()
                ),
            ));
        }
        let mut output = lead.to_vec();
        output.push(self.units());
        Ok(output)
    }

    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        let expected = self.in_features();
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
        x.linear(&self.weight, self.bias.as_ref())
    }

    fn parameters(&self) -> Vec<Param> {
        let mut params = vec![Param::new("weight", self.weight.clone())];
        if let Some(b) = &self.bias {
            params.push(Param::new("bias", b.clone()));
        }
        params
    }

    fn kind(&self) -> String {
        format!("Dense({})", self.units())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn built(units: usize, input: &[usize]) -> Dense {
        Dense::new(units)
            .build(input, &mut BuildContext::new(Device::best(), 0))
            .unwrap()
    }

    #[test]
    fn build_infers_input_size_and_output_shape_follows() {
        let layer = built(4, &[3]);
        assert_eq!(layer.output_shape(&[3]).unwrap(), vec![4]);
        assert_eq!(layer.weight().dims(), [4, 3]);
        assert_eq!(layer.bias().unwrap().dims(), [4]);
    }

    #[test]
    fn leading_sample_dims_pass_through() {
        assert_eq!(built(5, &[7, 3]).output_shape(&[7, 3]).unwrap(), vec![7, 5]);
    }

    #[test]
    fn without_bias_has_only_a_weight() {
        let layer = Dense::new(2)
            .with_bias(false)
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
        let bias = torch.bias().unwrap().to_vec().unwrap();
        assert!(bias.iter().any(|&v| v != 0.0));
        let glorot = Dense::new(8)
            .init(Init::GlorotUniform)
            .build(&[4], &mut BuildContext::new(Device::best(), 0))
            .unwrap();
        let bias = glorot.bias().unwrap().to_vec().unwrap();
        assert!(bias.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn output_shape_checks_the_input_size_the_layer_was_built_for() {
        let layer = built(2, &[3]);
        let err = layer.output_shape(&[5]).unwrap_err().to_string();
        assert!(err.contains('3') && err.contains('5'), "{err}");
        assert!(layer.output_shape(&[]).is_err());
    }

    #[test]
    fn zero_units_or_scalar_samples_are_refused_at_build() {
        let mut ctx = BuildContext::new(Device::best(), 0);
        let e = Dense::new(0).build(&[3], &mut ctx).unwrap_err().to_string();
        assert!(
            e.contains("Dense(0)") && e.contains("at least one unit"),
            "{e}"
        );
        let e = Dense::new(2).build(&[], &mut ctx).unwrap_err().to_string();
        assert!(e.contains("add Flatten"), "{e}");
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

    #[test]
    fn the_config_reads_the_keys_a_config_file_uses() {
        let c: DenseConfig =
            serde_json::from_str(r#"{"units": 4, "bias": false, "init": "he_normal"}"#).unwrap();
        assert_eq!(c, Dense::new(4).with_bias(false).init(Init::HeNormal));
        let e = serde_json::from_str::<DenseConfig>(r#"{"units": 4, "unit": 3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `unit`"), "{e}");
    }
}
