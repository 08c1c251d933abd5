//! Elementwise ops on the GPU (`kernels/elementwise.cu`): one grid-stride kernel per kind
//! (unary, unary backward, binary, compare, scalar, compare-scalar, select) that switches on an
//! op code. Binary ops and comparisons take the contiguous kernel when both operands have the
//! output's shape and the strided one otherwise, with the broadcast dimensions merged on the
//! host so that a bias row is a 2-d walk whatever the rank.

use strata_backend::{BackendError, BinaryOp, CmpOp, ElementwiseOps, Result, ScalarOp, UnaryOp};

use crate::check::{check_shape, elem_count};
use crate::kernels::{launch, launch_config};
use crate::strided::{StridedArgs, broadcast_strides};
use crate::{CudaBackend, CudaBuffer};

/// The kernel's code for a unary op and its parameter (`U_*` in `elementwise.cu`).
fn unary_code(op: UnaryOp) -> (i32, f32) {
    match op {
        UnaryOp::Neg => (0, 0.0),
        UnaryOp::Abs => (1, 0.0),
        UnaryOp::Exp => (2, 0.0),
        UnaryOp::Log => (3, 0.0),
        UnaryOp::Log1p => (4, 0.0),
        UnaryOp::Sqrt => (5, 0.0),
        UnaryOp::Square => (6, 0.0),
        UnaryOp::Recip => (7, 0.0),
        UnaryOp::Relu => (8, 0.0),
        UnaryOp::LeakyRelu(a) => (9, a),
        UnaryOp::Elu(a) => (10, a),
        UnaryOp::Gelu => (11, 0.0),
        UnaryOp::Sigmoid => (12, 0.0),
        UnaryOp::Tanh => (13, 0.0),
        UnaryOp::Softplus => (14, 0.0),
        UnaryOp::Sign => (15, 0.0),
    }
}

/// `B_*` in `elementwise.cu`.
fn binary_code(op: BinaryOp) -> i32 {
    match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Max => 4,
        BinaryOp::Min => 5,
        BinaryOp::Pow => 6,
    }
}

/// `S_*` in `elementwise.cu`.
fn scalar_code(op: ScalarOp) -> i32 {
    match op {
        ScalarOp::Add => 0,
        ScalarOp::Mul => 1,
        ScalarOp::RSub => 2,
        ScalarOp::RDiv => 3,
        ScalarOp::Pow => 4,
        ScalarOp::Max => 5,
        ScalarOp::Min => 6,
    }
}

/// `C_*` in `elementwise.cu`.
fn compare_code(op: CmpOp) -> i32 {
    match op {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

/// How a binary op runs: contiguous, or strided with these arguments.
enum Plan {
    Same,
    Strided(StridedArgs),
}

/// Checks the operands of a broadcasting op and picks its kernel; returns the output length.
fn plan(
    op: &'static str,
    lhs: &CudaBuffer,
    lhs_shape: &[usize],
    rhs: &CudaBuffer,
    rhs_shape: &[usize],
    out_shape: &[usize],
) -> Result<(usize, Plan)> {
    check_shape(op, lhs_shape, lhs.len())?;
    check_shape(op, rhs_shape, rhs.len())?;
    let n = elem_count(op, out_shape)?;
    let lhs_strides = broadcast_strides(op, lhs_shape, out_shape)?;
    let rhs_strides = broadcast_strides(op, rhs_shape, out_shape)?;
    if lhs_shape == out_shape && rhs_shape == out_shape {
        return Ok((n, Plan::Same));
    }
    let args = StridedArgs::new(op, out_shape, &lhs_strides, &rhs_strides)?;
    Ok((n, Plan::Strided(args)))
}

impl CudaBackend {
    /// `binary` and `compare` share everything but the kernels and codes.
    #[allow(clippy::too_many_arguments)]
    fn broadcast_op(
        &self,
        op: &'static str,
        code: i32,
        compare: bool,
        lhs: &CudaBuffer,
        lhs_shape: &[usize],
        rhs: &CudaBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CudaBuffer> {
        let (len, plan) = plan(op, lhs, lhs_shape, rhs, rhs_shape, out_shape)?;
        let mut out = self.alloc(len)?;
        if len == 0 {
            return Ok(out);
        }
        let n = len as u64;
        let cfg = launch_config(len);
        let (l, r) = (lhs.slice(), rhs.slice());
        match (plan, compare) {
            (Plan::Same, false) => launch!(
                self,
                Elementwise,
                "elementwise_binary",
                cfg,
                out.slice_mut(),
                l,
                r,
                &n,
                &code
            )?,
            (Plan::Same, true) => launch!(
                self,
                Elementwise,
                "elementwise_compare",
                cfg,
                out.slice_mut(),
                l,
                r,
                &n,
                &code
            )?,
            (Plan::Strided(args), false) => launch!(
                self,
                Elementwise,
                "elementwise_binary_strided",
                cfg,
                out.slice_mut(),
                l,
                r,
                &n,
                &code,
                &args
            )?,
            (Plan::Strided(args), true) => launch!(
                self,
                Elementwise,
                "elementwise_compare_strided",
                cfg,
                out.slice_mut(),
                l,
                r,
                &n,
                &code,
                &args
            )?,
        }
        Ok(out)
    }
}

impl ElementwiseOps for CudaBackend {
    fn unary(&self, op: UnaryOp, x: &CudaBuffer) -> Result<CudaBuffer> {
        let len = x.len();
        let mut out = self.alloc(len)?;
        if len > 0 {
            let (code, alpha) = unary_code(op);
            let n = len as u64;
            launch!(
                self,
                Elementwise,
                "elementwise_unary",
                launch_config(len),
                out.slice_mut(),
                x.slice(),
                &n,
                &code,
                &alpha
            )?;
        }
        Ok(out)
    }

    fn unary_backward(&self, op: UnaryOp, x: &CudaBuffer, dy: &CudaBuffer) -> Result<CudaBuffer> {
        BackendError::check_len("unary_backward", x.len(), dy.len())?;
        let len = x.len();
        let mut out = self.alloc(len)?;
        if len > 0 {
            let (code, alpha) = unary_code(op);
            let n = len as u64;
            launch!(
                self,
                Elementwise,
                "elementwise_unary_backward",
                launch_config(len),
                out.slice_mut(),
                x.slice(),
                dy.slice(),
                &n,
                &code,
                &alpha
            )?;
        }
        Ok(out)
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: &CudaBuffer,
        lhs_shape: &[usize],
        rhs: &CudaBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CudaBuffer> {
        self.broadcast_op(
            "binary",
            binary_code(op),
            false,
            lhs,
            lhs_shape,
            rhs,
            rhs_shape,
            out_shape,
        )
    }

    fn scalar(&self, op: ScalarOp, x: &CudaBuffer, s: f32) -> Result<CudaBuffer> {
        let len = x.len();
        let mut out = self.alloc(len)?;
        if len > 0 {
            let code = scalar_code(op);
            let n = len as u64;
            launch!(
                self,
                Elementwise,
                "elementwise_scalar",
                launch_config(len),
                out.slice_mut(),
                x.slice(),
                &n,
                &code,
                &s
            )?;
        }
        Ok(out)
    }

    fn compare(
        &self,
        op: CmpOp,
        lhs: &CudaBuffer,
        lhs_shape: &[usize],
        rhs: &CudaBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CudaBuffer> {
        self.broadcast_op(
            "compare",
            compare_code(op),
            true,
            lhs,
            lhs_shape,
            rhs,
            rhs_shape,
            out_shape,
        )
    }

    fn compare_scalar(&self, op: CmpOp, x: &CudaBuffer, s: f32) -> Result<CudaBuffer> {
        let len = x.len();
        let mut out = self.alloc(len)?;
        if len > 0 {
            let code = compare_code(op);
            let n = len as u64;
            launch!(
                self,
                Elementwise,
                "elementwise_compare_scalar",
                launch_config(len),
                out.slice_mut(),
                x.slice(),
                &n,
                &code,
                &s
            )?;
        }
        Ok(out)
    }

    fn select(
        &self,
        mask: &CudaBuffer,
        on_true: &CudaBuffer,
        on_false: &CudaBuffer,
    ) -> Result<CudaBuffer> {
        BackendError::check_len("select", mask.len(), on_true.len())?;
        BackendError::check_len("select", mask.len(), on_false.len())?;
        let len = mask.len();
        let mut out = self.alloc(len)?;
        if len > 0 {
            let n = len as u64;
            launch!(
                self,
                Elementwise,
                "elementwise_select",
                launch_config(len),
                out.slice_mut(),
                mask.slice(),
                on_true.slice(),
                on_false.slice(),
                &n
            )?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_codes_are_distinct() {
        let unary = [
            UnaryOp::Neg,
            UnaryOp::Abs,
            UnaryOp::Exp,
            UnaryOp::Log,
            UnaryOp::Log1p,
            UnaryOp::Sqrt,
            UnaryOp::Square,
            UnaryOp::Recip,
            UnaryOp::Relu,
            UnaryOp::LeakyRelu(0.1),
            UnaryOp::Elu(1.0),
            UnaryOp::Gelu,
            UnaryOp::Sigmoid,
            UnaryOp::Tanh,
            UnaryOp::Softplus,
            UnaryOp::Sign,
        ];
        let codes: Vec<i32> = unary.iter().map(|&u| unary_code(u).0).collect();
        assert_eq!(codes, (0..16).collect::<Vec<_>>());
        assert_eq!(unary_code(UnaryOp::LeakyRelu(0.25)).1, 0.25);
    }
}
