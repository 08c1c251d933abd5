//! Bad input gives a clear `Err` naming the op and both shapes.

use strata_core::{Device, Error, Tensor};

fn zeros(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape.to_vec(), &Device::Cpu).unwrap()
}

#[test]
fn matmul_with_mismatched_inner_dimensions_names_both_shapes() {
    let err = zeros(&[128, 784]).matmul(&zeros(&[10, 128])).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Shape { op: "matmul", .. }));
    assert!(
        msg.contains("[128, 784]") && msg.contains("[10, 128]"),
        "{msg}"
    );
    assert!(msg.contains("784 and 10"), "{msg}");
}

#[test]
fn add_with_unbroadcastable_shapes_names_both_shapes() {
    let err = zeros(&[2, 3]).add(&zeros(&[3, 2])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("add:") && msg.contains("[2, 3]") && msg.contains("[3, 2]"),
        "{msg}"
    );
}

#[test]
fn linear_with_wrong_input_features_says_what_it_expects() {
    let err = zeros(&[4, 5]).linear(&zeros(&[3, 6]), None).unwrap_err();
    assert!(
        err.to_string().contains("expects 6 input features, got 5"),
        "{err}"
    );
}

#[test]
fn cross_entropy_label_out_of_range_is_an_error() {
    let logits = zeros(&[2, 3]);
    let labels = Tensor::from_slice(&[0.0, 3.0], [2], &Device::Cpu).unwrap();
    let err = logits.cross_entropy_per_row(&labels, 0.0).unwrap_err();
    assert!(err.to_string().contains('3'), "{err}");
}

#[test]
fn cross_entropy_with_wrong_label_count_is_an_error() {
    let labels = Tensor::from_slice(&[0.0], [1], &Device::Cpu).unwrap();
    let err = zeros(&[2, 3])
        .cross_entropy_per_row(&labels, 0.0)
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

#[test]
fn from_vec_with_wrong_length_is_an_error() {
    assert!(Tensor::from_vec(vec![1.0; 5], [2, 3], &Device::Cpu).is_err());
}

#[test]
fn reshape_to_other_element_count_is_an_error() {
    assert!(zeros(&[2, 3]).reshape([4, 2]).is_err());
}

#[test]
fn reduction_over_missing_axis_is_an_error() {
    assert!(zeros(&[2, 3]).sum(&[2]).is_err());
}

#[test]
fn cuda_without_the_feature_is_a_clear_error() {
    let err = Device::cuda(0).unwrap_err();
    assert!(err.to_string().contains("cuda"), "{err}");
}
