//! Parameter initializers: constants, uniform and normal draws, Glorot (Xavier) and He
//! (Kaiming), and PyTorch's default for linear layers.
//!
//! Every random initializer draws from the counter-based generator of `strata-core`
//! ([`Tensor::rand_uniform`], [`Tensor::rand_normal`]), so a seed gives the same tensor on every
//! device. Formulas follow PyTorch's `torch.nn.init` (normal variants are plain, not truncated,
//! normals, as in PyTorch).

use serde::{Deserialize, Serialize};
use strata_core::{Device, Error, Result, Tensor};

/// How to fill a new parameter tensor. In a config: `init = "he_uniform"`,
/// `init = { constant = 0.5 }`, `init = { uniform = { low = -0.1, high = 0.1 } }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element `value`.
    Constant(f32),
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower bound (inclusive).
        low: f32,
        /// Upper bound (exclusive).
        high: f32,
    },
    /// Normal with the given mean and standard deviation.
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        std: f32,
    },
    /// Glorot/Xavier uniform: `U(−a, a)` with `a = √(6 / (fan_in + fan_out))`.
    GlorotUniform,
    /// Glorot/Xavier normal: `N(0, σ²)` with `σ = √(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// He/Kaiming uniform for ReLU: `U(−a, a)` with `a = √(6 / fan_in)`.
    HeUniform,
    /// He/Kaiming normal for ReLU: `N(0, σ²)` with `σ = √(2 / fan_in)`.
    HeNormal,
    /// PyTorch's default for `nn.Linear` weights and biases (`kaiming_uniform(a=√5)` for the
    /// weight, which reduces to the same bound as the bias): `U(−a, a)` with `a = 1/√fan_in`.
    #[default]
    TorchLinearDefault,
}

impl Init {
    /// A new tensor of `shape` on `device`, filled as this initializer says. `fan_in` and
    /// `fan_out` are the parameter's input and output connection counts (see [`fans`]); only
    /// the Glorot, He and Torch variants read them. `seed` selects the random stream.
    pub fn tensor(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.to_vec();
        let needs_fan_in = |what: &str| -> Result<f32> {
            if fan_in == 0 {
                return Err(Error::invalid(
                    "init",
                    format!("{what} needs fan_in > 0 (got 0)"),
                ));
            }
            Ok(fan_in as f32)
        };
        match *self {
            Init::Zeros => Tensor::zeros(shape, device),
            Init::Ones => Tensor::ones(shape, device),
            Init::Constant(value) => Tensor::full(value, shape, device),
            Init::Uniform { low, high } => {
                if !low.is_finite() || !high.is_finite() || low > high {
                    return Err(Error::invalid(
                        "init",
                        format!("Uniform needs finite low <= high; got low {low}, high {high}"),
                    ));
                }
                Tensor::rand_uniform(shape, low, high, seed, device)
            }
            Init::Normal { mean, std } => {
                if !std.is_finite() || !mean.is_finite() || std < 0.0 {
                    return Err(Error::invalid(
                        "init",
                        format!(
                            "Normal needs a finite mean and std >= 0; got mean {mean}, std {std}"
                        ),
                    ));
                }
                Tensor::rand_normal(shape, mean, std, seed, device)
            }
            Init::GlorotUniform | Init::GlorotNormal => {
                let fans = fan_in + fan_out;
                if fans == 0 {
                    return Err(Error::invalid(
                        "init",
                        "Glorot needs fan_in + fan_out > 0 (got 0)",
                    ));
                }
                if *self == Init::GlorotUniform {
                    let a = (6.0 / fans as f32).sqrt();
                    Tensor::rand_uniform(shape, -a, a, seed, device)
                } else {
                    Tensor::rand_normal(shape, 0.0, (2.0 / fans as f32).sqrt(), seed, device)
                }
            }
            Init::HeUniform => {
                let a = (6.0 / needs_fan_in("HeUniform")?).sqrt();
                Tensor::rand_uniform(shape, -a, a, seed, device)
            }
            Init::HeNormal => {
                let std = (2.0 / needs_fan_in("HeNormal")?).sqrt();
                Tensor::rand_normal(shape, 0.0, std, seed, device)
            }
            Init::TorchLinearDefault => {
                let a = 1.0 / needs_fan_in("TorchLinearDefault")?.sqrt();
                Tensor::rand_uniform(shape, -a, a, seed, device)
            }
        }
    }
}

/// `(fan_in, fan_out)` of a weight of shape `[out, in, k...]` (PyTorch's rule: each fan is
/// multiplied by the receptive field `Πk`). A vector `[n]` has both fans equal to `n`.
pub fn fans(weight_shape: &[usize]) -> (usize, usize) {
    match weight_shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [out, input, kernel @ ..] => {
            let receptive: usize = kernel.iter().product();
            (input * receptive, out * receptive)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(init: Init, fan_in: usize, fan_out: usize) -> (f32, f32, f32, f32) {
        let t = init
            .tensor(&[fan_out, fan_in], fan_in, fan_out, 11, &Device::best())
            .unwrap();
        let v = t.to_vec().unwrap();
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        let min = v.iter().copied().fold(f32::INFINITY, f32::min);
        let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (mean as f32, var as f32, min, max)
    }

    fn assert_close(actual: f32, expected: f32, rel: f32) {
        assert!(
            (actual - expected).abs() <= rel * expected.abs(),
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn glorot_uniform_stays_within_its_limit_and_has_variance_limit_squared_over_3() {
        let (mean, var, min, max) = moments(Init::GlorotUniform, 200, 300);
        let a = (6.0f32 / 500.0).sqrt();
        assert!(min >= -a && max <= a);
        assert!(max > 0.95 * a && min < -0.95 * a);
        assert!(mean.abs() < 0.01 * a);
        assert_close(var, a * a / 3.0, 0.05);
    }

    #[test]
    fn glorot_normal_has_variance_2_over_fan_sum() {
        let (mean, var, _, _) = moments(Init::GlorotNormal, 200, 300);
        assert!(mean.abs() < 0.002);
        assert_close(var, 2.0 / 500.0, 0.05);
    }

    #[test]
    fn he_uniform_stays_within_sqrt_6_over_fan_in() {
        let (_, var, min, max) = moments(Init::HeUniform, 250, 200);
        let a = (6.0f32 / 250.0).sqrt();
        assert!(min >= -a && max <= a);
        assert_close(var, 2.0 / 250.0, 0.05);
    }

    #[test]
    fn he_normal_has_variance_2_over_fan_in() {
        let (mean, var, _, _) = moments(Init::HeNormal, 250, 200);
        assert!(mean.abs() < 0.005);
        assert_close(var, 2.0 / 250.0, 0.05);
    }

    #[test]
    fn torch_linear_default_is_uniform_within_one_over_sqrt_fan_in() {
        let (_, var, min, max) = moments(Init::TorchLinearDefault, 400, 100);
        let a = 1.0 / 400f32.sqrt();
        assert!(min >= -a && max <= a);
        assert_close(var, a * a / 3.0, 0.05);
    }

    #[test]
    fn constants_fill_every_element() {
        let dev = Device::best();
        let z = Init::Zeros
            .tensor(&[3, 2], 2, 3, 0, &dev)
            .unwrap()
            .to_vec()
            .unwrap();
        let c = Init::Constant(0.5)
            .tensor(&[4], 4, 4, 0, &dev)
            .unwrap()
            .to_vec()
            .unwrap();
        let o = Init::Ones
            .tensor(&[2], 2, 2, 0, &dev)
            .unwrap()
            .to_vec()
            .unwrap();
        assert_eq!(z, vec![0.0; 6]);
        assert_eq!(c, vec![0.5; 4]);
        assert_eq!(o, vec![1.0; 2]);
    }

    #[test]
    fn same_seed_gives_same_tensor_and_another_seed_another() {
        let dev = Device::best();
        let draw = |seed| {
            Init::HeNormal
                .tensor(&[8], 8, 8, seed, &dev)
                .unwrap()
                .to_vec()
                .unwrap()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn fan_based_init_with_zero_fan_in_is_an_error() {
        let err = Init::HeUniform
            .tensor(&[0, 0], 0, 0, 1, &Device::best())
            .unwrap_err();
        assert!(err.to_string().contains("fan_in"), "{err}");
    }

    #[test]
    fn uniform_with_low_above_high_is_an_error() {
        let init = Init::Uniform {
            low: 1.0,
            high: -1.0,
        };
        assert!(init.tensor(&[2], 1, 1, 0, &Device::best()).is_err());
    }

    #[test]
    fn fans_follow_pytorch_for_matrices_and_kernels() {
        assert_eq!(fans(&[10, 784]), (784, 10));
        assert_eq!(fans(&[32, 3, 5, 5]), (75, 800));
        assert_eq!(fans(&[7]), (7, 7));
    }
}
