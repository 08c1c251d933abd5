//! `Device`: where a tensor's memory lives, chosen at run time.

use std::fmt;

use crate::{Error, Result};

/// The hardware a tensor lives on. Users pick it at run time; no generics are involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The host CPU (OpenBLAS for GEMM, fused loops for the rest).
    #[cfg(feature = "cpu")]
    Cpu,
}

impl Device {
    /// The CPU device.
    #[cfg(feature = "cpu")]
    pub fn cpu() -> Device {
        Device::Cpu
    }

    /// The CUDA device with ordinal `ordinal`. Strata was built without the `cuda` feature,
    /// so this always returns [`Error::DeviceUnavailable`].
    pub fn cuda(ordinal: usize) -> Result<Device> {
        Err(Error::DeviceUnavailable(format!(
            "cuda:{ordinal} requested, but strata was built without the `cuda` feature \
             (enable it: `strata = {{ features = [\"cuda\"] }}`)"
        )))
    }

    /// The best device compiled in and present: CUDA when available, else the CPU.
    #[cfg(feature = "cpu")]
    pub fn best() -> Device {
        Device::Cpu
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
        }
    }
}
