//! `Storage`: a backend buffer tagged with the device it lives on, and the macros that send
//! an operation to the right backend.
//!
//! Each backend appears here once, as an enum variant that exists only when its feature is on.
//! Adding a backend means adding a variant and an arm to each macro; no op changes.

#[cfg(feature = "cpu")]
use strata_cpu::{CpuBackend, CpuBuffer};

use crate::Device;

/// A buffer on one device.
#[derive(Debug)]
pub(crate) enum Storage {
    /// Host memory.
    #[cfg(feature = "cpu")]
    Cpu(CpuBuffer),
}

impl Storage {
    /// The device this storage lives on.
    pub(crate) fn device(&self) -> Device {
        match self {
            #[cfg(feature = "cpu")]
            Storage::Cpu(_) => Device::Cpu,
        }
    }
}

/// The process-wide CPU backend (threads configured once, on first use).
#[cfg(feature = "cpu")]
pub(crate) fn cpu_backend() -> &'static CpuBackend {
    static CPU: std::sync::OnceLock<CpuBackend> = std::sync::OnceLock::new();
    CPU.get_or_init(CpuBackend::new)
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
            (a, b, _) => {
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
            let bufs: Vec<&CpuBuffer> = guards
                .iter()
                .map(|g| match &**g {
                    Storage::Cpu(x) => x,
                })
                .collect();
            Ok(Storage::Cpu(cpu_backend().concat(&bufs, shapes, axis)?))
        }
        None => Err(crate::Error::invalid("cat", "needs at least one tensor")),
    }
}
