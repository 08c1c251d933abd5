//! The OpenBLAS thread knob, in its own test binary: changing OpenBLAS's thread count while
//! other tests run GEMMs in the same process would make those tests race with it.

use strata_backend::{BufferOps, LinalgOps, MatmulSpec};
use strata_cpu::{CpuBackend, num_threads, set_num_threads};

#[test]
fn env_sets_the_first_count_and_set_num_threads_overrides_it() {
    // SAFETY: this binary's only test, and no other thread exists yet to read the environment.
    unsafe { std::env::set_var("STRATA_NUM_THREADS", "1") };
    let cpu = CpuBackend::new();
    assert_eq!(num_threads(), 1);

    set_num_threads(2);
    assert_eq!(num_threads(), 2);
    set_num_threads(0);
    assert_eq!(num_threads(), 1, "0 is read as 1");

    // GEMM still works after the changes.
    let a = cpu.from_host(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let c = cpu.matmul(&a, &a, MatmulSpec::new(2, 2, 2)).unwrap();
    assert_eq!(c.as_slice(), &[7.0, 10.0, 15.0, 22.0]);
}
