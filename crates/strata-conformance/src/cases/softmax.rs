//! Properties of `SoftmaxOps`: softmax and log-softmax (stable under offsets of 1e4), their
//! backward passes, the fused cross-entropy with label smoothing and its backward pass, and
//! refusal of out-of-range labels and mismatched lengths.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, SoftmaxOps};

use super::{download, filler, length_mismatches, upload, wrong_len};
use crate::compare::Expected;
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{LogitsWithLabels, logits_with_labels, values_in};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Softmax;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "softmax", softmax::<B>),
        Property::new(FAMILY, "log_softmax", log_softmax::<B>),
        Property::new(FAMILY, "softmax_backward", softmax_backward::<B>),
        Property::new(FAMILY, "log_softmax_backward", log_softmax_backward::<B>),
        Property::new(FAMILY, "softmax_cross_entropy", softmax_cross_entropy::<B>),
        Property::new(
            FAMILY,
            "softmax_cross_entropy_backward",
            softmax_cross_entropy_backward::<B>,
        ),
        Property::new(
            FAMILY,
            "softmax_cross_entropy_rejects_out_of_range_label",
            softmax_cross_entropy_rejects_out_of_range_label::<B>,
        ),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

/// A `[rows, cols]` matrix of logits.
#[derive(Debug, Clone)]
struct LogitsCase {
    rows: usize,
    cols: usize,
    x: Vec<f32>,
}

fn logit_matrices() -> impl Strategy<Value = LogitsCase> {
    logits_with_labels().prop_map(|c| LogitsCase {
        rows: c.rows,
        cols: c.cols,
        x: c.logits,
    })
}

/// `softmax(x)` per row matches the reference, including rows offset by ±1e4 (where an
/// implementation that does not subtract the maximum overflows).
pub fn softmax<B: BufferOps + SoftmaxOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "softmax", logit_matrices(), |case| {
        let expected = ReferenceBackend
            .softmax(&RefBuffer(case.x.clone()), case.rows, case.cols)
            .or_fail("reference softmax")?;
        let found = backend
            .softmax(&upload(backend, &case.x)?, case.rows, case.cols)
            .or_fail("softmax")?;
        Expected::new("softmax", &[case.rows, case.cols], &expected.0)
            .check(&download(backend, &found)?, config.tolerances.softmax)
    })
}

/// `log_softmax(x)` per row matches the reference, large offsets included.
pub fn log_softmax<B: BufferOps + SoftmaxOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "log_softmax", logit_matrices(), |case| {
        let expected = ReferenceBackend
            .log_softmax(&RefBuffer(case.x.clone()), case.rows, case.cols)
            .or_fail("reference log_softmax")?;
        let found = backend
            .log_softmax(&upload(backend, &case.x)?, case.rows, case.cols)
            .or_fail("log_softmax")?;
        Expected::new("log_softmax", &[case.rows, case.cols], &expected.0)
            .check(&download(backend, &found)?, config.tolerances.softmax)
    })
}

/// A backward pass: logits `x` (the reference computes the forward output `y` from them) and
/// the upstream gradient `dy`.
#[derive(Debug, Clone)]
struct BackwardCase {
    rows: usize,
    cols: usize,
    x: Vec<f32>,
    dy: Vec<f32>,
}

fn backward_cases() -> impl Strategy<Value = BackwardCase> {
    logit_matrices()
        .prop_flat_map(|c| {
            let n = c.rows * c.cols;
            (Just(c), values_in(n, -2.0, 2.0))
        })
        .prop_map(|(c, dy)| BackwardCase {
            rows: c.rows,
            cols: c.cols,
            x: c.x,
            dy,
        })
}

/// `softmax_backward(y, dy)` is `y ⊙ (dy − Σⱼ dyⱼ yⱼ)` per row, for `y` the reference softmax
/// of generated logits (relative to `y ⊙ (|dy| + Σⱼ |dyⱼ yⱼ|)`, the terms that cancel).
pub fn softmax_backward<B: BufferOps + SoftmaxOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "softmax_backward",
        backward_cases(),
        |case| {
            let (rows, cols) = (case.rows, case.cols);
            let r = ReferenceBackend;
            let y = r
                .softmax(&RefBuffer(case.x.clone()), rows, cols)
                .or_fail("reference softmax")?;
            let dy = RefBuffer(case.dy.clone());
            let expected = r
                .softmax_backward(&y, &dy, rows, cols)
                .or_fail("reference softmax_backward")?;
            let found = backend
                .softmax_backward(
                    &upload(backend, &y.0)?,
                    &upload(backend, &dy.0)?,
                    rows,
                    cols,
                )
                .or_fail("softmax_backward")?;
            let mut scale = Vec::with_capacity(y.0.len());
            for (y, dy) in y.0.chunks(cols.max(1)).zip(dy.0.chunks(cols.max(1))) {
                let dot: f64 = y
                    .iter()
                    .zip(dy)
                    .map(|(&y, &d)| (f64::from(y) * f64::from(d)).abs())
                    .sum();
                scale.extend(
                    y.iter()
                        .zip(dy)
                        .map(|(&y, &d)| f64::from(y) * (f64::from(d).abs() + dot)),
                );
            }
            Expected::new("softmax_backward", &[rows, cols], &expected.0)
                .with_magnitude(&scale)
                .check(&download(backend, &found)?, config.tolerances.softmax)
        },
    )
}

/// `log_softmax_backward(y, dy)` is `dy − e^y · Σⱼ dyⱼ` per row, for `y` the reference
/// log-softmax of generated logits (relative to `|dy| + e^y · Σⱼ |dyⱼ|`).
pub fn log_softmax_backward<B: BufferOps + SoftmaxOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "log_softmax_backward",
        backward_cases(),
        |case| {
            let (rows, cols) = (case.rows, case.cols);
            let r = ReferenceBackend;
            let y = r
                .log_softmax(&RefBuffer(case.x.clone()), rows, cols)
                .or_fail("reference log_softmax")?;
            let dy = RefBuffer(case.dy.clone());
            let expected = r
                .log_softmax_backward(&y, &dy, rows, cols)
                .or_fail("reference log_softmax_backward")?;
            let found = backend
                .log_softmax_backward(
                    &upload(backend, &y.0)?,
                    &upload(backend, &dy.0)?,
                    rows,
                    cols,
                )
                .or_fail("log_softmax_backward")?;
            let mut scale = Vec::with_capacity(y.0.len());
            for (y, dy) in y.0.chunks(cols.max(1)).zip(dy.0.chunks(cols.max(1))) {
                let total: f64 = dy.iter().map(|&d| f64::from(d).abs()).sum();
                scale.extend(
                    y.iter()
                        .zip(dy)
                        .map(|(&y, &d)| f64::from(d).abs() + f64::from(y).exp() * total),
                );
            }
            Expected::new("log_softmax_backward", &[rows, cols], &expected.0)
                .with_magnitude(&scale)
                .check(&download(backend, &found)?, config.tolerances.softmax)
        },
    )
}

/// Logits with labels and a label smoothing.
#[derive(Debug, Clone)]
struct CrossEntropyCase {
    label_smoothing: f32,
    logits: LogitsWithLabels,
}

fn label_smoothings() -> BoxedStrategy<f32> {
    prop_oneof![2 => Just(0.0f32), 1 => Just(0.1f32), 1 => 0.0f32..1.0].boxed()
}

fn cross_entropy_cases() -> impl Strategy<Value = CrossEntropyCase> {
    (label_smoothings(), logits_with_labels()).prop_map(|(label_smoothing, logits)| {
        CrossEntropyCase {
            label_smoothing,
            logits,
        }
    })
}

/// `softmax_cross_entropy` returns the per-row loss `−Σ t log p` with the smoothed target
/// `(1 − ε)·onehot + ε/cols`, and the probabilities; labels at 0 and `cols − 1` and logits
/// offset by ±1e4 included.
pub fn softmax_cross_entropy<B: BufferOps + SoftmaxOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "softmax_cross_entropy",
        cross_entropy_cases(),
        |case| {
            let c = &case.logits;
            let (loss, probs) = ReferenceBackend
                .softmax_cross_entropy(
                    &RefBuffer(c.logits.clone()),
                    &RefBuffer(c.labels.clone()),
                    c.rows,
                    c.cols,
                    case.label_smoothing,
                )
                .or_fail("reference softmax_cross_entropy")?;
            let (found_loss, found_probs) = backend
                .softmax_cross_entropy(
                    &upload(backend, &c.logits)?,
                    &upload(backend, &c.labels)?,
                    c.rows,
                    c.cols,
                    case.label_smoothing,
                )
                .or_fail("softmax_cross_entropy")?;
            let tolerance = config.tolerances.softmax;
            Expected::new("softmax_cross_entropy loss", &[c.rows], &loss.0)
                .check(&download(backend, &found_loss)?, tolerance)?;
            Expected::new(
                "softmax_cross_entropy probabilities",
                &[c.rows, c.cols],
                &probs.0,
            )
            .check(&download(backend, &found_probs)?, tolerance)
        },
    )
}

/// A cross-entropy backward pass: smoothing, logits with labels, upstream gradient per row.
#[derive(Debug, Clone)]
struct CrossEntropyBackwardCase {
    label_smoothing: f32,
    dloss: Vec<f32>,
    logits: LogitsWithLabels,
}

/// `softmax_cross_entropy_backward` is `dloss[r] · (p − t)`, with the probabilities from the
/// reference forward pass.
pub fn softmax_cross_entropy_backward<B: BufferOps + SoftmaxOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = cross_entropy_cases()
        .prop_flat_map(|case| {
            let rows = case.logits.rows;
            (Just(case), values_in(rows, -2.0, 2.0))
        })
        .prop_map(|(case, dloss)| CrossEntropyBackwardCase {
            label_smoothing: case.label_smoothing,
            dloss,
            logits: case.logits,
        });
    run_property(
        config,
        FAMILY,
        "softmax_cross_entropy_backward",
        strategy,
        |case| {
            let c = &case.logits;
            let labels = RefBuffer(c.labels.clone());
            let (_, probs) = ReferenceBackend
                .softmax_cross_entropy(
                    &RefBuffer(c.logits.clone()),
                    &labels,
                    c.rows,
                    c.cols,
                    case.label_smoothing,
                )
                .or_fail("reference softmax_cross_entropy")?;
            let expected = ReferenceBackend
                .softmax_cross_entropy_backward(
                    &probs,
                    &labels,
                    &RefBuffer(case.dloss.clone()),
                    c.rows,
                    c.cols,
                    case.label_smoothing,
                )
                .or_fail("reference softmax_cross_entropy_backward")?;
            let found = backend
                .softmax_cross_entropy_backward(
                    &upload(backend, &probs.0)?,
                    &upload(backend, &c.labels)?,
                    &upload(backend, &case.dloss)?,
                    c.rows,
                    c.cols,
                    case.label_smoothing,
                )
                .or_fail("softmax_cross_entropy_backward")?;
            Expected::new(
                "softmax_cross_entropy_backward",
                &[c.rows, c.cols],
                &expected.0,
            )
            .check(&download(backend, &found)?, config.tolerances.softmax)
        },
    )
}

/// A valid cross-entropy case with one label replaced by an out-of-range one.
#[derive(Debug, Clone)]
struct BadLabelCase {
    bad_label: f32,
    row: usize,
    logits: LogitsWithLabels,
}

/// `softmax_cross_entropy` and its backward pass return `Err` for a label equal to or past
/// `cols`, or negative.
pub fn softmax_cross_entropy_rejects_out_of_range_label<B: BufferOps + SoftmaxOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = logits_with_labels()
        .prop_filter("needs a row to carry the bad label", |c| c.rows > 0)
        .prop_flat_map(|c| {
            let cols = c.cols as f32;
            let bad = prop_oneof![
                Just(cols),
                (1.0f32..64.0).prop_map(move |k| cols + k.floor()),
                Just(-1.0f32)
            ];
            (bad, 0..c.rows, Just(c))
        })
        .prop_map(|(bad_label, row, mut logits)| {
            logits.labels[row] = bad_label;
            BadLabelCase {
                bad_label,
                row,
                logits,
            }
        });
    let name = "softmax_cross_entropy_rejects_out_of_range_label";
    run_property(config, FAMILY, name, strategy, |case| {
        let c = &case.logits;
        let logits = upload(backend, &c.logits)?;
        let labels = upload(backend, &c.labels)?;
        let what = format!(
            "label {} in row {} with {} classes",
            case.bad_label, case.row, c.cols
        );
        expect_err(
            backend.softmax_cross_entropy(&logits, &labels, c.rows, c.cols, 0.0),
            &what,
        )?;
        let probs = upload(backend, &filler(c.rows * c.cols, 1.0 / c.cols as f32))?;
        let dloss = upload(backend, &filler(c.rows, 1.0))?;
        let backward =
            backend.softmax_cross_entropy_backward(&probs, &labels, &dloss, c.rows, c.cols, 0.0);
        expect_err(backward, &format!("{what} (backward)"))
    })
}

/// The softmax calls whose buffers can disagree with `rows × cols`.
#[derive(Debug, Clone, Copy)]
enum MismatchedCall {
    Softmax,
    LogSoftmax,
    SoftmaxBackwardDy,
    LogSoftmaxBackwardDy,
    CrossEntropyLabels,
    CrossEntropyBackwardDloss,
}

/// Every softmax op returns `Err` when a buffer's length disagrees with `rows` and `cols`.
pub fn rejects_mismatched_lengths<B: BufferOps + SoftmaxOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![
        MismatchedCall::Softmax,
        MismatchedCall::LogSoftmax,
        MismatchedCall::SoftmaxBackwardDy,
        MismatchedCall::LogSoftmaxBackwardDy,
        MismatchedCall::CrossEntropyLabels,
        MismatchedCall::CrossEntropyBackwardDloss,
    ]);
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        (calls, length_mismatches()),
        |&(call, (rows, delta))| {
            // `rows` rows of 3 classes; per-element buffers hold 3·rows, per-row buffers rows.
            let cols = 3;
            let per_row = matches!(
                call,
                MismatchedCall::CrossEntropyLabels | MismatchedCall::CrossEntropyBackwardDloss
            );
            let due = if per_row { rows } else { rows * cols };
            let given = wrong_len(due, delta);
            let wrong = upload(backend, &filler(given, 0.0))?;
            let matrix = upload(backend, &filler(rows * cols, 0.25))?;
            let labels = upload(backend, &filler(rows, 0.0))?;
            let result = match call {
                MismatchedCall::Softmax => backend.softmax(&wrong, rows, cols).map(drop),
                MismatchedCall::LogSoftmax => backend.log_softmax(&wrong, rows, cols).map(drop),
                MismatchedCall::SoftmaxBackwardDy => backend
                    .softmax_backward(&matrix, &wrong, rows, cols)
                    .map(drop),
                MismatchedCall::LogSoftmaxBackwardDy => backend
                    .log_softmax_backward(&matrix, &wrong, rows, cols)
                    .map(drop),
                MismatchedCall::CrossEntropyLabels => backend
                    .softmax_cross_entropy(&matrix, &wrong, rows, cols, 0.0)
                    .map(drop),
                MismatchedCall::CrossEntropyBackwardDloss => backend
                    .softmax_cross_entropy_backward(&matrix, &labels, &wrong, rows, cols, 0.0)
                    .map(drop),
            };
            expect_err(
                result,
                &format!("{call:?} with {given} elements where {due} are due"),
            )
        },
    )
}
