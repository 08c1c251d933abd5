//! Loss functions, each reducing to the mean over all elements (PyTorch's default
//! `reduction="mean"`): cross-entropy from logits, binary cross-entropy from logits, mean
//! squared error, mean absolute error and Huber.

use strata_core::{Error, Result, Tensor};

/// A loss: a scalar tensor from a prediction and a target, differentiable with respect to the
/// prediction.
pub trait Loss: Send + Sync {
    /// The mean loss over the batch, as a zero-dimensional tensor.
    fn forward(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor>;
}

/// Refuses a prediction and target of different shapes (instead of silently broadcasting).
fn same_shape(op: &'static str, prediction: &Tensor, target: &Tensor) -> Result<()> {
    if prediction.shape() == target.shape() {
        return Ok(());
    }
    Err(Error::shape(
        op,
        format!(
            "prediction is {} but target is {}; they must have the same shape",
            prediction.shape(),
            target.shape()
        ),
    ))
}

/// Cross-entropy of logits `[batch, classes]` against class indices `[batch]` (integers stored
/// as `f32`), with optional label smoothing, as PyTorch's `nn.CrossEntropyLoss`. The softmax
/// is fused in (feed raw logits). A label outside `0..classes` is an error.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CrossEntropyLoss {
    label_smoothing: f32,
}

impl CrossEntropyLoss {
    /// Cross-entropy without label smoothing.
    pub fn new() -> Self {
        CrossEntropyLoss::default()
    }

    /// Mixes the one-hot target with the uniform distribution: `(1 − eps)·onehot + eps/C`.
    /// `eps` must be in `[0, 1)` (checked at `forward`).
    pub fn label_smoothing(mut self, eps: f32) -> Self {
        self.label_smoothing = eps;
        self
    }
}

impl Loss for CrossEntropyLoss {
    fn forward(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        prediction
            .cross_entropy_per_row(target, self.label_smoothing)?
            .mean_all()
    }
}

/// Binary cross-entropy of logits against targets in `[0, 1]` of the same shape, as PyTorch's
/// `nn.BCEWithLogitsLoss`. Computed stably as `softplus(x) − x·y`, which equals
/// `max(x, 0) − x·y + ln(1 + e^−|x|)` and whose gradient is exactly `sigmoid(x) − y`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BceWithLogitsLoss;

impl Loss for BceWithLogitsLoss {
    fn forward(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        same_shape("BceWithLogitsLoss", prediction, target)?;
        prediction
            .softplus()?
            .sub(&prediction.mul(target)?)?
            .mean_all()
    }
}

/// Mean squared error, `mean((x − y)²)`, as PyTorch's `nn.MSELoss`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MseLoss;

impl Loss for MseLoss {
    fn forward(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        same_shape("MseLoss", prediction, target)?;
        prediction.sub(target)?.square()?.mean_all()
    }
}

/// Mean absolute error, `mean(|x − y|)`, as PyTorch's `nn.L1Loss`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Loss;

impl Loss for L1Loss {
    fn forward(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        same_shape("L1Loss", prediction, target)?;
        prediction.sub(target)?.abs()?.mean_all()
    }
}

/// Huber loss, as PyTorch's `nn.HuberLoss`: with `d = x − y`, `0.5·d²` where `|d| < delta`,
/// else `delta·(|d| − 0.5·delta)`; quadratic near zero, linear in the tails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HuberLoss {
    delta: f32,
}

impl HuberLoss {
    /// Huber loss switching from quadratic to linear at `delta` (> 0, checked at `forward`).
    pub fn new(delta: f32) -> Self {
        HuberLoss { delta }
    }

    /// The threshold between the quadratic and linear parts.
    pub fn delta(&self) -> f32 {
        self.delta
    }
}

impl Default for HuberLoss {
    /// PyTorch's default, `delta = 1`.
    fn default() -> Self {
        HuberLoss::new(1.0)
    }
}

impl Loss for HuberLoss {
    fn forward(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        let delta = self.delta;
        if !delta.is_finite() || delta <= 0.0 {
            return Err(Error::invalid(
                "HuberLoss",
                format!("delta must be positive; got {delta}"),
            ));
        }
        same_shape("HuberLoss", prediction, target)?;
        // With a = |d|: q = min(a, δ) and l = a − q give 0.5·q² + δ·l, which is 0.5·a² below δ
        // and δ·(a − 0.5·δ) above, with one smooth expression for autograd.
        let a = prediction.sub(target)?.abs()?;
        let q = a.min_scalar(delta)?;
        let l = a.sub(&q)?;
        q.square()?
            .mul_scalar(0.5)?
            .add(&l.mul_scalar(delta)?)?
            .mean_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_slice(v, [v.len()], &Device::best()).unwrap()
    }

    fn value(loss: &dyn Loss, p: &[f32], y: &[f32]) -> f32 {
        loss.forward(&t(p), &t(y)).unwrap().to_scalar().unwrap()
    }

    #[test]
    fn mse_is_the_mean_of_squared_differences() {
        assert!((value(&MseLoss, &[1.0, 2.0], &[0.0, 4.0]) - 2.5).abs() < 1e-6);
    }

    #[test]
    fn l1_is_the_mean_of_absolute_differences() {
        assert!((value(&L1Loss, &[1.0, 2.0], &[0.0, 4.0]) - 1.5).abs() < 1e-6);
    }

    #[test]
    fn huber_is_quadratic_inside_delta_and_linear_outside() {
        // d = 0.5 → 0.125; d = 3 → 1·(3 − 0.5) = 2.5; mean 1.3125
        assert!((value(&HuberLoss::new(1.0), &[0.5, 3.0], &[0.0, 0.0]) - 1.3125).abs() < 1e-6);
        // delta 2: d = 3 → 2·(3 − 1) = 4
        assert!((value(&HuberLoss::new(2.0), &[3.0], &[0.0]) - 4.0).abs() < 1e-6);
    }

    #[test]
    fn huber_with_non_positive_delta_is_an_error() {
        assert!(HuberLoss::new(0.0).forward(&t(&[1.0]), &t(&[0.0])).is_err());
    }

    #[test]
    fn bce_with_logits_matches_the_naive_formula_and_survives_large_logits() {
        let (x, y) = (0.3f32, 1.0f32);
        let s = 1.0 / (1.0 + (-x).exp());
        let naive = -(y * s.ln() + (1.0 - y) * (1.0 - s).ln());
        assert!((value(&BceWithLogitsLoss, &[x], &[y]) - naive).abs() < 1e-6);
        let big = value(&BceWithLogitsLoss, &[100.0, -100.0], &[0.0, 1.0]);
        assert!((big - 100.0).abs() < 1e-3, "{big}");
    }

    #[test]
    fn cross_entropy_of_uniform_logits_is_ln_classes() {
        let logits = Tensor::zeros([2, 4], &Device::best()).unwrap();
        let labels = t(&[0.0, 3.0]);
        let loss = CrossEntropyLoss::new()
            .forward(&logits, &labels)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!((loss - 4f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn label_smoothing_raises_the_loss_of_a_confident_correct_prediction() {
        let logits = Tensor::from_vec(vec![10.0, 0.0, 0.0], [1, 3], &Device::best()).unwrap();
        let labels = t(&[0.0]);
        let plain = CrossEntropyLoss::new()
            .forward(&logits, &labels)
            .unwrap()
            .to_scalar()
            .unwrap();
        let smooth = CrossEntropyLoss::new()
            .label_smoothing(0.1)
            .forward(&logits, &labels)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(smooth > plain);
    }
}
