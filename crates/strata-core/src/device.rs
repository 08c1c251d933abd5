//! `Device`: where a tensor's memory lives, chosen at run time.

use std::fmt;

use crate::{Error, Result};

/// The hardware a tensor lives on. Users pick it at run time; no generics are involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The host CPU (OpenBLAS for GEMM, fused loops for the rest).
    #[cfg(feature = "cpu")]
    Cpu,
    /// The CUDA GPU with this ordinal (cuBLAS for GEMM, Strata's PTX kernels for the rest).
    /// Obtain it with [`Device::cuda`], which checks that the device can be opened; a
    /// hand-made `Device::Cuda(n)` of a missing device makes the first op on it fail with
    /// [`Error::DeviceUnavailable`].
    #[cfg(feature = "cuda")]
    Cuda(usize),
}

impl Device {
    /// The CPU device.
    #[cfg(feature = "cpu")]
    pub fn cpu() -> Device {
        Device::Cpu
    }

    /// The CUDA device with ordinal `ordinal`, opened now (driver, context, stream, cuBLAS)
    /// and shared by every later use. Without a driver, a GPU or cuBLAS it returns
    /// [`Error::DeviceUnavailable`] naming what is missing; it never panics.
    #[cfg(feature = "cuda")]
    pub fn cuda(ordinal: usize) -> Result<Device> {
        crate::storage::cuda_backend(ordinal)?;
        Ok(Device::Cuda(ordinal))
    }

    /// The CUDA device with ordinal `ordinal`. Strata was built without the `cuda` feature,
    /// so this always returns [`Error::DeviceUnavailable`].
    #[cfg(not(feature = "cuda"))]
    pub fn cuda(ordinal: usize) -> Result<Device> {
        Err(Error::DeviceUnavailable(format!(
            "cuda:{ordinal} requested, but strata was built without the `cuda` feature \
             (enable it: `strata = {{ features = [\"cuda\"] }}`)"
        )))
    }

    /// The best device compiled in and present: CUDA device 0 when the `cuda` feature is on
    /// and the device opens, else the CPU.
    #[cfg(feature = "cpu")]
    pub fn best() -> Device {
        #[cfg(feature = "cuda")]
        if let Ok(device) = Device::cuda(0) {
            return device;
        }
        Device::Cpu
    }

    /// Whether this is a CUDA device.
    pub fn is_cuda(&self) -> bool {
        #[cfg(feature = "cuda")]
        if let Device::Cuda(_) = self {
            return true;
        }
        false
    }

    /// Parses `"cpu"` or `"cuda"` / `"cuda:N"` (the examples' `--device` flag).
    pub fn parse(name: &str) -> Result<Device> {
        match name {
            #[cfg(feature = "cpu")]
            "cpu" => Ok(Device::Cpu),
            other => {
                if let Some(rest) = other.strip_prefix("cuda") {
                    let ordinal = rest.strip_prefix(':').unwrap_or("0").parse().map_err(|_| {
                        Error::invalid("device", format!("`{other}` is not `cuda` or `cuda:N`"))
                    })?;
                    Device::cuda(ordinal)
                } else {
                    Err(Error::invalid(
                        "device",
                        format!("unknown device `{other}`; expected `cpu` or `cuda[:N]`"),
                    ))
                }
            }
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "cpu")]
            Device::Cpu => write!(f, "cpu"),
            #[cfg(feature = "cuda")]
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}
