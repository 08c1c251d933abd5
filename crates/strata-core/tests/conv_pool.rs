//! Convolution and pooling tensor ops: finite-difference gradient checks, output shapes, and
//! the errors for bad input (each names the op and the shapes).

use strata_core::gradcheck::{GradCheckConfig, check_gradients};
use strata_core::{Conv2dOptions, Device, Pool2dOptions, Result, Tensor};

fn t(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape.to_vec(), -1.0, 1.0, seed, &Device::Cpu).unwrap()
}

/// Distinct values at least 0.05 apart (so max-pool winners do not swap under the
/// finite-difference step), in a scrambled order.
fn distinct(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let data = (0..n)
        .map(|i| ((i * 37 + 11) % n) as f32 * 0.05 - 1.0)
        .collect();
    Tensor::from_vec(data, shape.to_vec(), &Device::Cpu).unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    if let Err(e) = check_gradients(f, inputs, GradCheckConfig::default()) {
        panic!("{e}");
    }
}

fn opts(stride: usize, pad: [usize; 4], dilation: usize, groups: usize) -> Conv2dOptions {
    Conv2dOptions {
        stride: [stride, stride],
        padding: pad,
        dilation: [dilation, dilation],
        groups,
    }
}

#[test]
fn conv2d_with_bias_matches_finite_differences() {
    let (x, w, b) = (t(&[2, 2, 5, 4], 1), t(&[3, 2, 3, 2], 2), t(&[3], 3));
    check(
        |v| v[0].conv2d(&v[1], Some(&v[2]), Conv2dOptions::default()),
        &[x, w, b],
    );
}

#[test]
fn conv2d_stride_padding_dilation_groups_match_finite_differences() {
    let (x, w) = (t(&[2, 4, 6, 5], 4), t(&[6, 2, 2, 3], 5));
    check(
        |v| v[0].conv2d(&v[1], None, opts(2, [1, 0, 2, 1], 2, 2)),
        &[x, w],
    );
}

#[test]
fn conv2d_pointwise_matches_finite_differences() {
    let (x, w, b) = (t(&[2, 3, 3, 3], 6), t(&[4, 3, 1, 1], 7), t(&[4], 8));
    check(
        |v| v[0].conv2d(&v[1], Some(&v[2]), Conv2dOptions::default()),
        &[x, w, b],
    );
}

#[test]
fn conv2d_output_shape_follows_the_formula() {
    let y = t(&[2, 3, 28, 28], 9)
        .conv2d(&t(&[8, 3, 3, 3], 10), None, opts(2, [1, 1, 1, 1], 1, 1))
        .unwrap();
    assert_eq!(y.dims(), &[2, 8, 14, 14]);
    let y = t(&[1, 2, 7, 9], 11)
        .conv2d(&t(&[4, 1, 3, 3], 12), None, opts(1, [0; 4], 2, 2))
        .unwrap();
    assert_eq!(y.dims(), &[1, 4, 3, 5]);
}

#[test]
fn max_pool2d_matches_finite_differences() {
    let x = distinct(&[2, 2, 5, 5]);
    let o = Pool2dOptions {
        stride: [2, 1],
        padding: [1, 1],
        ..Pool2dOptions::new([3, 2])
    };
    check(|v| v[0].max_pool2d(o), std::slice::from_ref(&x));
    // Ceil mode: a partial last column (floor mode gives [2, 2, 2, 2]).
    let ceil = Pool2dOptions {
        ceil_mode: true,
        stride: [2, 2],
        padding: [0, 0],
        ..o
    };
    assert_eq!(x.max_pool2d(ceil).unwrap().dims(), &[2, 2, 2, 3]);
    check(|v| v[0].max_pool2d(ceil), &[x]);
}

#[test]
fn avg_pool2d_matches_finite_differences() {
    let x = t(&[2, 2, 5, 4], 13);
    let o = Pool2dOptions {
        stride: [2, 2],
        padding: [1, 1],
        ..Pool2dOptions::new([3, 3])
    };
    check(|v| v[0].avg_pool2d(o), std::slice::from_ref(&x));
    // Ceil mode (a partial last column) with the divisor counting real inputs only.
    let ceil = Pool2dOptions {
        ceil_mode: true,
        count_include_pad: false,
        padding: [1, 0],
        ..o
    };
    assert_eq!(x.avg_pool2d(ceil).unwrap().dims(), &[2, 2, 3, 2]);
    check(|v| v[0].avg_pool2d(ceil), &[x]);
}

#[test]
fn global_pools_match_finite_differences_and_drop_the_plane() {
    let x = distinct(&[2, 3, 3, 4]);
    check(|v| v[0].global_max_pool(), std::slice::from_ref(&x));
    check(|v| v[0].global_avg_pool(), std::slice::from_ref(&x));
    assert_eq!(x.global_avg_pool().unwrap().dims(), &[2, 3]);
    let seq = distinct(&[2, 3, 7]);
    assert_eq!(seq.global_max_pool().unwrap().dims(), &[2, 3]);
}

#[test]
fn global_avg_pool_is_the_plane_mean() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 6.0], [1, 1, 2, 2], &Device::Cpu).unwrap();
    assert_eq!(x.global_avg_pool().unwrap().to_vec().unwrap(), vec![3.0]);
    assert_eq!(x.global_max_pool().unwrap().to_vec().unwrap(), vec![6.0]);
}

fn message(r: Result<Tensor>) -> String {
    match r {
        Ok(y) => panic!("expected an error, got a tensor of shape {}", y.shape()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn conv2d_rejects_a_kernel_larger_than_the_padded_input() {
    let m =
        message(t(&[1, 1, 4, 4], 1).conv2d(&t(&[1, 1, 5, 5], 2), None, Conv2dOptions::default()));
    assert!(
        m.contains("conv2d") && m.contains("5x5") && m.contains("4x4"),
        "{m}"
    );
    // Padding makes the same kernel fit.
    assert!(
        t(&[1, 1, 4, 4], 1)
            .conv2d(&t(&[1, 1, 5, 5], 2), None, opts(1, [1, 1, 1, 1], 1, 1))
            .is_ok()
    );
}

#[test]
fn conv2d_rejects_a_channel_count_that_does_not_match_the_weight() {
    let m =
        message(t(&[2, 3, 8, 8], 1).conv2d(&t(&[4, 2, 3, 3], 2), None, Conv2dOptions::default()));
    assert!(
        m.contains("[2, 3, 8, 8]") && m.contains("[4, 2, 3, 3]") && m.contains("3 channels"),
        "{m}"
    );
}

#[test]
fn conv2d_rejects_a_3d_input() {
    let m = message(t(&[3, 8, 8], 1).conv2d(&t(&[4, 3, 3, 3], 2), None, Conv2dOptions::default()));
    assert!(m.contains("4-D") && m.contains("[3, 8, 8]"), "{m}");
}

#[test]
fn conv2d_rejects_groups_that_do_not_divide_the_channels() {
    let m = message(t(&[1, 3, 8, 8], 1).conv2d(&t(&[4, 1, 3, 3], 2), None, opts(1, [0; 4], 1, 2)));
    assert!(m.contains("groups = 2") && m.contains("(3,"), "{m}");
}

#[test]
fn conv2d_rejects_a_bias_of_the_wrong_length() {
    let m = message(t(&[1, 1, 4, 4], 1).conv2d(
        &t(&[2, 1, 3, 3], 2),
        Some(&t(&[3], 3)),
        Conv2dOptions::default(),
    ));
    assert!(m.contains("bias must be [2]"), "{m}");
}

#[test]
fn pooling_rejects_a_window_larger_than_the_input_and_a_3d_input() {
    let m = message(t(&[1, 1, 2, 2], 1).max_pool2d(Pool2dOptions::new([3, 3])));
    assert!(m.contains("max_pool2d") && m.contains("3x3"), "{m}");
    let m = message(t(&[1, 2, 2], 1).avg_pool2d(Pool2dOptions::new([2, 2])));
    assert!(m.contains("avg_pool2d") && m.contains("[1, 2, 2]"), "{m}");
}
