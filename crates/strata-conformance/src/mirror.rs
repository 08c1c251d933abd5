//! [`Mirror`]: two backends run side by side, op by op, and compared after every call.
//!
//! `Mirror<A, B>` is itself a [`Backend`]: each buffer is a pair (one buffer on `A`, one on
//! `B`), each op runs on both halves with the same inputs, and the outputs are downloaded and
//! compared before the call returns; a disagreement is returned as a
//! `BackendError::Device` naming the op, the output and the worst element. Running the
//! ordinary suite on a mirror ([`check_backend_against`]) therefore checks, on every generated
//! input, that `A` matches the f64 reference (through the `A` half, which is what the mirror
//! hands back to the suite) *and* that `A` matches `B` directly (CUDA against the CPU backend,
//! say), forward and backward, op by op.
//!
//! ## Tolerances (how far `A` may stray from `B`)
//! Both backends are held by the suite to the family tolerance `t` of [`Tolerances`] against
//! the exact result, so they may differ from each other by up to twice that. The mirror sees
//! only the two outputs, not the scale of the terms each element was accumulated from, so:
//! - ops that only move or select data (layout except `index_add_rows`, comparisons, `select`,
//!   `argmax`, max pooling and its indices, dropout masks, buffer copies) must agree **bit for
//!   bit** (NaN matches NaN);
//! - per-element maps (unary/binary/scalar ops, `add_assign`, random draws, dropout output):
//!   `|a − b| ≤ 2·(t.abs + t.rel·|b|)`;
//! - everything that accumulates (reductions, GEMM, convolution, softmax, pooling and norm
//!   backward passes, optimizer steps, recurrent layers): `|a − b| ≤ 4·(t.abs + t.rel·max(|b|,
//!   ‖b‖∞))`, the output's largest magnitude standing in for the terms' scale (a norm-wise
//!   bound, the usual one for comparing two GEMMs), with a factor 4 for the difference between
//!   an accumulation order's error and the norm.
//!
//! The recurrent workspace is private to each backend (its layout may differ) and is never
//! compared; the gradients computed from it are.
//!
//! Refusals: when `A` returns `Err` the mirror returns that error; when only `B` does, it
//! returns an error saying so. A property that expects `Err` for an invalid input therefore
//! passes when either backend refuses, which is why [`check_backend_against`] first runs the
//! plain suite on `A` alone.

use std::fmt;

use strata_backend::{
    AdagradSpec, AdamSpec, Backend, BackendError, BinaryOp, BufferOps, ChannelSpec, CmpOp,
    Conv2dSpec, ConvOps, ElementwiseOps, LayoutOps, LinalgOps, MatmulSpec, NormOps, OptimizerOps,
    Pool2dSpec, PoolOps, RandomOps, RecurrentOps, ReduceOp, ReduceOps, Result, RmspropSpec,
    RnnForward, RnnGrads, RnnOperands, RnnSpec, ScalarOp, SgdSpec, SoftmaxOps, UnaryOp,
};

use crate::compare::Tolerance;
use crate::suite::{SuiteConfig, SuiteFailure, SuiteReport, Tolerances, check_backend};

/// Two backends run in lockstep and compared after every op; see the module documentation.
#[derive(Debug, Clone)]
pub struct Mirror<A, B> {
    a: A,
    b: B,
    tolerances: Tolerances,
}

/// A buffer of a [`Mirror`]: the same values on both backends.
pub struct Pair<X, Y> {
    /// The half on the backend under test.
    pub a: X,
    /// The half on the backend it is compared with.
    pub b: Y,
}

impl<X, Y> fmt::Debug for Pair<X, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pair")
    }
}

/// How two outputs must agree.
#[derive(Debug, Clone, Copy)]
enum Agree {
    /// Bit for bit (NaN matches NaN).
    Exact,
    /// Element by element: `2·(abs + rel·|b|)`.
    Element(Tolerance),
    /// Norm-wise: `4·(abs + rel·max(|b|, ‖b‖∞))`.
    Norm(Tolerance),
}

impl<A: Backend, B: Backend> Mirror<A, B> {
    /// A mirror checking `a` (the backend under test) against `b` with `tolerances`.
    pub fn new(a: A, b: B, tolerances: Tolerances) -> Self {
        Mirror { a, b, tolerances }
    }

    /// The backend under test.
    pub fn under_test(&self) -> &A {
        &self.a
    }

    /// The backend it is compared with.
    pub fn compared_with(&self) -> &B {
        &self.b
    }

    fn fail(&self, message: String) -> BackendError {
        BackendError::Device {
            backend: self.name(),
            message,
        }
    }

    /// Both results, or the first refusal (the backend under test's first).
    fn both<X, Y>(&self, op: &str, x: Result<X>, y: Result<Y>) -> Result<(X, Y)> {
        match (x, y) {
            (Ok(x), Ok(y)) => Ok((x, y)),
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(self.fail(format!(
                "{op}: {} accepted the input but {} refused it: {e}",
                self.a.name(),
                self.b.name()
            ))),
        }
    }

    /// Checks that the two halves of an output agree.
    fn agree(&self, op: &str, x: &A::Buffer, y: &B::Buffer, how: Agree) -> Result<()> {
        let found = self.a.to_host(x)?;
        let expected = self.b.to_host(y)?;
        compare(&found, &expected, how).map_err(|why| {
            self.fail(format!(
                "{op}: {} and {} disagree: {why}",
                self.a.name(),
                self.b.name()
            ))
        })
    }

    /// Runs an op returning one buffer on both halves and compares the outputs.
    fn one(
        &self,
        op: &str,
        how: Agree,
        x: Result<A::Buffer>,
        y: Result<B::Buffer>,
    ) -> Result<Pair<A::Buffer, B::Buffer>> {
        let (x, y) = self.both(op, x, y)?;
        self.agree(op, &x, &y, how)?;
        Ok(Pair { a: x, b: y })
    }

    /// Runs an op returning two buffers on both halves and compares both outputs.
    #[allow(clippy::type_complexity)]
    fn two(
        &self,
        op: &str,
        how: (Agree, Agree),
        x: Result<(A::Buffer, A::Buffer)>,
        y: Result<(B::Buffer, B::Buffer)>,
    ) -> Result<(Pair<A::Buffer, B::Buffer>, Pair<A::Buffer, B::Buffer>)> {
        let ((x0, x1), (y0, y1)) = self.both(op, x, y)?;
        self.agree(op, &x0, &y0, how.0)?;
        self.agree(op, &x1, &y1, how.1)?;
        Ok((Pair { a: x0, b: y0 }, Pair { a: x1, b: y1 }))
    }

    /// Merges the outcomes of an in-place op run on both halves (the caller then compares
    /// every buffer it updated).
    fn in_place(&self, op: &str, x: Result<()>, y: Result<()>) -> Result<()> {
        self.both(op, x, y).map(|_| ())
    }

    fn elementwise(&self) -> Agree {
        Agree::Element(self.tolerances.elementwise)
    }
}

/// Checks `found` (the backend under test) against `expected` (the other backend).
fn compare(found: &[f32], expected: &[f32], how: Agree) -> std::result::Result<(), String> {
    if found.len() != expected.len() {
        return Err(format!(
            "{} elements against {}",
            found.len(),
            expected.len()
        ));
    }
    let norm = expected
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    let mut worst: Option<(usize, f64, f64)> = None;
    let mut bad = 0usize;
    for (i, (&f, &e)) in found.iter().zip(expected).enumerate() {
        let same = f.to_bits() == e.to_bits() || (f.is_nan() && e.is_nan());
        if same {
            continue;
        }
        let (f64f, f64e) = (f64::from(f), f64::from(e));
        let allowed = match how {
            Agree::Exact => 0.0,
            Agree::Element(t) => 2.0 * (t.abs + t.rel * f64e.abs()),
            Agree::Norm(t) => 4.0 * (t.abs + t.rel * f64e.abs().max(norm)),
        };
        let diff = (f64f - f64e).abs();
        // NaN against a number, or infinities that differ, are never close.
        let excess = if diff.is_finite() {
            diff - allowed
        } else {
            f64::INFINITY
        };
        if excess > 0.0 || (matches!(how, Agree::Exact) && !same) {
            bad += 1;
            if worst.is_none_or(|(_, w, _)| excess > w) {
                worst = Some((i, excess, allowed));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((i, _, allowed)) => Err(format!(
            "{bad} of {} elements differ beyond {}; worst at flat {i}: {:e} against {:e} \
             (allowed |diff| {allowed:e})",
            found.len(),
            match how {
                Agree::Exact => "bit equality".to_string(),
                Agree::Element(t) => format!("2·(abs {:e} + rel {:e}·|b|)", t.abs, t.rel),
                Agree::Norm(t) => format!("4·(abs {:e} + rel {:e}·max(|b|, ‖b‖∞))", t.abs, t.rel),
            },
            found[i],
            expected[i],
        )),
    }
}

/// Runs the whole suite twice: on `backend` alone against the f64 reference, then on
/// [`Mirror`]`(backend, compared_with)`, which also compares every op's outputs with
/// `compared_with`'s (CUDA against the CPU, say). Returns the mirror run's report, or the
/// failures of the first run that failed.
pub fn check_backend_against<A, B>(
    backend: &A,
    compared_with: &B,
    config: &SuiteConfig,
) -> std::result::Result<SuiteReport, SuiteFailure>
where
    A: Backend + Clone,
    B: Backend + Clone,
{
    check_backend(backend, config)?;
    let mirror = Mirror::new(backend.clone(), compared_with.clone(), config.tolerances);
    check_backend(&mirror, config)
}

type P<A, B> = Pair<<A as BufferOps>::Buffer, <B as BufferOps>::Buffer>;

impl<A: Backend, B: Backend> BufferOps for Mirror<A, B> {
    type Buffer = P<A, B>;

    fn name(&self) -> String {
        format!("{} against {}", self.a.name(), self.b.name())
    }

    fn from_host(&self, data: &[f32]) -> Result<Self::Buffer> {
        let op = "from_host";
        self.one(
            op,
            Agree::Exact,
            self.a.from_host(data),
            self.b.from_host(data),
        )
    }

    fn full(&self, len: usize, value: f32) -> Result<Self::Buffer> {
        let op = "full";
        self.one(
            op,
            Agree::Exact,
            self.a.full(len, value),
            self.b.full(len, value),
        )
    }

    fn zeros(&self, len: usize) -> Result<Self::Buffer> {
        self.one("zeros", Agree::Exact, self.a.zeros(len), self.b.zeros(len))
    }

    fn to_host(&self, buf: &Self::Buffer) -> Result<Vec<f32>> {
        self.a.to_host(&buf.a)
    }

    fn len(&self, buf: &Self::Buffer) -> usize {
        self.a.len(&buf.a)
    }

    fn copy(&self, buf: &Self::Buffer) -> Result<Self::Buffer> {
        self.one(
            "copy",
            Agree::Exact,
            self.a.copy(&buf.a),
            self.b.copy(&buf.b),
        )
    }

    fn add_assign(&self, dst: &mut Self::Buffer, src: &Self::Buffer) -> Result<()> {
        let op = "add_assign";
        let x = self.a.add_assign(&mut dst.a, &src.a);
        let y = self.b.add_assign(&mut dst.b, &src.b);
        self.in_place(op, x, y)?;
        self.agree(op, &dst.a, &dst.b, self.elementwise())
    }

    fn synchronize(&self) -> Result<()> {
        self.a.synchronize()?;
        self.b.synchronize()
    }
}

impl<A: Backend, B: Backend> ElementwiseOps for Mirror<A, B> {
    fn unary(&self, op: UnaryOp, x: &Self::Buffer) -> Result<Self::Buffer> {
        let how = self.elementwise();
        self.one("unary", how, self.a.unary(op, &x.a), self.b.unary(op, &x.b))
    }

    fn unary_backward(
        &self,
        op: UnaryOp,
        x: &Self::Buffer,
        dy: &Self::Buffer,
    ) -> Result<Self::Buffer> {
        let how = self.elementwise();
        let ra = self.a.unary_backward(op, &x.a, &dy.a);
        let rb = self.b.unary_backward(op, &x.b, &dy.b);
        self.one("unary_backward", how, ra, rb)
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: &Self::Buffer,
        lhs_shape: &[usize],
        rhs: &Self::Buffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<Self::Buffer> {
        let how = self.elementwise();
        let ra = (self.a).binary(op, &lhs.a, lhs_shape, &rhs.a, rhs_shape, out_shape);
        let rb = (self.b).binary(op, &lhs.b, lhs_shape, &rhs.b, rhs_shape, out_shape);
        self.one("binary", how, ra, rb)
    }

    fn scalar(&self, op: ScalarOp, x: &Self::Buffer, s: f32) -> Result<Self::Buffer> {
        let how = self.elementwise();
        self.one(
            "scalar",
            how,
            self.a.scalar(op, &x.a, s),
            self.b.scalar(op, &x.b, s),
        )
    }

    fn compare(
        &self,
        op: CmpOp,
        lhs: &Self::Buffer,
        lhs_shape: &[usize],
        rhs: &Self::Buffer,
        rhs_shape: &[usize],
        out_shape: &[usize],
    ) -> Result<Self::Buffer> {
        let ra = (self.a).compare(op, &lhs.a, lhs_shape, &rhs.a, rhs_shape, out_shape);
        let rb = (self.b).compare(op, &lhs.b, lhs_shape, &rhs.b, rhs_shape, out_shape);
        self.one("compare", Agree::Exact, ra, rb)
    }

    fn compare_scalar(&self, op: CmpOp, x: &Self::Buffer, s: f32) -> Result<Self::Buffer> {
        let ra = self.a.compare_scalar(op, &x.a, s);
        let rb = self.b.compare_scalar(op, &x.b, s);
        self.one("compare_scalar", Agree::Exact, ra, rb)
    }

    fn select(
        &self,
        mask: &Self::Buffer,
        on_true: &Self::Buffer,
        on_false: &Self::Buffer,
    ) -> Result<Self::Buffer> {
        let ra = self.a.select(&mask.a, &on_true.a, &on_false.a);
        let rb = self.b.select(&mask.b, &on_true.b, &on_false.b);
        self.one("select", Agree::Exact, ra, rb)
    }
}

impl<A: Backend, B: Backend> LayoutOps for Mirror<A, B> {
    fn permute(&self, x: &Self::Buffer, shape: &[usize], axes: &[usize]) -> Result<Self::Buffer> {
        let ra = self.a.permute(&x.a, shape, axes);
        let rb = self.b.permute(&x.b, shape, axes);
        self.one("permute", Agree::Exact, ra, rb)
    }

    fn broadcast_to(
        &self,
        x: &Self::Buffer,
        shape: &[usize],
        out_shape: &[usize],
    ) -> Result<Self::Buffer> {
        let ra = self.a.broadcast_to(&x.a, shape, out_shape);
        let rb = self.b.broadcast_to(&x.b, shape, out_shape);
        self.one("broadcast_to", Agree::Exact, ra, rb)
    }

    fn slice_axis(
        &self,
        x: &Self::Buffer,
        shape: &[usize],
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<Self::Buffer> {
        let ra = self.a.slice_axis(&x.a, shape, axis, start, len);
        let rb = self.b.slice_axis(&x.b, shape, axis, start, len);
        self.one("slice_axis", Agree::Exact, ra, rb)
    }

    fn concat(
        &self,
        parts: &[&Self::Buffer],
        shapes: &[&[usize]],
        axis: usize,
    ) -> Result<Self::Buffer> {
        let pa: Vec<&A::Buffer> = parts.iter().map(|p| &p.a).collect();
        let pb: Vec<&B::Buffer> = parts.iter().map(|p| &p.b).collect();
        let ra = self.a.concat(&pa, shapes, axis);
        let rb = self.b.concat(&pb, shapes, axis);
        self.one("concat", Agree::Exact, ra, rb)
    }

    fn index_select_rows(
        &self,
        x: &Self::Buffer,
        rows: usize,
        cols: usize,
        indices: &Self::Buffer,
    ) -> Result<Self::Buffer> {
        let ra = self.a.index_select_rows(&x.a, rows, cols, &indices.a);
        let rb = self.b.index_select_rows(&x.b, rows, cols, &indices.b);
        self.one("index_select_rows", Agree::Exact, ra, rb)
    }

    fn index_add_rows(
        &self,
        src: &Self::Buffer,
        indices: &Self::Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let ra = self.a.index_add_rows(&src.a, &indices.a, rows, cols);
        let rb = self.b.index_add_rows(&src.b, &indices.b, rows, cols);
        self.one("index_add_rows", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> ReduceOps for Mirror<A, B> {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &Self::Buffer,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let ra = self.a.reduce(op, &x.a, shape, axes);
        let rb = self.b.reduce(op, &x.b, shape, axes);
        self.one("reduce", how, ra, rb)
    }

    fn argmax(&self, x: &Self::Buffer, shape: &[usize], axis: usize) -> Result<Self::Buffer> {
        let ra = self.a.argmax(&x.a, shape, axis);
        let rb = self.b.argmax(&x.b, shape, axis);
        self.one("argmax", Agree::Exact, ra, rb)
    }

    fn sum_squares(&self, x: &Self::Buffer) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let (ra, rb) = (self.a.sum_squares(&x.a), self.b.sum_squares(&x.b));
        self.one("sum_squares", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> LinalgOps for Mirror<A, B> {
    fn matmul(&self, a: &Self::Buffer, b: &Self::Buffer, spec: MatmulSpec) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.linalg);
        let ra = self.a.matmul(&a.a, &b.a, spec);
        let rb = self.b.matmul(&a.b, &b.b, spec);
        self.one("matmul", how, ra, rb)
    }

    fn matmul_bias(
        &self,
        a: &Self::Buffer,
        b: &Self::Buffer,
        bias: &Self::Buffer,
        spec: MatmulSpec,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.linalg);
        let ra = self.a.matmul_bias(&a.a, &b.a, &bias.a, spec);
        let rb = self.b.matmul_bias(&a.b, &b.b, &bias.b, spec);
        self.one("matmul_bias", how, ra, rb)
    }

    fn sum_rows(&self, x: &Self::Buffer, rows: usize, cols: usize) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.linalg);
        let ra = self.a.sum_rows(&x.a, rows, cols);
        let rb = self.b.sum_rows(&x.b, rows, cols);
        self.one("sum_rows", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> SoftmaxOps for Mirror<A, B> {
    fn softmax(&self, x: &Self::Buffer, rows: usize, cols: usize) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.softmax);
        let ra = self.a.softmax(&x.a, rows, cols);
        let rb = self.b.softmax(&x.b, rows, cols);
        self.one("softmax", how, ra, rb)
    }

    fn log_softmax(&self, x: &Self::Buffer, rows: usize, cols: usize) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.softmax);
        let ra = self.a.log_softmax(&x.a, rows, cols);
        let rb = self.b.log_softmax(&x.b, rows, cols);
        self.one("log_softmax", how, ra, rb)
    }

    fn softmax_backward(
        &self,
        y: &Self::Buffer,
        dy: &Self::Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.softmax);
        let ra = self.a.softmax_backward(&y.a, &dy.a, rows, cols);
        let rb = self.b.softmax_backward(&y.b, &dy.b, rows, cols);
        self.one("softmax_backward", how, ra, rb)
    }

    fn log_softmax_backward(
        &self,
        y: &Self::Buffer,
        dy: &Self::Buffer,
        rows: usize,
        cols: usize,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.softmax);
        let ra = self.a.log_softmax_backward(&y.a, &dy.a, rows, cols);
        let rb = self.b.log_softmax_backward(&y.b, &dy.b, rows, cols);
        self.one("log_softmax_backward", how, ra, rb)
    }

    fn softmax_cross_entropy(
        &self,
        logits: &Self::Buffer,
        labels: &Self::Buffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<(Self::Buffer, Self::Buffer)> {
        let how = Agree::Norm(self.tolerances.softmax);
        let ra = (self.a).softmax_cross_entropy(&logits.a, &labels.a, rows, cols, label_smoothing);
        let rb = (self.b).softmax_cross_entropy(&logits.b, &labels.b, rows, cols, label_smoothing);
        self.two("softmax_cross_entropy", (how, how), ra, rb)
    }

    fn softmax_cross_entropy_backward(
        &self,
        probs: &Self::Buffer,
        labels: &Self::Buffer,
        dloss: &Self::Buffer,
        rows: usize,
        cols: usize,
        label_smoothing: f32,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.softmax);
        let ra = (self.a).softmax_cross_entropy_backward(
            &probs.a,
            &labels.a,
            &dloss.a,
            rows,
            cols,
            label_smoothing,
        );
        let rb = (self.b).softmax_cross_entropy_backward(
            &probs.b,
            &labels.b,
            &dloss.b,
            rows,
            cols,
            label_smoothing,
        );
        self.one("softmax_cross_entropy_backward", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> RandomOps for Mirror<A, B> {
    fn random_uniform(&self, len: usize, low: f32, high: f32, seed: u64) -> Result<Self::Buffer> {
        let how = Agree::Element(self.tolerances.random);
        let ra = self.a.random_uniform(len, low, high, seed);
        let rb = self.b.random_uniform(len, low, high, seed);
        self.one("random_uniform", how, ra, rb)
    }

    fn random_normal(&self, len: usize, mean: f32, std: f32, seed: u64) -> Result<Self::Buffer> {
        let how = Agree::Element(self.tolerances.random);
        let ra = self.a.random_normal(len, mean, std, seed);
        let rb = self.b.random_normal(len, mean, std, seed);
        self.one("random_normal", how, ra, rb)
    }

    fn dropout(&self, x: &Self::Buffer, p: f32, seed: u64) -> Result<(Self::Buffer, Self::Buffer)> {
        // The masks must be the same draws on both devices, bit for bit.
        let how = (self.elementwise(), Agree::Exact);
        let (ra, rb) = (self.a.dropout(&x.a, p, seed), self.b.dropout(&x.b, p, seed));
        self.two("dropout", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> OptimizerOps for Mirror<A, B> {
    fn sgd_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        velocity: Option<&mut Self::Buffer>,
        spec: SgdSpec,
    ) -> Result<()> {
        let op = "sgd_step";
        let how = Agree::Norm(self.tolerances.optimizer);
        let (va, vb) = match velocity {
            Some(v) => (Some(&mut v.a), Some(&mut v.b)),
            None => (None, None),
        };
        let ra = self.a.sgd_step(&mut param.a, &grad.a, va, spec);
        let rb = self.b.sgd_step(&mut param.b, &grad.b, vb, spec);
        self.in_place(op, ra, rb)?;
        self.agree(op, &param.a, &param.b, how)
    }

    fn adam_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        m: &mut Self::Buffer,
        v: &mut Self::Buffer,
        spec: AdamSpec,
    ) -> Result<()> {
        let op = "adam_step";
        let how = Agree::Norm(self.tolerances.optimizer);
        let ra = self
            .a
            .adam_step(&mut param.a, &grad.a, &mut m.a, &mut v.a, spec);
        let rb = self
            .b
            .adam_step(&mut param.b, &grad.b, &mut m.b, &mut v.b, spec);
        self.in_place(op, ra, rb)?;
        self.agree(op, &param.a, &param.b, how)?;
        self.agree(op, &m.a, &m.b, how)?;
        self.agree(op, &v.a, &v.b, how)
    }

    fn rmsprop_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        square_avg: &mut Self::Buffer,
        momentum_buf: Option<&mut Self::Buffer>,
        spec: RmspropSpec,
    ) -> Result<()> {
        let op = "rmsprop_step";
        let how = Agree::Norm(self.tolerances.optimizer);
        let (ma, mb) = match momentum_buf {
            Some(m) => (Some(&mut m.a), Some(&mut m.b)),
            None => (None, None),
        };
        let ra = (self.a).rmsprop_step(&mut param.a, &grad.a, &mut square_avg.a, ma, spec);
        let rb = (self.b).rmsprop_step(&mut param.b, &grad.b, &mut square_avg.b, mb, spec);
        self.in_place(op, ra, rb)?;
        self.agree(op, &param.a, &param.b, how)?;
        self.agree(op, &square_avg.a, &square_avg.b, how)
    }

    fn adagrad_step(
        &self,
        param: &mut Self::Buffer,
        grad: &Self::Buffer,
        sum: &mut Self::Buffer,
        spec: AdagradSpec,
    ) -> Result<()> {
        let op = "adagrad_step";
        let how = Agree::Norm(self.tolerances.optimizer);
        let ra = self.a.adagrad_step(&mut param.a, &grad.a, &mut sum.a, spec);
        let rb = self.b.adagrad_step(&mut param.b, &grad.b, &mut sum.b, spec);
        self.in_place(op, ra, rb)?;
        self.agree(op, &param.a, &param.b, how)?;
        self.agree(op, &sum.a, &sum.b, how)
    }

    fn scale_in_place(&self, x: &mut Self::Buffer, s: f32) -> Result<()> {
        let op = "scale_in_place";
        let (ra, rb) = (
            self.a.scale_in_place(&mut x.a, s),
            self.b.scale_in_place(&mut x.b, s),
        );
        self.in_place(op, ra, rb)?;
        self.agree(op, &x.a, &x.b, self.elementwise())
    }

    fn clamp_in_place(&self, x: &mut Self::Buffer, limit: f32) -> Result<()> {
        let op = "clamp_in_place";
        let ra = self.a.clamp_in_place(&mut x.a, limit);
        let rb = self.b.clamp_in_place(&mut x.b, limit);
        self.in_place(op, ra, rb)?;
        self.agree(op, &x.a, &x.b, Agree::Exact)
    }
}

/// The operands of one half.
fn half<'a, X, Y, Z>(
    o: &RnnOperands<'a, Pair<X, Y>>,
    pick: impl Fn(&'a Pair<X, Y>) -> &'a Z,
) -> RnnOperands<'a, Z> {
    RnnOperands {
        x: pick(o.x),
        w_ih: pick(o.w_ih),
        w_hh: pick(o.w_hh),
        b_ih: pick(o.b_ih),
        b_hh: pick(o.b_hh),
        h0: pick(o.h0),
        c0: pick(o.c0),
        lengths: o.lengths.map(pick),
    }
}

impl<A: Backend, B: Backend> RecurrentOps for Mirror<A, B> {
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, Self::Buffer>,
    ) -> Result<RnnForward<Self::Buffer>> {
        let op = "rnn_forward";
        let how = Agree::Norm(self.tolerances.recurrent);
        let ra = self.a.rnn_forward(spec, half(&operands, |p| &p.a));
        let rb = self.b.rnn_forward(spec, half(&operands, |p| &p.b));
        let (fa, fb) = self.both(op, ra, rb)?;
        self.agree(op, &fa.packed, &fb.packed, how)?;
        Ok(RnnForward {
            packed: Pair {
                a: fa.packed,
                b: fb.packed,
            },
            workspace: Pair {
                a: fa.workspace,
                b: fb.workspace,
            },
        })
    }

    fn rnn_backward(
        &self,
        spec: RnnSpec,
        operands: RnnOperands<'_, Self::Buffer>,
        workspace: &Self::Buffer,
        dpacked: &Self::Buffer,
    ) -> Result<RnnGrads<Self::Buffer>> {
        let op = "rnn_backward";
        let how = Agree::Norm(self.tolerances.recurrent);
        let oa = half(&operands, |p| &p.a);
        let ob = half(&operands, |p| &p.b);
        let ra = self.a.rnn_backward(spec, oa, &workspace.a, &dpacked.a);
        let rb = self.b.rnn_backward(spec, ob, &workspace.b, &dpacked.b);
        let (ga, gb) = self.both(op, ra, rb)?;
        let pairs = [
            ("dx", ga.dx, gb.dx),
            ("dw_ih", ga.dw_ih, gb.dw_ih),
            ("dw_hh", ga.dw_hh, gb.dw_hh),
            ("db_ih", ga.db_ih, gb.db_ih),
            ("db_hh", ga.db_hh, gb.db_hh),
            ("dh0", ga.dh0, gb.dh0),
            ("dc0", ga.dc0, gb.dc0),
        ];
        let mut out = Vec::with_capacity(pairs.len());
        for (what, x, y) in pairs {
            self.agree(&format!("{op} {what}"), &x, &y, how)?;
            out.push(Pair { a: x, b: y });
        }
        let mut out = out.into_iter();
        let mut next = || {
            out.next()
                .ok_or_else(|| self.fail(format!("{op}: lost a gradient")))
        };
        Ok(RnnGrads {
            dx: next()?,
            dw_ih: next()?,
            dw_hh: next()?,
            db_ih: next()?,
            db_hh: next()?,
            dh0: next()?,
            dc0: next()?,
        })
    }
}

impl<A: Backend, B: Backend> ConvOps for Mirror<A, B> {
    fn conv2d(
        &self,
        x: &Self::Buffer,
        w: &Self::Buffer,
        bias: Option<&Self::Buffer>,
        spec: Conv2dSpec,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.linalg);
        let ra = self.a.conv2d(&x.a, &w.a, bias.map(|b| &b.a), spec);
        let rb = self.b.conv2d(&x.b, &w.b, bias.map(|b| &b.b), spec);
        self.one("conv2d", how, ra, rb)
    }

    fn conv2d_backward_input(
        &self,
        dy: &Self::Buffer,
        w: &Self::Buffer,
        spec: Conv2dSpec,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.linalg);
        let ra = self.a.conv2d_backward_input(&dy.a, &w.a, spec);
        let rb = self.b.conv2d_backward_input(&dy.b, &w.b, spec);
        self.one("conv2d_backward_input", how, ra, rb)
    }

    fn conv2d_backward_weight(
        &self,
        x: &Self::Buffer,
        dy: &Self::Buffer,
        spec: Conv2dSpec,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.linalg);
        let ra = self.a.conv2d_backward_weight(&x.a, &dy.a, spec);
        let rb = self.b.conv2d_backward_weight(&x.b, &dy.b, spec);
        self.one("conv2d_backward_weight", how, ra, rb)
    }

    fn conv2d_backward_bias(&self, dy: &Self::Buffer, spec: Conv2dSpec) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let ra = self.a.conv2d_backward_bias(&dy.a, spec);
        let rb = self.b.conv2d_backward_bias(&dy.b, spec);
        self.one("conv2d_backward_bias", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> PoolOps for Mirror<A, B> {
    fn max_pool2d(
        &self,
        x: &Self::Buffer,
        spec: Pool2dSpec,
    ) -> Result<(Self::Buffer, Self::Buffer)> {
        let how = (Agree::Exact, Agree::Exact);
        let (ra, rb) = (self.a.max_pool2d(&x.a, spec), self.b.max_pool2d(&x.b, spec));
        self.two("max_pool2d", how, ra, rb)
    }

    fn max_pool2d_backward(
        &self,
        dy: &Self::Buffer,
        indices: &Self::Buffer,
        spec: Pool2dSpec,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let ra = self.a.max_pool2d_backward(&dy.a, &indices.a, spec);
        let rb = self.b.max_pool2d_backward(&dy.b, &indices.b, spec);
        self.one("max_pool2d_backward", how, ra, rb)
    }

    fn avg_pool2d(&self, x: &Self::Buffer, spec: Pool2dSpec) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let (ra, rb) = (self.a.avg_pool2d(&x.a, spec), self.b.avg_pool2d(&x.b, spec));
        self.one("avg_pool2d", how, ra, rb)
    }

    fn avg_pool2d_backward(&self, dy: &Self::Buffer, spec: Pool2dSpec) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.reduce);
        let ra = self.a.avg_pool2d_backward(&dy.a, spec);
        let rb = self.b.avg_pool2d_backward(&dy.b, spec);
        self.one("avg_pool2d_backward", how, ra, rb)
    }
}

impl<A: Backend, B: Backend> NormOps for Mirror<A, B> {
    fn channel_stats(
        &self,
        x: &Self::Buffer,
        spec: ChannelSpec,
    ) -> Result<(Self::Buffer, Self::Buffer)> {
        let how = Agree::Norm(self.tolerances.reduce);
        let (ra, rb) = (
            self.a.channel_stats(&x.a, spec),
            self.b.channel_stats(&x.b, spec),
        );
        self.two("channel_stats", (how, how), ra, rb)
    }

    fn channel_affine(
        &self,
        x: &Self::Buffer,
        scale: &Self::Buffer,
        shift: &Self::Buffer,
        spec: ChannelSpec,
    ) -> Result<Self::Buffer> {
        let how = Agree::Norm(self.tolerances.elementwise);
        let ra = self.a.channel_affine(&x.a, &scale.a, &shift.a, spec);
        let rb = self.b.channel_affine(&x.b, &scale.b, &shift.b, spec);
        self.one("channel_affine", how, ra, rb)
    }

    fn channel_affine_backward(
        &self,
        dy: &Self::Buffer,
        x: &Self::Buffer,
        spec: ChannelSpec,
    ) -> Result<(Self::Buffer, Self::Buffer)> {
        let how = Agree::Norm(self.tolerances.reduce);
        let ra = self.a.channel_affine_backward(&dy.a, &x.a, spec);
        let rb = self.b.channel_affine_backward(&dy.b, &x.b, spec);
        self.two("channel_affine_backward", (how, how), ra, rb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_rejects_one_ulp_but_matches_nan() {
        let next = f32::from_bits(1.0f32.to_bits() + 1);
        assert!(compare(&[1.0], &[next], Agree::Exact).is_err());
        assert!(compare(&[f32::NAN, 2.0], &[f32::NAN, 2.0], Agree::Exact).is_ok());
    }

    #[test]
    fn element_allows_twice_the_tolerance() {
        let t = Tolerance::new(1e-5, 0.0);
        assert!(compare(&[1.000_019], &[1.0], Agree::Element(t)).is_ok());
        assert!(compare(&[1.000_03], &[1.0], Agree::Element(t)).is_err());
    }

    #[test]
    fn norm_measures_small_elements_against_the_largest() {
        let t = Tolerance::new(1e-5, 0.0);
        // 1e-4 off on an element of 1e-3 is fine next to an element of 10 (allowed 4e-4)...
        assert!(compare(&[0.0011, 10.0], &[0.001, 10.0], Agree::Norm(t)).is_ok());
        // ...but not when the output is all small.
        assert!(compare(&[0.0011, 0.001], &[0.001, 0.001], Agree::Norm(t)).is_err());
    }

    #[test]
    fn nan_against_a_number_never_agrees() {
        let t = Tolerance::new(1.0, 1.0);
        let message = compare(&[f32::NAN], &[1.0], Agree::Norm(t)).unwrap_err();
        assert!(message.contains("flat 0"), "{message}");
        assert!(compare(&[1.0, 2.0], &[1.0], Agree::Exact).is_err());
    }
}
