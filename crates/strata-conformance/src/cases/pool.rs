//! Properties of `PoolOps`: max pooling (values and indices, bit for bit) and its backward
//! scatter, average pooling and its backward, and refusal of invalid specs.
//!
//! Cases cover batches of 1..=2, 1..=3 channels, windows 1..=3 per side, strides 1..=3,
//! padding up to half the window, odd input sizes, ceil mode and both average divisors. Max pooling only selects, so it is
//! compared exactly; the averages use the `reduce` tolerance (sums of at most 9 terms).

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, Pool2dSpec, PoolOps};

use super::{download, filler, magnitudes, upload};
use crate::compare::{Expected, Tolerance};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::values_in;
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Pool;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "max_pool2d", max_pool2d::<B>),
        Property::new(FAMILY, "max_pool2d_backward", max_pool2d_backward::<B>),
        Property::new(FAMILY, "avg_pool2d", avg_pool2d::<B>),
        Property::new(FAMILY, "avg_pool2d_backward", avg_pool2d_backward::<B>),
        Property::new(FAMILY, "rejects_invalid_specs", rejects_invalid_specs::<B>),
    ]
}

/// A valid pooling spec: the input at least as large as the window minus the padding.
pub fn pool2d_specs() -> BoxedStrategy<Pool2dSpec> {
    // One case in three is the classic 2x2 window at stride 2, which has a fast path.
    let per_axis = prop_oneof![
        2 => (1usize..=3, 1usize..=3, 0usize..=1, 0usize..=5),
        1 => (Just(2usize), Just(2usize), Just(0usize), 0usize..=5),
    ];
    // Ceil mode in one case of three, averages without the padding in one of two.
    let options = (prop::bool::weighted(0.33), any::<bool>());
    (1usize..=2, 1usize..=3, per_axis.clone(), per_axis, options)
        .prop_map(
            |(batch, channels, (kh, sh, ph, eh), (kw, sw, pw, ew), (ceil, incl))| {
                let (ph, pw) = (ph.min(kh / 2), pw.min(kw / 2));
                Pool2dSpec {
                    batch,
                    channels,
                    in_h: (kh - 2 * ph).max(1) + eh,
                    in_w: (kw - 2 * pw).max(1) + ew,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride_h: sh,
                    stride_w: sw,
                    pad_h: ph,
                    pad_w: pw,
                    ceil_mode: ceil,
                    count_include_pad: incl,
                }
            },
        )
        .boxed()
}

/// A spec with input and output-gradient values in [−1, 1].
#[derive(Debug, Clone)]
struct PoolCase {
    spec: Pool2dSpec,
    x: Vec<f32>,
    dy: Vec<f32>,
}

fn pool_cases() -> impl Strategy<Value = PoolCase> {
    pool2d_specs()
        .prop_flat_map(|spec| {
            (
                Just(spec),
                values_in(spec.input_len(), -1.0, 1.0),
                values_in(spec.output_len(), -1.0, 1.0),
            )
        })
        .prop_map(|(spec, x, dy)| PoolCase { spec, x, dy })
}

fn shapes(s: &Pool2dSpec) -> ([usize; 4], [usize; 4]) {
    (
        [s.batch, s.channels, s.in_h, s.in_w],
        [s.batch, s.channels, s.out_h(), s.out_w()],
    )
}

fn abs(v: &[f32]) -> RefBuffer {
    RefBuffer(v.iter().map(|x| x.abs()).collect())
}

/// `max_pool2d(x)` gives each window's first maximum and its in-plane index, exactly.
pub fn max_pool2d<B: BufferOps + PoolOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "max_pool2d", pool_cases(), |case| {
        let (y, i) = ReferenceBackend
            .max_pool2d(&RefBuffer(case.x.clone()), case.spec)
            .or_fail("reference max_pool2d")?;
        let (fy, fi) = backend
            .max_pool2d(&upload(backend, &case.x)?, case.spec)
            .or_fail("max_pool2d")?;
        let (_, out) = shapes(&case.spec);
        Expected::new("max_pool2d values", &out, &y.0)
            .check(&download(backend, &fy)?, Tolerance::EXACT)?;
        Expected::new("max_pool2d indices", &out, &i.0)
            .check(&download(backend, &fi)?, Tolerance::EXACT)
    })
}

/// `max_pool2d_backward(dy, indices)` adds each gradient at its index (overlapping windows
/// accumulate).
pub fn max_pool2d_backward<B: BufferOps + PoolOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "max_pool2d_backward",
        pool_cases(),
        |case| {
            let r = ReferenceBackend;
            let (_, idx) = r
                .max_pool2d(&RefBuffer(case.x.clone()), case.spec)
                .or_fail("reference max_pool2d")?;
            let expected = r
                .max_pool2d_backward(&RefBuffer(case.dy.clone()), &idx, case.spec)
                .or_fail("reference max_pool2d_backward")?;
            let scale = r
                .max_pool2d_backward(&abs(&case.dy), &idx, case.spec)
                .or_fail("reference max_pool2d_backward")?;
            let found = backend
                .max_pool2d_backward(
                    &upload(backend, &case.dy)?,
                    &upload(backend, &idx.0)?,
                    case.spec,
                )
                .or_fail("max_pool2d_backward")?;
            let (inp, _) = shapes(&case.spec);
            Expected::new("max_pool2d_backward", &inp, &expected.0)
                .with_magnitude(&magnitudes(&scale.0))
                .check(&download(backend, &found)?, config.tolerances.reduce)
        },
    )
}

/// `avg_pool2d(x)` is each window's sum over the full window size (padding counted).
pub fn avg_pool2d<B: BufferOps + PoolOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "avg_pool2d", pool_cases(), |case| {
        let r = ReferenceBackend;
        let expected = r
            .avg_pool2d(&RefBuffer(case.x.clone()), case.spec)
            .or_fail("reference avg_pool2d")?;
        let scale = r
            .avg_pool2d(&abs(&case.x), case.spec)
            .or_fail("reference avg_pool2d")?;
        let found = backend
            .avg_pool2d(&upload(backend, &case.x)?, case.spec)
            .or_fail("avg_pool2d")?;
        let (_, out) = shapes(&case.spec);
        Expected::new("avg_pool2d", &out, &expected.0)
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.reduce)
    })
}

/// `avg_pool2d_backward(dy)` spreads each gradient evenly over its window.
pub fn avg_pool2d_backward<B: BufferOps + PoolOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "avg_pool2d_backward",
        pool_cases(),
        |case| {
            let r = ReferenceBackend;
            let expected = r
                .avg_pool2d_backward(&RefBuffer(case.dy.clone()), case.spec)
                .or_fail("reference avg_pool2d_backward")?;
            let scale = r
                .avg_pool2d_backward(&abs(&case.dy), case.spec)
                .or_fail("reference avg_pool2d_backward")?;
            let found = backend
                .avg_pool2d_backward(&upload(backend, &case.dy)?, case.spec)
                .or_fail("avg_pool2d_backward")?;
            let (inp, _) = shapes(&case.spec);
            Expected::new("avg_pool2d_backward", &inp, &expected.0)
                .with_magnitude(&magnitudes(&scale.0))
                .check(&download(backend, &found)?, config.tolerances.reduce)
        },
    )
}

/// The ways a pooling call can be wrong.
#[derive(Debug, Clone, Copy)]
enum BadCall {
    WindowLargerThanPaddedInput,
    PaddingOverHalfTheWindow,
    ZeroStride,
    ShortInput,
    IndexOutOfPlane,
}

/// Pooling returns `Err` (never panics) for a window larger than the padded input, padding
/// over half the window, a zero stride, a short input and a max-pool index outside its plane.
pub fn rejects_invalid_specs<B: BufferOps + PoolOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![
        BadCall::WindowLargerThanPaddedInput,
        BadCall::PaddingOverHalfTheWindow,
        BadCall::ZeroStride,
        BadCall::ShortInput,
        BadCall::IndexOutOfPlane,
    ]);
    run_property(
        config,
        FAMILY,
        "rejects_invalid_specs",
        (calls, pool2d_specs()),
        |&(call, good)| {
            let spec = match call {
                BadCall::WindowLargerThanPaddedInput => Pool2dSpec {
                    kernel_w: good.in_w + 2 * good.pad_w + 1,
                    ..good
                },
                BadCall::PaddingOverHalfTheWindow => Pool2dSpec {
                    pad_h: good.kernel_h / 2 + 1,
                    ..good
                },
                BadCall::ZeroStride => Pool2dSpec {
                    stride_h: 0,
                    ..good
                },
                _ => good,
            };
            let what = format!("{call:?} ({spec:?})");
            let x_len = match call {
                BadCall::ShortInput => good.input_len() - 1,
                _ => spec.input_len(),
            };
            let x = upload(backend, &filler(x_len, 0.5))?;
            if let BadCall::IndexOutOfPlane = call {
                let dy = upload(backend, &filler(spec.output_len(), 1.0))?;
                let idx = upload(
                    backend,
                    &filler(spec.output_len(), (spec.in_h * spec.in_w) as f32),
                )?;
                return expect_err(backend.max_pool2d_backward(&dy, &idx, spec), &what);
            }
            expect_err(backend.max_pool2d(&x, spec), &what)?;
            expect_err(backend.avg_pool2d(&x, spec), &what)
        },
    )
}
