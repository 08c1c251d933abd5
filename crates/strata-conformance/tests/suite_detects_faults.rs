//! The suite's power: a backend that is the reference with a few planted faults must fail
//! exactly the properties covering them (and no other), with messages that name the op, the
//! input and the worst element.

use std::collections::BTreeSet;

use strata_backend::*;
use strata_conformance::{RefBuffer, ReferenceBackend, SuiteConfig, check_backend};

/// The reference backend with one fault planted per op family (buffer ops excepted).
struct Faulty;

const R: ReferenceBackend = ReferenceBackend;

impl BufferOps for Faulty {
    type Buffer = RefBuffer;
    fn name(&self) -> String {
        "faulty".to_string()
    }
    fn from_host(&self, data: &[f32]) -> Result<RefBuffer> {
        R.from_host(data)
    }
    fn full(&self, len: usize, value: f32) -> Result<RefBuffer> {
        R.full(len, value)
    }
    fn to_host(&self, buf: &RefBuffer) -> Result<Vec<f32>> {
        R.to_host(buf)
    }
    fn len(&self, buf: &RefBuffer) -> usize {
        R.len(buf)
    }
    fn copy(&self, buf: &RefBuffer) -> Result<RefBuffer> {
        R.copy(buf)
    }
    fn add_assign(&self, dst: &mut RefBuffer, src: &RefBuffer) -> Result<()> {
        R.add_assign(dst, src)
    }
}

impl ElementwiseOps for Faulty {
    /// Fault: GELU through the tanh approximation instead of the exact erf form.
    fn unary(&self, op: UnaryOp, x: &RefBuffer) -> Result<RefBuffer> {
        if op != UnaryOp::Gelu {
            return R.unary(op, x);
        }
        let c = (2.0 / std::f32::consts::PI).sqrt();
        let y =
            x.0.iter()
                .map(|&v| 0.5 * v * (1.0 + (c * (v + 0.044_715 * v * v * v)).tanh()));
        Ok(RefBuffer(y.collect()))
    }
    fn unary_backward(&self, op: UnaryOp, x: &RefBuffer, dy: &RefBuffer) -> Result<RefBuffer> {
        R.unary_backward(op, x, dy)
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
        R.binary(op, lhs, lhs_shape, rhs, rhs_shape, out_shape)
    }
    fn scalar(&self, op: ScalarOp, x: &RefBuffer, s: f32) -> Result<RefBuffer> {
        R.scalar(op, x, s)
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
        R.compare(op, lhs, lhs_shape, rhs, rhs_shape, out_shape)
    }
    fn compare_scalar(&self, op: CmpOp, x: &RefBuffer, s: f32) -> Result<RefBuffer> {
        R.compare_scalar(op, x, s)
    }
    fn select(&self, mask: &RefBuffer, t: &RefBuffer, f: &RefBuffer) -> Result<RefBuffer> {
        R.select(mask, t, f)
    }
}

impl LayoutOps for Faulty {
    fn permute(&self, x: &RefBuffer, shape: &[usize], axes: &[usize]) -> Result<RefBuffer> {
        R.permute(x, shape, axes)
    }
    fn broadcast_to(&self, x: &RefBuffer, shape: &[usize], out: &[usize]) -> Result<RefBuffer> {
        R.broadcast_to(x, shape, out)
    }
    fn slice_axis(
        &self,
        x: &RefBuffer,
        shape: &[usize],
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<RefBuffer> {
        R.slice_axis(x, shape, axis, start, len)
    }
    fn concat(&self, parts: &[&RefBuffer], shapes: &[&[usize]], axis: usize) -> Result<RefBuffer> {
        R.concat(parts, shapes, axis)
    }
    /// Fault: out-of-range indices are clamped into the table instead of refused.
    fn index_select_rows(
        &self,
        x: &RefBuffer,
        rows: usize,
        cols: usize,
        indices: &RefBuffer,
    ) -> Result<RefBuffer> {
        let last = rows.saturating_sub(1) as f32;
        let clamped = RefBuffer(indices.0.iter().map(|&i| i.clamp(0.0, last)).collect());
        R.index_select_rows(x, rows, cols, &clamped)
    }
    fn index_add_rows(
        &self,
        src: &RefBuffer,
        indices: &RefBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<RefBuffer> {
        R.index_add_rows(src, indices, rows, cols)
    }
}

impl ReduceOps for Faulty {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &RefBuffer,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<RefBuffer> {
        R.reduce(op, x, shape, axes)
    }
    /// Fault: the last index wins ties (argmax over the reversed axis, mapped back).
    fn argmax(&self, x: &RefBuffer, shape: &[usize], axis: usize) -> Result<RefBuffer> {
        let n = shape[axis];
        let reversed = R.slice_axis(x, shape, axis, 0, n)?;
        let mut parts = Vec::new();
        for i in (0..n).rev() {
            parts.push(R.slice_axis(&reversed, shape, axis, i, 1)?);
        }
        let mut part_shape = shape.to_vec();
        part_shape[axis] = 1;
        let shapes = vec![part_shape.as_slice(); n];
        let flipped = R.concat(&parts.iter().collect::<Vec<_>>(), &shapes, axis)?;
        let index = R.argmax(&flipped, shape, axis)?;
        Ok(RefBuffer(
            index.0.iter().map(|&i| (n - 1) as f32 - i).collect(),
        ))
    }
    fn sum_squares(&self, x: &RefBuffer) -> Result<RefBuffer> {
        R.sum_squares(x)
    }
}

impl LinalgOps for Faulty {
    fn matmul(&self, a: &RefBuffer, b: &RefBuffer, spec: MatmulSpec) -> Result<RefBuffer> {
        R.matmul(a, b, spec)
    }
    /// Fault: the bias is checked, then dropped.
    fn matmul_bias(
        &self,
        a: &RefBuffer,
        b: &RefBuffer,
        bias: &RefBuffer,
        spec: MatmulSpec,
    ) -> Result<RefBuffer> {
        BackendError::check_len("matmul_bias", spec.n, bias.0.len())?;
        R.matmul(a, b, spec)
    }
    fn sum_rows(&self, x: &RefBuffer, rows: usize, cols: usize) -> Result<RefBuffer> {
        R.sum_rows(x, rows, cols)
    }
}

impl SoftmaxOps for Faulty {
    /// Fault: no maximum subtracted, in f32 (overflows for logits near 1e4).
    fn softmax(&self, x: &RefBuffer, rows: usize, cols: usize) -> Result<RefBuffer> {
        BackendError::check_len("softmax", rows * cols, x.0.len())?;
        let mut out = Vec::with_capacity(x.0.len());
        for row in x.0.chunks(cols.max(1)) {
            let sum: f32 = row.iter().map(|v| v.exp()).sum();
            out.extend(row.iter().map(|v| v.exp() / sum));
        }
        Ok(RefBuffer(out))
    }
    fn log_softmax(&self, x: &RefBuffer, rows: usize, cols: usize) -> Result<RefBuffer> {
        R.log_softmax(x, rows, cols)
    }
    fn softmax_backward(
        &self,
        y: &RefBuffer,
        dy: &RefBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<RefBuffer> {
        R.softmax_backward(y, dy, rows, cols)
    }
    fn log_softmax_backward(
        &self,
        y: &RefBuffer,
        dy: &RefBuffer,
        rows: usize,
        cols: usize,
    ) -> Result<RefBuffer> {
        R.log_softmax_backward(y, dy, rows, cols)
    }
    fn softmax_cross_entropy(
        &self,
        logits: &RefBuffer,
        labels: &RefBuffer,
        rows: usize,
        cols: usize,
        smoothing: f32,
    ) -> Result<(RefBuffer, RefBuffer)> {
        R.softmax_cross_entropy(logits, labels, rows, cols, smoothing)
    }
    fn softmax_cross_entropy_backward(
        &self,
        probs: &RefBuffer,
        labels: &RefBuffer,
        dloss: &RefBuffer,
        rows: usize,
        cols: usize,
        smoothing: f32,
    ) -> Result<RefBuffer> {
        R.softmax_cross_entropy_backward(probs, labels, dloss, rows, cols, smoothing)
    }
}

impl RandomOps for Faulty {
    fn random_uniform(&self, len: usize, low: f32, high: f32, seed: u64) -> Result<RefBuffer> {
        R.random_uniform(len, low, high, seed)
    }
    fn random_normal(&self, len: usize, mean: f32, std: f32, seed: u64) -> Result<RefBuffer> {
        R.random_normal(len, mean, std, seed)
    }
    /// Fault: the keep scale is computed in f64 and rounded, one ulp off for many `p`.
    fn dropout(&self, x: &RefBuffer, p: f32, seed: u64) -> Result<(RefBuffer, RefBuffer)> {
        let (_, mask) = R.dropout(x, p, seed)?;
        let scale = (1.0 / (1.0 - f64::from(p))) as f32;
        let mask: Vec<f32> = mask
            .0
            .iter()
            .map(|&m| if m != 0.0 { scale } else { 0.0 })
            .collect();
        let y = x.0.iter().zip(&mask).map(|(a, b)| a * b).collect();
        Ok((RefBuffer(y), RefBuffer(mask)))
    }
}

impl OptimizerOps for Faulty {
    fn sgd_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        velocity: Option<&mut RefBuffer>,
        spec: SgdSpec,
    ) -> Result<()> {
        R.sgd_step(param, grad, velocity, spec)
    }
    /// Fault: no bias correction (as if every step were far from the first).
    fn adam_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        m: &mut RefBuffer,
        v: &mut RefBuffer,
        spec: AdamSpec,
    ) -> Result<()> {
        R.adam_step(
            param,
            grad,
            m,
            v,
            AdamSpec {
                step: 1 << 40,
                ..spec
            },
        )
    }
    fn rmsprop_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        square_avg: &mut RefBuffer,
        momentum_buf: Option<&mut RefBuffer>,
        spec: RmspropSpec,
    ) -> Result<()> {
        R.rmsprop_step(param, grad, square_avg, momentum_buf, spec)
    }
    fn adagrad_step(
        &self,
        param: &mut RefBuffer,
        grad: &RefBuffer,
        sum: &mut RefBuffer,
        spec: AdagradSpec,
    ) -> Result<()> {
        R.adagrad_step(param, grad, sum, spec)
    }
    fn scale_in_place(&self, x: &mut RefBuffer, s: f32) -> Result<()> {
        R.scale_in_place(x, s)
    }
    fn clamp_in_place(&self, x: &mut RefBuffer, limit: f32) -> Result<()> {
        R.clamp_in_place(x, limit)
    }
}

impl ConvOps for Faulty {
    fn conv2d(
        &self,
        x: &RefBuffer,
        w: &RefBuffer,
        bias: Option<&RefBuffer>,
        spec: Conv2dSpec,
    ) -> Result<RefBuffer> {
        R.conv2d(x, w, bias, spec)
    }
    fn conv2d_backward_input(
        &self,
        dy: &RefBuffer,
        w: &RefBuffer,
        spec: Conv2dSpec,
    ) -> Result<RefBuffer> {
        R.conv2d_backward_input(dy, w, spec)
    }
    fn conv2d_backward_weight(
        &self,
        x: &RefBuffer,
        dy: &RefBuffer,
        spec: Conv2dSpec,
    ) -> Result<RefBuffer> {
        R.conv2d_backward_weight(x, dy, spec)
    }
    fn conv2d_backward_bias(&self, dy: &RefBuffer, spec: Conv2dSpec) -> Result<RefBuffer> {
        R.conv2d_backward_bias(dy, spec)
    }
}

impl NormOps for Faulty {
    fn channel_stats(&self, x: &RefBuffer, spec: ChannelSpec) -> Result<(RefBuffer, RefBuffer)> {
        R.channel_stats(x, spec)
    }
    fn channel_affine(
        &self,
        x: &RefBuffer,
        scale: &RefBuffer,
        shift: &RefBuffer,
        spec: ChannelSpec,
    ) -> Result<RefBuffer> {
        R.channel_affine(x, scale, shift, spec)
    }
    fn channel_affine_backward(
        &self,
        dy: &RefBuffer,
        x: &RefBuffer,
        spec: ChannelSpec,
    ) -> Result<(RefBuffer, RefBuffer)> {
        R.channel_affine_backward(dy, x, spec)
    }
}

impl PoolOps for Faulty {
    fn max_pool2d(&self, x: &RefBuffer, spec: Pool2dSpec) -> Result<(RefBuffer, RefBuffer)> {
        R.max_pool2d(x, spec)
    }
    fn max_pool2d_backward(
        &self,
        dy: &RefBuffer,
        indices: &RefBuffer,
        spec: Pool2dSpec,
    ) -> Result<RefBuffer> {
        R.max_pool2d_backward(dy, indices, spec)
    }
    fn avg_pool2d(&self, x: &RefBuffer, spec: Pool2dSpec) -> Result<RefBuffer> {
        R.avg_pool2d(x, spec)
    }
    fn avg_pool2d_backward(&self, dy: &RefBuffer, spec: Pool2dSpec) -> Result<RefBuffer> {
        R.avg_pool2d_backward(dy, spec)
    }
}

impl RecurrentOps for Faulty {
    fn rnn_forward(
        &self,
        spec: RnnSpec,
        o: RnnOperands<'_, RefBuffer>,
    ) -> Result<RnnForward<RefBuffer>> {
        R.rnn_forward(spec, o)
    }
    fn rnn_backward(
        &self,
        spec: RnnSpec,
        o: RnnOperands<'_, RefBuffer>,
        workspace: &RefBuffer,
        dpacked: &RefBuffer,
    ) -> Result<RnnGrads<RefBuffer>> {
        // Fault: the GRU's recurrent bias gradient taken equal to the input one, as for the
        // LSTM (wrong because r scales W_hn h + b_hn).
        let mut g = R.rnn_backward(spec, o, workspace, dpacked)?;
        if spec.cell == RnnCell::Gru {
            g.db_hh = g.db_ih.clone();
        }
        Ok(g)
    }
}

#[test]
fn planted_faults_fail_exactly_the_properties_that_cover_them() {
    let failure = match check_backend(&Faulty, &SuiteConfig::default()) {
        Ok(report) => panic!("the faulty backend passed: {report}"),
        Err(failure) => failure,
    };
    let failed: BTreeSet<String> = failure
        .failures
        .iter()
        .map(|f| format!("{}::{}", f.family, f.property))
        .collect();
    let planted: BTreeSet<String> = [
        "elementwise::unary",
        "layout::index_select_rows_rejects_out_of_range_index",
        "reduce::argmax",
        "linalg::matmul_bias",
        "softmax::softmax",
        "random::dropout",
        "optimizer::adam_step",
        "recurrent::rnn_backward",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(failed, planted, "{failure}");
}

#[test]
fn a_failure_names_the_op_the_input_and_the_worst_element() {
    let failure = strata_conformance::cases::reduce::argmax(&Faulty, &SuiteConfig::default())
        .expect_err("last-wins argmax must fail");
    assert_eq!(failure.property, "argmax");
    assert!(failure.input.contains("shape"), "{failure}");
    for needle in ["argmax(axis", "worst at index [", "expected", "found"] {
        assert!(
            failure.reason.contains(needle),
            "missing {needle:?} in {failure}"
        );
    }

    let failure = strata_conformance::cases::elementwise::unary(&Faulty, &SuiteConfig::default())
        .expect_err("tanh-approximated GELU must fail");
    assert!(failure.input.contains("Gelu"), "{failure}");
    assert!(failure.reason.starts_with("unary(Gelu)"), "{failure}");
}
