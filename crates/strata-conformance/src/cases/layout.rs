//! Properties of `LayoutOps`: permute, broadcast, slice and concat move values exactly; the row
//! gather is exact and its scatter-add sums duplicates; bad indices and lengths are refused.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, LayoutOps};

use super::{download, filler, length_mismatches, magnitudes, upload, wrong_len};
use crate::compare::{Expected, Tolerance};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{
    axis_lengths_or_zero, broadcast_sources_for, permutation_of, shapes_up_to_rank,
    shapes_with_rank, values_in,
};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Layout;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "permute", permute::<B>),
        Property::new(FAMILY, "broadcast_to", broadcast_to::<B>),
        Property::new(FAMILY, "slice_axis", slice_axis::<B>),
        Property::new(FAMILY, "concat", concat::<B>),
        Property::new(FAMILY, "index_select_rows", index_select_rows::<B>),
        Property::new(FAMILY, "index_add_rows", index_add_rows::<B>),
        Property::new(
            FAMILY,
            "index_select_rows_rejects_out_of_range_index",
            index_select_rows_rejects_out_of_range_index::<B>,
        ),
        Property::new(
            FAMILY,
            "index_add_rows_rejects_out_of_range_index",
            index_add_rows_rejects_out_of_range_index::<B>,
        ),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

/// A permutation: input shape, axes, values.
#[derive(Debug, Clone)]
struct PermuteCase {
    shape: Vec<usize>,
    axes: Vec<usize>,
    x: Vec<f32>,
}

/// `permute(x, shape, axes)` puts input axis `axes[i]` at output axis `i`, ranks 0 to 4.
pub fn permute<B: BufferOps + LayoutOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = shapes_up_to_rank(4)
        .prop_flat_map(|shape| {
            let n = shape.iter().product();
            (
                permutation_of(shape.len()),
                values_in(n, -4.0, 4.0),
                Just(shape),
            )
        })
        .prop_map(|(axes, x, shape)| PermuteCase { shape, axes, x });
    run_property(config, FAMILY, "permute", strategy, |case| {
        let expected = ReferenceBackend
            .permute(&RefBuffer(case.x.clone()), &case.shape, &case.axes)
            .or_fail("reference permute")?;
        let found = backend
            .permute(&upload(backend, &case.x)?, &case.shape, &case.axes)
            .or_fail("permute")?;
        let out_shape: Vec<usize> = case.axes.iter().map(|&a| case.shape[a]).collect();
        Expected::new("permute", &out_shape, &expected.0)
            .check(&download(backend, &found)?, Tolerance::EXACT)
    })
}

/// A broadcast: source shape, target shape, values.
#[derive(Debug, Clone)]
struct BroadcastCase {
    shape: Vec<usize>,
    out_shape: Vec<usize>,
    x: Vec<f32>,
}

/// `broadcast_to(x, shape, out_shape)` repeats `x` along its size-1 axes.
pub fn broadcast_to<B: BufferOps + LayoutOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = shapes_up_to_rank(4)
        .prop_flat_map(|out_shape| (broadcast_sources_for(out_shape.clone()), Just(out_shape)))
        .prop_flat_map(|(shape, out_shape)| {
            let n = shape.iter().product();
            (values_in(n, -4.0, 4.0), Just(shape), Just(out_shape))
        })
        .prop_map(|(x, shape, out_shape)| BroadcastCase {
            shape,
            out_shape,
            x,
        });
    run_property(config, FAMILY, "broadcast_to", strategy, |case| {
        let expected = ReferenceBackend
            .broadcast_to(&RefBuffer(case.x.clone()), &case.shape, &case.out_shape)
            .or_fail("reference broadcast_to")?;
        let found = backend
            .broadcast_to(&upload(backend, &case.x)?, &case.shape, &case.out_shape)
            .or_fail("broadcast_to")?;
        Expected::new("broadcast_to", &case.out_shape, &expected.0)
            .check(&download(backend, &found)?, Tolerance::EXACT)
    })
}

/// A slice: shape, axis, start, length, values.
#[derive(Debug, Clone)]
struct SliceCase {
    shape: Vec<usize>,
    axis: usize,
    start: usize,
    len: usize,
    x: Vec<f32>,
}

/// `slice_axis(x, shape, axis, start, len)` copies `len` entries from `start` along `axis`,
/// empty slices and whole-axis slices included.
pub fn slice_axis<B: BufferOps + LayoutOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = shapes_with_rank(1..=4)
        .prop_flat_map(|shape| {
            let rank = shape.len();
            (Just(shape), 0..rank)
        })
        .prop_flat_map(|(shape, axis)| {
            let dim = shape[axis];
            (Just(shape), Just(axis), 0..=dim)
        })
        .prop_flat_map(|(shape, axis, start)| {
            let n = shape.iter().product();
            let rest = shape[axis] - start;
            (
                Just(shape),
                Just(axis),
                Just(start),
                0..=rest,
                values_in(n, -4.0, 4.0),
            )
        })
        .prop_map(|(shape, axis, start, len, x)| SliceCase {
            shape,
            axis,
            start,
            len,
            x,
        });
    run_property(config, FAMILY, "slice_axis", strategy, |case| {
        let expected = ReferenceBackend
            .slice_axis(
                &RefBuffer(case.x.clone()),
                &case.shape,
                case.axis,
                case.start,
                case.len,
            )
            .or_fail("reference slice_axis")?;
        let found = backend
            .slice_axis(
                &upload(backend, &case.x)?,
                &case.shape,
                case.axis,
                case.start,
                case.len,
            )
            .or_fail("slice_axis")?;
        let mut out_shape = case.shape.clone();
        out_shape[case.axis] = case.len;
        Expected::new("slice_axis", &out_shape, &expected.0)
            .check(&download(backend, &found)?, Tolerance::EXACT)
    })
}

/// A concatenation: axis, each part's shape, then each part's values.
#[derive(Debug, Clone)]
struct ConcatCase {
    axis: usize,
    shapes: Vec<Vec<usize>>,
    parts: Vec<Vec<f32>>,
}

/// `concat(parts, shapes, axis)` lays the parts one after another along `axis`: one to four
/// parts, some of them empty along the axis.
pub fn concat<B: BufferOps + LayoutOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = shapes_with_rank(1..=4)
        .prop_flat_map(|base| {
            let rank = base.len();
            (
                Just(base),
                0..rank,
                prop::collection::vec(axis_lengths_or_zero(), 1..=4),
            )
        })
        .prop_flat_map(|(base, axis, lengths)| {
            let shapes: Vec<Vec<usize>> = lengths
                .iter()
                .map(|&len| {
                    let mut shape = base.clone();
                    shape[axis] = len;
                    shape
                })
                .collect();
            let parts: Vec<_> = shapes
                .iter()
                .map(|s| values_in(s.iter().product(), -4.0, 4.0))
                .collect();
            (Just(axis), Just(shapes), parts)
        })
        .prop_map(|(axis, shapes, parts)| ConcatCase {
            axis,
            shapes,
            parts,
        });
    run_property(config, FAMILY, "concat", strategy, |case| {
        let shapes: Vec<&[usize]> = case.shapes.iter().map(Vec::as_slice).collect();
        let reference_parts: Vec<RefBuffer> = case.parts.iter().cloned().map(RefBuffer).collect();
        let expected = ReferenceBackend
            .concat(
                &reference_parts.iter().collect::<Vec<_>>(),
                &shapes,
                case.axis,
            )
            .or_fail("reference concat")?;
        let parts = case
            .parts
            .iter()
            .map(|p| upload(backend, p))
            .collect::<Result<Vec<_>, _>>()?;
        let found = backend
            .concat(&parts.iter().collect::<Vec<_>>(), &shapes, case.axis)
            .or_fail("concat")?;
        let mut out_shape = case.shapes[0].clone();
        out_shape[case.axis] = case.shapes.iter().map(|s| s[case.axis]).sum();
        Expected::new("concat", &out_shape, &expected.0)
            .check(&download(backend, &found)?, Tolerance::EXACT)
    })
}

/// A row gather or scatter-add: the table size, the indices and the values (`x` is the
/// `[rows, cols]` table for a gather, the `[indices, cols]` source for a scatter-add).
#[derive(Debug, Clone)]
struct RowsCase {
    rows: usize,
    cols: usize,
    indices: Vec<f32>,
    x: Vec<f32>,
}

/// Row indices below `rows` (first and last rows often), as many as `count`.
fn row_indices(rows: usize, count: std::ops::RangeInclusive<usize>) -> BoxedStrategy<Vec<f32>> {
    if rows == 0 {
        return Just(Vec::new()).boxed();
    }
    let index = prop_oneof![Just(0usize), Just(rows - 1), 0..rows].prop_map(|i| i as f32);
    prop::collection::vec(index, count).boxed()
}

/// Tables of 0..=12 rows and 0..=17 columns with up to 16 indices; `source_rows` says whether
/// the values have one row per index (scatter-add) or per table row (gather).
fn rows_cases(source_rows_per_index: bool) -> impl Strategy<Value = RowsCase> {
    let rows = prop_oneof![1 => Just(0usize), 1 => Just(1usize), 6 => 2usize..=12];
    let cols = prop_oneof![1 => Just(0usize), 6 => 1usize..=17];
    (rows, cols)
        .prop_flat_map(|(rows, cols)| (Just(rows), Just(cols), row_indices(rows, 0..=16)))
        .prop_flat_map(move |(rows, cols, indices)| {
            let source_rows = if source_rows_per_index {
                indices.len()
            } else {
                rows
            };
            (
                Just(rows),
                Just(cols),
                Just(indices),
                values_in(source_rows * cols, -4.0, 4.0),
            )
        })
        .prop_map(|(rows, cols, indices, x)| RowsCase {
            rows,
            cols,
            indices,
            x,
        })
}

/// `index_select_rows(x, rows, cols, indices)` copies row `indices[i]` to output row `i`,
/// repeated and empty index lists included.
pub fn index_select_rows<B: BufferOps + LayoutOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "index_select_rows",
        rows_cases(false),
        |case| {
            let expected = ReferenceBackend
                .index_select_rows(
                    &RefBuffer(case.x.clone()),
                    case.rows,
                    case.cols,
                    &RefBuffer(case.indices.clone()),
                )
                .or_fail("reference index_select_rows")?;
            let found = backend
                .index_select_rows(
                    &upload(backend, &case.x)?,
                    case.rows,
                    case.cols,
                    &upload(backend, &case.indices)?,
                )
                .or_fail("index_select_rows")?;
            Expected::new(
                "index_select_rows",
                &[case.indices.len(), case.cols],
                &expected.0,
            )
            .check(&download(backend, &found)?, Tolerance::EXACT)
        },
    )
}

/// `index_add_rows(src, indices, rows, cols)` adds source row `i` into row `indices[i]` of a
/// zero table, summing repeated indices (relative tolerance against the summed magnitudes).
pub fn index_add_rows<B: BufferOps + LayoutOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(config, FAMILY, "index_add_rows", rows_cases(true), |case| {
        let indices = RefBuffer(case.indices.clone());
        let expected = ReferenceBackend
            .index_add_rows(&RefBuffer(case.x.clone()), &indices, case.rows, case.cols)
            .or_fail("reference index_add_rows")?;
        let scale = ReferenceBackend
            .index_add_rows(
                &RefBuffer(case.x.iter().map(|v| v.abs()).collect()),
                &indices,
                case.rows,
                case.cols,
            )
            .or_fail("reference index_add_rows")?;
        let found = backend
            .index_add_rows(
                &upload(backend, &case.x)?,
                &upload(backend, &case.indices)?,
                case.rows,
                case.cols,
            )
            .or_fail("index_add_rows")?;
        Expected::new("index_add_rows", &[case.rows, case.cols], &expected.0)
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.reduce)
    })
}

/// A valid row case with one index replaced by an out-of-range one.
#[derive(Debug, Clone)]
struct BadIndexCase {
    bad_index: f32,
    position: usize,
    case: RowsCase,
}

fn bad_index_cases(source_rows_per_index: bool) -> impl Strategy<Value = BadIndexCase> {
    rows_cases(source_rows_per_index)
        .prop_flat_map(|case| {
            let rows = case.rows as f32;
            let bad = prop_oneof![
                Just(rows),
                (1.0f32..64.0).prop_map(move |k| rows + k.floor()),
                Just(-1.0f32)
            ];
            let positions = 0..=case.indices.len();
            (bad, positions, Just(case))
        })
        .prop_map(move |(bad_index, position, mut case)| {
            case.indices.insert(position, bad_index);
            if source_rows_per_index {
                case.x.extend(std::iter::repeat_n(1.0, case.cols));
            }
            BadIndexCase {
                bad_index,
                position,
                case,
            }
        })
}

/// `index_select_rows` with an index equal to or past `rows`, or negative, returns `Err`.
pub fn index_select_rows_rejects_out_of_range_index<B: BufferOps + LayoutOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let name = "index_select_rows_rejects_out_of_range_index";
    run_property(config, FAMILY, name, bad_index_cases(false), |bad| {
        let c = &bad.case;
        let result = backend.index_select_rows(
            &upload(backend, &c.x)?,
            c.rows,
            c.cols,
            &upload(backend, &c.indices)?,
        );
        expect_err(
            result,
            &format!(
                "index {} at position {} into {} rows",
                bad.bad_index, bad.position, c.rows
            ),
        )
    })
}

/// `index_add_rows` with an index equal to or past `rows`, or negative, returns `Err`.
pub fn index_add_rows_rejects_out_of_range_index<B: BufferOps + LayoutOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let name = "index_add_rows_rejects_out_of_range_index";
    run_property(config, FAMILY, name, bad_index_cases(true), |bad| {
        let c = &bad.case;
        let result = backend.index_add_rows(
            &upload(backend, &c.x)?,
            &upload(backend, &c.indices)?,
            c.rows,
            c.cols,
        );
        expect_err(
            result,
            &format!(
                "index {} at position {} into {} rows",
                bad.bad_index, bad.position, c.rows
            ),
        )
    })
}

/// The layout calls whose buffers can disagree with their shapes.
#[derive(Debug, Clone, Copy)]
enum MismatchedCall {
    Permute,
    BroadcastTo,
    SliceAxis,
    ConcatSecondPart,
    IndexSelectRowsTable,
    IndexAddRowsSource,
}

/// Each layout op returns `Err` when a buffer's length disagrees with the shape passed with it.
pub fn rejects_mismatched_lengths<B: BufferOps + LayoutOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![
        MismatchedCall::Permute,
        MismatchedCall::BroadcastTo,
        MismatchedCall::SliceAxis,
        MismatchedCall::ConcatSecondPart,
        MismatchedCall::IndexSelectRowsTable,
        MismatchedCall::IndexAddRowsSource,
    ]);
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        (calls, length_mismatches()),
        |&(call, (n, delta))| {
            let wrong_n = wrong_len(n, delta);
            let right = upload(backend, &filler(n, 0.5))?;
            let wrong = upload(backend, &filler(wrong_n, 0.5))?;
            let zero_indices = upload(backend, &filler(2, 0.0))?;
            let (result, due, given) = match call {
                MismatchedCall::Permute => (backend.permute(&wrong, &[n, 1], &[1, 0]), n, wrong_n),
                MismatchedCall::BroadcastTo => {
                    (backend.broadcast_to(&wrong, &[n, 1], &[n, 3]), n, wrong_n)
                }
                MismatchedCall::SliceAxis => {
                    (backend.slice_axis(&wrong, &[n], 0, 0, 1), n, wrong_n)
                }
                MismatchedCall::ConcatSecondPart => (
                    backend.concat(&[&right, &wrong], &[&[n], &[n]], 0),
                    n,
                    wrong_n,
                ),
                MismatchedCall::IndexSelectRowsTable => (
                    backend.index_select_rows(&wrong, n, 1, &zero_indices),
                    n,
                    wrong_n,
                ),
                // Two indices need a source of 2·n elements for n columns.
                MismatchedCall::IndexAddRowsSource => {
                    let given = wrong_len(2 * n, delta);
                    let source = upload(backend, &filler(given, 0.5))?;
                    (
                        backend.index_add_rows(&source, &zero_indices, 1, n),
                        2 * n,
                        given,
                    )
                }
            };
            expect_err(
                result,
                &format!("{call:?} with a buffer of {given} elements where {due} are due"),
            )
        },
    )
}
