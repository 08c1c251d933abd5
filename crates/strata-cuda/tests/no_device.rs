//! Opening a device never panics: without a driver (or without a GPU) it is a clear `Err`.
//! These tests pass on every machine; on a GPU machine they check the success path instead.

use strata_backend::{Backend, BackendError, BufferOps};
use strata_cuda::CudaBackend;

fn assert_backend<B: Backend + Clone>() {}

#[test]
fn cuda_backend_implements_the_whole_backend_trait() {
    assert_backend::<CudaBackend>();
}

#[test]
fn new_returns_err_or_a_working_backend_never_panics() {
    match CudaBackend::new(0) {
        Err(BackendError::Device { backend, message }) => {
            assert_eq!(backend, "cuda:0");
            assert!(!message.is_empty());
            // Without a driver the message says so.
            if !CudaBackend::driver_present() {
                assert!(message.contains("no CUDA driver found"), "{message}");
            }
        }
        Err(other) => panic!("expected a device error, got {other:?}"),
        Ok(cuda) => {
            assert_eq!(cuda.name(), "cuda:0");
            let b = cuda.from_host(&[1.0, 2.0]).expect("upload");
            assert_eq!(cuda.to_host(&b).expect("download"), vec![1.0, 2.0]);
        }
    }
}

#[test]
fn a_device_that_does_not_exist_is_an_err() {
    let err = CudaBackend::new(4096).expect_err("no machine has 4097 GPUs");
    assert!(matches!(err, BackendError::Device { .. }), "{err:?}");
}

#[test]
fn shared_and_device_count_agree_with_new() {
    if CudaBackend::new(0).is_err() {
        assert!(CudaBackend::shared(0).is_err());
        assert!(CudaBackend::device_count().map_or(true, |n| n == 0));
    } else {
        assert!(CudaBackend::device_count().expect("device count") >= 1);
        let a = CudaBackend::shared(0).expect("shared");
        assert_eq!(a.ordinal(), 0);
    }
}
