//! Batch-norm building blocks: finite-difference gradient checks of the per-channel
//! statistics, the channel affine map and the composed batch normalization.

use strata_core::gradcheck::{GradCheckConfig, check_gradients};
use strata_core::{Device, Result, Tensor};

fn t(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape.to_vec(), -1.0, 1.0, seed, &Device::Cpu).unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    if let Err(e) = check_gradients(f, inputs, GradCheckConfig::default()) {
        panic!("{e}");
    }
}

#[test]
fn channel_stats_match_finite_differences() {
    let x = t(&[3, 2, 5], 1);
    check(|v| Ok(v[0].channel_stats()?.0), std::slice::from_ref(&x));
    check(|v| Ok(v[0].channel_stats()?.1), &[x]);
}

#[test]
fn channel_affine_matches_finite_differences() {
    check(
        |v| v[0].channel_affine(&v[1], &v[2]),
        &[t(&[2, 3, 4], 2), t(&[3], 3), t(&[3], 4)],
    );
}

#[test]
fn training_batch_norm_matches_finite_differences() {
    let f = |v: &[Tensor]| {
        let (mean, var) = v[0].channel_stats()?;
        v[0].batch_norm(&mean, &var, Some(&v[1]), Some(&v[2]), 1e-5)
    };
    check(f, &[t(&[4, 3, 2, 2], 5), t(&[3], 6), t(&[3], 7)]);
    // [N, features] as BatchNorm1d sees it.
    check(f, &[t(&[6, 4], 8), t(&[4], 9), t(&[4], 10)]);
}

#[test]
fn batch_norm_normalizes_each_channel() {
    let x = t(&[8, 2, 3], 11);
    let (mean, var) = x.channel_stats().unwrap();
    let y = x.batch_norm(&mean, &var, None, None, 1e-5).unwrap();
    let (m2, v2) = y.channel_stats().unwrap();
    for (m, v) in m2.to_vec().unwrap().iter().zip(v2.to_vec().unwrap()) {
        assert!(m.abs() < 1e-5 && (v - 1.0).abs() < 1e-3, "mean {m} var {v}");
    }
}

#[test]
fn batch_norm_rejects_statistics_of_the_wrong_length() {
    let x = t(&[2, 3, 4], 12);
    let e = x
        .batch_norm(&t(&[2], 1), &t(&[3], 2), None, None, 1e-5)
        .unwrap_err();
    assert!(e.to_string().contains("mean must be [3]"), "{e}");
}
