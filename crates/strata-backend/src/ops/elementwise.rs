//! Elementwise ops: unary maps (with their fused derivatives), binary ops with broadcasting,
//! scalar ops, comparisons and select.

use crate::{BufferOps, Result};

/// A unary elementwise function. Parameterised variants carry their constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `|x|`
    Abs,
    /// `e^x`
    Exp,
    /// `ln x`
    Log,
    /// `ln(1 + x)`
    Log1p,
    /// `√x`
    Sqrt,
    /// `x²`
    Square,
    /// `1 / x`
    Recip,
    /// `max(x, 0)`
    Relu,
    /// `x` for `x > 0`, else `alpha · x`
    LeakyRelu(f32),
    /// `x` for `x > 0`, else `alpha · (e^x − 1)`
    Elu(f32),
    /// Gaussian error linear unit, exact (erf) form as in PyTorch's default.
    Gelu,
    /// `1 / (1 + e^−x)`
    Sigmoid,
    /// `tanh x`
    Tanh,
    /// `ln(1 + e^x)`, computed stably.
    Softplus,
    /// `sign(x)` (0 at 0); its derivative is taken as 0.
    Sign,
}

/// A binary elementwise op between two tensors (broadcasting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a − b`
    Sub,
    /// `a · b`
    Mul,
    /// `a / b`
    Div,
    /// `max(a, b)`
    Max,
    /// `min(a, b)`
    Min,
    /// `a^b`
    Pow,
}

/// A binary op between a tensor and a scalar `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarOp {
    /// `x + s`
    Add,
    /// `x · s`
    Mul,
    /// `s − x`
    RSub,
    /// `s / x`
    RDiv,
    /// `x^s`
    Pow,
    /// `max(x, s)`
    Max,
    /// `min(x, s)`
    Min,
}

/// A comparison; the result is 1.0 where it holds and 0.0 elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
}

impl UnaryOp {
    /// The function on one value, in `f64` (the reference definition used by conformance tests).
    pub fn eval_f64(self, x: f64) -> f64 {
        match self {
            UnaryOp::Neg => -x,
            UnaryOp::Abs => x.abs(),
            UnaryOp::Exp => x.exp(),
            UnaryOp::Log => x.ln(),
            UnaryOp::Log1p => x.ln_1p(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Square => x * x,
            UnaryOp::Recip => 1.0 / x,
            UnaryOp::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            UnaryOp::LeakyRelu(a) => {
                if x > 0.0 {
                    x
                } else {
                    a as f64 * x
                }
            }
            UnaryOp::Elu(a) => {
                if x > 0.0 {
                    x
                } else {
                    a as f64 * x.exp_m1()
                }
            }
            UnaryOp::Gelu => 0.5 * x * (1.0 + erf_f64(x / std::f64::consts::SQRT_2)),
            UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            UnaryOp::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// The derivative `f'(x)`, in `f64` (reference definition).
    pub fn derivative_f64(self, x: f64) -> f64 {
        match self {
            UnaryOp::Neg => -1.0,
            UnaryOp::Abs => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            UnaryOp::Exp => x.exp(),
            UnaryOp::Log => 1.0 / x,
            UnaryOp::Log1p => 1.0 / (1.0 + x),
            UnaryOp::Sqrt => 0.5 / x.sqrt(),
            UnaryOp::Square => 2.0 * x,
            UnaryOp::Recip => -1.0 / (x * x),
            UnaryOp::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            UnaryOp::LeakyRelu(a) => {
                if x > 0.0 {
                    1.0
                } else {
                    a as f64
                }
            }
            UnaryOp::Elu(a) => {
                if x > 0.0 {
                    1.0
                } else {
                    a as f64 * x.exp()
                }
            }
            UnaryOp::Gelu => {
                let cdf = 0.5 * (1.0 + erf_f64(x / std::f64::consts::SQRT_2));
                let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
                cdf + x * pdf
            }
            UnaryOp::Sigmoid => {
                let s = 1.0 / (1.0 + (-x).exp());
                s * (1.0 - s)
            }
            UnaryOp::Tanh => 1.0 - x.tanh().powi(2),
            UnaryOp::Softplus => 1.0 / (1.0 + (-x).exp()),
            UnaryOp::Sign => 0.0,
        }
    }
}

impl BinaryOp {
    /// The op on one pair of values, in `f64` (reference definition).
    pub fn eval_f64(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Max => a.max(b),
            BinaryOp::Min => a.min(b),
            BinaryOp::Pow => a.powf(b),
        }
    }
}

impl ScalarOp {
    /// The op on one value, in `f64` (reference definition).
    pub fn eval_f64(self, x: f64, s: f64) -> f64 {
        match self {
            ScalarOp::Add => x + s,
            ScalarOp::Mul => x * s,
            ScalarOp::RSub => s - x,
            ScalarOp::RDiv => s / x,
            ScalarOp::Pow => x.powf(s),
            ScalarOp::Max => x.max(s),
            ScalarOp::Min => x.min(s),
        }
    }
}

impl CmpOp {
    /// The comparison on one pair, in `f64` (reference definition).
    pub fn eval_f64(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// The error function, accurate to about 1e-15 (used by the GELU reference definition).
pub fn erf_f64(x: f64) -> f64 {
    // Abramowitz-Stegun 7.1.26 is too coarse for a reference; use the series for small |x|
    // and a continued fraction for the complement elsewhere.
    let ax = x.abs();
    let r = if ax < 2.5 {
        let mut term = ax;
        let mut sum = ax;
        let x2 = ax * ax;
        // The series converges for every |x| < 2.5 well within 100 terms; the bound also ends
        // the loop at x = 0, where every term is zero.
        for n in 1..100 {
            let n = n as f64;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
        let mut f = ax;
        for k in (1..60).rev() {
            f = ax + (k as f64 / 2.0) / f;
        }
        1.0 - (-ax * ax).exp() / (std::f64::consts::PI.sqrt() * f)
    };
    if x < 0.0 { -r } else { r }
}

/// Elementwise op family.
///
/// Binary ops take the shapes of both operands and of the output; the operand shapes have the
/// output's rank and every dimension equals the output's or is 1 (NumPy broadcasting, already
/// resolved by the caller).
pub trait ElementwiseOps: BufferOps {
    /// `y = f(x)`.
    fn unary(&self, op: UnaryOp, x: &Self::Buffer) -> Result<Self::Buffer>;
    /// `dx = f'(x) · dy`, fused in one pass.
    fn unary_backward(
        &self,
        op: UnaryOp,
        x: &Self::Buffer,
        dy: &Self::Buffer,
    ) -> Result<Self::Buffer>;
    /// `out = lhs ∘ rhs` with broadcasting.
    fn binary(
        &self,
        op: BinaryOp,
        lhs: &Self::Buffer,
        lhs_shape: &[usize],
        rhs: &Self::Buffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<Self::Buffer>;
    /// `out = x ∘ s`.
    fn scalar(&self, op: ScalarOp, x: &Self::Buffer, s: f32) -> Result<Self::Buffer>;
    /// `out = (lhs ⋈ rhs) ? 1 : 0` with broadcasting.
    fn compare(
        &self,
        op: CmpOp,
        lhs: &Self::Buffer,
        lhs_shape: &[usize],
        rhs: &Self::Buffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<Self::Buffer>;
    /// `out = (x ⋈ s) ? 1 : 0`.
    fn compare_scalar(&self, op: CmpOp, x: &Self::Buffer, s: f32) -> Result<Self::Buffer>;
    /// `out = mask != 0 ? on_true : on_false`; all three have the same length.
    fn select(
        &self,
        mask: &Self::Buffer,
        on_true: &Self::Buffer,
        on_false: &Self::Buffer,
    ) -> Result<Self::Buffer>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values_including_zero() {
        assert_eq!(erf_f64(0.0), 0.0);
        assert!((erf_f64(0.5) - 0.520_499_877_813_046_5).abs() < 1e-15);
        assert!((erf_f64(-1.0) + 0.842_700_792_949_714_9).abs() < 1e-15);
        assert!((erf_f64(3.0) - 0.999_977_909_503_001_4).abs() < 1e-14);
    }

    #[test]
    fn relu_propagates_nan() {
        assert!(UnaryOp::Relu.eval_f64(f64::NAN).is_nan());
    }
}
