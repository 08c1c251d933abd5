//! Elementwise tensor ops: unary maps, broadcasting binary ops, scalar ops, comparisons,
//! `where_cond`.

use strata_backend::{BinaryOp, CmpOp, ElementwiseOps, ScalarOp, Shape, UnaryOp, broadcast_shapes};

use crate::autograd::record;
use crate::storage::{map_buffer, map_buffers2, map_buffers3};
use crate::{Error, Result, Tensor};

/// Output shape of a broadcasting op and each operand's shape padded to its rank.
fn broadcast(
    op: &'static str,
    lhs: &Tensor,
    rhs: &Tensor,
) -> Result<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    let out = broadcast_shapes(lhs.dims(), rhs.dims()).ok_or_else(|| {
        Error::shape(
            op,
            format!(
                "lhs is {} but rhs is {}; they cannot be broadcast together (each dimension \
                 must match or be 1, aligned from the right)",
                lhs.shape(),
                rhs.shape()
            ),
        )
    })?;
    let pad = |d: &[usize]| {
        let mut v = vec![1; out.len() - d.len()];
        v.extend_from_slice(d);
        v
    };
    Ok((pad(lhs.dims()), pad(rhs.dims()), out))
}

impl Tensor {
    fn unary_op(&self, op: UnaryOp, name: &'static str) -> Result<Tensor> {
        let storage = map_buffer!(&*self.read(), |b, x| b.unary(op, x));
        let node = record(name, &[self], || {
            move |g: &Tensor, inputs: &[Tensor]| Ok(vec![Some(inputs[0].unary_backward(op, g)?)])
        });
        Ok(Tensor::from_storage(storage, self.shape().clone(), node))
    }

    /// `f'(self) · dy` in one pass (not recorded: used by backward rules).
    pub(crate) fn unary_backward(&self, op: UnaryOp, dy: &Tensor) -> Result<Tensor> {
        let storage = map_buffers2!("unary_backward", &*self.read(), &*dy.read(), |b, x, g| b
            .unary_backward(op, x, g));
        Ok(Tensor::from_storage(storage, self.shape().clone(), None))
    }

    /// `-x`
    pub fn neg(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Neg, "neg")
    }
    /// `|x|`
    pub fn abs(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Abs, "abs")
    }
    /// `e^x`
    pub fn exp(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Exp, "exp")
    }
    /// `ln x`
    pub fn log(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Log, "log")
    }
    /// `ln(1 + x)`
    pub fn log1p(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Log1p, "log1p")
    }
    /// `√x`
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sqrt, "sqrt")
    }
    /// `x²`
    pub fn square(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Square, "square")
    }
    /// `1 / x`
    pub fn recip(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Recip, "recip")
    }
    /// `max(x, 0)`
    pub fn relu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Relu, "relu")
    }
    /// `x` for positive `x`, else `alpha · x`.
    pub fn leaky_relu(&self, alpha: f32) -> Result<Tensor> {
        self.unary_op(UnaryOp::LeakyRelu(alpha), "leaky_relu")
    }
    /// `x` for positive `x`, else `alpha · (e^x − 1)`.
    pub fn elu(&self, alpha: f32) -> Result<Tensor> {
        self.unary_op(UnaryOp::Elu(alpha), "elu")
    }
    /// Gaussian error linear unit (exact erf form, PyTorch's default).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Gelu, "gelu")
    }
    /// Logistic sigmoid.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sigmoid, "sigmoid")
    }
    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Tanh, "tanh")
    }
    /// `ln(1 + e^x)`, computed stably.
    pub fn softplus(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Softplus, "softplus")
    }
    /// `sign(x)` (gradient zero).
    pub fn sign(&self) -> Result<Tensor> {
        self.unary_op(UnaryOp::Sign, "sign")
    }

    fn binary_op(&self, rhs: &Tensor, op: BinaryOp, name: &'static str) -> Result<Tensor> {
        let (ls, rs, out) = broadcast(name, self, rhs)?;
        let storage = map_buffers2!(name, &*self.read(), &*rhs.read(), |b, x, y| b
            .binary(op, x, &ls, y, &rs, &out));
        let node = record(name, &[self, rhs], || {
            move |g: &Tensor, inputs: &[Tensor]| binary_backward(op, g, &inputs[0], &inputs[1])
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }

    /// `self + rhs`, broadcasting.
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Add, "add")
    }
    /// `self − rhs`, broadcasting.
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Sub, "sub")
    }
    /// `self · rhs` elementwise, broadcasting.
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Mul, "mul")
    }
    /// `self / rhs` elementwise, broadcasting.
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Div, "div")
    }
    /// Elementwise maximum, broadcasting (the gradient goes to `self` on ties).
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Max, "maximum")
    }
    /// Elementwise minimum, broadcasting (the gradient goes to `self` on ties).
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Min, "minimum")
    }
    /// `self ^ rhs` elementwise, broadcasting.
    pub fn pow(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Pow, "pow")
    }

    fn scalar_op(&self, op: ScalarOp, s: f32, name: &'static str) -> Result<Tensor> {
        let storage = map_buffer!(&*self.read(), |b, x| b.scalar(op, x, s));
        let node = record(name, &[self], || {
            move |g: &Tensor, inputs: &[Tensor]| {
                let x = &inputs[0];
                let dx = match op {
                    ScalarOp::Add => g.clone(),
                    ScalarOp::Mul => g.mul_scalar(s)?,
                    ScalarOp::RSub => g.neg()?,
                    // d(s/x) = −s/x²
                    ScalarOp::RDiv => g.mul(&x.square()?.recip()?.mul_scalar(-s)?)?,
                    // d(x^s) = s·x^(s−1)
                    ScalarOp::Pow => g.mul(&x.powf(s - 1.0)?.mul_scalar(s)?)?,
                    ScalarOp::Max => g.mul(&x.cmp_scalar(CmpOp::Ge, s)?)?,
                    ScalarOp::Min => g.mul(&x.cmp_scalar(CmpOp::Le, s)?)?,
                };
                Ok(vec![Some(dx)])
            }
        });
        Ok(Tensor::from_storage(storage, self.shape().clone(), node))
    }

    /// `x + s`
    pub fn add_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Add, s, "add_scalar")
    }
    /// `x − s`
    pub fn sub_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Add, -s, "sub_scalar")
    }
    /// `x · s`
    pub fn mul_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Mul, s, "mul_scalar")
    }
    /// `x / s`
    pub fn div_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Mul, 1.0 / s, "div_scalar")
    }
    /// `s − x`
    pub fn rsub_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::RSub, s, "rsub_scalar")
    }
    /// `s / x`
    pub fn rdiv_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::RDiv, s, "rdiv_scalar")
    }
    /// `x ^ s`
    pub fn powf(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Pow, s, "powf")
    }
    /// `max(x, s)`
    pub fn max_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Max, s, "max_scalar")
    }
    /// `min(x, s)`
    pub fn min_scalar(&self, s: f32) -> Result<Tensor> {
        self.scalar_op(ScalarOp::Min, s, "min_scalar")
    }
    /// `x` clamped to `[low, high]`.
    pub fn clamp(&self, low: f32, high: f32) -> Result<Tensor> {
        if low > high {
            return Err(Error::invalid(
                "clamp",
                format!("low {low} is above high {high}"),
            ));
        }
        self.max_scalar(low)?.min_scalar(high)
    }

    /// `1.0` where `self ⋈ rhs` holds, else `0.0` (broadcasting; no gradient).
    pub fn cmp(&self, op: CmpOp, rhs: &Tensor) -> Result<Tensor> {
        let (ls, rs, out) = broadcast("compare", self, rhs)?;
        let storage = map_buffers2!("compare", &*self.read(), &*rhs.read(), |b, x, y| b
            .compare(op, x, &ls, y, &rs, &out));
        Ok(Tensor::from_storage(storage, Shape::new(out), None))
    }

    /// `1.0` where `self ⋈ s` holds, else `0.0` (no gradient).
    pub fn cmp_scalar(&self, op: CmpOp, s: f32) -> Result<Tensor> {
        let storage = map_buffer!(&*self.read(), |b, x| b.compare_scalar(op, x, s));
        Ok(Tensor::from_storage(storage, self.shape().clone(), None))
    }

    /// Mask of `self == rhs`.
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.cmp(CmpOp::Eq, rhs)
    }
    /// Mask of `self > rhs`.
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.cmp(CmpOp::Gt, rhs)
    }
    /// Mask of `self < rhs`.
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.cmp(CmpOp::Lt, rhs)
    }

    /// `mask != 0 ? on_true : on_false`, elementwise. The three are broadcast to one shape;
    /// gradients flow to the branch that was taken.
    pub fn where_cond(mask: &Tensor, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let out = broadcast_shapes(mask.dims(), on_true.dims())
            .and_then(|s| broadcast_shapes(&s, on_false.dims()))
            .ok_or_else(|| {
                Error::shape(
                    "where_cond",
                    format!(
                        "mask {}, on_true {} and on_false {} cannot be broadcast together",
                        mask.shape(),
                        on_true.shape(),
                        on_false.shape()
                    ),
                )
            })?;
        let m = mask.broadcast_as(out.clone())?;
        let t = on_true.broadcast_as(out.clone())?;
        let f = on_false.broadcast_as(out.clone())?;
        let storage = map_buffers3!(
            "where_cond",
            &*m.read(),
            &*t.read(),
            &*f.read(),
            |b, mm, tt, ff| b.select(mm, tt, ff)
        );
        let node = record("where_cond", &[&t, &f], || {
            let m = m.detach();
            move |g: &Tensor, _: &[Tensor]| {
                let zeros = Tensor::zeros(g.shape().clone(), &g.device())?;
                Ok(vec![
                    Some(Tensor::where_cond(&m, g, &zeros)?),
                    Some(Tensor::where_cond(&m, &zeros, g)?),
                ])
            }
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }
}

/// Gradients of a broadcasting binary op, each reduced back to its operand's shape.
fn binary_backward(
    op: BinaryOp,
    g: &Tensor,
    lhs: &Tensor,
    rhs: &Tensor,
) -> Result<Vec<Option<Tensor>>> {
    let need_l = lhs.requires_grad();
    let need_r = rhs.requires_grad();
    let (dl, dr) = match op {
        BinaryOp::Add => (need_l.then(|| g.clone()), need_r.then(|| g.clone())),
        BinaryOp::Sub => (
            need_l.then(|| g.clone()),
            if need_r { Some(g.neg()?) } else { None },
        ),
        BinaryOp::Mul => (
            if need_l { Some(g.mul(rhs)?) } else { None },
            if need_r { Some(g.mul(lhs)?) } else { None },
        ),
        BinaryOp::Div => (
            if need_l { Some(g.div(rhs)?) } else { None },
            // d(a/b)/db = −a/b²
            if need_r {
                Some(g.mul(lhs)?.div(&rhs.square()?)?.neg()?)
            } else {
                None
            },
        ),
        BinaryOp::Max | BinaryOp::Min => {
            let cmp = if op == BinaryOp::Max {
                CmpOp::Ge
            } else {
                CmpOp::Le
            };
            let take_l = lhs.cmp(cmp, rhs)?;
            let take_r = take_l.rsub_scalar(1.0)?;
            (
                if need_l { Some(g.mul(&take_l)?) } else { None },
                if need_r { Some(g.mul(&take_r)?) } else { None },
            )
        }
        BinaryOp::Pow => {
            // d(a^b)/da = b·a^(b−1); d(a^b)/db = a^b·ln a
            let y = lhs.pow(rhs)?;
            (
                if need_l {
                    Some(g.mul(&rhs.mul(&lhs.pow(&rhs.sub_scalar(1.0)?)?)?)?)
                } else {
                    None
                },
                if need_r {
                    Some(g.mul(&y.mul(&lhs.log()?)?)?)
                } else {
                    None
                },
            )
        }
    };
    Ok(vec![
        dl.map(|d| d.sum_to_shape(lhs.dims())).transpose()?,
        dr.map(|d| d.sum_to_shape(rhs.dims())).transpose()?,
    ])
}
