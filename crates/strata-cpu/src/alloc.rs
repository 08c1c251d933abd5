//! Keeps large tensor buffers in the heap instead of fresh `mmap`s (glibc only).
//!
//! Every op writes a new buffer, and a training step frees and reallocates the same
//! multi-megabyte activations each step. glibc serves allocations above its mmap threshold
//! (128 KiB at first) with a fresh `mmap`, and each one costs page faults and zeroing on
//! first touch and an `munmap` when freed; `perf` showed about a fifth of a CNN step in the
//! kernel doing that. Raising the threshold (and the trim threshold with it) lets freed
//! blocks be reused. Other C libraries keep their defaults.

use std::sync::Once;

/// Largest allocation kept in the heap rather than mapped on its own: 256 MiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: std::ffi::c_int = 256 << 20;

static INIT: Once = Once::new();

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
}

/// Applies the allocator settings once per process.
pub(crate) fn init() {
    INIT.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // glibc's `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` parameter numbers.
            const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
            const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
            // SAFETY: `mallopt` only adjusts glibc's tuning parameters; both values are in
            // the documented range, and a refusal (return 0) leaves the defaults in place.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
                mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD);
            }
        }
    });
}
