//! Elementwise ops: unary maps and their fused derivatives, broadcasting binary ops and
//! comparisons, scalar ops and select.
//!
//! Single-threaded by design (see the crate docs). Each op is dispatched once, outside the
//! loop, to a monomorphized loop over slices; the kernels are built twice by
//! `simd::multiversion!` (SSE2 and AVX2, chosen at run time), and `exp`, `erf`, `tanh` come
//! from `crate::math` so that GELU, sigmoid, tanh and friends vectorize too.
//!
//! Broadcasting: the shapes a training step produces take a fast path, decided once per call:
//! equal shapes (one zip), a scalar operand, or a row operand broadcast over the leading axes
//! (the bias case, `[r, c]` with `[1, c]`). Anything else (a column `[r, 1]`, size-1 middle
//! axes, both operands broadcast) goes through the collapsed strided walk of
//! `crate::strided`, which visits contiguous runs without per-element index arithmetic.

use std::mem::MaybeUninit;

use strata_backend::{BackendError, BinaryOp, CmpOp, ElementwiseOps, Result, ScalarOp, UnaryOp};

use crate::check::{check_shape, elem_count};
use crate::simd::{
    map, map_into, map_rows, map_scalar, multiversion, zip_map, zip_map_into, zip3_map,
};
use crate::strided::{Layout, broadcast_strides};
use crate::{CpuBackend, CpuBuffer, math, parallel};

/// `1.0` where `c` holds, else `0.0`.
#[inline(always)]
fn indicator(c: bool) -> f32 {
    if c { 1.0 } else { 0.0 }
}

/// `sign(x)`, 0 at 0.
#[inline(always)]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

multiversion! {
    /// `f(x)` for every element, into `out` (as long as `x`).
    fn unary_kernel / unary_kernel_baseline(op: UnaryOp, x: &[f32], out: &mut [MaybeUninit<f32>]) {
        match op {
            UnaryOp::Neg => map_into(x, out, |v| -v),
            UnaryOp::Abs => map_into(x, out, f32::abs),
            UnaryOp::Exp => map_into(x, out, math::exp),
            UnaryOp::Log => map_into(x, out, f32::ln),
            UnaryOp::Log1p => map_into(x, out, f32::ln_1p),
            UnaryOp::Sqrt => map_into(x, out, f32::sqrt),
            UnaryOp::Square => map_into(x, out, |v| v * v),
            UnaryOp::Recip => map_into(x, out, |v| 1.0 / v),
            UnaryOp::Relu => map_into(x, out, |v| if v < 0.0 { 0.0 } else { v }), // NaN propagates, as in PyTorch
            UnaryOp::LeakyRelu(a) => map_into(x, out, |v| if v > 0.0 { v } else { a * v }),
            UnaryOp::Elu(a) => map_into(x, out, |v| if v > 0.0 { v } else { a * v.exp_m1() }),
            UnaryOp::Gelu => map_into(x, out, |v| v * math::normal_cdf(v)),
            UnaryOp::Sigmoid => map_into(x, out, math::sigmoid),
            UnaryOp::Tanh => map_into(x, out, math::tanh),
            UnaryOp::Softplus => map_into(x, out, |v| v.max(0.0) + math::exp(-v.abs()).ln_1p()),
            UnaryOp::Sign => map_into(x, out, sign),
        }
    }
}

multiversion! {
    /// `f'(x) · dy` for every element, into `out` (all three the same length).
    fn derivative_kernel / derivative_kernel_baseline(op: UnaryOp, x: &[f32], dy: &[f32], out: &mut [MaybeUninit<f32>]) {
        match op {
            UnaryOp::Neg => map_into(dy, out, |g| -g),
            UnaryOp::Abs => zip_map_into(x, dy, out, |v, g| {
                if v > 0.0 {
                    g
                } else if v < 0.0 {
                    -g
                } else {
                    0.0
                }
            }),
            UnaryOp::Exp => zip_map_into(x, dy, out, |v, g| math::exp(v) * g),
            UnaryOp::Log => zip_map_into(x, dy, out, |v, g| g / v),
            UnaryOp::Log1p => zip_map_into(x, dy, out, |v, g| g / (1.0 + v)),
            UnaryOp::Sqrt => zip_map_into(x, dy, out, |v, g| 0.5 * g / v.sqrt()),
            UnaryOp::Square => zip_map_into(x, dy, out, |v, g| 2.0 * v * g),
            UnaryOp::Recip => zip_map_into(x, dy, out, |v, g| -g / (v * v)),
            UnaryOp::Relu => zip_map_into(x, dy, out, |v, g| if v > 0.0 { g } else { 0.0 }),
            UnaryOp::LeakyRelu(a) => zip_map_into(x, dy, out, |v, g| if v > 0.0 { g } else { a * g }),
            UnaryOp::Elu(a) => zip_map_into(x, dy, out, |v, g| if v > 0.0 { g } else { a * math::exp(v) * g }),
            UnaryOp::Gelu => zip_map_into(x, dy, out, |v, g| (math::normal_cdf(v) + v * math::normal_pdf(v)) * g),
            // σ(1 − σ) and 1 − tanh² written without the cancellation of `1 − ...` in the
            // tails: e/(1 + e)² with e = e^−|x|, and 4e/(1 + e)² with e = e^−2|x|.
            UnaryOp::Sigmoid => zip_map_into(x, dy, out, |v, g| {
                let e = math::exp(-v.abs());
                let d = 1.0 + e;
                e / (d * d) * g
            }),
            UnaryOp::Tanh => zip_map_into(x, dy, out, |v, g| {
                let e = math::exp(-2.0 * v.abs());
                let d = 1.0 + e;
                4.0 * e / (d * d) * g
            }),
            UnaryOp::Softplus => zip_map_into(x, dy, out, |v, g| math::sigmoid(v) * g),
            UnaryOp::Sign => map_into(dy, out, |_| 0.0),
        }
    }
}

/// How the operands of a binary op line up with its output, when a fast path applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    /// Both operands have the output's shape.
    Same,
    /// `rhs` is one element.
    ScalarRhs,
    /// `lhs` is one element.
    ScalarLhs,
    /// `lhs` has the output's shape; `rhs` is one row broadcast over the leading axes.
    RowRhs,
    /// `rhs` has the output's shape; `lhs` is one row broadcast over the leading axes.
    RowLhs,
}

/// True when `shape` is `out_shape`'s last axis with every leading axis 1 (or absent).
fn is_row_of(shape: &[usize], out_shape: &[usize]) -> bool {
    if shape.len() > out_shape.len() {
        return false;
    }
    match (shape.split_last(), out_shape.last()) {
        (Some((&c, lead)), Some(&oc)) => c == oc && c > 0 && lead.iter().all(|&d| d == 1),
        _ => false,
    }
}

/// The fast path for these shapes, if any (shapes already checked against lengths).
fn pattern(
    lhs_shape: &[usize],
    lhs_len: usize,
    rhs_shape: &[usize],
    rhs_len: usize,
    out_shape: &[usize],
) -> Option<Pattern> {
    let lhs_full = lhs_shape == out_shape;
    let rhs_full = rhs_shape == out_shape;
    let scalar_ok = |shape: &[usize]| shape.len() <= out_shape.len();
    if lhs_full && rhs_full {
        Some(Pattern::Same)
    } else if lhs_full && rhs_len == 1 && scalar_ok(rhs_shape) {
        Some(Pattern::ScalarRhs)
    } else if rhs_full && lhs_len == 1 && scalar_ok(lhs_shape) {
        Some(Pattern::ScalarLhs)
    } else if lhs_full && is_row_of(rhs_shape, out_shape) {
        Some(Pattern::RowRhs)
    } else if rhs_full && is_row_of(lhs_shape, out_shape) {
        Some(Pattern::RowLhs)
    } else {
        None
    }
}

/// `f(lhs, rhs)` along a fast-path pattern.
#[inline(always)]
fn apply(p: Pattern, l: &[f32], r: &[f32], f: impl Fn(f32, f32) -> f32) -> Vec<f32> {
    match p {
        Pattern::Same => zip_map(l, r, f),
        Pattern::ScalarRhs => map_scalar::<false>(l, r[0], f),
        Pattern::ScalarLhs => map_scalar::<true>(r, l[0], f),
        Pattern::RowRhs => map_rows::<false>(l, r, f),
        Pattern::RowLhs => map_rows::<true>(r, l, f),
    }
}

multiversion! {
    /// A binary op along a fast-path pattern.
    fn binary_kernel / binary_kernel_baseline(op: BinaryOp, p: Pattern, l: &[f32], r: &[f32]) -> Vec<f32> {
        match op {
            BinaryOp::Add => apply(p, l, r, |a, b| a + b),
            BinaryOp::Sub => apply(p, l, r, |a, b| a - b),
            BinaryOp::Mul => apply(p, l, r, |a, b| a * b),
            BinaryOp::Div => apply(p, l, r, |a, b| a / b),
            BinaryOp::Max => apply(p, l, r, f32::max),
            BinaryOp::Min => apply(p, l, r, f32::min),
            BinaryOp::Pow => apply(p, l, r, f32::powf),
        }
    }
}

multiversion! {
    /// A comparison along a fast-path pattern.
    fn compare_kernel / compare_kernel_baseline(op: CmpOp, p: Pattern, l: &[f32], r: &[f32]) -> Vec<f32> {
        match op {
            CmpOp::Eq => apply(p, l, r, |a, b| indicator(a == b)),
            CmpOp::Ne => apply(p, l, r, |a, b| indicator(a != b)),
            CmpOp::Lt => apply(p, l, r, |a, b| indicator(a < b)),
            CmpOp::Le => apply(p, l, r, |a, b| indicator(a <= b)),
            CmpOp::Gt => apply(p, l, r, |a, b| indicator(a > b)),
            CmpOp::Ge => apply(p, l, r, |a, b| indicator(a >= b)),
        }
    }
}

multiversion! {
    /// `x ∘ s` for every element.
    fn scalar_kernel / scalar_kernel_baseline(op: ScalarOp, x: &[f32], s: f32) -> Vec<f32> {
        match op {
            ScalarOp::Add => map(x, |v| v + s),
            ScalarOp::Mul => map(x, |v| v * s),
            ScalarOp::RSub => map(x, |v| s - v),
            ScalarOp::RDiv => map(x, |v| s / v),
            ScalarOp::Pow if s == 2.0 => map(x, |v| v * v),
            ScalarOp::Pow if s == 1.0 => x.to_vec(),
            ScalarOp::Pow => map(x, |v| v.powf(s)),
            ScalarOp::Max => map(x, |v| v.max(s)),
            ScalarOp::Min => map(x, |v| v.min(s)),
        }
    }
}

multiversion! {
    /// `(x ⋈ s) ? 1 : 0` for every element.
    fn compare_scalar_kernel / compare_scalar_kernel_baseline(op: CmpOp, x: &[f32], s: f32) -> Vec<f32> {
        match op {
            CmpOp::Eq => map(x, |v| indicator(v == s)),
            CmpOp::Ne => map(x, |v| indicator(v != s)),
            CmpOp::Lt => map(x, |v| indicator(v < s)),
            CmpOp::Le => map(x, |v| indicator(v <= s)),
            CmpOp::Gt => map(x, |v| indicator(v > s)),
            CmpOp::Ge => map(x, |v| indicator(v >= s)),
        }
    }
}

multiversion! {
    /// `mask != 0 ? on_true : on_false` for every element.
    fn select_kernel / select_kernel_baseline(mask: &[f32], on_true: &[f32], on_false: &[f32]) -> Vec<f32> {
        zip3_map(mask, on_true, on_false, |m, t, f| if m != 0.0 { t } else { f })
    }
}

/// `f(lhs, rhs)` by the general strided walk (any broadcast), into a contiguous output.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn strided_map(
    op: &'static str,
    lhs: &[f32],
    lhs_shape: &[usize],
    rhs: &[f32],
    rhs_shape: &[usize],
    out_shape: &[usize],
    n: usize,
    f: impl Fn(f32, f32) -> f32,
) -> Result<Vec<f32>> {
    let ls = broadcast_strides(op, lhs_shape, out_shape)?;
    let rs = broadcast_strides(op, rhs_shape, out_shape)?;
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let layout = Layout::new(out_shape, [&ls, &rs]);
    let len = layout.inner_len();
    let (sl, sr) = (layout.inner_stride(0), layout.inner_stride(1));
    layout.for_each_run(|[a, b]| match (sl, sr) {
        (1, 1) => out.extend(
            lhs[a..a + len]
                .iter()
                .zip(&rhs[b..b + len])
                .map(|(&x, &y)| f(x, y)),
        ),
        (1, 0) => {
            let y = rhs[b];
            out.extend(lhs[a..a + len].iter().map(|&x| f(x, y)));
        }
        (0, 1) => {
            let x = lhs[a];
            out.extend(rhs[b..b + len].iter().map(|&y| f(x, y)));
        }
        _ => out.extend((0..len).map(|i| f(lhs[a + i * sl], rhs[b + i * sr]))),
    });
    Ok(out)
}

/// The operands of a broadcasting binary op or comparison.
struct Operands<'a> {
    op: &'static str,
    lhs: &'a [f32],
    lhs_shape: &'a [usize],
    rhs: &'a [f32],
    rhs_shape: &'a [usize],
    out_shape: &'a [usize],
}

impl Operands<'_> {
    /// Checks lengths; returns the output length and the fast path, if one applies.
    fn plan(&self) -> Result<(usize, Option<Pattern>)> {
        check_shape(self.op, self.lhs_shape, self.lhs.len())?;
        check_shape(self.op, self.rhs_shape, self.rhs.len())?;
        let n = elem_count(self.op, self.out_shape)?;
        let p = pattern(
            self.lhs_shape,
            self.lhs.len(),
            self.rhs_shape,
            self.rhs.len(),
            self.out_shape,
        );
        Ok((n, p))
    }

    /// The strided fallback with `f`.
    #[inline(always)]
    fn strided(&self, n: usize, f: impl Fn(f32, f32) -> f32) -> Result<Vec<f32>> {
        strided_map(
            self.op,
            self.lhs,
            self.lhs_shape,
            self.rhs,
            self.rhs_shape,
            self.out_shape,
            n,
            f,
        )
    }
}

impl ElementwiseOps for CpuBackend {
    fn unary(&self, op: UnaryOp, x: &CpuBuffer) -> Result<CpuBuffer> {
        let x = x.as_slice();
        // SAFETY: `unary_kernel` writes every element of the part it is given.
        let y = unsafe { parallel::fill(x.len(), 1, 2, |r, part| unary_kernel(op, &x[r], part)) };
        Ok(CpuBuffer::from_vec(y))
    }

    fn unary_backward(&self, op: UnaryOp, x: &CpuBuffer, dy: &CpuBuffer) -> Result<CpuBuffer> {
        BackendError::check_len("unary_backward", x.len(), dy.len())?;
        let (x, dy) = (x.as_slice(), dy.as_slice());
        // SAFETY: `derivative_kernel` writes every element of the part it is given.
        let dx = unsafe {
            parallel::fill(x.len(), 1, 3, |r, part| {
                derivative_kernel(op, &x[r.clone()], &dy[r], part)
            })
        };
        Ok(CpuBuffer::from_vec(dx))
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: &CpuBuffer,
        lhs_shape: &[usize],
        rhs: &CpuBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CpuBuffer> {
        let ops = Operands {
            op: "binary",
            lhs: lhs.as_slice(),
            lhs_shape,
            rhs: rhs.as_slice(),
            rhs_shape,
            out_shape,
        };
        let (n, fast) = ops.plan()?;
        let out = match fast {
            Some(p) => binary_kernel(op, p, ops.lhs, ops.rhs),
            None => match op {
                BinaryOp::Add => ops.strided(n, |a, b| a + b)?,
                BinaryOp::Sub => ops.strided(n, |a, b| a - b)?,
                BinaryOp::Mul => ops.strided(n, |a, b| a * b)?,
                BinaryOp::Div => ops.strided(n, |a, b| a / b)?,
                BinaryOp::Max => ops.strided(n, f32::max)?,
                BinaryOp::Min => ops.strided(n, f32::min)?,
                BinaryOp::Pow => ops.strided(n, f32::powf)?,
            },
        };
        Ok(CpuBuffer::from_vec(out))
    }

    fn scalar(&self, op: ScalarOp, x: &CpuBuffer, s: f32) -> Result<CpuBuffer> {
        Ok(CpuBuffer::from_vec(scalar_kernel(op, x.as_slice(), s)))
    }

    fn compare(
        &self,
        op: CmpOp,
        lhs: &CpuBuffer,
        lhs_shape: &[usize],
        rhs: &CpuBuffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<CpuBuffer> {
        let ops = Operands {
            op: "compare",
            lhs: lhs.as_slice(),
            lhs_shape,
            rhs: rhs.as_slice(),
            rhs_shape,
            out_shape,
        };
        let (n, fast) = ops.plan()?;
        let out = match fast {
            Some(p) => compare_kernel(op, p, ops.lhs, ops.rhs),
            None => match op {
                CmpOp::Eq => ops.strided(n, |a, b| indicator(a == b))?,
                CmpOp::Ne => ops.strided(n, |a, b| indicator(a != b))?,
                CmpOp::Lt => ops.strided(n, |a, b| indicator(a < b))?,
                CmpOp::Le => ops.strided(n, |a, b| indicator(a <= b))?,
                CmpOp::Gt => ops.strided(n, |a, b| indicator(a > b))?,
                CmpOp::Ge => ops.strided(n, |a, b| indicator(a >= b))?,
            },
        };
        Ok(CpuBuffer::from_vec(out))
    }

    fn compare_scalar(&self, op: CmpOp, x: &CpuBuffer, s: f32) -> Result<CpuBuffer> {
        Ok(CpuBuffer::from_vec(compare_scalar_kernel(
            op,
            x.as_slice(),
            s,
        )))
    }

    fn select(
        &self,
        mask: &CpuBuffer,
        on_true: &CpuBuffer,
        on_false: &CpuBuffer,
    ) -> Result<CpuBuffer> {
        BackendError::check_len("select", mask.len(), on_true.len())?;
        BackendError::check_len("select", mask.len(), on_false.len())?;
        Ok(CpuBuffer::from_vec(select_kernel(
            mask.as_slice(),
            on_true.as_slice(),
            on_false.as_slice(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_backend::contiguous_strides;

    fn cpu() -> CpuBackend {
        CpuBackend::new()
    }

    fn buf(v: &[f32]) -> CpuBuffer {
        CpuBuffer::from_vec(v.to_vec())
    }

    fn binary(
        op: BinaryOp,
        l: &[f32],
        ls: &[usize],
        r: &[f32],
        rs: &[usize],
        out: &[usize],
    ) -> Vec<f32> {
        cpu()
            .binary(op, &buf(l), ls, &buf(r), rs, out)
            .unwrap()
            .into_vec()
    }

    /// Broadcasting by explicit index arithmetic, the definition the fast paths must match.
    fn naive_broadcast(
        op: BinaryOp,
        l: &[f32],
        ls: &[usize],
        r: &[f32],
        rs: &[usize],
        out: &[usize],
    ) -> Vec<f32> {
        let n: usize = out.iter().product();
        let read = |data: &[f32], shape: &[usize], flat: usize| {
            let lead = out.len() - shape.len();
            let strides = contiguous_strides(shape);
            let out_strides = contiguous_strides(out);
            let mut off = 0;
            for (i, &d) in shape.iter().enumerate() {
                let idx = (flat / out_strides[lead + i]) % out[lead + i];
                if d != 1 {
                    off += idx * strides[i];
                }
            }
            data[off]
        };
        (0..n)
            .map(|i| op.eval_f64(read(l, ls, i) as f64, read(r, rs, i) as f64) as f32)
            .collect()
    }

    fn seq(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32 * 0.5 - 3.0).collect()
    }

    #[test]
    fn unary_matches_reference_definitions() {
        let ops = [
            UnaryOp::Neg,
            UnaryOp::Abs,
            UnaryOp::Exp,
            UnaryOp::Square,
            UnaryOp::Recip,
            UnaryOp::Relu,
            UnaryOp::LeakyRelu(0.1),
            UnaryOp::Elu(1.5),
            UnaryOp::Gelu,
            UnaryOp::Sigmoid,
            UnaryOp::Tanh,
            UnaryOp::Softplus,
            UnaryOp::Sign,
        ];
        let x: Vec<f32> = (-80..=80)
            .filter(|&i| i != 0)
            .map(|i| i as f32 * 0.1)
            .collect();
        for op in ops {
            let got = cpu().unary(op, &buf(&x)).unwrap().into_vec();
            for (&v, &g) in x.iter().zip(&got) {
                let want = op.eval_f64(v as f64);
                assert!(
                    (g as f64 - want).abs() <= 1e-6 + 1e-6 * want.abs(),
                    "{op:?}({v}) = {g}, want {want}"
                );
            }
        }
    }

    #[test]
    fn unary_on_positive_domain_matches_reference() {
        let x: Vec<f32> = (1..=100).map(|i| i as f32 * 0.37).collect();
        for op in [UnaryOp::Log, UnaryOp::Log1p, UnaryOp::Sqrt] {
            let got = cpu().unary(op, &buf(&x)).unwrap().into_vec();
            for (&v, &g) in x.iter().zip(&got) {
                let want = op.eval_f64(v as f64);
                assert!(
                    (g as f64 - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "{op:?}({v})"
                );
            }
        }
    }

    #[test]
    fn gelu_uses_exact_erf_form() {
        let x = [-3.0f32, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5];
        let got = cpu().unary(UnaryOp::Gelu, &buf(&x)).unwrap().into_vec();
        for (&v, &g) in x.iter().zip(&got) {
            let want = UnaryOp::Gelu.eval_f64(v as f64);
            assert!(
                (g as f64 - want).abs() < 2e-7,
                "gelu({v}) = {g}, want {want}"
            );
        }
        // Far in the lower tail the result is tiny but keeps its relative accuracy.
        let g = cpu()
            .unary(UnaryOp::Gelu, &buf(&[-6.0]))
            .unwrap()
            .into_vec()[0] as f64;
        let want = -6.0 * 0.5 * 1.973_175_290_075_9e-9;
        assert!(
            ((g - want) / want).abs() < 1e-4,
            "gelu(-6) = {g}, want {want}"
        );
    }

    #[test]
    fn unary_backward_is_derivative_times_upstream() {
        let ops = ALL_UNARY;
        let x: Vec<f32> = (1..=60)
            .map(|i| i as f32 * 0.1 * if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let dy: Vec<f32> = (0..60).map(|i| 0.5 + i as f32 * 0.01).collect();
        for op in ops {
            let positive_only = matches!(op, UnaryOp::Log | UnaryOp::Sqrt);
            let xs: Vec<f32> = if positive_only {
                x.iter().map(|v| v.abs()).collect()
            } else {
                x.clone()
            };
            let got = cpu()
                .unary_backward(op, &buf(&xs), &buf(&dy))
                .unwrap()
                .into_vec();
            for ((&v, &g), &d) in xs.iter().zip(&got).zip(&dy) {
                if op == UnaryOp::Log1p && v <= -1.0 {
                    continue;
                }
                let want = op.derivative_f64(v as f64) * d as f64;
                assert!(
                    (g as f64 - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{op:?}'({v}) = {g}, want {want}"
                );
            }
        }
    }

    const ALL_UNARY: [UnaryOp; 16] = [
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
        UnaryOp::Elu(1.5),
        UnaryOp::Gelu,
        UnaryOp::Sigmoid,
        UnaryOp::Tanh,
        UnaryOp::Softplus,
        UnaryOp::Sign,
    ];

    fn same_bits(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    #[test]
    fn dispatched_and_baseline_unary_kernels_agree_bitwise() {
        let x: Vec<f32> = (0..1001).map(|i| (i as f32 - 500.0) * 0.0173).collect();
        let dy: Vec<f32> = (0..1001).map(|i| 1.0 - i as f32 * 0.001).collect();
        // SAFETY (each `fill` below): the kernels write every element of their part.
        let run = |f: &(dyn Fn(&mut [MaybeUninit<f32>]) + Sync)| unsafe {
            parallel::fill(1, x.len(), 1, |_, part| f(part))
        };
        for op in ALL_UNARY {
            assert!(
                same_bits(
                    &run(&|o| unary_kernel(op, &x, o)),
                    &run(&|o| unary_kernel_baseline(op, &x, o))
                ),
                "{op:?}"
            );
            assert!(
                same_bits(
                    &run(&|o| derivative_kernel(op, &x, &dy, o)),
                    &run(&|o| derivative_kernel_baseline(op, &x, &dy, o))
                ),
                "{op:?}'"
            );
        }
    }

    #[test]
    fn dispatched_and_baseline_binary_kernels_agree_bitwise() {
        let (l, r) = (seq(35), seq(35));
        for p in [
            Pattern::Same,
            Pattern::ScalarRhs,
            Pattern::ScalarLhs,
            Pattern::RowRhs,
            Pattern::RowLhs,
        ] {
            let r = match p {
                Pattern::Same => &r[..],
                Pattern::ScalarRhs | Pattern::ScalarLhs => &r[..1],
                Pattern::RowRhs | Pattern::RowLhs => &r[..7],
            };
            let (a, b) = if matches!(p, Pattern::ScalarLhs | Pattern::RowLhs) {
                (r, &l[..])
            } else {
                (&l[..], r)
            };
            assert!(same_bits(
                &binary_kernel(BinaryOp::Div, p, a, b),
                &binary_kernel_baseline(BinaryOp::Div, p, a, b)
            ));
            assert!(same_bits(
                &compare_kernel(CmpOp::Lt, p, a, b),
                &compare_kernel_baseline(CmpOp::Lt, p, a, b)
            ));
        }
    }

    #[test]
    fn unary_backward_rejects_unequal_lengths() {
        let err = cpu().unary_backward(UnaryOp::Relu, &buf(&[1.0, 2.0]), &buf(&[1.0]));
        assert!(matches!(err, Err(BackendError::LengthMismatch { .. })));
    }

    #[test]
    fn relu_backward_passes_gradient_only_where_input_is_positive() {
        let got = cpu()
            .unary_backward(
                UnaryOp::Relu,
                &buf(&[-1.0, 0.0, 2.0]),
                &buf(&[5.0, 5.0, f32::INFINITY]),
            )
            .unwrap();
        assert_eq!(got.as_slice(), &[0.0, 0.0, f32::INFINITY]);
    }

    #[test]
    fn binary_equal_shapes_work_elementwise() {
        assert_eq!(
            binary(BinaryOp::Sub, &[5.0, 7.0], &[2], &[1.0, 2.0], &[2], &[2]),
            vec![4.0, 5.0]
        );
        assert_eq!(
            binary(BinaryOp::Pow, &[2.0, 3.0], &[2], &[3.0, 2.0], &[2], &[2]),
            vec![8.0, 9.0]
        );
        assert_eq!(
            binary(BinaryOp::Max, &[2.0, 3.0], &[2], &[3.0, 2.0], &[2], &[2]),
            vec![3.0, 3.0]
        );
        assert_eq!(
            binary(BinaryOp::Min, &[2.0, 3.0], &[2], &[3.0, 2.0], &[2], &[2]),
            vec![2.0, 2.0]
        );
    }

    #[test]
    fn binary_row_broadcast_adds_bias_to_every_row() {
        let got = binary(
            BinaryOp::Add,
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &[2, 3],
            &[10.0, 20.0, 30.0],
            &[1, 3],
            &[2, 3],
        );
        assert_eq!(got, vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    }

    #[test]
    fn binary_row_broadcast_on_lhs_keeps_operand_order() {
        let got = binary(
            BinaryOp::Sub,
            &[10.0, 20.0],
            &[1, 2],
            &[1.0, 2.0, 3.0, 4.0],
            &[2, 2],
            &[2, 2],
        );
        assert_eq!(got, vec![9.0, 18.0, 7.0, 16.0]);
    }

    #[test]
    fn binary_column_broadcast_divides_each_row_by_its_value() {
        let got = binary(
            BinaryOp::Div,
            &[2.0, 4.0, 9.0, 12.0],
            &[2, 2],
            &[2.0, 3.0],
            &[2, 1],
            &[2, 2],
        );
        assert_eq!(got, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn binary_scalar_operand_broadcasts_on_either_side() {
        assert_eq!(
            binary(BinaryOp::Mul, &[1.0, 2.0, 3.0], &[3], &[2.0], &[1], &[3]),
            vec![2.0, 4.0, 6.0]
        );
        assert_eq!(
            binary(BinaryOp::Sub, &[1.0], &[], &[1.0, 2.0], &[2], &[2]),
            vec![0.0, -1.0]
        );
    }

    #[test]
    fn binary_size_one_axes_broadcast_both_ways() {
        let (l, r) = (seq(6), seq(4));
        let want = naive_broadcast(BinaryOp::Sub, &l, &[2, 1, 3], &r, &[1, 4, 1], &[2, 4, 3]);
        assert_eq!(
            binary(BinaryOp::Sub, &l, &[2, 1, 3], &r, &[1, 4, 1], &[2, 4, 3]),
            want
        );
    }

    #[test]
    fn binary_lower_rank_operand_is_right_aligned() {
        let (l, r) = (seq(24), seq(3));
        let want = naive_broadcast(BinaryOp::Mul, &l, &[2, 4, 3], &r, &[3], &[2, 4, 3]);
        assert_eq!(
            binary(BinaryOp::Mul, &l, &[2, 4, 3], &r, &[3], &[2, 4, 3]),
            want
        );
        let r = seq(4);
        let want = naive_broadcast(BinaryOp::Add, &l, &[2, 4, 3], &r, &[4, 1], &[2, 4, 3]);
        assert_eq!(
            binary(BinaryOp::Add, &l, &[2, 4, 3], &r, &[4, 1], &[2, 4, 3]),
            want
        );
    }

    #[test]
    fn binary_middle_axis_broadcast_matches_naive() {
        let (l, r) = (seq(2 * 3 * 4 * 5), seq(2 * 4));
        let (ls, rs, os) = ([2, 3, 4, 5], [2, 1, 4, 1], [2, 3, 4, 5]);
        assert_eq!(
            binary(BinaryOp::Add, &l, &ls, &r, &rs, &os),
            naive_broadcast(BinaryOp::Add, &l, &ls, &r, &rs, &os)
        );
    }

    #[test]
    fn binary_rejects_shapes_that_do_not_broadcast() {
        let err = cpu().binary(
            BinaryOp::Add,
            &buf(&seq(6)),
            &[2, 3],
            &buf(&seq(2)),
            &[2],
            &[2, 3],
        );
        assert!(matches!(
            err,
            Err(BackendError::InvalidArgument { op: "binary", .. })
        ));
    }

    #[test]
    fn binary_rejects_buffer_shorter_than_its_shape() {
        let err = cpu().binary(
            BinaryOp::Add,
            &buf(&seq(5)),
            &[2, 3],
            &buf(&seq(6)),
            &[2, 3],
            &[2, 3],
        );
        assert!(matches!(err, Err(BackendError::LengthMismatch { .. })));
    }

    #[test]
    fn binary_on_empty_tensors_is_empty() {
        assert!(
            binary(
                BinaryOp::Add,
                &[],
                &[0, 3],
                &[1.0, 2.0, 3.0],
                &[1, 3],
                &[0, 3]
            )
            .is_empty()
        );
    }

    #[test]
    fn compare_broadcasts_and_returns_indicators() {
        let got = cpu()
            .compare(
                CmpOp::Gt,
                &buf(&[1.0, 5.0, 3.0, 0.0]),
                &[2, 2],
                &buf(&[2.0, 1.0]),
                &[2, 1],
                &[2, 2],
            )
            .unwrap();
        assert_eq!(got.as_slice(), &[0.0, 1.0, 1.0, 0.0]);
        let got = cpu()
            .compare(
                CmpOp::Eq,
                &buf(&[1.0, 2.0]),
                &[2],
                &buf(&[2.0, 2.0]),
                &[2],
                &[2],
            )
            .unwrap();
        assert_eq!(got.as_slice(), &[0.0, 1.0]);
    }

    #[test]
    fn compare_scalar_covers_every_comparison() {
        let x = buf(&[1.0, 2.0, 3.0]);
        let cases = [
            (CmpOp::Eq, [0.0, 1.0, 0.0]),
            (CmpOp::Ne, [1.0, 0.0, 1.0]),
            (CmpOp::Lt, [1.0, 0.0, 0.0]),
            (CmpOp::Le, [1.0, 1.0, 0.0]),
            (CmpOp::Gt, [0.0, 0.0, 1.0]),
            (CmpOp::Ge, [0.0, 1.0, 1.0]),
        ];
        for (op, want) in cases {
            assert_eq!(
                cpu().compare_scalar(op, &x, 2.0).unwrap().as_slice(),
                &want,
                "{op:?}"
            );
        }
    }

    #[test]
    fn scalar_ops_match_reference() {
        let x = [0.5f32, 1.0, 2.0, 4.0];
        let ops = [
            ScalarOp::Add,
            ScalarOp::Mul,
            ScalarOp::RSub,
            ScalarOp::RDiv,
            ScalarOp::Pow,
            ScalarOp::Max,
            ScalarOp::Min,
        ];
        for op in ops {
            for s in [2.0f32, 1.0, 0.5, -1.5] {
                let got = cpu().scalar(op, &buf(&x), s).unwrap().into_vec();
                for (&v, &g) in x.iter().zip(&got) {
                    let want = op.eval_f64(v as f64, s as f64);
                    assert!(
                        (g as f64 - want).abs() <= 1e-6 * want.abs().max(1.0),
                        "{op:?}({v}, {s})"
                    );
                }
            }
        }
    }

    #[test]
    fn select_picks_by_mask() {
        let got = cpu()
            .select(
                &buf(&[1.0, 0.0, -2.0]),
                &buf(&[1.0, 2.0, 3.0]),
                &buf(&[7.0, 8.0, 9.0]),
            )
            .unwrap();
        assert_eq!(got.as_slice(), &[1.0, 8.0, 3.0]);
        assert!(
            cpu()
                .select(&buf(&[1.0]), &buf(&[1.0, 2.0]), &buf(&[1.0]))
                .is_err()
        );
    }
}
