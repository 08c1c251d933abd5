//! The skip guard every GPU test starts with.
//!
//! A GPU test must never pass silently on a machine without a GPU: [`cuda_or_skip`] either
//! hands back the shared backend of device 0, or prints exactly one line
//! `SKIP: no CUDA device (<reason>)` and returns `None` (the test then returns early and is
//! counted as skipped by whoever reads the log), or, when the environment variable
//! `REQUIRE_GPU=1` is set (the prepared GPU run sets it), panics with the reason so that a GPU
//! machine whose driver or libraries cannot be loaded fails loudly instead of skipping.
//!
//! ```no_run
//! #[test]
//! fn my_kernel_matches_the_cpu() {
//!     let Some(gpu) = strata_cuda::testing::cuda_or_skip() else { return };
//!     // ... use `gpu` ...
//! }
//! ```

use strata_backend::BackendError;

use crate::CudaBackend;

/// The environment variable that turns a skip into a failure.
pub const REQUIRE_GPU_VAR: &str = "REQUIRE_GPU";

/// Whether `REQUIRE_GPU` asks for a GPU: set to anything but empty or `0`.
pub fn gpu_required() -> bool {
    std::env::var(REQUIRE_GPU_VAR).is_ok_and(|v| required_by(&v))
}

fn required_by(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && value != "0"
}

/// The shared backend of CUDA device 0, or `None` after printing one skip line; panics with
/// the reason instead when `REQUIRE_GPU=1`.
pub fn cuda_or_skip() -> Option<CudaBackend> {
    resolve(CudaBackend::shared(0), gpu_required())
}

/// The line printed for a skipped GPU test: `SKIP: no CUDA device (<reason>)`.
pub fn skip_line(reason: &str) -> String {
    format!("SKIP: no CUDA device ({reason})")
}

/// Decides what a test does with the outcome of opening a device: `Some` when it opened;
/// otherwise one skip line and `None`, or a panic when `required`. `cuda_or_skip` is this
/// with `CudaBackend::shared(0)` and `REQUIRE_GPU`; it is public so that tests of other
/// devices (and of the guard itself) can use the same rule.
pub fn resolve<T>(opened: Result<T, BackendError>, required: bool) -> Option<T> {
    match opened {
        Ok(backend) => Some(backend),
        Err(e) => {
            let reason = e.to_string();
            if required {
                panic!("{REQUIRE_GPU_VAR}=1 but no CUDA device could be used: {reason}");
            }
            println!("{}", skip_line(&reason));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing() -> Result<u32, BackendError> {
        Err(BackendError::Device {
            backend: "cuda:0".into(),
            message: "no CUDA driver found: libcuda.so could not be loaded".into(),
        })
    }

    #[test]
    fn an_opened_device_is_returned_whatever_the_flag() {
        assert_eq!(resolve(Ok(7u32), false), Some(7));
        assert_eq!(resolve(Ok(7u32), true), Some(7));
    }

    #[test]
    fn a_missing_device_skips_when_not_required() {
        assert_eq!(resolve(missing(), false), None);
    }

    #[test]
    fn a_missing_device_panics_with_the_reason_when_required() {
        let panic = std::panic::catch_unwind(|| resolve(missing(), true)).unwrap_err();
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("REQUIRE_GPU=1"), "{message}");
        assert!(
            message.contains("libcuda.so could not be loaded"),
            "{message}"
        );
    }

    #[test]
    fn the_skip_line_has_the_agreed_form() {
        assert_eq!(
            skip_line("no CUDA driver found"),
            "SKIP: no CUDA device (no CUDA driver found)"
        );
    }

    #[test]
    fn only_empty_or_zero_leaves_the_gpu_optional() {
        assert!(required_by("1"));
        assert!(required_by("yes"));
        assert!(!required_by(""));
        assert!(!required_by("0"));
        assert!(!required_by(" 0 "));
    }
}
