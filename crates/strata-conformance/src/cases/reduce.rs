//! Properties of `ReduceOps`: every reduction over several axis sets, `argmax` with ties, the
//! sum of squares, and refusal of mismatched lengths.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, ElementwiseOps, ReduceOp, ReduceOps, UnaryOp};

use super::{download, filler, length_mismatches, upload, wrong_len};
use crate::compare::{Expected, Tolerance};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{
    ALL_REDUCE_OPS, MAX_ELEMENTS, reduce_axes_for, shapes_with_rank, values_in,
};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, combine, expect_err, run_property,
};

const FAMILY: Family = Family::Reduce;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "reduce", reduce::<B>),
        Property::new(FAMILY, "argmax", argmax::<B>),
        Property::new(FAMILY, "sum_squares", sum_squares::<B>),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

/// A reduction: op, shape, axes, values.
#[derive(Debug, Clone)]
struct ReduceCase {
    op: ReduceOp,
    shape: Vec<usize>,
    axes: Vec<usize>,
    x: Vec<f32>,
}

/// Shapes of rank 1..=4 with the reduced axes made non-empty (kept axes may be empty: the
/// output is then empty too).
fn shapes_with_axes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shapes_with_rank(1..=4)
        .prop_flat_map(|shape| {
            let axes = reduce_axes_for(&shape);
            (Just(shape), axes)
        })
        .prop_map(|(mut shape, axes)| {
            for &a in &axes {
                shape[a] = shape[a].max(1);
            }
            (shape, axes)
        })
}

/// `reduce(op, x, shape, axes)` matches the reference for every `ReduceOp` over all axes,
/// the first, the last or any subset. Sum and mean are compared relative to `Σ|xᵢ|`; max and
/// min select an element and must match exactly.
pub fn reduce<B: BufferOps + ReduceOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    combine(
        FAMILY,
        "reduce",
        ALL_REDUCE_OPS.map(|op| {
            let strategy = shapes_with_axes()
                .prop_flat_map(|(shape, axes)| {
                    let n = shape.iter().product();
                    (Just(shape), Just(axes), values_in(n, -1.0, 1.0))
                })
                .prop_map(move |(shape, axes, x)| ReduceCase { op, shape, axes, x });
            run_property(config, FAMILY, "reduce", strategy, |case| {
                let x = RefBuffer(case.x.clone());
                let expected = ReferenceBackend
                    .reduce(case.op, &x, &case.shape, &case.axes)
                    .or_fail("reference reduce")?;
                let found = backend
                    .reduce(case.op, &upload(backend, &case.x)?, &case.shape, &case.axes)
                    .or_fail("reduce")?;
                let mut out_shape = case.shape.clone();
                for &a in &case.axes {
                    out_shape[a] = 1;
                }
                let what = format!("reduce({:?}, axes {:?})", case.op, case.axes);
                let found = download(backend, &found)?;
                match case.op {
                    ReduceOp::Sum | ReduceOp::Mean => {
                        let abs_x = ReferenceBackend
                            .unary(UnaryOp::Abs, &x)
                            .or_fail("reference unary")?;
                        let scale = ReferenceBackend
                            .reduce(case.op, &abs_x, &case.shape, &case.axes)
                            .or_fail("reference reduce")?;
                        let scale: Vec<f64> = scale.0.iter().map(|&v| f64::from(v)).collect();
                        Expected::new(&what, &out_shape, &expected.0)
                            .with_magnitude(&scale)
                            .check(&found, config.tolerances.reduce)
                    }
                    ReduceOp::Max | ReduceOp::Min => Expected::new(&what, &out_shape, &expected.0)
                        .check(&found, Tolerance::EXACT),
                }
            })
        }),
    )
}

/// An argmax: shape, axis, values (from a coarse grid, so ties are common).
#[derive(Debug, Clone)]
struct ArgmaxCase {
    shape: Vec<usize>,
    axis: usize,
    x: Vec<f32>,
}

/// `argmax(x, shape, axis)` is the index of the largest element along `axis`, the first one
/// on ties.
pub fn argmax<B: BufferOps + ReduceOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = shapes_with_rank(1..=4)
        .prop_flat_map(|shape| {
            let rank = shape.len();
            (Just(shape), 0..rank)
        })
        .prop_flat_map(|(mut shape, axis)| {
            shape[axis] = shape[axis].max(1);
            let n = shape.iter().product();
            (Just(shape), Just(axis), values_in(n, -1.0, 1.0))
        })
        .prop_map(|(shape, axis, x)| ArgmaxCase { shape, axis, x });
    run_property(config, FAMILY, "argmax", strategy, |case| {
        let expected = ReferenceBackend
            .argmax(&RefBuffer(case.x.clone()), &case.shape, case.axis)
            .or_fail("reference argmax")?;
        let found = backend
            .argmax(&upload(backend, &case.x)?, &case.shape, case.axis)
            .or_fail("argmax")?;
        let mut out_shape = case.shape.clone();
        out_shape[case.axis] = 1;
        Expected::new(
            &format!("argmax(axis {})", case.axis),
            &out_shape,
            &expected.0,
        )
        .check(&download(backend, &found)?, Tolerance::EXACT)
    })
}

/// `sum_squares(x)` is one element holding `Σ xᵢ²`, 0 for an empty buffer.
pub fn sum_squares<B: BufferOps + ReduceOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let lengths = prop_oneof![Just(0usize), 1usize..=40, 41usize..=MAX_ELEMENTS];
    let strategy = lengths.prop_flat_map(|n| values_in(n, -4.0, 4.0));
    run_property(config, FAMILY, "sum_squares", strategy, |x| {
        let expected = ReferenceBackend
            .sum_squares(&RefBuffer(x.clone()))
            .or_fail("reference sum_squares")?;
        let found = backend
            .sum_squares(&upload(backend, x)?)
            .or_fail("sum_squares")?;
        Expected::new("sum_squares", &[1], &expected.0)
            .check(&download(backend, &found)?, config.tolerances.reduce)
    })
}

/// The reduce calls whose buffers can disagree with their shapes.
#[derive(Debug, Clone, Copy)]
enum MismatchedCall {
    Reduce,
    Argmax,
}

/// `reduce` and `argmax` return `Err` when the buffer's length disagrees with the shape.
pub fn rejects_mismatched_lengths<B: BufferOps + ReduceOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![MismatchedCall::Reduce, MismatchedCall::Argmax]);
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        (calls, length_mismatches()),
        |&(call, (n, delta))| {
            let (due, wrong_n) = (2 * n, wrong_len(2 * n, delta));
            let wrong = upload(backend, &filler(wrong_n, 0.5))?;
            let result = match call {
                MismatchedCall::Reduce => backend.reduce(ReduceOp::Sum, &wrong, &[n, 2], &[1]),
                MismatchedCall::Argmax => backend.argmax(&wrong, &[2, n], 1),
            };
            expect_err(
                result,
                &format!("{call:?} with {wrong_n} elements where {due} are due"),
            )
        },
    )
}
