//! Properties of `ElementwiseOps`: every unary op forward and backward, every binary op and
//! comparison with broadcasting, every scalar op, `select`, and refusal of mismatched lengths.

use proptest::prelude::*;
use strata_backend::{Backend, BinaryOp, BufferOps, CmpOp, ElementwiseOps, UnaryOp};

use super::{download, filler, length_mismatches, upload, wrong_len};
use crate::compare::{Expected, Tolerance};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{
    ALL_BINARY_OPS, ALL_CMP_OPS, ALL_SCALAR_OPS, ALL_UNARY_OPS, BroadcastPair, binary_operands_for,
    broadcastable_pair, element_in, scalar_operands_for, select_masks, shapes_up_to_rank,
    unary_inputs_for, unary_op_like, values_in,
};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, combine, expect_err, run_property,
};

const FAMILY: Family = Family::Elementwise;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "unary", unary::<B>),
        Property::new(FAMILY, "unary_backward", unary_backward::<B>),
        Property::new(FAMILY, "binary", binary::<B>),
        Property::new(FAMILY, "scalar", scalar::<B>),
        Property::new(FAMILY, "compare", compare::<B>),
        Property::new(FAMILY, "compare_scalar", compare_scalar::<B>),
        Property::new(FAMILY, "select", select::<B>),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

/// A unary op, the shape of its input, the input and (for the backward pass) `dy`.
#[derive(Debug, Clone)]
struct UnaryCase {
    op: UnaryOp,
    shape: Vec<usize>,
    x: Vec<f32>,
    dy: Vec<f32>,
}

fn unary_cases(kind: UnaryOp) -> impl Strategy<Value = UnaryCase> {
    (unary_op_like(kind), shapes_up_to_rank(4))
        .prop_flat_map(|(op, shape)| {
            let n = shape.iter().product();
            (
                Just(op),
                Just(shape),
                unary_inputs_for(op, n),
                values_in(n, -4.0, 4.0),
            )
        })
        .prop_map(|(op, shape, x, dy)| UnaryCase { op, shape, x, dy })
}

/// `unary(op, x)` matches `op.eval_f64` for every `UnaryOp` variant (constants drawn for the
/// parameterised ones), inputs inside each op's domain.
pub fn unary<B: BufferOps + ElementwiseOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    combine(
        FAMILY,
        "unary",
        ALL_UNARY_OPS.map(|kind| {
            run_property(config, FAMILY, "unary", unary_cases(kind), |case| {
                let expected = ReferenceBackend
                    .unary(case.op, &RefBuffer(case.x.clone()))
                    .or_fail("reference unary")?;
                let found = backend
                    .unary(case.op, &upload(backend, &case.x)?)
                    .or_fail("unary")?;
                Expected::new(&format!("unary({:?})", case.op), &case.shape, &expected.0)
                    .check(&download(backend, &found)?, config.tolerances.elementwise)
            })
        }),
    )
}

/// `unary_backward(op, x, dy)` matches `op.derivative_f64(x) · dy` for every variant.
pub fn unary_backward<B: BufferOps + ElementwiseOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    combine(
        FAMILY,
        "unary_backward",
        ALL_UNARY_OPS.map(|kind| {
            run_property(
                config,
                FAMILY,
                "unary_backward",
                unary_cases(kind),
                |case| {
                    let expected = ReferenceBackend
                        .unary_backward(
                            case.op,
                            &RefBuffer(case.x.clone()),
                            &RefBuffer(case.dy.clone()),
                        )
                        .or_fail("reference unary_backward")?;
                    let found = backend
                        .unary_backward(
                            case.op,
                            &upload(backend, &case.x)?,
                            &upload(backend, &case.dy)?,
                        )
                        .or_fail("unary_backward")?;
                    Expected::new(
                        &format!("unary_backward({:?})", case.op),
                        &case.shape,
                        &expected.0,
                    )
                    .check(&download(backend, &found)?, config.tolerances.elementwise)
                },
            )
        }),
    )
}

/// A broadcasting binary op or comparison: its shapes, then both operands.
#[derive(Debug, Clone)]
struct BinaryCase<Op> {
    op: Op,
    shapes: BroadcastPair,
    lhs: Vec<f32>,
    rhs: Vec<f32>,
}

/// `binary(op, lhs, rhs)` matches `op.eval_f64` with NumPy broadcasting, for every `BinaryOp`.
pub fn binary<B: BufferOps + ElementwiseOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    combine(
        FAMILY,
        "binary",
        ALL_BINARY_OPS.map(|op| {
            let strategy = broadcastable_pair()
                .prop_flat_map(move |shapes| {
                    let lhs_len = shapes.lhs.iter().product();
                    let rhs_len = shapes.rhs.iter().product();
                    (Just(shapes), binary_operands_for(op, lhs_len, rhs_len))
                })
                .prop_map(move |(shapes, (lhs, rhs))| BinaryCase {
                    op,
                    shapes,
                    lhs,
                    rhs,
                });
            run_property(config, FAMILY, "binary", strategy, |case| {
                let s = &case.shapes;
                let expected = ReferenceBackend
                    .binary(
                        case.op,
                        &RefBuffer(case.lhs.clone()),
                        &s.lhs,
                        &RefBuffer(case.rhs.clone()),
                        &s.rhs,
                        &s.out,
                    )
                    .or_fail("reference binary")?;
                let (lhs, rhs) = (upload(backend, &case.lhs)?, upload(backend, &case.rhs)?);
                let found = backend
                    .binary(case.op, &lhs, &s.lhs, &rhs, &s.rhs, &s.out)
                    .or_fail("binary")?;
                Expected::new(&format!("binary({:?})", case.op), &s.out, &expected.0)
                    .check(&download(backend, &found)?, config.tolerances.elementwise)
            })
        }),
    )
}

/// A tensor-scalar op: the op, the tensor's shape, its values and the scalar.
#[derive(Debug, Clone)]
struct ScalarCase<Op> {
    op: Op,
    shape: Vec<usize>,
    s: f32,
    x: Vec<f32>,
}

/// `scalar(op, x, s)` matches `op.eval_f64` for every `ScalarOp`.
pub fn scalar<B: BufferOps + ElementwiseOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    combine(
        FAMILY,
        "scalar",
        ALL_SCALAR_OPS.map(|op| {
            let strategy = shapes_up_to_rank(4)
                .prop_flat_map(move |shape| {
                    let n = shape.iter().product();
                    (Just(shape), scalar_operands_for(op, n))
                })
                .prop_map(move |(shape, (x, s))| ScalarCase { op, shape, s, x });
            run_property(config, FAMILY, "scalar", strategy, |case| {
                let expected = ReferenceBackend
                    .scalar(case.op, &RefBuffer(case.x.clone()), case.s)
                    .or_fail("reference scalar")?;
                let found = backend
                    .scalar(case.op, &upload(backend, &case.x)?, case.s)
                    .or_fail("scalar")?;
                Expected::new(
                    &format!("scalar({:?}, {})", case.op, case.s),
                    &case.shape,
                    &expected.0,
                )
                .check(&download(backend, &found)?, config.tolerances.elementwise)
            })
        }),
    )
}

/// `compare(op, lhs, rhs)` is exactly 1.0 where `op` holds and 0.0 elsewhere, with
/// broadcasting and many ties, for every `CmpOp`.
pub fn compare<B: BufferOps + ElementwiseOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    combine(
        FAMILY,
        "compare",
        ALL_CMP_OPS.map(|op| {
            let strategy = broadcastable_pair()
                .prop_flat_map(|shapes| {
                    let lhs_len = shapes.lhs.iter().product();
                    let rhs_len = shapes.rhs.iter().product();
                    (
                        Just(shapes),
                        values_in(lhs_len, -1.0, 1.0),
                        values_in(rhs_len, -1.0, 1.0),
                    )
                })
                .prop_map(move |(shapes, lhs, rhs)| BinaryCase {
                    op,
                    shapes,
                    lhs,
                    rhs,
                });
            run_property(config, FAMILY, "compare", strategy, |case| {
                let s = &case.shapes;
                let expected = ReferenceBackend
                    .compare(
                        case.op,
                        &RefBuffer(case.lhs.clone()),
                        &s.lhs,
                        &RefBuffer(case.rhs.clone()),
                        &s.rhs,
                        &s.out,
                    )
                    .or_fail("reference compare")?;
                let (lhs, rhs) = (upload(backend, &case.lhs)?, upload(backend, &case.rhs)?);
                let found = backend
                    .compare(case.op, &lhs, &s.lhs, &rhs, &s.rhs, &s.out)
                    .or_fail("compare")?;
                Expected::new(&format!("compare({:?})", case.op), &s.out, &expected.0)
                    .check(&download(backend, &found)?, Tolerance::EXACT)
            })
        }),
    )
}

/// `compare_scalar(op, x, s)` is exactly 1.0 where `x ⋈ s` holds, ties included, for every
/// `CmpOp`.
pub fn compare_scalar<B: BufferOps + ElementwiseOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    combine(
        FAMILY,
        "compare_scalar",
        ALL_CMP_OPS.map(|op| {
            let strategy = shapes_up_to_rank(4)
                .prop_flat_map(|shape| {
                    let n = shape.iter().product();
                    (Just(shape), values_in(n, -1.0, 1.0), element_in(-1.0, 1.0))
                })
                .prop_map(move |(shape, x, s)| ScalarCase { op, shape, s, x });
            run_property(config, FAMILY, "compare_scalar", strategy, |case| {
                let expected = ReferenceBackend
                    .compare_scalar(case.op, &RefBuffer(case.x.clone()), case.s)
                    .or_fail("reference compare_scalar")?;
                let found = backend
                    .compare_scalar(case.op, &upload(backend, &case.x)?, case.s)
                    .or_fail("compare_scalar")?;
                Expected::new(
                    &format!("compare_scalar({:?}, {})", case.op, case.s),
                    &case.shape,
                    &expected.0,
                )
                .check(&download(backend, &found)?, Tolerance::EXACT)
            })
        }),
    )
}

/// A `select`: its shape, the mask and both branches.
#[derive(Debug, Clone)]
struct SelectCase {
    shape: Vec<usize>,
    mask: Vec<f32>,
    on_true: Vec<f32>,
    on_false: Vec<f32>,
}

/// `select(mask, t, f)` takes `t` exactly where `mask != 0` (−0 counts as zero).
pub fn select<B: BufferOps + ElementwiseOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = shapes_up_to_rank(4)
        .prop_flat_map(|shape| {
            let n = shape.iter().product();
            (
                Just(shape),
                select_masks(n),
                values_in(n, -4.0, 4.0),
                values_in(n, -4.0, 4.0),
            )
        })
        .prop_map(|(shape, mask, on_true, on_false)| SelectCase {
            shape,
            mask,
            on_true,
            on_false,
        });
    run_property(config, FAMILY, "select", strategy, |case| {
        let expected = ReferenceBackend
            .select(
                &RefBuffer(case.mask.clone()),
                &RefBuffer(case.on_true.clone()),
                &RefBuffer(case.on_false.clone()),
            )
            .or_fail("reference select")?;
        let found = backend
            .select(
                &upload(backend, &case.mask)?,
                &upload(backend, &case.on_true)?,
                &upload(backend, &case.on_false)?,
            )
            .or_fail("select")?;
        Expected::new("select", &case.shape, &expected.0)
            .check(&download(backend, &found)?, Tolerance::EXACT)
    })
}

/// The elementwise calls whose buffers can disagree with their lengths or shapes.
#[derive(Debug, Clone, Copy)]
enum MismatchedCall {
    UnaryBackwardDy,
    BinaryLhs,
    BinaryRhs,
    CompareLhs,
    SelectOnFalse,
}

/// `unary_backward`, `binary`, `compare` and `select` return `Err` when a buffer's length
/// disagrees with its shape or with the other buffers.
pub fn rejects_mismatched_lengths<B: BufferOps + ElementwiseOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![
        MismatchedCall::UnaryBackwardDy,
        MismatchedCall::BinaryLhs,
        MismatchedCall::BinaryRhs,
        MismatchedCall::CompareLhs,
        MismatchedCall::SelectOnFalse,
    ]);
    let strategy = (calls, length_mismatches());
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        strategy,
        |&(call, (n, delta))| {
            let right = upload(backend, &filler(n, 0.5))?;
            let wrong = upload(backend, &filler(wrong_len(n, delta), 0.5))?;
            let shape = [n];
            let result = match call {
                MismatchedCall::UnaryBackwardDy => {
                    backend.unary_backward(UnaryOp::Tanh, &right, &wrong)
                }
                MismatchedCall::BinaryLhs => {
                    backend.binary(BinaryOp::Add, &wrong, &shape, &right, &shape, &shape)
                }
                MismatchedCall::BinaryRhs => {
                    backend.binary(BinaryOp::Mul, &right, &shape, &wrong, &shape, &shape)
                }
                MismatchedCall::CompareLhs => {
                    backend.compare(CmpOp::Lt, &wrong, &shape, &right, &shape, &shape)
                }
                MismatchedCall::SelectOnFalse => backend.select(&right, &right, &wrong),
            };
            expect_err(
                result,
                &format!(
                    "{call:?} with {} elements where {n} are due",
                    wrong_len(n, delta)
                ),
            )
        },
    )
}
