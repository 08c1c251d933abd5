//! `Mirror` and `check_backend_against` on two real backends: the CPU backend (f32, BLAS,
//! fused loops) mirrored against the f64 reference must pass the whole suite, which shows the
//! mirror's tolerances leave room for honest f32 rounding and never reject a correct backend.
//! The last test shows a real disagreement (an f32 GEMM against f64) comes back as an error
//! naming the op and both values.

use strata_backend::{BufferOps, LinalgOps, MatmulSpec};
use strata_conformance::{
    Mirror, ReferenceBackend, SuiteConfig, Tolerances, check_backend_against,
};
use strata_cpu::CpuBackend;

#[test]
fn cpu_mirrored_against_the_reference_passes_every_family() {
    // Few cases by default to keep `cargo test` quick; STRATA_CONFORMANCE_CASES explores more.
    let mut config = SuiteConfig::from_env();
    if std::env::var_os("STRATA_CONFORMANCE_CASES").is_none() {
        config = config.with_cases(8);
    }
    let report = check_backend_against(&CpuBackend::new(), &ReferenceBackend, &config)
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(
        report.backend.starts_with("cpu against "),
        "{}",
        report.backend
    );
    assert!(report.passed.len() > 40, "{report}");
}

#[test]
fn mirror_hands_back_the_backend_under_test_and_refuses_a_one_sided_input() {
    let mirror = Mirror::new(CpuBackend::new(), ReferenceBackend, Tolerances::default());
    let spec = MatmulSpec::new(2, 1, 2);
    let a = mirror.from_host(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = mirror.from_host(&[1.0, -1.0]).unwrap();
    let y = mirror.matmul(&a, &b, spec).unwrap();
    assert_eq!(mirror.to_host(&y).unwrap(), vec![-1.0, -1.0]);
    let short = mirror.from_host(&[1.0]).unwrap();
    assert!(mirror.matmul(&a, &short, spec).is_err());
}

#[test]
fn mirror_reports_a_disagreement_naming_the_op() {
    // f32 cannot hold 1e8 + 1, so any f32 GEMM gives 1e8 + 1 − 1e8 = 0 while the f64
    // reference gives 1: far outside the linalg tolerance.
    let mirror = Mirror::new(CpuBackend::new(), ReferenceBackend, Tolerances::default());
    let a = mirror.from_host(&[1e8, 1.0, -1e8]).unwrap();
    let b = mirror.from_host(&[1.0, 1.0, 1.0]).unwrap();
    let err = mirror.matmul(&a, &b, MatmulSpec::new(1, 1, 3)).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("matmul"), "{message}");
    assert!(message.contains("disagree"), "{message}");
    assert!(message.contains("against 1e0"), "{message}");
}
