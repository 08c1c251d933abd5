//! Activation layers: elementwise nonlinearities and softmax over the last axis. None has
//! parameters; each keeps the input shape and is its own config (`Relu` builds `Relu`).

use serde::{Deserialize, Serialize};
use strata_core::{Error, Param, Result, Tensor};

use crate::config_serde::empty_table_serde;
use crate::module::{Mode, Module, own_config};

/// Defines a parameterless elementwise activation as a unit struct calling one tensor op.
macro_rules! unit_activation {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $op:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        empty_table_serde!($name);
        own_config!($name);

        impl Module for $name {
            fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
                Ok(input.to_vec())
            }
            fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
                x.$op()
            }
            fn parameters(&self) -> Vec<Param> {
                Vec::new()
            }
            fn kind(&self) -> String {
                $kind.to_string()
            }
        }
    };
}

unit_activation!(
    /// Rectified linear unit, `max(x, 0)`.
    Relu,
    "ReLU",
    relu
);
unit_activation!(
    /// Gaussian error linear unit, exact (erf) form as PyTorch's default `nn.GELU`.
    Gelu,
    "GELU",
    gelu
);
unit_activation!(
    /// Logistic sigmoid, `1 / (1 + e^−x)`.
    Sigmoid,
    "Sigmoid",
    sigmoid
);
unit_activation!(
    /// Hyperbolic tangent.
    Tanh,
    "Tanh",
    tanh
);

/// Leaky ReLU: `x` for positive `x`, else `alpha · x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakyRelu {
    #[serde(default = "LeakyRelu::default_alpha")]
    alpha: f32,
}

impl LeakyRelu {
    /// Leaky ReLU with negative slope `alpha`.
    pub fn new(alpha: f32) -> Self {
        LeakyRelu { alpha }
    }
    /// The negative slope.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }
}

impl LeakyRelu {
    fn default_alpha() -> f32 {
        0.01
    }
}

impl Default for LeakyRelu {
    /// PyTorch's default negative slope, 0.01.
    fn default() -> Self {
        LeakyRelu::new(LeakyRelu::default_alpha())
    }
}

impl Module for LeakyRelu {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        x.leaky_relu(self.alpha)
    }
    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }
    fn kind(&self) -> String {
        format!("LeakyReLU({})", self.alpha)
    }
}

/// Exponential linear unit: `x` for positive `x`, else `alpha · (e^x − 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elu {
    #[serde(default = "Elu::default_alpha")]
    alpha: f32,
}

impl Elu {
    /// ELU with scale `alpha` for negative inputs.
    pub fn new(alpha: f32) -> Self {
        Elu { alpha }
    }
    /// The scale of the negative part.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }
}

impl Elu {
    fn default_alpha() -> f32 {
        1.0
    }
}

impl Default for Elu {
    /// PyTorch's default, `alpha = 1`.
    fn default() -> Self {
        Elu::new(Elu::default_alpha())
    }
}

impl Module for Elu {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        x.elu(self.alpha)
    }
    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }
    fn kind(&self) -> String {
        format!("ELU({})", self.alpha)
    }
}

/// Softmax over the last axis (each sample's last axis sums to 1). For training a
/// classifier, feed logits to [`crate::loss::CrossEntropyLoss`] instead, which fuses the
/// softmax and is more stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Softmax;

empty_table_serde!(Softmax);
own_config!(LeakyRelu, Elu, Softmax);

impl Module for Softmax {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.is_empty() {
            return Err(Error::shape(
                "Softmax",
                "needs at least one per-sample dimension (classes on the last axis); got []",
            ));
        }
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Tensor, _mode: Mode) -> Result<Tensor> {
        x.softmax()
    }
    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }
    fn kind(&self) -> String {
        "Softmax".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{BuildContext, LayerConfig};
    use strata_core::Device;

    fn apply(m: &dyn Module, v: &[f32]) -> Vec<f32> {
        let x = Tensor::from_slice(v, [1, v.len()], &Device::best()).unwrap();
        m.forward(&x, Mode::Eval).unwrap().to_vec().unwrap()
    }

    #[test]
    fn relu_zeroes_negatives() {
        assert_eq!(apply(&Relu, &[-1.0, 2.0]), vec![0.0, 2.0]);
    }

    #[test]
    fn leaky_relu_scales_negatives_by_alpha() {
        assert_eq!(apply(&LeakyRelu::new(0.1), &[-2.0, 3.0]), vec![-0.2, 3.0]);
    }

    #[test]
    fn elu_saturates_at_minus_alpha() {
        let y = apply(&Elu::new(2.0), &[-30.0, 1.0]);
        assert!((y[0] + 2.0).abs() < 1e-5 && y[1] == 1.0);
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let y = apply(&Softmax, &[1.0, 2.0, 3.0]);
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(y[0] < y[1] && y[1] < y[2]);
    }

    #[test]
    fn activations_keep_the_input_shape() {
        assert_eq!(Tanh.output_shape(&[3, 4]).unwrap(), vec![3, 4]);
        assert_eq!(Softmax.output_shape(&[10]).unwrap(), vec![10]);
    }

    #[test]
    fn softmax_on_scalar_samples_is_an_error() {
        assert!(
            Softmax
                .build(&[], &mut BuildContext::new(Device::best(), 0))
                .is_err()
        );
    }

    #[test]
    fn configs_are_empty_tables_or_the_slope() {
        assert_eq!(serde_json::to_string(&Relu).unwrap(), "{}");
        assert_eq!(serde_json::from_str::<Gelu>("{}").unwrap(), Gelu);
        let e = serde_json::from_str::<Relu>(r#"{"alpha": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `alpha`"), "{e}");
        assert_eq!(
            serde_json::from_str::<LeakyRelu>("{}").unwrap(),
            LeakyRelu::default()
        );
        assert_eq!(
            serde_json::from_str::<Elu>(r#"{"alpha": 0.5}"#).unwrap(),
            Elu::new(0.5)
        );
    }

    #[test]
    fn kinds_use_pytorch_names() {
        assert_eq!(Relu.kind(), "ReLU");
        assert_eq!(LeakyRelu::default().kind(), "LeakyReLU(0.01)");
        assert_eq!(Elu::default().kind(), "ELU(1)");
        assert_eq!(Gelu.kind(), "GELU");
    }
}
