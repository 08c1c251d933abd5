//! The caching allocator: device blocks freed by a dropped buffer go to a free list keyed by
//! their size class instead of back to the driver, and the next allocation of that class takes
//! one from there. A training step repeats the shapes of the previous one, so after the first
//! step every allocation is a cache hit.
//!
//! Reuse is safe without any event because there is a single stream: a block freed while a
//! queued kernel still reads it is only handed to work queued after that kernel.
//!
//! Size classes: up to 4096 elements a block is rounded up to a power of two; above that, to
//! one of eight steps per power of two (at most 12.5 % waste). When the driver reports out of
//! memory the cache is emptied and the allocation retried once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaSlice, CudaStream, DriverError};

/// Counters of the caching allocator, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllocStats {
    /// Blocks obtained from the driver (cache misses).
    pub allocations: u64,
    /// Allocations served from the cache.
    pub cache_hits: u64,
    /// Bytes held in free lists right now.
    pub cached_bytes: u64,
}

/// The free lists of one backend.
pub(crate) struct Pool {
    stream: Arc<CudaStream>,
    free: Mutex<HashMap<usize, Vec<CudaSlice<f32>>>>,
    allocations: AtomicU64,
    cache_hits: AtomicU64,
    cached_bytes: AtomicU64,
}

/// The capacity, in elements, of the block that serves a request for `len` elements.
pub(crate) fn size_class(len: usize) -> usize {
    let len = len.max(1);
    if len <= 4096 {
        return len.next_power_of_two();
    }
    // Eight steps per octave: round up to a multiple of 2^(floor(log2 len) - 3).
    let step = 1usize << (usize::BITS - 1 - len.leading_zeros() - 3);
    len.div_ceil(step) * step
}

impl Pool {
    pub(crate) fn new(stream: Arc<CudaStream>) -> Self {
        Pool {
            stream,
            free: Mutex::new(HashMap::new()),
            allocations: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cached_bytes: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Vec<CudaSlice<f32>>>> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A block of at least `len` elements with unspecified contents.
    pub(crate) fn take(&self, len: usize) -> Result<CudaSlice<f32>, DriverError> {
        let class = size_class(len);
        if let Some(slice) = self.lock().get_mut(&class).and_then(Vec::pop) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            self.cached_bytes
                .fetch_sub((class * 4) as u64, Ordering::Relaxed);
            return Ok(slice);
        }
        // SAFETY: the contents are unspecified; every caller writes before it reads.
        let fresh = unsafe { self.stream.alloc::<f32>(class) };
        let slice = match fresh {
            Ok(s) => s,
            Err(_) => {
                self.empty();
                // SAFETY: as above.
                unsafe { self.stream.alloc::<f32>(class) }?
            }
        };
        self.allocations.fetch_add(1, Ordering::Relaxed);
        Ok(slice)
    }

    /// Returns a block to its free list.
    pub(crate) fn give(&self, slice: CudaSlice<f32>) {
        let class = slice.len();
        self.cached_bytes
            .fetch_add((class * 4) as u64, Ordering::Relaxed);
        self.lock().entry(class).or_default().push(slice);
    }

    /// Frees every cached block.
    pub(crate) fn empty(&self) {
        let drained: Vec<_> = self.lock().drain().collect();
        self.cached_bytes.store(0, Ordering::Relaxed);
        drop(drained);
    }

    pub(crate) fn stats(&self) -> AllocStats {
        AllocStats {
            allocations: self.allocations.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cached_bytes: self.cached_bytes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn small_sizes_round_to_powers_of_two() {
        assert_eq!(size_class(0), 1);
        assert_eq!(size_class(1), 1);
        assert_eq!(size_class(3), 4);
        assert_eq!(size_class(4096), 4096);
    }

    #[test]
    fn large_sizes_waste_at_most_an_eighth() {
        for len in [
            4097usize,
            5000,
            10_000,
            123_457,
            1 << 20,
            (1 << 20) + 1,
            99_999_999,
        ] {
            let c = size_class(len);
            assert!(c >= len, "{len} -> {c}");
            assert!((c - len) * 8 <= len, "{len} -> {c}");
            // Classes are stable: the class of a class is itself.
            assert_eq!(size_class(c), c);
        }
    }
}
