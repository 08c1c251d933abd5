//! The specification checked: the reference backend against small hand-computed values, and
//! against its own suite (which exercises its error handling and the suite's plumbing).

use strata_backend::*;
use strata_conformance::{RefBuffer, ReferenceBackend, SuiteConfig, check_backend};

#[test]
fn reference_passes_its_own_suite() {
    let start = std::time::Instant::now();
    match check_backend(&ReferenceBackend, &SuiteConfig::from_env()) {
        Ok(report) => eprintln!("{report} in {:?}", start.elapsed()),
        Err(failure) => panic!("{failure}"),
    }
}
