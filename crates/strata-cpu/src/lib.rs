//! Strata's CPU backend.
//!
//! Buffers are plain `Vec<f32>` in host memory ([`CpuBuffer`]). Matrix products go to
//! OpenBLAS through `cblas_sgemm` with its transpose flags, so no operand is ever copied or
//! transposed to multiply. Every other op is a tight loop over slices, written so that LLVM
//! auto-vectorizes it for the default target, with fast paths for the shapes a training step
//! actually sees (equal shapes, a bias row, a scalar, the last axis).
//!
//! Threading: one thread count, set by [`set_num_threads`] (read from `STRATA_NUM_THREADS`
//! when the first [`CpuBackend`] is made), served by the backend's own pool (`pool`): large
//! GEMMs are cut into row or column blocks (`blas`), each one single-threaded OpenBLAS call,
//! and the big memory-bound loops into parts (`parallel`). OpenBLAS itself runs on one
//! thread. Results are the same bits on any thread count.
//!
//! Module map: `buffer` (the buffer type and `BufferOps`), `threads` (the thread-count
//! knob), `ops/*` (one file per op family, the same names as `strata_backend::ops`), and private
//! helpers: `check` (argument validation), `blas` (every GEMM, split across the pool), `pool`
//! (the worker threads), `parallel` (splitting a loop across threads),
//! `pool2x2` (the vectorized `MaxPool2d(2)`), `small_gemm` (the per-step products of the
//! recurrent layers, AVX-512 with a portable fallback), `math` (vectorizable `exp`, `erf`, `tanh`
//! and lane-wise sums), `simd` (runtime AVX2 dispatch of the hot kernels, see below) and
//! `strided` (N-d iteration with broadcasting, shared by elementwise, layout and reduce).
//!
//! Vectorization: the crate builds for the default target, and the compute-heavy kernels
//! (unary maps and derivatives, the fast broadcasting paths, softmax, optimizer steps) are
//! compiled a second time with AVX2 and chosen at run time when the CPU has it. Both builds
//! give bit-identical results (no FMA contraction, no reassociation).

mod alloc;
mod blas;
mod buffer;
mod check;
mod math;
mod ops;
mod parallel;
mod pool;
mod pool2x2;
mod simd;
mod small_gemm;
mod strided;
mod threads;

pub use buffer::CpuBuffer;
pub use threads::{num_threads, set_num_threads};

/// The CPU backend. A zero-sized handle: cloning it is free, and every clone shares the
/// process-wide thread count and worker pool.
///
/// The first `CpuBackend::new()` (or `default()`) in a process sets the thread count from
/// `STRATA_NUM_THREADS`, or from the number of available cores when it is unset, and keeps
/// OpenBLAS on one thread (the backend splits large GEMMs itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuBackend {
    // Private so that every handle goes through `new`, which configures the threads once.
    _private: (),
}

impl CpuBackend {
    /// The CPU backend, configuring the thread count on first use.
    pub fn new() -> Self {
        threads::init_from_env();
        alloc::init();
        CpuBackend { _private: () }
    }
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}
