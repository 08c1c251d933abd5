//! `Device::Cuda`: opening, naming, parsing and moving tensors, with and without a GPU.
//!
//! These run everywhere: on a machine without a driver they check that every way in gives
//! `Error::DeviceUnavailable` (never a panic); with a GPU they check the round trip, which
//! otherwise prints the skip guard's one line (and fails under `REQUIRE_GPU=1`).
#![cfg(feature = "cuda")]

use strata_core::{Device, Error, Tensor};

#[test]
fn cuda_device_opens_or_says_why_not() {
    match Device::cuda(0) {
        Ok(device) => {
            assert_eq!(device, Device::Cuda(0));
            assert_eq!(Device::best(), Device::Cuda(0));
        }
        Err(Error::DeviceUnavailable(message)) => {
            assert!(message.starts_with("cuda:0"), "{message}");
            assert_eq!(Device::best(), Device::Cpu);
        }
        Err(other) => panic!("expected DeviceUnavailable, got {other:?}"),
    }
}

#[test]
fn display_and_parse_name_the_ordinal() {
    assert_eq!(Device::Cuda(3).to_string(), "cuda:3");
    assert!(Device::Cuda(0).is_cuda());
    assert!(!Device::Cpu.is_cuda());
    // Parsing opens the device, so it agrees with `Device::cuda`.
    assert_eq!(
        Device::parse("cuda:0").ok(),
        Device::cuda(0).ok(),
        "parse(\"cuda:0\") and cuda(0) disagree"
    );
    assert_eq!(Device::parse("cuda").ok(), Device::cuda(0).ok());
    assert!(matches!(
        Device::parse("cuda:x"),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn ordinals_past_the_supported_range_are_refused() {
    let err = Device::cuda(1000).unwrap_err();
    assert!(
        matches!(&err, Error::DeviceUnavailable(m) if m.contains("0 to 15")),
        "{err}"
    );
}

#[test]
fn a_tensor_on_a_missing_device_is_an_error_not_a_panic() {
    // No machine this runs on has 16 GPUs: a hand-made device that cannot open.
    let device = Device::Cuda(15);
    if Device::cuda(15).is_ok() {
        return;
    }
    let err = Tensor::zeros([2, 3], &device).unwrap_err();
    assert!(matches!(err, Error::DeviceUnavailable(_)), "{err}");
}

#[test]
fn to_device_round_trips_through_the_gpu() {
    let Some(backend) = strata_core::cuda::testing::cuda_or_skip() else {
        return;
    };
    let gpu = Device::cuda(backend.ordinal()).unwrap();
    let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
    let x = Tensor::from_slice(&values, [3, 4], &Device::Cpu).unwrap();
    let y = x.to_device(&gpu).unwrap();
    assert_eq!(y.device(), gpu);
    assert_eq!(y.dims(), [3, 4]);
    let back = y.to_device(&Device::Cpu).unwrap();
    assert_eq!(back.device(), Device::Cpu);
    assert_eq!(back.to_vec().unwrap(), values);
    let mixed = x.add(&y).unwrap_err();
    assert!(matches!(mixed, Error::DeviceMismatch { .. }), "{mixed}");
}
