//! [`CudaBuffer`], the CUDA backend's buffer, and the `BufferOps` family (allocation,
//! transfer, fill, copy, gradient accumulation).

use std::fmt;
use std::sync::Arc;

use cudarc::driver::{CudaSlice, CudaView};
use strata_backend::{BackendError, BufferOps, Result};

use crate::CudaBackend;
use crate::alloc::Pool;
use crate::check::IndexSummary;
use crate::kernels::{launch, launch_config};

/// A flat buffer of `f32` in device memory.
///
/// The block behind it may be larger than [`CudaBuffer::len`] (the allocator rounds sizes to
/// classes); kernels always receive the element count explicitly. Dropping a buffer returns its
/// block to the backend's cache.
pub struct CudaBuffer {
    slice: Option<CudaSlice<f32>>,
    len: usize,
    pool: Arc<Pool>,
    /// What the host saw of the values at upload (dropped on any write), for index checks.
    summary: Option<IndexSummary>,
}

impl CudaBuffer {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the buffer holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole device block (at least `len` elements), for kernel arguments.
    pub fn slice(&self) -> &CudaSlice<f32> {
        self.slice
            .as_ref()
            .expect("a CudaBuffer holds its block until it is dropped")
    }

    /// The whole device block, writable.
    pub fn slice_mut(&mut self) -> &mut CudaSlice<f32> {
        self.summary = None;
        self.slice
            .as_mut()
            .expect("a CudaBuffer holds its block until it is dropped")
    }

    /// The first `len` elements, for copies and cuBLAS.
    pub fn view(&self) -> CudaView<'_, f32> {
        self.slice().slice(0..self.len)
    }

    /// The upload-time summary of the values, if the buffer has not been written since.
    pub(crate) fn summary(&self) -> Option<IndexSummary> {
        self.summary
    }

    /// Records what a kernel that just wrote this buffer guarantees about its values (for
    /// indices computed on the device, such as max pooling's), so that checking them later
    /// needs no device read. Any later write drops it again.
    pub(crate) fn set_summary(&mut self, summary: IndexSummary) {
        self.summary = Some(summary);
    }
}

impl fmt::Debug for CudaBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CudaBuffer")
            .field("len", &self.len)
            .finish()
    }
}

impl Drop for CudaBuffer {
    fn drop(&mut self) {
        if let Some(slice) = self.slice.take() {
            self.pool.give(slice);
        }
    }
}

impl CudaBackend {
    /// A buffer of `len` elements whose contents are unspecified (every op writes all of it).
    pub(crate) fn alloc(&self, len: usize) -> Result<CudaBuffer> {
        // Every op allocates its output first: make the context current on this thread (a
        // cache hit makes no driver call, and cuBLAS needs it), and surface any error an
        // earlier asynchronous free recorded.
        self.stream()
            .context()
            .bind_to_thread()
            .map_err(|e| self.err("binding the CUDA context", e))?;
        let slice = self
            .pool()
            .take(len)
            .map_err(|e| self.err(&format!("allocating {len} floats"), e))?;
        Ok(CudaBuffer {
            slice: Some(slice),
            len,
            pool: self.pool().clone(),
            summary: None,
        })
    }

    /// A buffer of `len` zeros.
    pub(crate) fn alloc_zeros(&self, len: usize) -> Result<CudaBuffer> {
        let mut buf = self.alloc(len)?;
        if len > 0 {
            let mut view = buf.slice_mut().slice_mut(0..len);
            self.stream()
                .memset_zeros(&mut view)
                .map_err(|e| self.err("cuMemsetD8Async", e))?;
        }
        Ok(buf)
    }
}

impl BufferOps for CudaBackend {
    type Buffer = CudaBuffer;

    fn name(&self) -> String {
        self.backend_name().to_string()
    }

    fn from_host(&self, data: &[f32]) -> Result<CudaBuffer> {
        let mut buf = self.alloc(data.len())?;
        if !data.is_empty() {
            let mut view = buf.slice_mut().slice_mut(0..data.len());
            self.stream()
                .memcpy_htod(data, &mut view)
                .map_err(|e| self.err("copying to the device", e))?;
        }
        buf.summary = Some(IndexSummary::of(data));
        Ok(buf)
    }

    fn full(&self, len: usize, value: f32) -> Result<CudaBuffer> {
        if value.to_bits() == 0 {
            return self.alloc_zeros(len);
        }
        let mut buf = self.alloc(len)?;
        if len > 0 {
            let n = len as u64;
            launch!(
                self,
                Buffer,
                "buffer_fill",
                launch_config(len),
                buf.slice_mut(),
                &value,
                &n
            )?;
        }
        Ok(buf)
    }

    fn to_host(&self, buf: &CudaBuffer) -> Result<Vec<f32>> {
        if buf.is_empty() {
            return Ok(Vec::new());
        }
        let host = self
            .stream()
            .clone_dtoh(&buf.view())
            .map_err(|e| self.err("copying to the host", e))?;
        // The copy into pageable memory has completed when it returns; waiting also reports
        // any failure of the queued work that produced `buf`.
        self.synchronize()?;
        Ok(host)
    }

    fn len(&self, buf: &CudaBuffer) -> usize {
        buf.len()
    }

    fn copy(&self, buf: &CudaBuffer) -> Result<CudaBuffer> {
        let mut out = self.alloc(buf.len())?;
        if !buf.is_empty() {
            let mut dst = out.slice_mut().slice_mut(0..buf.len());
            self.stream()
                .memcpy_dtod(&buf.view(), &mut dst)
                .map_err(|e| self.err("copying on the device", e))?;
        }
        out.summary = buf.summary;
        Ok(out)
    }

    fn add_assign(&self, dst: &mut CudaBuffer, src: &CudaBuffer) -> Result<()> {
        BackendError::check_len("add_assign", dst.len(), src.len())?;
        let len = dst.len();
        if len == 0 {
            return Ok(());
        }
        let n = len as u64;
        launch!(
            self,
            Buffer,
            "buffer_add_assign",
            launch_config(len),
            dst.slice_mut(),
            src.slice(),
            &n
        )
    }

    fn synchronize(&self) -> Result<()> {
        self.stream()
            .synchronize()
            .map_err(|e| self.err("cuStreamSynchronize", e))
    }
}
