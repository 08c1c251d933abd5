//! Strata's CUDA backend.
//!
//! Built on cudarc with dynamic loading, so the crate builds and its tests run on machines
//! with no CUDA installed: [`CudaBackend::new`] then returns an error naming what is missing
//! (cudarc itself would panic; the backend guards every first contact with the driver).
//!
//! - GEMMs (and batched GEMMs) go to cuBLAS with FP32 math; TF32 only through
//!   [`CudaBackend::with_tf32`].
//! - Every other op is one of our kernels in `crates/strata-cuda/kernels/<family>.cu`, compiled
//!   to PTX (`cargo xtask ptx`, pinned nvcc, `compute_75`), committed, embedded in the binary and
//!   loaded once per context (`kernels`, which also explains how to add a kernel).
//! - All work is queued on one stream; only `to_host` and `synchronize` wait for it.
//! - Freed buffers go to a caching allocator (`alloc`), so a repeated training step allocates
//!   nothing after the first; [`CudaBackend::alloc_stats`] exposes its counters.
//!
//! Module map: `backend` (the handle and device setup), `buffer` ([`CudaBuffer`] and
//! `BufferOps`), `alloc` (the caching allocator), `kernels` (PTX registry and launch helpers),
//! `ops/*` (one file per op family, the same names as `strata_backend::ops`).

mod alloc;
mod backend;
mod buffer;
mod check;
mod gemm;
mod kernels;
mod ops;
mod strided;
pub mod testing;

pub use alloc::AllocStats;
pub use backend::CudaBackend;
pub use buffer::CudaBuffer;
pub use kernels::KernelModule;
