//! The CPU backend's convolution and pooling against the reference.
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
fn cpu_conv_matches_reference() {
    assert_family_matches_reference(Family::Conv);
}

#[test]
fn cpu_pool_matches_reference() {
    assert_family_matches_reference(Family::Pool);
}

#[test]
fn cpu_norm_matches_reference() {
    assert_family_matches_reference(Family::Norm);
}
