//! Properties of `ConvOps`: the forward convolution (with and without bias), its three
//! backward primitives, and refusal of invalid specs and mismatched lengths.
//!
//! Cases cover batches of 1..=3, 1..=3 groups of 1..=3 channels each way, kernels 1..=3 per
//! side, strides 1..=3, dilations 1..=2, asymmetric padding 0..=2 per side and odd input
//! sizes. Tolerance: `linalg`, relative to `Σ|x·w|` of each output (a GEMM-shaped
//! accumulation of at most 27 terms).

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, Conv2dSpec, ConvOps};

use super::{download, filler, magnitudes, upload};
use crate::compare::Expected;
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::values_in;
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Conv;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "conv2d", conv2d::<B>),
        Property::new(FAMILY, "conv2d_backward_input", conv2d_backward_input::<B>),
        Property::new(
            FAMILY,
            "conv2d_backward_weight",
            conv2d_backward_weight::<B>,
        ),
        Property::new(FAMILY, "conv2d_backward_bias", conv2d_backward_bias::<B>),
        Property::new(FAMILY, "rejects_invalid_specs", rejects_invalid_specs::<B>),
    ]
}

/// A valid convolution spec: every option varied, the input just large enough (or larger)
/// for the dilated kernel to fit the padded input.
pub fn conv2d_specs() -> BoxedStrategy<Conv2dSpec> {
    let per_axis = (
        1usize..=3,
        1usize..=3,
        1usize..=2,
        0usize..=2,
        0usize..=2,
        0usize..=5,
    );
    (
        1usize..=3,
        1usize..=3,
        1usize..=3,
        1usize..=3,
        per_axis.clone(),
        per_axis,
    )
        .prop_map(
            |(batch, groups, cg, og, (kh, sh, dh, pt, pb, eh), (kw, sw, dw, pl, pr, ew))| {
                let fit = |k: usize, d: usize, p0: usize, p1: usize, extra: usize| {
                    (d * (k - 1) + 1).saturating_sub(p0 + p1).max(1) + extra
                };
                Conv2dSpec {
                    batch,
                    in_channels: groups * cg,
                    in_h: fit(kh, dh, pt, pb, eh),
                    in_w: fit(kw, dw, pl, pr, ew),
                    out_channels: groups * og,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride_h: sh,
                    stride_w: sw,
                    pad_top: pt,
                    pad_bottom: pb,
                    pad_left: pl,
                    pad_right: pr,
                    dilation_h: dh,
                    dilation_w: dw,
                    groups,
                }
            },
        )
        .boxed()
}

/// A spec with input, weight, bias and output-gradient values in [−1, 1].
#[derive(Debug, Clone)]
struct ConvCase {
    spec: Conv2dSpec,
    x: Vec<f32>,
    w: Vec<f32>,
    bias: Vec<f32>,
    dy: Vec<f32>,
}

fn conv_cases() -> impl Strategy<Value = ConvCase> {
    conv2d_specs()
        .prop_flat_map(|spec| {
            (
                Just(spec),
                values_in(spec.input_len(), -1.0, 1.0),
                values_in(spec.weight_len(), -1.0, 1.0),
                values_in(spec.out_channels, -1.0, 1.0),
                values_in(spec.output_len(), -1.0, 1.0),
            )
        })
        .prop_map(|(spec, x, w, bias, dy)| ConvCase {
            spec,
            x,
            w,
            bias,
            dy,
        })
}

fn abs(v: &[f32]) -> RefBuffer {
    RefBuffer(v.iter().map(|x| x.abs()).collect())
}

fn out_shape(s: &Conv2dSpec) -> [usize; 4] {
    [s.batch, s.out_channels, s.out_h(), s.out_w()]
}

/// `conv2d(x, w, bias)` matches the seven-loop definition, with a bias on even cases.
pub fn conv2d<B: BufferOps + ConvOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "conv2d", conv_cases(), |case| {
        let r = ReferenceBackend;
        let with_bias = case.x.len() % 2 == 0;
        let bias = with_bias.then(|| RefBuffer(case.bias.clone()));
        let (x, w) = (RefBuffer(case.x.clone()), RefBuffer(case.w.clone()));
        let expected = r
            .conv2d(&x, &w, bias.as_ref(), case.spec)
            .or_fail("reference conv2d")?;
        let abs_bias = bias.as_ref().map(|b| abs(&b.0));
        let scale = r
            .conv2d(&abs(&case.x), &abs(&case.w), abs_bias.as_ref(), case.spec)
            .or_fail("reference conv2d")?;
        let up_bias = match &bias {
            Some(b) => Some(upload(backend, &b.0)?),
            None => None,
        };
        let found = backend
            .conv2d(
                &upload(backend, &case.x)?,
                &upload(backend, &case.w)?,
                up_bias.as_ref(),
                case.spec,
            )
            .or_fail("conv2d")?;
        Expected::new("conv2d", &out_shape(&case.spec), &expected.0)
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.linalg)
    })
}

/// `conv2d_backward_input(dy, w)` matches the definition's adjoint (col2im of `wᵀ·dy`).
pub fn conv2d_backward_input<B: BufferOps + ConvOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "conv2d_backward_input",
        conv_cases(),
        |case| {
            let r = ReferenceBackend;
            let expected = r
                .conv2d_backward_input(
                    &RefBuffer(case.dy.clone()),
                    &RefBuffer(case.w.clone()),
                    case.spec,
                )
                .or_fail("reference conv2d_backward_input")?;
            let scale = r
                .conv2d_backward_input(&abs(&case.dy), &abs(&case.w), case.spec)
                .or_fail("reference conv2d_backward_input")?;
            let found = backend
                .conv2d_backward_input(
                    &upload(backend, &case.dy)?,
                    &upload(backend, &case.w)?,
                    case.spec,
                )
                .or_fail("conv2d_backward_input")?;
            let s = case.spec;
            Expected::new(
                "conv2d_backward_input",
                &[s.batch, s.in_channels, s.in_h, s.in_w],
                &expected.0,
            )
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.linalg)
        },
    )
}

/// `conv2d_backward_weight(x, dy)` matches the definition summed over batch and positions.
pub fn conv2d_backward_weight<B: BufferOps + ConvOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "conv2d_backward_weight",
        conv_cases(),
        |case| {
            let r = ReferenceBackend;
            let expected = r
                .conv2d_backward_weight(
                    &RefBuffer(case.x.clone()),
                    &RefBuffer(case.dy.clone()),
                    case.spec,
                )
                .or_fail("reference conv2d_backward_weight")?;
            let scale = r
                .conv2d_backward_weight(&abs(&case.x), &abs(&case.dy), case.spec)
                .or_fail("reference conv2d_backward_weight")?;
            let found = backend
                .conv2d_backward_weight(
                    &upload(backend, &case.x)?,
                    &upload(backend, &case.dy)?,
                    case.spec,
                )
                .or_fail("conv2d_backward_weight")?;
            let s = case.spec;
            Expected::new(
                "conv2d_backward_weight",
                &[s.out_channels, s.group_in(), s.kernel_h, s.kernel_w],
                &expected.0,
            )
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.linalg)
        },
    )
}

/// `conv2d_backward_bias(dy)` is the per-channel sum of `dy`.
pub fn conv2d_backward_bias<B: BufferOps + ConvOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "conv2d_backward_bias",
        conv_cases(),
        |case| {
            let r = ReferenceBackend;
            let expected = r
                .conv2d_backward_bias(&RefBuffer(case.dy.clone()), case.spec)
                .or_fail("reference conv2d_backward_bias")?;
            let scale = r
                .conv2d_backward_bias(&abs(&case.dy), case.spec)
                .or_fail("reference conv2d_backward_bias")?;
            let found = backend
                .conv2d_backward_bias(&upload(backend, &case.dy)?, case.spec)
                .or_fail("conv2d_backward_bias")?;
            Expected::new(
                "conv2d_backward_bias",
                &[case.spec.out_channels],
                &expected.0,
            )
            .with_magnitude(&magnitudes(&scale.0))
            .check(&download(backend, &found)?, config.tolerances.reduce)
        },
    )
}

/// The ways a convolution call can be wrong.
#[derive(Debug, Clone, Copy)]
enum BadCall {
    GroupsNotDividingChannels,
    KernelLargerThanPaddedInput,
    ZeroStride,
    ShortInput,
    ShortWeight,
    ShortGradient,
}

/// Every op of the family returns `Err` (never panics) for groups that do not divide the
/// channels, a kernel larger than the padded input, a zero stride, and buffers shorter
/// than the spec.
pub fn rejects_invalid_specs<B: BufferOps + ConvOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let calls = prop::sample::select(vec![
        BadCall::GroupsNotDividingChannels,
        BadCall::KernelLargerThanPaddedInput,
        BadCall::ZeroStride,
        BadCall::ShortInput,
        BadCall::ShortWeight,
        BadCall::ShortGradient,
    ]);
    run_property(
        config,
        FAMILY,
        "rejects_invalid_specs",
        (calls, conv2d_specs()),
        |&(call, good)| {
            let spec = match call {
                BadCall::GroupsNotDividingChannels => Conv2dSpec {
                    groups: good.in_channels + 1,
                    out_channels: good.in_channels + 1,
                    ..good
                },
                BadCall::KernelLargerThanPaddedInput => Conv2dSpec {
                    kernel_h: good.in_h + good.pad_top + good.pad_bottom + 1,
                    dilation_h: 1,
                    ..good
                },
                BadCall::ZeroStride => Conv2dSpec {
                    stride_w: 0,
                    ..good
                },
                _ => good,
            };
            let short = |n: usize| filler(n.saturating_sub(1), 0.5);
            let x = match call {
                BadCall::ShortInput => short(good.input_len()),
                _ => filler(spec.input_len(), 0.5),
            };
            let w = match call {
                BadCall::ShortWeight => short(good.weight_len()),
                _ => filler(spec.weight_len(), 0.5),
            };
            let dy = match call {
                BadCall::ShortGradient => short(good.output_len()),
                _ => filler(spec.output_len().max(1), 0.5),
            };
            let (x, w, dy) = (
                upload(backend, &x)?,
                upload(backend, &w)?,
                upload(backend, &dy)?,
            );
            let what = format!("{call:?} ({spec:?})");
            match call {
                BadCall::ShortGradient => {
                    expect_err(backend.conv2d_backward_input(&dy, &w, spec), &what)?;
                    expect_err(backend.conv2d_backward_weight(&x, &dy, spec), &what)
                }
                BadCall::ShortInput => {
                    expect_err(backend.conv2d(&x, &w, None, spec), &what)?;
                    expect_err(backend.conv2d_backward_weight(&x, &dy, spec), &what)
                }
                BadCall::ShortWeight => {
                    expect_err(backend.conv2d(&x, &w, None, spec), &what)?;
                    expect_err(backend.conv2d_backward_input(&dy, &w, spec), &what)
                }
                _ => {
                    expect_err(backend.conv2d(&x, &w, None, spec), &what)?;
                    expect_err(backend.conv2d_backward_input(&dy, &w, spec), &what)?;
                    expect_err(backend.conv2d_backward_weight(&x, &dy, spec), &what)
                }
            }
        },
    )
}
