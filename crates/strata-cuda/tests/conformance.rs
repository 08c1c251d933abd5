//! The conformance suite on the CUDA backend, one test per op family, forward and backward:
//!
//! 1. every property against the f64 reference (the same tolerances the CPU backend meets),
//! 2. every property again through `Mirror<CudaBackend, CpuBackend>`, which also compares
//!    each op's outputs with the CPU backend's on the same inputs (bit for bit for data
//!    movement, dropout masks and pooling indices; within twice / four times the family
//!    tolerance otherwise: see `strata_conformance::Mirror`).
//!
//! Without a GPU each test prints one `SKIP: no CUDA device (...)` line and returns; with
//! `REQUIRE_GPU=1` it fails instead. `STRATA_CONFORMANCE_CASES` / `_SEED` vary the inputs.

use strata_conformance::{Family, Mirror, SuiteConfig, check_family};
use strata_cpu::CpuBackend;
use strata_cuda::testing::cuda_or_skip;

fn family(family: Family) {
    let Some(gpu) = cuda_or_skip() else { return };
    let config = SuiteConfig::from_env();
    match check_family(&gpu, family, &config) {
        Ok(report) => println!("{report}"),
        Err(failure) => panic!("{family} against the f64 reference:\n{failure}"),
    }
    let mirror = Mirror::new(gpu, CpuBackend::new(), config.tolerances);
    match check_family(&mirror, family, &config) {
        Ok(report) => println!("{report}"),
        Err(failure) => panic!("{family} against the CPU backend:\n{failure}"),
    }
}

#[test]
fn buffer_matches_reference_and_cpu() {
    family(Family::Buffer);
}

#[test]
fn elementwise_matches_reference_and_cpu() {
    family(Family::Elementwise);
}

#[test]
fn layout_matches_reference_and_cpu() {
    family(Family::Layout);
}

#[test]
fn reduce_matches_reference_and_cpu() {
    family(Family::Reduce);
}

#[test]
fn linalg_matches_reference_and_cpu() {
    family(Family::Linalg);
}

#[test]
fn softmax_matches_reference_and_cpu() {
    family(Family::Softmax);
}

#[test]
fn random_matches_reference_and_cpu() {
    family(Family::Random);
}

#[test]
fn optimizer_matches_reference_and_cpu() {
    family(Family::Optimizer);
}

#[test]
fn recurrent_matches_reference_and_cpu() {
    family(Family::Recurrent);
}

#[test]
fn conv_matches_reference_and_cpu() {
    family(Family::Conv);
}

#[test]
fn pool_matches_reference_and_cpu() {
    family(Family::Pool);
}

#[test]
fn norm_matches_reference_and_cpu() {
    family(Family::Norm);
}

#[test]
fn every_family_has_a_test_here() {
    // A family added to the suite must get its line above.
    assert_eq!(Family::ALL.len(), 12);
}
