//! Properties of `RandomOps`: draws are the counter-based generator of
//! `strata_backend::random`, element by element, so every backend produces the same tensor for
//! the same seed: uniform draws and dropout masks bit for bit, normal draws within tolerance.

use proptest::prelude::*;
use strata_backend::random::normal_at;
use strata_backend::{Backend, BufferOps, RandomOps};

use super::{download, upload};
use crate::compare::{Expected, check_bits};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{MAX_ELEMENTS, values_in};
use crate::suite::{Family, OrFail, Property, PropertyResult, SuiteConfig, run_property};

const FAMILY: Family = Family::Random;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "random_uniform", random_uniform::<B>),
        Property::new(FAMILY, "random_normal", random_normal::<B>),
        Property::new(FAMILY, "dropout", dropout::<B>),
    ]
}

fn lengths() -> BoxedStrategy<usize> {
    prop_oneof![1 => Just(0usize), 1 => Just(1usize), 4 => 2usize..=64, 2 => 65usize..=MAX_ELEMENTS]
        .boxed()
}

/// Seeds: 0, the largest, and anything between.
fn seeds() -> BoxedStrategy<u64> {
    prop_oneof![1 => Just(0u64), 1 => Just(u64::MAX), 6 => any::<u64>()].boxed()
}

/// A uniform draw: the range, whether its affine map is exact in f32, seed and length.
#[derive(Debug, Clone)]
struct UniformCase {
    low: f32,
    high: f32,
    exact_range: bool,
    seed: u64,
    len: usize,
}

/// `random_uniform(len, low, high, seed)[i]` is `low + (high − low) · uniform_at(seed, i)`.
///
/// Over [0, 1), [0, 2), [−1, 1) and [−½, ½) that map is exact in f32 for every 24-bit draw
/// whatever the order of operations or FMA use, so those ranges must match bit for bit; other
/// ranges round once or twice and are held to the `random` tolerance (relative to
/// `max(|low|, |high|)`).
pub fn random_uniform<B: BufferOps + RandomOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let exact = prop::sample::select(vec![(0.0f32, 1.0f32), (0.0, 2.0), (-1.0, 1.0), (-0.5, 0.5)])
        .prop_map(|range| (range, true));
    let rounded =
        (-10.0f32..10.0, 0.001f32..10.0).prop_map(|(low, width)| ((low, low + width), false));
    let strategy = (prop_oneof![exact, rounded], seeds(), lengths()).prop_map(
        |(((low, high), exact_range), seed, len)| UniformCase {
            low,
            high,
            exact_range,
            seed,
            len,
        },
    );
    run_property(config, FAMILY, "random_uniform", strategy, |case| {
        let expected = ReferenceBackend
            .random_uniform(case.len, case.low, case.high, case.seed)
            .or_fail("reference random_uniform")?;
        let found = backend
            .random_uniform(case.len, case.low, case.high, case.seed)
            .or_fail("random_uniform")?;
        let found = download(backend, &found)?;
        if case.exact_range {
            check_bits("random_uniform over an exact range", &expected.0, &found)
        } else {
            let scale = vec![f64::from(case.low.abs().max(case.high.abs())); case.len];
            Expected::new("random_uniform", &[case.len], &expected.0)
                .with_magnitude(&scale)
                .check(&found, config.tolerances.random)
        }
    })
}

/// A normal draw: mean, standard deviation, seed and length.
#[derive(Debug, Clone)]
struct NormalCase {
    mean: f32,
    std: f32,
    seed: u64,
    len: usize,
}

/// `random_normal(len, mean, std, seed)[i]` is `mean + std · normal_at(seed, i)` (relative to
/// `|mean| + std·|normal_at(seed, i)|`).
pub fn random_normal<B: BufferOps + RandomOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let mean = prop_oneof![Just(0.0f32), -2.0f32..2.0];
    let std = prop_oneof![Just(1.0f32), Just(0.0f32), 0.0f32..3.0];
    let strategy = (mean, std, seeds(), lengths()).prop_map(|(mean, std, seed, len)| NormalCase {
        mean,
        std,
        seed,
        len,
    });
    run_property(config, FAMILY, "random_normal", strategy, |case| {
        let expected = ReferenceBackend
            .random_normal(case.len, case.mean, case.std, case.seed)
            .or_fail("reference random_normal")?;
        let found = backend
            .random_normal(case.len, case.mean, case.std, case.seed)
            .or_fail("random_normal")?;
        let scale: Vec<f64> = (0..case.len as u64)
            .map(|i| {
                f64::from(case.mean.abs()) + f64::from(case.std * normal_at(case.seed, i).abs())
            })
            .collect();
        Expected::new("random_normal", &[case.len], &expected.0)
            .with_magnitude(&scale)
            .check(&download(backend, &found)?, config.tolerances.random)
    })
}

/// Dropouts of one input: several probabilities, the seed, the input.
#[derive(Debug, Clone)]
struct DropoutCase {
    ps: Vec<f32>,
    seed: u64,
    x: Vec<f32>,
}

/// `dropout(x, p, seed)` returns the mask `uniform_at(seed, i) >= p ? 1/(1−p) : 0` bit for
/// bit (the division in f32, as the contract writes it) and `y = x ⊙ mask`.
///
/// Each case tries up to four probabilities: about one `p` in eight tells an f32 keep scale
/// from one computed in f64 and rounded, so a one-ulp slip shows within a few cases.
pub fn dropout<B: BufferOps + RandomOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let p = prop_oneof![
        1 => prop::sample::select(vec![0.0f32, 0.1, 0.5, 0.9]),
        3 => 0.0f32..0.95,
    ];
    let strategy = (
        prop::collection::vec(p, 1..=4),
        seeds(),
        lengths().prop_flat_map(|n| values_in(n, -4.0, 4.0)),
    )
        .prop_map(|(ps, seed, x)| DropoutCase { ps, seed, x });
    run_property(config, FAMILY, "dropout", strategy, |case| {
        let x = upload(backend, &case.x)?;
        for &p in &case.ps {
            let (y, mask) = ReferenceBackend
                .dropout(&RefBuffer(case.x.clone()), p, case.seed)
                .or_fail("reference dropout")?;
            let (found_y, found_mask) = backend.dropout(&x, p, case.seed).or_fail("dropout")?;
            check_bits(
                &format!("dropout mask (p = {p})"),
                &mask.0,
                &download(backend, &found_mask)?,
            )?;
            Expected::new(&format!("dropout output (p = {p})"), &[case.x.len()], &y.0)
                .check(&download(backend, &found_y)?, config.tolerances.elementwise)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact_ranges_are_exact_in_f32_for_every_draw_shape() {
        // The claim random_uniform relies on: for u = m·2⁻²⁴, low + (high − low)·u is exact.
        for m in [
            0u32,
            1,
            2,
            3,
            1 << 22,
            (1 << 23) - 1,
            1 << 23,
            (1 << 23) + 1,
            (1 << 24) - 1,
        ] {
            let u = m as f32 / 16_777_216.0;
            for (low, high) in [(0.0f32, 1.0f32), (0.0, 2.0), (-1.0, 1.0), (-0.5, 0.5)] {
                let in_f32 = low + (high - low) * u;
                let in_f64 = f64::from(low) + f64::from(high - low) * f64::from(u);
                let fused = (high - low).mul_add(u, low);
                assert_eq!(f64::from(in_f32), in_f64, "m = {m}, range [{low}, {high})");
                assert_eq!(
                    fused.to_bits(),
                    in_f32.to_bits(),
                    "m = {m}, range [{low}, {high})"
                );
            }
        }
    }
}
