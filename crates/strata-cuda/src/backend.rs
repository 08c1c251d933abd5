//! [`CudaBackend`]: the context, the stream, cuBLAS, the kernel registry and the allocator of
//! one GPU, behind one `Arc` so that cloning a backend is free.

use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::cublas::CudaBlas;
use cudarc::driver::{CudaContext, CudaFunction, CudaStream};
use strata_backend::{BackendError, Result};

use crate::alloc::{AllocStats, Pool};
use crate::kernels::{KernelModule, Kernels};

/// The CUDA backend: one device, one stream, one cuBLAS handle.
///
/// Every op is queued on the backend's single stream and returns without waiting; only
/// `to_host` and `synchronize` block the host. Buffers freed by the caller go back to a caching
/// allocator (see [`CudaBackend::alloc_stats`]), so a training step that repeats the shapes of
/// the previous one allocates no device memory.
///
/// Cloning is cheap (an `Arc`); every clone shares the device state.
#[derive(Clone)]
pub struct CudaBackend {
    inner: Arc<Inner>,
}

struct Inner {
    ordinal: usize,
    name: String,
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    tf32: bool,
    kernels: Kernels,
    pool: Arc<Pool>,
}

impl fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CudaBackend")
            .field("ordinal", &self.inner.ordinal)
            .field("tf32", &self.inner.tf32)
            .finish_non_exhaustive()
    }
}

/// A `BackendError::Device` for the backend named `backend`.
pub(crate) fn device_error(backend: &str, what: &str, err: impl fmt::Display) -> BackendError {
    BackendError::Device {
        backend: backend.to_string(),
        message: format!("{what}: {err}"),
    }
}

/// Runs `f`, turning a panic (cudarc panics when a CUDA library or symbol is missing) into an
/// error message.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let detail = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".to_string());
        format!("{what} failed: {detail}")
    })
}

impl CudaBackend {
    /// Opens device `ordinal` with FP32 GEMMs (no TF32).
    ///
    /// Returns `Err(BackendError::Device)`, never panics, when the CUDA driver library is not
    /// installed, when cuBLAS is missing, or when the device does not exist.
    pub fn new(ordinal: usize) -> Result<CudaBackend> {
        Self::open(ordinal, false)
    }

    /// Opens device `ordinal`, with cuBLAS allowed to use TF32 tensor cores for GEMMs when
    /// `tf32` is true (faster on Ampere and later, about 10 bits of mantissa: results then
    /// differ from the CPU's beyond the conformance tolerances).
    pub fn with_tf32(ordinal: usize, tf32: bool) -> Result<CudaBackend> {
        Self::open(ordinal, tf32)
    }

    /// A process-wide backend for device `ordinal` (FP32 GEMMs), opened on first use and shared
    /// by every later call, so that tensors created in different places can meet in one op.
    pub fn shared(ordinal: usize) -> Result<CudaBackend> {
        static SHARED: OnceLock<Mutex<HashMap<usize, CudaBackend>>> = OnceLock::new();
        let map = SHARED.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(backend) = map.get(&ordinal) {
            return Ok(backend.clone());
        }
        let backend = Self::new(ordinal)?;
        map.insert(ordinal, backend.clone());
        Ok(backend)
    }

    /// Whether a CUDA driver library can be loaded at all (cheap; does not open a device).
    pub fn driver_present() -> bool {
        // SAFETY: only tries to dlopen the driver library; no CUDA call is made.
        guarded("loading libcuda", || unsafe {
            cudarc::driver::sys::is_culib_present()
        })
        .unwrap_or(false)
    }

    /// The number of CUDA devices, or an error naming what is missing.
    pub fn device_count() -> Result<usize> {
        let name = "cuda";
        if !Self::driver_present() {
            return Err(device_error(
                name,
                "no CUDA driver found",
                "libcuda.so could not be loaded",
            ));
        }
        let count = guarded("cuDeviceGetCount", CudaContext::device_count)
            .map_err(|m| device_error(name, "CUDA driver", m))?
            .map_err(|e| device_error(name, "cuDeviceGetCount", e))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn open(ordinal: usize, tf32: bool) -> Result<CudaBackend> {
        let name = format!("cuda:{ordinal}");
        if !Self::driver_present() {
            return Err(device_error(
                &name,
                "no CUDA driver found",
                "libcuda.so could not be loaded (is the NVIDIA driver installed?)",
            ));
        }
        let ctx = guarded("CudaContext::new", || CudaContext::new(ordinal))
            .map_err(|m| device_error(&name, "CUDA driver", m))?
            .map_err(|e| device_error(&name, &format!("opening device {ordinal}"), e))?;
        // One stream only: the per-buffer events cudarc records for multi-stream safety are
        // pure overhead here.
        // SAFETY: called before any buffer of this context exists.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.default_stream();
        // SAFETY: only tries to dlopen libcublas.
        let blas_present = guarded("loading libcublas", || unsafe {
            cudarc::cublas::sys::is_culib_present()
        })
        .unwrap_or(false);
        if !blas_present {
            return Err(device_error(
                &name,
                "cuBLAS not found",
                "libcublas.so.13 could not be loaded (set LD_LIBRARY_PATH to the CUDA 13 lib folder)",
            ));
        }
        let blas = guarded("CudaBlas::new", || CudaBlas::new(stream.clone()))
            .map_err(|m| device_error(&name, "cuBLAS", m))?
            .map_err(|e| device_error(&name, "creating the cuBLAS handle", e))?;
        let mode = if tf32 {
            cudarc::cublas::sys::cublasMath_t::CUBLAS_TF32_TENSOR_OP_MATH
        } else {
            cudarc::cublas::sys::cublasMath_t::CUBLAS_DEFAULT_MATH
        };
        // SAFETY: the handle is valid for the life of `blas`.
        let status = unsafe { cudarc::cublas::sys::cublasSetMathMode(*blas.handle(), mode) };
        if status != cudarc::cublas::sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
            return Err(device_error(
                &name,
                "cublasSetMathMode",
                format!("{status:?}"),
            ));
        }
        let kernels = Kernels::new(ctx.clone());
        let pool = Arc::new(Pool::new(stream.clone()));
        Ok(CudaBackend {
            inner: Arc::new(Inner {
                ordinal,
                name,
                stream,
                blas,
                tf32,
                kernels,
                pool,
            }),
        })
    }

    /// The device ordinal.
    pub fn ordinal(&self) -> usize {
        self.inner.ordinal
    }

    /// Whether GEMMs may use TF32 tensor cores.
    pub fn tf32(&self) -> bool {
        self.inner.tf32
    }

    /// The device's name as the driver reports it ("NVIDIA H100 80GB HBM3").
    pub fn device_name(&self) -> Result<String> {
        self.inner
            .stream
            .context()
            .name()
            .map_err(|e| self.err("cuDeviceGetName", e))
    }

    /// Counters of the caching allocator (fresh device allocations, reuses, cached bytes).
    pub fn alloc_stats(&self) -> AllocStats {
        self.inner.pool.stats()
    }

    /// Returns every cached (free) block to the driver.
    pub fn empty_cache(&self) {
        self.inner.pool.empty();
    }

    /// Loads every kernel module now (they are otherwise loaded on first use), so that a PTX
    /// the driver rejects shows up at once with the module's name.
    pub fn preload_kernels(&self) -> Result<()> {
        for &module in KernelModule::ALL {
            self.inner
                .kernels
                .module(module)
                .map_err(|e| self.err(&format!("loading the {} PTX", module.name()), e))?;
        }
        Ok(())
    }

    pub(crate) fn stream(&self) -> &Arc<CudaStream> {
        &self.inner.stream
    }

    pub(crate) fn blas(&self) -> &CudaBlas {
        &self.inner.blas
    }

    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.inner.pool
    }

    pub(crate) fn backend_name(&self) -> &str {
        &self.inner.name
    }

    /// The kernel `name` of `module` (loaded once, then cached).
    pub(crate) fn function(
        &self,
        module: KernelModule,
        name: &'static str,
    ) -> Result<CudaFunction> {
        self.inner
            .kernels
            .function(module, name)
            .map_err(|e| self.err(&format!("loading kernel {name}"), e))
    }

    /// A `BackendError::Device` naming this backend, what failed and the driver's message.
    pub(crate) fn err(&self, what: &str, e: impl fmt::Display) -> BackendError {
        device_error(&self.inner.name, what, e)
    }
}
