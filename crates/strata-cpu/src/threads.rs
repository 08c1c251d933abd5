//! The one threading knob of the CPU backend: how many threads an op may use.
//!
//! The backend owns its threads (`crate::pool`): GEMMs are cut into row or column blocks
//! (`crate::blas`) and the big loops into parts (`crate::parallel`), all run by the same pool.
//! OpenBLAS itself is kept on one thread: its own pthreads workers spin with `sched_yield` for
//! a long while after every GEMM, and on a 2-core machine they competed with everything that
//! ran between GEMMs (half of a two-thread CNN step's samples were in the scheduler).

use std::ffi::c_int;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable read by the first `CpuBackend::new`.
const NUM_THREADS_ENV: &str = "STRATA_NUM_THREADS";

unsafe extern "C" {
    fn openblas_set_num_threads(n: c_int);
}

static INIT: Once = Once::new();
static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets how many threads the CPU backend's ops use (at least 1). Overrides
/// `STRATA_NUM_THREADS`, whether called before or after the first backend is made.
pub fn set_num_threads(n: usize) {
    init_from_env();
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// How many threads the CPU backend's ops use.
pub fn num_threads() -> usize {
    init_from_env();
    THREADS.load(Ordering::Relaxed)
}

/// Applies `STRATA_NUM_THREADS` (default: the available parallelism) once per process, and
/// keeps OpenBLAS on the calling thread.
pub(crate) fn init_from_env() {
    INIT.call_once(|| {
        // SAFETY: libopenblas accepts any positive count.
        unsafe { openblas_set_num_threads(1) };
        THREADS.store(threads_from_env(), Ordering::Relaxed);
    });
}

fn threads_from_env() -> usize {
    std::env::var(NUM_THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
