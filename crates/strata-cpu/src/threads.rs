//! The one threading knob of the CPU backend: OpenBLAS's thread count.
//!
//! GEMM runs on that many threads inside OpenBLAS, and the big loops around the GEMMs split
//! into as many parts (`crate::parallel`). No other pool exists: a second pool beside
//! OpenBLAS's would oversubscribe the small machines this backend targets.

use std::ffi::c_int;
use std::sync::Once;

/// The environment variable read by the first `CpuBackend::new`.
const NUM_THREADS_ENV: &str = "STRATA_NUM_THREADS";

unsafe extern "C" {
    fn openblas_set_num_threads(n: c_int);
    fn openblas_get_num_threads() -> c_int;
}

static INIT: Once = Once::new();

/// Sets the number of threads OpenBLAS uses for GEMM (at least 1). Overrides
/// `STRATA_NUM_THREADS`, whether called before or after the first backend is made.
pub fn set_num_threads(n: usize) {
    init_from_env();
    apply(n);
}

/// The number of threads OpenBLAS uses for GEMM.
pub fn num_threads() -> usize {
    init_from_env();
    // SAFETY: a plain getter in libopenblas with no preconditions.
    let n = unsafe { openblas_get_num_threads() };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// Applies `STRATA_NUM_THREADS` (default: the available parallelism) once per process.
pub(crate) fn init_from_env() {
    INIT.call_once(|| apply(threads_from_env()));
}

fn threads_from_env() -> usize {
    std::env::var(NUM_THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn apply(n: usize) {
    let n = c_int::try_from(n.max(1)).unwrap_or(c_int::MAX);
    // SAFETY: libopenblas accepts any positive count (it clamps to its compiled maximum).
    unsafe { openblas_set_num_threads(n) };
}
