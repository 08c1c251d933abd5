//! Reference elementwise ops: the `eval_f64` definitions of `strata-backend` applied per
//! element, with broadcasting by index vectors.

use strata_backend::{BackendError, BinaryOp, CmpOp, ElementwiseOps, Result, ScalarOp, UnaryOp};

use super::{
    RefBuffer, ReferenceBackend, broadcast_source, check_broadcast, elem_count, round, unravel,
};

impl ElementwiseOps for ReferenceBackend {
    fn unary(&self, op: UnaryOp, x: &RefBuffer) -> Result<RefBuffer> {
        Ok(map(x, |v| op.eval_f64(v)))
    }

    fn unary_backward(&self, op: UnaryOp, x: &RefBuffer, dy: &RefBuffer) -> Result<RefBuffer> {
        BackendError::check_len("unary_backward", x.0.len(), dy.0.len())?;
        let dx =
            x.0.iter()
                .zip(&dy.0)
                .map(|(&x, &dy)| round(op.derivative_f64(f64::from(x)) * f64::from(dy)))
                .collect();
        Ok(RefBuffer(dx))
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: &RefBuffer,
        lhs_shape: &[usize],
        rhs: &RefBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<RefBuffer> {
        let operands = Broadcast::new("binary", lhs, lhs_shape, rhs, rhs_shape, out_shape)?;
        Ok(operands.zip(|a, b| op.eval_f64(a, b)))
    }

    fn scalar(&self, op: ScalarOp, x: &RefBuffer, s: f32) -> Result<RefBuffer> {
        Ok(map(x, |v| op.eval_f64(v, f64::from(s))))
    }

    fn compare(
        &self,
        op: CmpOp,
        lhs: &RefBuffer,
        lhs_shape: &[usize],
        rhs: &RefBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<RefBuffer> {
        let operands = Broadcast::new("compare", lhs, lhs_shape, rhs, rhs_shape, out_shape)?;
        Ok(operands.zip(|a, b| indicator(op.eval_f64(a, b))))
    }

    fn compare_scalar(&self, op: CmpOp, x: &RefBuffer, s: f32) -> Result<RefBuffer> {
        Ok(map(x, |v| indicator(op.eval_f64(v, f64::from(s)))))
    }

    fn select(
        &self,
        mask: &RefBuffer,
        on_true: &RefBuffer,
        on_false: &RefBuffer,
    ) -> Result<RefBuffer> {
        BackendError::check_len("select", mask.0.len(), on_true.0.len())?;
        BackendError::check_len("select", mask.0.len(), on_false.0.len())?;
        let out = mask
            .0
            .iter()
            .zip(on_true.0.iter().zip(&on_false.0))
            .map(|(&m, (&t, &f))| if m != 0.0 { t } else { f })
            .collect();
        Ok(RefBuffer(out))
    }
}

/// `f` applied to every element, in `f64`.
fn map(x: &RefBuffer, f: impl Fn(f64) -> f64) -> RefBuffer {
    RefBuffer(x.0.iter().map(|&v| round(f(f64::from(v)))).collect())
}

/// 1.0 where a comparison holds, 0.0 elsewhere.
fn indicator(holds: bool) -> f64 {
    if holds { 1.0 } else { 0.0 }
}

/// Two operands checked against the output shape they broadcast to.
struct Broadcast<'a> {
    lhs: &'a [f32],
    lhs_shape: &'a [usize],
    rhs: &'a [f32],
    rhs_shape: &'a [usize],
    out_shape: &'a [usize],
}

impl<'a> Broadcast<'a> {
    fn new(
        op: &'static str,
        lhs: &'a RefBuffer,
        lhs_shape: &'a [usize],
        rhs: &'a RefBuffer,
        rhs_shape: &'a [usize],
        out_shape: &'a [usize],
    ) -> Result<Self> {
        check_broadcast(op, lhs_shape, out_shape)?;
        check_broadcast(op, rhs_shape, out_shape)?;
        BackendError::check_len(op, elem_count(lhs_shape), lhs.0.len())?;
        BackendError::check_len(op, elem_count(rhs_shape), rhs.0.len())?;
        Ok(Broadcast {
            lhs: &lhs.0,
            lhs_shape,
            rhs: &rhs.0,
            rhs_shape,
            out_shape,
        })
    }

    /// `out[i] = f(lhs[i'], rhs[i''])` where `i'` and `i''` are `i` with broadcast axes pinned.
    fn zip(&self, f: impl Fn(f64, f64) -> f64) -> RefBuffer {
        let out = (0..elem_count(self.out_shape))
            .map(|flat| {
                let index = unravel(flat, self.out_shape);
                let a = self.lhs[broadcast_source(&index, self.lhs_shape)];
                let b = self.rhs[broadcast_source(&index, self.rhs_shape)];
                round(f(f64::from(a), f64::from(b)))
            })
            .collect();
        RefBuffer(out)
    }
}
