//! Properties of `LinalgOps`: batched GEMM with every transpose combination and shared
//! operands, with and without bias, the column sum, and refusal of mismatched lengths.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, LinalgOps, MatmulSpec};

use super::{download, filler, length_mismatches, magnitudes, upload, wrong_len};
use crate::compare::Expected;
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{matmul_spec, values_in};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Linalg;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "matmul", matmul::<B>),
        Property::new(FAMILY, "matmul_bias", matmul_bias::<B>),
        Property::new(FAMILY, "sum_rows", sum_rows::<B>),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

/// A GEMM: the spec, then `A`, `B` and the bias (used by `matmul_bias` only).
#[derive(Debug, Clone)]
struct MatmulCase {
    spec: MatmulSpec,
    a: Vec<f32>,
    b: Vec<f32>,
    bias: Vec<f32>,
}

fn matmul_cases() -> impl Strategy<Value = MatmulCase> {
    matmul_spec()
        .prop_flat_map(|spec| {
            (
                Just(spec),
                values_in(spec.lhs_len(), -1.0, 1.0),
                values_in(spec.rhs_len(), -1.0, 1.0),
                values_in(spec.n, -1.0, 1.0),
            )
        })
        .prop_map(|(spec, a, b, bias)| MatmulCase { spec, a, b, bias })
}

/// Reference `bias + op(A)·op(B)` and, per element, `|bias| + Σₚ |op(A)ᵢₚ · op(B)ₚⱼ|`.
fn reference_product(case: &MatmulCase, bias: &[f32]) -> Result<(Vec<f32>, Vec<f64>), String> {
    let r = ReferenceBackend;
    let abs = |v: &[f32]| RefBuffer(v.iter().map(|x| x.abs()).collect());
    let expected = r
        .matmul_bias(
            &RefBuffer(case.a.clone()),
            &RefBuffer(case.b.clone()),
            &RefBuffer(bias.to_vec()),
            case.spec,
        )
        .or_fail("reference matmul_bias")?;
    let scale = r
        .matmul_bias(&abs(&case.a), &abs(&case.b), &abs(bias), case.spec)
        .or_fail("reference matmul_bias")?;
    Ok((expected.0, magnitudes(&scale.0)))
}

/// `matmul(A, B, spec)` matches `op(A[b])·op(B[b])` for batches of 1..=3, all four transpose
/// combinations, operands shared across the batch (stride 0), sizes past SIMD widths and
/// empty dimensions (k = 0 gives zeros).
pub fn matmul<B: BufferOps + LinalgOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "matmul", matmul_cases(), |case| {
        let (expected, scale) = reference_product(case, &filler(case.spec.n, 0.0))?;
        let found = backend
            .matmul(
                &upload(backend, &case.a)?,
                &upload(backend, &case.b)?,
                case.spec,
            )
            .or_fail("matmul")?;
        let shape = [case.spec.batch, case.spec.m, case.spec.n];
        Expected::new("matmul", &shape, &expected)
            .with_magnitude(&scale)
            .check(&download(backend, &found)?, config.tolerances.linalg)
    })
}

/// `matmul_bias(A, B, bias, spec)` adds `bias` to every row of every product.
pub fn matmul_bias<B: BufferOps + LinalgOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "matmul_bias", matmul_cases(), |case| {
        let (expected, scale) = reference_product(case, &case.bias)?;
        let found = backend
            .matmul_bias(
                &upload(backend, &case.a)?,
                &upload(backend, &case.b)?,
                &upload(backend, &case.bias)?,
                case.spec,
            )
            .or_fail("matmul_bias")?;
        let shape = [case.spec.batch, case.spec.m, case.spec.n];
        Expected::new("matmul_bias", &shape, &expected)
            .with_magnitude(&scale)
            .check(&download(backend, &found)?, config.tolerances.linalg)
    })
}

/// A column sum: rows, cols, values.
#[derive(Debug, Clone)]
struct SumRowsCase {
    rows: usize,
    cols: usize,
    x: Vec<f32>,
}

/// `sum_rows(x, rows, cols)` is the column sums (a bias gradient), zero rows included.
pub fn sum_rows<B: BufferOps + LinalgOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let rows = prop_oneof![1 => Just(0usize), 1 => Just(1usize), 6 => 2usize..=64];
    let cols = prop_oneof![1 => Just(0usize), 1 => Just(1usize), 6 => 2usize..=33];
    let strategy = (rows, cols)
        .prop_flat_map(|(rows, cols)| (Just(rows), Just(cols), values_in(rows * cols, -1.0, 1.0)))
        .prop_map(|(rows, cols, x)| SumRowsCase { rows, cols, x });
    run_property(config, FAMILY, "sum_rows", strategy, |case| {
        let r = ReferenceBackend;
        let expected = r
            .sum_rows(&RefBuffer(case.x.clone()), case.rows, case.cols)
            .or_fail("reference sum_rows")?;
        let abs_x = RefBuffer(case.x.iter().map(|v| v.abs()).collect());
        let scale = r
            .sum_rows(&abs_x, case.rows, case.cols)
            .or_fail("reference sum_rows")?;
        let found = backend
            .sum_rows(&upload(backend, &case.x)?, case.rows, case.cols)
            .or_fail("sum_rows")?;
        Expected::new("sum_rows", &[case.cols], &expected.0)
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.linalg)
    })
}

/// The linalg calls whose buffers can disagree with their spec.
#[derive(Debug, Clone, Copy)]
enum MismatchedCall {
    MatmulLhs,
    MatmulRhs,
    MatmulBiasBias,
    SumRows,
}

/// `matmul`, `matmul_bias` and `sum_rows` return `Err` when a buffer's length disagrees with
/// the spec or shape.
pub fn rejects_mismatched_lengths<B: BufferOps + LinalgOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![
        MismatchedCall::MatmulLhs,
        MismatchedCall::MatmulRhs,
        MismatchedCall::MatmulBiasBias,
        MismatchedCall::SumRows,
    ]);
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        (calls, length_mismatches()),
        |&(call, (n, delta))| {
            // An n×2 by 2×n product: A and B hold 2·n elements, the bias n.
            let spec = MatmulSpec::new(n, n, 2);
            let operand = upload(backend, &filler(2 * n, 0.5))?;
            let (due, given) = match call {
                MismatchedCall::MatmulBiasBias => (n, wrong_len(n, delta)),
                _ => (2 * n, wrong_len(2 * n, delta)),
            };
            let wrong = upload(backend, &filler(given, 0.5))?;
            let result = match call {
                MismatchedCall::MatmulLhs => backend.matmul(&wrong, &operand, spec),
                MismatchedCall::MatmulRhs => backend.matmul(&operand, &wrong, spec),
                MismatchedCall::MatmulBiasBias => {
                    backend.matmul_bias(&operand, &operand, &wrong, spec)
                }
                MismatchedCall::SumRows => backend.sum_rows(&wrong, n, 2),
            };
            expect_err(
                result,
                &format!("{call:?} with {given} elements where {due} are due"),
            )
        },
    )
}
