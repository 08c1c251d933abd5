//! `Storage`: a backend buffer tagged with the device it lives on, and the macros that send
//! an operation to the right backend.
//!
//! Each backend appears here once, as an enum variant that exists only when its feature is on.
//! Adding a backend means adding a variant and an arm to each macro; no op changes.

#[cfg(feature = "cpu")]
use strata_cpu::{CpuBackend, CpuBuffer};
#[cfg(feature = "cuda")]
use strata_cuda::{CudaBackend, CudaBuffer};

use crate::Device;

/// A buffer on one device.
#[derive(Debug)]
pub(crate) enum Storage {
    /// Host memory.
    #[cfg(feature = "cpu")]
    Cpu(CpuBuffer),
    /// Memory of the CUDA device with this ordinal.
    #[cfg(feature = "cuda")]
    Cuda(usize, CudaBuffer),
}

impl Storage {
    /// The device this storage lives on.
    pub(crate) fn device(&self) -> Device {
        match self {
            #[cfg(feature = "cpu")]
            Storage::Cpu(_) => Device::Cpu,
            #[cfg(feature = "cuda")]
            Storage::Cuda(n, _) => Device::Cuda(*n),
        }
    }

    /// The host buffer, when this storage lives on the CPU.
    #[cfg(feature = "cpu")]
    pub(crate) fn as_cpu(&self) -> Option<&CpuBuffer> {
        #[allow(unreachable_patterns)]
        match self {
            Storage::Cpu(x) => Some(x),
            _ => None,
        }
    }

    /// The device buffer, when this storage lives on CUDA device `ordinal`.
    #[cfg(feature = "cuda")]
    pub(crate) fn as_cuda(&self, ordinal: usize) -> Option<&CudaBuffer> {
        match self {
            Storage::Cuda(n, x) if *n == ordinal => Some(x),
            _ => None,
        }
    }
}

/// The process-wide CPU backend (threads configured once, on first use).
#[cfg(feature = "cpu")]
pub(crate) fn cpu_backend() -> &'static CpuBackend {
    static CPU: std::sync::OnceLock<CpuBackend> = std::sync::OnceLock::new();
    CPU.get_or_init(CpuBackend::new)
}

/// Ordinals below this get a lock-free backend slot; `Device::cuda` refuses the others.
#[cfg(feature = "cuda")]
pub(crate) const MAX_CUDA_DEVICES: usize = 16;

/// The process-wide backend of CUDA device `ordinal`, opened on first use (the same one
/// `CudaBackend::shared` hands out). Without a driver or device it is
/// `Err(Error::DeviceUnavailable)`, never a panic; a failure is not cached, so a later call
/// tries again.
#[cfg(feature = "cuda")]
pub(crate) fn cuda_backend(ordinal: usize) -> crate::Result<&'static CudaBackend> {
    static SLOTS: [std::sync::OnceLock<CudaBackend>; MAX_CUDA_DEVICES] =
        [const { std::sync::OnceLock::new() }; MAX_CUDA_DEVICES];
    let slot = SLOTS.get(ordinal).ok_or_else(|| {
        crate::Error::DeviceUnavailable(format!(
            "cuda:{ordinal}: strata supports CUDA ordinals 0 to {}",
            MAX_CUDA_DEVICES - 1
        ))
    })?;
    if let Some(backend) = slot.get() {
        return Ok(backend);
    }
    let backend =
        CudaBackend::shared(ordinal).map_err(|e| crate::Error::DeviceUnavailable(e.to_string()))?;
    Ok(slot.get_or_init(|| backend))
}

/// Runs `$body` with `$b` bound to the backend of `$dev` (a `Device`) and wraps the buffer it
/// returns into a `Storage` of that device.
macro_rules! on_device {
    ($dev:expr, |$b:ident| $body:expr) => {
        match $dev {
            #[cfg(feature = "cpu")]
            $crate::Device::Cpu => {
                let $b = $crate::storage::cpu_backend();
                $crate::storage::Storage::Cpu($body?)
            }
            #[cfg(feature = "cuda")]
            $crate::Device::Cuda(n) => {
                let n = *n;
                let $b = $crate::storage::cuda_backend(n)?;
                $crate::storage::Storage::Cuda(n, $body?)
            }
        }
    };
}

/// Runs `$body` with `$b` bound to the backend and `$x` to the buffer of storage `$s`,
/// returning whatever `$body` returns (not wrapped).
macro_rules! with_buffer {
    ($s:expr, |$b:ident, $x:ident| $body:expr) => {
        match $s {
            #[cfg(feature = "cpu")]
            $crate::storage::Storage::Cpu($x) => {
                let $b = $crate::storage::cpu_backend();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::storage::Storage::Cuda(n, $x) => {
                let $b = $crate::storage::cuda_backend(*n)?;
                $body
            }
        }
    };
}

/// Like `with_buffer!`, but wraps the returned buffer into a `Storage` of the same device.
macro_rules! map_buffer {
    ($s:expr, |$b:ident, $x:ident| $body:expr) => {
        match $s {
            #[cfg(feature = "cpu")]
            $crate::storage::Storage::Cpu($x) => {
                let $b = $crate::storage::cpu_backend();
                $crate::storage::Storage::Cpu($body?)
            }
            #[cfg(feature = "cuda")]
            $crate::storage::Storage::Cuda(n, $x) => {
                let n = *n;
                let $b = $crate::storage::cuda_backend(n)?;
                $crate::storage::Storage::Cuda(n, $body?)
            }
        }
    };
}

/// Two storages on one device: binds both buffers, wraps the result. Storages on different
/// devices give `Error::DeviceMismatch` for op `$op`.
macro_rules! map_buffers2 {
    ($op:expr, $s1:expr, $s2:expr, |$b:ident, $x:ident, $y:ident| $body:expr) => {{
        #[allow(unreachable_patterns)]
        let storage = match ($s1, $s2) {
            #[cfg(feature = "cpu")]
            ($crate::storage::Storage::Cpu($x), $crate::storage::Storage::Cpu($y)) => {
                let $b = $crate::storage::cpu_backend();
                $crate::storage::Storage::Cpu($body?)
            }
            #[cfg(feature = "cuda")]
            ($crate::storage::Storage::Cuda(n, $x), $crate::storage::Storage::Cuda(m, $y))
                if n == m =>
            {
                let n = *n;
                let $b = $crate::storage::cuda_backend(n)?;
                $crate::storage::Storage::Cuda(n, $body?)
            }
            (a, b) => {
                return Err($crate::Error::DeviceMismatch {
                    op: $op,
                    lhs: a.device().to_string(),
                    rhs: b.device().to_string(),
                });
            }
        };
        storage
    }};
}

/// Three storages on one device, wrapped result.
macro_rules! map_buffers3 {
    ($op:expr, $s1:expr, $s2:expr, $s3:expr, |$b:ident, $x:ident, $y:ident, $z:ident| $body:expr) => {{
        #[allow(unreachable_patterns)]
        let storage = match ($s1, $s2, $s3) {
            #[cfg(feature = "cpu")]
            (
                $crate::storage::Storage::Cpu($x),
                $crate::storage::Storage::Cpu($y),
                $crate::storage::Storage::Cpu($z),
            ) => {
                let $b = $crate::storage::cpu_backend();
                $crate::storage::Storage::Cpu($body?)
            }
            #[cfg(feature = "cuda")]
            (
                $crate::storage::Storage::Cuda(n, $x),
                $crate::storage::Storage::Cuda(m, $y),
                $crate::storage::Storage::Cuda(k, $z),
            ) if n == m && n == k => {
                let n = *n;
                let $b = $crate::storage::cuda_backend(n)?;
                $crate::storage::Storage::Cuda(n, $body?)
            }
            (a, b, c) => {
                // Name the odd one out: the first operand's device against the other one.
                let b = if a.device() == b.device() { c } else { b };
                return Err($crate::Error::DeviceMismatch {
                    op: $op,
                    lhs: a.device().to_string(),
                    rhs: b.device().to_string(),
                });
            }
        };
        storage
    }};
}

/// Like `map_buffer!` for a backend call returning two buffers: yields two storages.
macro_rules! map_buffer_pair {
    ($s:expr, |$b:ident, $x:ident| $body:expr) => {
        match $s {
            #[cfg(feature = "cpu")]
            $crate::storage::Storage::Cpu($x) => {
                let $b = $crate::storage::cpu_backend();
                let (p, q) = $body?;
                (
                    $crate::storage::Storage::Cpu(p),
                    $crate::storage::Storage::Cpu(q),
                )
            }
            #[cfg(feature = "cuda")]
            $crate::storage::Storage::Cuda(n, $x) => {
                let n = *n;
                let $b = $crate::storage::cuda_backend(n)?;
                let (p, q) = $body?;
                (
                    $crate::storage::Storage::Cuda(n, p),
                    $crate::storage::Storage::Cuda(n, q),
                )
            }
        }
    };
}

/// Like `map_buffers2!` for a backend call returning two buffers: yields two storages.
macro_rules! map_buffers2_pair {
    ($op:expr, $s1:expr, $s2:expr, |$b:ident, $x:ident, $y:ident| $body:expr) => {{
        #[allow(unreachable_patterns)]
        let storage = match ($s1, $s2) {
            #[cfg(feature = "cpu")]
            ($crate::storage::Storage::Cpu($x), $crate::storage::Storage::Cpu($y)) => {
                let $b = $crate::storage::cpu_backend();
                let (p, q) = $body?;
                (
                    $crate::storage::Storage::Cpu(p),
                    $crate::storage::Storage::Cpu(q),
                )
            }
            #[cfg(feature = "cuda")]
            ($crate::storage::Storage::Cuda(n, $x), $crate::storage::Storage::Cuda(m, $y))
                if n == m =>
            {
                let n = *n;
                let $b = $crate::storage::cuda_backend(n)?;
                let (p, q) = $body?;
                (
                    $crate::storage::Storage::Cuda(n, p),
                    $crate::storage::Storage::Cuda(n, q),
                )
            }
            (a, b) => {
                return Err($crate::Error::DeviceMismatch {
                    op: $op,
                    lhs: a.device().to_string(),
                    rhs: b.device().to_string(),
                });
            }
        };
        storage
    }};
}

pub(crate) use {
    map_buffer, map_buffer_pair, map_buffers2, map_buffers2_pair, map_buffers3, on_device,
    with_buffer,
};

/// Concatenates storages (all on one device, checked by the caller) along `axis`.
pub(crate) fn concat_storages(
    guards: &[std::sync::RwLockReadGuard<'_, Storage>],
    shapes: &[&[usize]],
    axis: usize,
) -> crate::Result<Storage> {
    use strata_backend::LayoutOps;
    match guards.first().map(|g| g.device()) {
        #[cfg(feature = "cpu")]
        Some(Device::Cpu) => {
            let bufs = guards
                .iter()
                .map(|g| g.as_cpu().ok_or_else(|| concat_mismatch(Device::Cpu, g)))
                .collect::<crate::Result<Vec<&CpuBuffer>>>()?;
            Ok(Storage::Cpu(cpu_backend().concat(&bufs, shapes, axis)?))
        }
        #[cfg(feature = "cuda")]
        Some(Device::Cuda(n)) => {
            let bufs = guards
                .iter()
                .map(|g| {
                    g.as_cuda(n)
                        .ok_or_else(|| concat_mismatch(Device::Cuda(n), g))
                })
                .collect::<crate::Result<Vec<&CudaBuffer>>>()?;
            Ok(Storage::Cuda(
                n,
                cuda_backend(n)?.concat(&bufs, shapes, axis)?,
            ))
        }
        None => Err(crate::Error::invalid("cat", "needs at least one tensor")),
    }
}

/// The error for a `cat` operand on another device than the first.
fn concat_mismatch(first: Device, other: &Storage) -> crate::Error {
    crate::Error::DeviceMismatch {
        op: "cat",
        lhs: first.to_string(),
        rhs: other.device().to_string(),
    }
}
