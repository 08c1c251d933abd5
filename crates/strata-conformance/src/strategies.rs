//! Proptest strategies for the suite's inputs, each named after what it generates.
//!
//! They lean on edge cases on purpose: size-1 axes and rank 0/1 shapes, empty (0-sized) axes
//! where an op allows them, axes longer than a SIMD register (up to 17 elements) so vector
//! tails run, broadcasting from all-ones shapes and along columns, exact zeros and repeated
//! values (ties), logits with offsets of 1e3..1e4, labels at 0 and `cols − 1`, every transpose
//! combination and shared (stride 0) batch operands for GEMM. Backend authors can reuse them
//! in their own tests.

use std::ops::RangeInclusive;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::{BoxedStrategy, Union};
use strata_backend::{
    AdagradSpec, AdamSpec, BinaryOp, CmpOp, MatmulSpec, ReduceOp, RmspropSpec, ScalarOp, SgdSpec,
    UnaryOp,
};

/// The most elements a generated shape holds (larger draws are shrunk axis by axis).
pub const MAX_ELEMENTS: usize = 2048;

/// Every unary op, with typical constants for the parameterised ones (see
/// [`unary_op_like`] to draw the constants).
pub const ALL_UNARY_OPS: [UnaryOp; 16] = [
    UnaryOp::Neg,
    UnaryOp::Abs,
    UnaryOp::Exp,
    UnaryOp::Log,
    UnaryOp::Log1p,
    UnaryOp::Sqrt,
    UnaryOp::Square,
    UnaryOp::Recip,
    UnaryOp::Relu,
    UnaryOp::LeakyRelu(0.01),
    UnaryOp::Elu(1.0),
    UnaryOp::Gelu,
    UnaryOp::Sigmoid,
    UnaryOp::Tanh,
    UnaryOp::Softplus,
    UnaryOp::Sign,
];

/// Every binary op.
pub const ALL_BINARY_OPS: [BinaryOp; 7] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Max,
    BinaryOp::Min,
    BinaryOp::Pow,
];

/// Every tensor-scalar op.
pub const ALL_SCALAR_OPS: [ScalarOp; 7] = [
    ScalarOp::Add,
    ScalarOp::Mul,
    ScalarOp::RSub,
    ScalarOp::RDiv,
    ScalarOp::Pow,
    ScalarOp::Max,
    ScalarOp::Min,
];

/// Every comparison.
pub const ALL_CMP_OPS: [CmpOp; 6] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
];

/// Every reduction.
pub const ALL_REDUCE_OPS: [ReduceOp; 4] =
    [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];

/// A non-zero axis length: mostly 1..=4, often exactly 1, sometimes 5..=17 (past a SIMD
/// width), now and then 18..=70 (past a 32-wide cache tile).
pub fn axis_lengths() -> BoxedStrategy<usize> {
    prop_oneof![8 => 1usize..=4, 4 => Just(1usize), 2 => 5usize..=17, 1 => 18usize..=70].boxed()
}

/// An axis length that is sometimes 0 (an empty tensor).
pub fn axis_lengths_or_zero() -> BoxedStrategy<usize> {
    prop_oneof![9 => axis_lengths(), 1 => Just(0usize)].boxed()
}

/// Shapes of rank `0..=max_rank`, with size-1 and occasionally 0-sized axes.
pub fn shapes_up_to_rank(max_rank: usize) -> BoxedStrategy<Vec<usize>> {
    shapes_with_rank(0..=max_rank)
}

/// Shapes of rank `0..=max_rank` with no 0-sized axis.
pub fn nonempty_shapes_up_to_rank(max_rank: usize) -> BoxedStrategy<Vec<usize>> {
    nonempty_shapes_with_rank(0..=max_rank)
}

/// Shapes whose rank lies in `ranks`, with size-1 and occasionally 0-sized axes.
pub fn shapes_with_rank(ranks: RangeInclusive<usize>) -> BoxedStrategy<Vec<usize>> {
    vec(axis_lengths_or_zero(), ranks)
        .prop_map(cap_elements)
        .boxed()
}

/// Shapes whose rank lies in `ranks`, with no 0-sized axis.
pub fn nonempty_shapes_with_rank(ranks: RangeInclusive<usize>) -> BoxedStrategy<Vec<usize>> {
    vec(axis_lengths(), ranks).prop_map(cap_elements).boxed()
}

/// Halves the longest axis until the shape holds at most [`MAX_ELEMENTS`].
fn cap_elements(mut shape: Vec<usize>) -> Vec<usize> {
    while shape.iter().product::<usize>() > MAX_ELEMENTS {
        if let Some(longest) = shape.iter_mut().max() {
            *longest = longest.div_ceil(2);
        }
    }
    shape
}

/// The most multiples of ½ [`element_in`] picks repeated values from.
const MAX_GRID_POINTS: usize = 64;

/// One value in `[lo, hi)`: mostly continuous, sometimes a multiple of ½ (so values repeat:
/// ties for max, argmax and comparisons; only for ranges up to 32 wide), sometimes exactly 0 when the range holds it.
pub fn element_in(lo: f32, hi: f32) -> BoxedStrategy<f32> {
    let mut arms: Vec<(u32, BoxedStrategy<f32>)> = vec![(6, (lo..hi).boxed())];
    let grid: Vec<f32> = ((2.0 * lo).ceil() as i32..=(2.0 * hi).floor() as i32)
        .map(|i| i as f32 / 2.0)
        .filter(|v| (lo..hi).contains(v))
        .collect();
    // Repeats matter only where they are likely; a wide range gets none.
    if !grid.is_empty() && grid.len() <= MAX_GRID_POINTS {
        arms.push((2, select(grid).boxed()));
    }
    if (lo..hi).contains(&0.0) {
        arms.push((1, Just(0.0f32).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

/// One value of magnitude in `[min_abs, max_abs)`, either sign (a safe divisor).
pub fn nonzero_element(min_abs: f32, max_abs: f32) -> BoxedStrategy<f32> {
    prop_oneof![min_abs..max_abs, -max_abs..-min_abs].boxed()
}

/// `len` values from [`element_in`]`(lo, hi)`.
///
/// Value vectors do not shrink (neither do those of [`nonzero_values`] and
/// [`arbitrary_bit_patterns`]): proptest shrinks a flat-mapped value before the shape it was
/// drawn for, so a shrinking vector of hundreds of values would use up the shrink budget and
/// leave the shape large. Shrinking the shapes and specs instead gives small failing inputs;
/// the failure message names the worst element and its value anyway.
pub fn values_in(len: usize, lo: f32, hi: f32) -> BoxedStrategy<Vec<f32>> {
    vec(element_in(lo, hi), len).no_shrink().boxed()
}

/// `len` values of magnitude in `[min_abs, max_abs)`, either sign.
pub fn nonzero_values(len: usize, min_abs: f32, max_abs: f32) -> BoxedStrategy<Vec<f32>> {
    vec(nonzero_element(min_abs, max_abs), len)
        .no_shrink()
        .boxed()
}

/// `len` arbitrary `f32` bit patterns: subnormals, infinities, NaN and −0 included.
pub fn arbitrary_bit_patterns(len: usize) -> BoxedStrategy<Vec<f32>> {
    vec(any::<f32>(), len).no_shrink().boxed()
}

/// A shape from `shapes` with values in `[lo, hi)` to fill it.
pub fn tensors_in(
    shapes: BoxedStrategy<Vec<usize>>,
    lo: f32,
    hi: f32,
) -> BoxedStrategy<(Vec<usize>, Vec<f32>)> {
    shapes
        .prop_flat_map(move |shape| {
            let len = shape.iter().product();
            (Just(shape), values_in(len, lo, hi))
        })
        .boxed()
}

/// Operand shapes for a broadcasting binary op, all of the output's rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastPair {
    /// The output shape.
    pub out: Vec<usize>,
    /// The left operand's shape (each axis equal to `out`'s or 1).
    pub lhs: Vec<usize>,
    /// The right operand's shape (each axis equal to `out`'s or 1).
    pub rhs: Vec<usize>,
}

/// Two shapes that broadcast to a third: equal shapes, all-ones (`[1]` against `[n]`),
/// columns (`[r, 1]` against `[r, c]`), rows (`[1, c]`), or any mix of axes set to 1.
pub fn broadcastable_pair() -> BoxedStrategy<BroadcastPair> {
    shapes_up_to_rank(4)
        .prop_flat_map(|out| {
            (
                broadcast_sources_for(out.clone()),
                broadcast_sources_for(out.clone()),
                Just(out),
            )
        })
        .prop_map(|(lhs, rhs, out)| BroadcastPair { out, lhs, rhs })
        .boxed()
}

/// Shapes that broadcast to `out` at the same rank (see [`broadcastable_pair`]).
pub fn broadcast_sources_for(out: Vec<usize>) -> BoxedStrategy<Vec<usize>> {
    let rank = out.len();
    let with_ones = move |ones: Vec<bool>| -> Vec<usize> {
        out.iter()
            .zip(&ones)
            .map(|(&d, &one)| if one { 1 } else { d })
            .collect()
    };
    let patterns = prop_oneof![
        4 => Just(vec![false; rank]),
        1 => Just(vec![true; rank]),
        1 => Just((0..rank).map(|a| a + 1 == rank).collect::<Vec<_>>()),
        1 => Just((0..rank).map(|a| a == 0).collect::<Vec<_>>()),
        3 => vec(any::<bool>(), rank),
    ];
    patterns.prop_map(with_ones).boxed()
}

/// Axes to reduce for a tensor of shape `shape` (rank ≥ 1): sorted, unique, non-empty;
/// often all axes, the last or the first alone.
pub fn reduce_axes_for(shape: &[usize]) -> BoxedStrategy<Vec<usize>> {
    let rank = shape.len();
    let all: Vec<usize> = (0..rank).collect();
    prop_oneof![
        1 => Just(all.clone()),
        1 => Just(vec![rank - 1]),
        1 => Just(vec![0]),
        2 => subsequence(all, 1..=rank),
    ]
    .boxed()
}

/// A permutation of `0..rank`.
pub fn permutation_of(rank: usize) -> BoxedStrategy<Vec<usize>> {
    Just((0..rank).collect::<Vec<usize>>())
        .prop_shuffle()
        .boxed()
}

/// A matrix dimension for GEMM: small, 1, past a SIMD width (9..=33), or occasionally 0.
pub fn matrix_dims() -> BoxedStrategy<usize> {
    prop_oneof![6 => 1usize..=8, 2 => Just(1usize), 2 => 9usize..=33, 1 => Just(0usize)].boxed()
}

/// A (batched) GEMM: batch 1..=3, every transpose combination, and each operand either
/// strided per batch entry or shared across the batch (stride 0).
pub fn matmul_spec() -> BoxedStrategy<MatmulSpec> {
    (
        1usize..=3,
        (matrix_dims(), matrix_dims(), matrix_dims()),
        (any::<bool>(), any::<bool>()),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(batch, (m, n, k), (trans_a, trans_b), (share_a, share_b))| MatmulSpec {
                batch,
                m,
                n,
                k,
                trans_a,
                trans_b,
                stride_a: if share_a { 0 } else { m * k },
                stride_b: if share_b { 0 } else { k * n },
            },
        )
        .boxed()
}

/// Logits `[rows, cols]` and one label per row.
#[derive(Debug, Clone, PartialEq)]
pub struct LogitsWithLabels {
    /// Rows (0 now and then).
    pub rows: usize,
    /// Classes (≥ 1).
    pub cols: usize,
    /// One class index per row, as `f32`.
    pub labels: Vec<f32>,
    /// Row-major logits.
    pub logits: Vec<f32>,
}

/// Logits that stress stability (offsets of ±1e3 and ±1e4 on a small spread, or a spread of
/// ±1e4), labels often at 0 and `cols − 1`, one row or none, one class or many.
pub fn logits_with_labels() -> BoxedStrategy<LogitsWithLabels> {
    let rows = prop_oneof![1 => Just(0usize), 2 => Just(1usize), 7 => 2usize..=9];
    let cols = prop_oneof![1 => Just(1usize), 6 => 2usize..=10, 2 => 11usize..=33];
    (rows, cols)
        .prop_flat_map(|(rows, cols)| {
            let label = prop_oneof![Just(0usize), Just(cols - 1), 0..cols].prop_map(|l| l as f32);
            (
                Just(rows),
                Just(cols),
                vec(label, rows),
                logits(rows * cols),
            )
        })
        .prop_map(|(rows, cols, labels, logits)| LogitsWithLabels {
            rows,
            cols,
            labels,
            logits,
        })
        .boxed()
}

/// `len` logits: moderate (±8), a large common offset (±1e3, ±1e4) plus a small spread, or a
/// spread of ±1e4.
pub fn logits(len: usize) -> BoxedStrategy<Vec<f32>> {
    let offset = select(vec![-1e4f32, -1e3, 1e3, 1e4]);
    prop_oneof![
        4 => values_in(len, -8.0, 8.0),
        2 => (offset, values_in(len, -8.0, 8.0))
            .prop_map(|(offset, spread)| spread.into_iter().map(|v| offset + v).collect()),
        1 => values_in(len, -1e4, 1e4),
    ]
    .boxed()
}

/// `op` with its constant drawn when it has one (`LeakyRelu` slope in [0, 0.5), `Elu` alpha in
/// [0.1, 2)), typical constants included.
pub fn unary_op_like(op: UnaryOp) -> BoxedStrategy<UnaryOp> {
    match op {
        UnaryOp::LeakyRelu(_) => prop_oneof![Just(0.01f32), 0.0f32..0.5]
            .prop_map(UnaryOp::LeakyRelu)
            .boxed(),
        UnaryOp::Elu(_) => prop_oneof![Just(1.0f32), 0.1f32..2.0]
            .prop_map(UnaryOp::Elu)
            .boxed(),
        other => Just(other).boxed(),
    }
}

/// `len` inputs inside the domain of `op` (and of its derivative): positive for `Log` and
/// `Sqrt`, above −1 for `Log1p`, away from 0 for `Recip`, up to ±100 for the saturating ops
/// so that their stable forms are exercised.
pub fn unary_inputs_for(op: UnaryOp, len: usize) -> BoxedStrategy<Vec<f32>> {
    match op {
        UnaryOp::Log | UnaryOp::Sqrt => values_in(len, 0.05, 8.0),
        UnaryOp::Log1p => values_in(len, -0.9, 8.0),
        UnaryOp::Recip => nonzero_values(len, 0.1, 8.0),
        UnaryOp::Exp => values_in(len, -10.0, 10.0),
        UnaryOp::Softplus | UnaryOp::Sigmoid | UnaryOp::Tanh | UnaryOp::Gelu | UnaryOp::Elu(_) => {
            vec(
                prop_oneof![3 => element_in(-6.0, 6.0), 1 => element_in(-100.0, 100.0)],
                len,
            )
            .no_shrink()
            .boxed()
        }
        UnaryOp::Neg
        | UnaryOp::Abs
        | UnaryOp::Square
        | UnaryOp::Relu
        | UnaryOp::LeakyRelu(_)
        | UnaryOp::Sign => values_in(len, -6.0, 6.0),
    }
}

/// Operand values for `op` of the given lengths: a positive base for `Pow`, a divisor away
/// from 0 for `Div`, values in ±4 otherwise.
pub fn binary_operands_for(
    op: BinaryOp,
    lhs_len: usize,
    rhs_len: usize,
) -> BoxedStrategy<(Vec<f32>, Vec<f32>)> {
    match op {
        BinaryOp::Pow => (values_in(lhs_len, 0.1, 4.0), values_in(rhs_len, -3.0, 3.0)).boxed(),
        BinaryOp::Div => (
            values_in(lhs_len, -4.0, 4.0),
            nonzero_values(rhs_len, 0.25, 4.0),
        )
            .boxed(),
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Max | BinaryOp::Min => {
            (values_in(lhs_len, -4.0, 4.0), values_in(rhs_len, -4.0, 4.0)).boxed()
        }
    }
}

/// A tensor's values and a scalar for `op`: a positive base and exponents such as 2, ½, −1
/// for `Pow`, a tensor away from 0 for `RDiv`, values in ±4 otherwise.
pub fn scalar_operands_for(op: ScalarOp, len: usize) -> BoxedStrategy<(Vec<f32>, f32)> {
    match op {
        ScalarOp::Pow => {
            let exponent = prop_oneof![select(vec![2.0f32, 0.5, -1.0, 3.0, 0.0]), -3.0f32..3.0];
            (values_in(len, 0.1, 4.0), exponent).boxed()
        }
        ScalarOp::RDiv => (nonzero_values(len, 0.25, 4.0), element_in(-4.0, 4.0)).boxed(),
        ScalarOp::Add | ScalarOp::Mul | ScalarOp::RSub | ScalarOp::Max | ScalarOp::Min => {
            (values_in(len, -4.0, 4.0), element_in(-4.0, 4.0)).boxed()
        }
    }
}

/// Select masks: 0, −0 (which is zero too), 1 and other non-zero values.
pub fn select_masks(len: usize) -> BoxedStrategy<Vec<f32>> {
    vec(select(vec![0.0f32, -0.0, 1.0, 1.0, -1.0, 0.5, 2.0]), len)
        .no_shrink()
        .boxed()
}

/// An SGD configuration: momentum off, 0.9 or drawn; dampening; L2 weight decay; Nesterov
/// (only with momentum and no dampening, as torch requires); first step or not.
pub fn sgd_spec() -> BoxedStrategy<SgdSpec> {
    let momentum = prop_oneof![Just(0.0f32), Just(0.9f32), 0.1f32..0.99];
    let dampening = prop_oneof![2 => Just(0.0f32), 1 => Just(0.1f32), 1 => 0.0f32..0.5];
    (
        0.001f32..0.5,
        momentum,
        dampening,
        weight_decays(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, momentum, dampening, weight_decay, nesterov, first_step)| {
                let nesterov = nesterov && momentum != 0.0;
                SgdSpec {
                    lr,
                    momentum,
                    dampening: if nesterov { 0.0 } else { dampening },
                    weight_decay,
                    nesterov,
                    first_step,
                }
            },
        )
        .boxed()
}

/// An Adam or AdamW configuration (decoupled weight decay drawn), at step 1, a few steps in,
/// or far in (1000).
pub fn adam_spec() -> BoxedStrategy<AdamSpec> {
    let beta1 = prop_oneof![2 => Just(0.9f32), 1 => Just(0.0f32), 1 => 0.5f32..0.99];
    let beta2 = select(vec![0.999f32, 0.99, 0.9]);
    let eps = select(vec![1e-8f32, 1e-6, 1e-3]);
    let step = prop_oneof![2 => Just(1u64), 2 => 2u64..=10, 1 => Just(1000u64)];
    (
        0.0001f32..0.1,
        beta1,
        beta2,
        eps,
        weight_decays(),
        any::<bool>(),
        step,
    )
        .prop_map(
            |(lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, step)| AdamSpec {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                decoupled_weight_decay,
                step,
            },
        )
        .boxed()
}

/// An RMSprop configuration, with and without momentum.
pub fn rmsprop_spec() -> BoxedStrategy<RmspropSpec> {
    let alpha = prop_oneof![Just(0.99f32), Just(0.9f32), 0.5f32..0.999];
    let eps = select(vec![1e-8f32, 1e-6]);
    let momentum = prop_oneof![Just(0.0f32), Just(0.9f32), 0.1f32..0.99];
    (0.0001f32..0.05, alpha, eps, weight_decays(), momentum)
        .prop_map(|(lr, alpha, eps, weight_decay, momentum)| RmspropSpec {
            lr,
            alpha,
            eps,
            weight_decay,
            momentum,
        })
        .boxed()
}

/// An Adagrad configuration, at step 1, a few steps in, or far in.
pub fn adagrad_spec() -> BoxedStrategy<AdagradSpec> {
    let lr_decay = prop_oneof![Just(0.0f32), Just(0.01f32), 0.0f32..0.1];
    let eps = select(vec![1e-10f32, 1e-8]);
    let step = prop_oneof![2 => Just(1u64), 2 => 2u64..=10, 1 => Just(100u64)];
    (0.001f32..0.5, lr_decay, weight_decays(), eps, step)
        .prop_map(|(lr, lr_decay, weight_decay, eps, step)| AdagradSpec {
            lr,
            lr_decay,
            weight_decay,
            eps,
            step,
        })
        .boxed()
}

/// A weight decay: often none, sometimes 0.01, sometimes drawn up to 0.1.
pub fn weight_decays() -> BoxedStrategy<f32> {
    prop_oneof![2 => Just(0.0f32), 1 => Just(0.01f32), 1 => 0.0f32..0.1].boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn draws<T: std::fmt::Debug>(strategy: BoxedStrategy<T>, n: usize) -> Vec<T> {
        let mut runner = TestRunner::deterministic();
        (0..n)
            .map(|_| {
                strategy
                    .new_tree(&mut runner)
                    .expect("strategy draws")
                    .current()
            })
            .collect()
    }

    #[test]
    fn shapes_stay_under_the_element_cap_and_include_edge_cases() {
        let shapes = draws(shapes_up_to_rank(4), 2000);
        assert!(
            shapes
                .iter()
                .all(|s| s.iter().product::<usize>() <= MAX_ELEMENTS)
        );
        assert!(shapes.iter().any(|s| s.is_empty()));
        assert!(shapes.iter().any(|s| s.contains(&0)));
        assert!(shapes.iter().any(|s| s.contains(&1)));
        assert!(shapes.iter().any(|s| s.iter().any(|&d| d > 8)));
        assert!(
            shapes
                .iter()
                .any(|s| s.len() >= 2 && s.iter().filter(|&&d| d > 32).count() >= 2)
        );
    }

    #[test]
    fn broadcast_pairs_broadcast_and_cover_columns_and_all_ones() {
        let pairs = draws(broadcastable_pair(), 1000);
        for p in &pairs {
            for operand in [&p.lhs, &p.rhs] {
                assert_eq!(operand.len(), p.out.len());
                assert!(operand.iter().zip(&p.out).all(|(&d, &o)| d == o || d == 1));
            }
        }
        let column = |p: &BroadcastPair| {
            p.out.len() == 2
                && p.out[1] > 1
                && p.rhs[1] == 1
                && p.rhs[0] == p.out[0]
                && p.out[0] > 1
        };
        assert!(pairs.iter().any(column));
        assert!(
            pairs
                .iter()
                .any(|p| p.out.len() == 1 && p.out[0] > 1 && p.rhs == [1])
        );
    }

    #[test]
    fn matmul_specs_cover_transposes_and_shared_operands() {
        let specs = draws(matmul_spec(), 500);
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            assert!(specs.iter().any(|s| s.trans_a == ta && s.trans_b == tb));
        }
        assert!(
            specs
                .iter()
                .any(|s| s.batch > 1 && s.stride_a == 0 && s.m * s.k > 0)
        );
        assert!(
            specs
                .iter()
                .any(|s| s.batch > 1 && s.stride_b == 0 && s.k * s.n > 0)
        );
        assert!(specs.iter().any(|s| s.k == 0));
    }

    #[test]
    fn logits_include_large_offsets_and_edge_labels() {
        let cases = draws(logits_with_labels(), 500);
        for c in &cases {
            assert_eq!(c.logits.len(), c.rows * c.cols);
            assert!(c.labels.iter().all(|&l| l >= 0.0 && (l as usize) < c.cols));
        }
        assert!(cases.iter().any(|c| c.logits.iter().any(|v| v.abs() > 5e3)));
        assert!(
            cases
                .iter()
                .any(|c| c.cols > 1 && c.labels.contains(&((c.cols - 1) as f32)))
        );
        assert!(cases.iter().any(|c| c.cols > 1 && c.labels.contains(&0.0)));
    }

    #[test]
    fn reduce_axes_are_sorted_unique_and_non_empty() {
        for axes in draws(reduce_axes_for(&[2, 3, 4]), 200) {
            assert!(!axes.is_empty());
            assert!(axes.windows(2).all(|w| w[0] < w[1]));
            assert!(axes.iter().all(|&a| a < 3));
        }
    }

    #[test]
    fn elements_stay_in_range_and_repeat() {
        let values = draws(element_in(-1.0, 1.0), 500);
        assert!(values.iter().all(|v| (-1.0..1.0).contains(v)));
        assert!(values.contains(&0.0));
        assert!(values.contains(&0.5));
    }
}
