//! Properties of `NormOps`: per-channel mean and variance, the channel affine map and its
//! parameter gradients, and refusal of mismatched lengths.
//!
//! Cases cover batches of 1..=4, 1..=5 channels and 1..=40 positions (`[N, C]` inputs have
//! one). Tolerance: `reduce`, relative to the sum of the magnitudes involved.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, ChannelSpec, NormOps};

use super::{download, filler, magnitudes, upload};
use crate::compare::Expected;
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::values_in;
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Norm;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "channel_stats", channel_stats::<B>),
        Property::new(FAMILY, "channel_affine", channel_affine::<B>),
        Property::new(
            FAMILY,
            "channel_affine_backward",
            channel_affine_backward::<B>,
        ),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

/// A `[batch, channels, spatial]` view.
pub fn channel_specs() -> BoxedStrategy<ChannelSpec> {
    (
        1usize..=4,
        1usize..=5,
        prop_oneof![Just(1usize), 2usize..=40],
    )
        .prop_map(|(batch, channels, spatial)| ChannelSpec {
            batch,
            channels,
            spatial,
        })
        .boxed()
}

/// A view with `x`, `dy`, `scale` and `shift` values.
#[derive(Debug, Clone)]
struct NormCase {
    spec: ChannelSpec,
    x: Vec<f32>,
    dy: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
}

fn norm_cases() -> impl Strategy<Value = NormCase> {
    channel_specs()
        .prop_flat_map(|spec| {
            (
                Just(spec),
                values_in(spec.len(), -2.0, 2.0),
                values_in(spec.len(), -1.0, 1.0),
                values_in(spec.channels, -2.0, 2.0),
                values_in(spec.channels, -1.0, 1.0),
            )
        })
        .prop_map(|(spec, x, dy, scale, shift)| NormCase {
            spec,
            x,
            dy,
            scale,
            shift,
        })
}

fn abs(v: &[f32]) -> RefBuffer {
    RefBuffer(v.iter().map(|x| x.abs()).collect())
}

/// `channel_stats(x)` is each channel's mean and biased variance.
pub fn channel_stats<B: BufferOps + NormOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "channel_stats", norm_cases(), |case| {
        let r = ReferenceBackend;
        let (mean, var) = r
            .channel_stats(&RefBuffer(case.x.clone()), case.spec)
            .or_fail("reference channel_stats")?;
        // Scale: the mean of |x| and of x² (what the rounding errors are relative to).
        let (abs_mean, _) = r
            .channel_stats(&abs(&case.x), case.spec)
            .or_fail("reference")?;
        let sq: Vec<f32> = case.x.iter().map(|v| v * v).collect();
        let (sq_mean, _) = r
            .channel_stats(&RefBuffer(sq), case.spec)
            .or_fail("reference")?;
        let (fm, fv) = backend
            .channel_stats(&upload(backend, &case.x)?, case.spec)
            .or_fail("channel_stats")?;
        let c = [case.spec.channels];
        Expected::new("channel_stats mean", &c, &mean.0)
            .with_magnitude(&magnitudes(&abs_mean.0))
            .check(&download(backend, &fm)?, config.tolerances.reduce)?;
        Expected::new("channel_stats var", &c, &var.0)
            .with_magnitude(&magnitudes(&sq_mean.0))
            .check(&download(backend, &fv)?, config.tolerances.reduce)
    })
}

/// `channel_affine(x, scale, shift)` is `x·scale[c] + shift[c]` elementwise.
pub fn channel_affine<B: BufferOps + NormOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    run_property(config, FAMILY, "channel_affine", norm_cases(), |case| {
        let r = ReferenceBackend;
        let expected = r
            .channel_affine(
                &RefBuffer(case.x.clone()),
                &RefBuffer(case.scale.clone()),
                &RefBuffer(case.shift.clone()),
                case.spec,
            )
            .or_fail("reference channel_affine")?;
        let scale = r
            .channel_affine(
                &abs(&case.x),
                &abs(&case.scale),
                &abs(&case.shift),
                case.spec,
            )
            .or_fail("reference channel_affine")?;
        let found = backend
            .channel_affine(
                &upload(backend, &case.x)?,
                &upload(backend, &case.scale)?,
                &upload(backend, &case.shift)?,
                case.spec,
            )
            .or_fail("channel_affine")?;
        let s = case.spec;
        Expected::new(
            "channel_affine",
            &[s.batch, s.channels, s.spatial],
            &expected.0,
        )
        .with_magnitude(&magnitudes(&scale.0))
        .check(&download(backend, &found)?, config.tolerances.elementwise)
    })
}

/// `channel_affine_backward(dy, x)` is `(Σ dy·x, Σ dy)` per channel.
pub fn channel_affine_backward<B: BufferOps + NormOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "channel_affine_backward",
        norm_cases(),
        |case| {
            let r = ReferenceBackend;
            let (ds, db) = r
                .channel_affine_backward(
                    &RefBuffer(case.dy.clone()),
                    &RefBuffer(case.x.clone()),
                    case.spec,
                )
                .or_fail("reference channel_affine_backward")?;
            let (ms, mb) = r
                .channel_affine_backward(&abs(&case.dy), &abs(&case.x), case.spec)
                .or_fail("reference channel_affine_backward")?;
            let (fs, fb) = backend
                .channel_affine_backward(
                    &upload(backend, &case.dy)?,
                    &upload(backend, &case.x)?,
                    case.spec,
                )
                .or_fail("channel_affine_backward")?;
            let c = [case.spec.channels];
            Expected::new("channel_affine_backward dscale", &c, &ds.0)
                .with_magnitude(&magnitudes(&ms.0))
                .check(&download(backend, &fs)?, config.tolerances.reduce)?;
            Expected::new("channel_affine_backward dshift", &c, &db.0)
                .with_magnitude(&magnitudes(&mb.0))
                .check(&download(backend, &fb)?, config.tolerances.reduce)
        },
    )
}

/// Every op of the family returns `Err` when a buffer's length disagrees with the view.
pub fn rejects_mismatched_lengths<B: BufferOps + NormOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        (channel_specs(), 0usize..4),
        |&(spec, which)| {
            let good = upload(backend, &filler(spec.len(), 0.5))?;
            let bad = upload(backend, &filler(spec.len() + 1, 0.5))?;
            let per_c = upload(backend, &filler(spec.channels, 1.0))?;
            let bad_c = upload(backend, &filler(spec.channels + 1, 1.0))?;
            let what = format!("call {which} with {spec:?}");
            match which {
                0 => expect_err(backend.channel_stats(&bad, spec), &what),
                1 => expect_err(backend.channel_affine(&good, &bad_c, &per_c, spec), &what),
                2 => expect_err(backend.channel_affine(&bad, &per_c, &per_c, spec), &what),
                _ => expect_err(backend.channel_affine_backward(&good, &bad, spec), &what),
            }
        },
    )
}
