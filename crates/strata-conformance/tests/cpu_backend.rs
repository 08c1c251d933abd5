//! The CPU backend against the reference, one test per op family.
//!
//! `STRATA_CONFORMANCE_CASES` and `STRATA_CONFORMANCE_SEED` widen or vary the search.

use strata_conformance::{Family, SuiteConfig, check_family};
use strata_cpu::CpuBackend;

fn assert_family_matches_reference(family: Family) {
    let config = SuiteConfig::from_env();
    if let Err(failure) = check_family(&CpuBackend::new(), family, &config) {
        panic!("{failure}");
    }
}

#[test]
fn cpu_buffer_matches_reference() {
    assert_family_matches_reference(Family::Buffer);
}

#[test]
fn cpu_elementwise_matches_reference() {
    assert_family_matches_reference(Family::Elementwise);
}

#[test]
fn cpu_layout_matches_reference() {
    assert_family_matches_reference(Family::Layout);
}

#[test]
fn cpu_reduce_matches_reference() {
    assert_family_matches_reference(Family::Reduce);
}

#[test]
fn cpu_linalg_matches_reference() {
    assert_family_matches_reference(Family::Linalg);
}

#[test]
fn cpu_softmax_matches_reference() {
    assert_family_matches_reference(Family::Softmax);
}

#[test]
fn cpu_random_matches_reference() {
    assert_family_matches_reference(Family::Random);
}

#[test]
fn cpu_optimizer_matches_reference() {
    assert_family_matches_reference(Family::Optimizer);
}

#[test]
fn cpu_recurrent_matches_reference() {
    assert_family_matches_reference(Family::Recurrent);
}
