//! Hand-computed checks of the reference backend's convolution, pooling and per-channel ops,
//! so the specification the suite compares against is itself checked.

use strata_backend::{ChannelSpec, Conv2dSpec, ConvOps, NormOps, Pool2dSpec, PoolOps};
use strata_conformance::{RefBuffer, ReferenceBackend};

const R: ReferenceBackend = ReferenceBackend;

fn conv_spec() -> Conv2dSpec {
    // One 3x3 input, one 2x2 kernel, stride 1, padding 1 on top and left only.
    Conv2dSpec {
        batch: 1,
        in_channels: 1,
        in_h: 3,
        in_w: 3,
        out_channels: 1,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        pad_top: 1,
        pad_bottom: 0,
        pad_left: 1,
        pad_right: 0,
        dilation_h: 1,
        dilation_w: 1,
        groups: 1,
    }
}

#[test]
fn reference_conv2d_with_asymmetric_padding_by_hand() {
    let x = RefBuffer((1..=9).map(|v| v as f32).collect());
    // Kernel [[1, 0], [0, 2]]: y[i, j] = x[i−1, j−1] + 2·x[i, j] (zero outside).
    let w = RefBuffer(vec![1.0, 0.0, 0.0, 2.0]);
    let y = R
        .conv2d(&x, &w, Some(&RefBuffer(vec![0.5])), conv_spec())
        .unwrap();
    assert_eq!(y.0, vec![2.5, 4.5, 6.5, 8.5, 11.5, 14.5, 14.5, 20.5, 23.5]);
    // dy = 1 everywhere: each input gets the sum of the kernel taps that read it.
    let dy = RefBuffer(vec![1.0; 9]);
    let dx = R.conv2d_backward_input(&dy, &w, conv_spec()).unwrap();
    assert_eq!(dx.0, vec![3.0, 3.0, 2.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0]);
    let dw = R.conv2d_backward_weight(&x, &dy, conv_spec()).unwrap();
    // Tap (0,0) reads x[0..2, 0..2]; (0,1) rows 0..2; (1,0) columns 0..2; (1,1) all of x.
    assert_eq!(dw.0, vec![12.0, 21.0, 27.0, 45.0]);
    assert_eq!(
        R.conv2d_backward_bias(&dy, conv_spec()).unwrap().0,
        vec![9.0]
    );
}

#[test]
fn reference_pooling_by_hand() {
    let spec = Pool2dSpec::new([1, 1, 2, 3], [2, 2], [1, 1], [0, 0]);
    let x = RefBuffer(vec![1.0, 5.0, 2.0, 4.0, 3.0, 6.0]);
    let (y, i) = R.max_pool2d(&x, spec).unwrap();
    assert_eq!((y.0, i.0), (vec![5.0, 6.0], vec![1.0, 5.0]));
    let dx = R
        .max_pool2d_backward(&RefBuffer(vec![1.0, 2.0]), &RefBuffer(vec![1.0, 1.0]), spec)
        .unwrap();
    assert_eq!(dx.0, vec![0.0, 3.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(R.avg_pool2d(&x, spec).unwrap().0, vec![3.25, 4.0]);
    let dx = R
        .avg_pool2d_backward(&RefBuffer(vec![4.0, 8.0]), spec)
        .unwrap();
    assert_eq!(dx.0, vec![1.0, 3.0, 2.0, 1.0, 3.0, 2.0]);
}

#[test]
fn reference_pooling_ceil_mode_and_divisors_by_hand() {
    // 1x4 input, window 3, stride 2, padding 1: floor mode gives windows at -1..2 and 1..4;
    // ceil mode adds the window 3..6, which holds one real input (x[3]) and one padded
    // position (4) before running off the padded input.
    let floor = Pool2dSpec::new([1, 1, 1, 4], [1, 3], [1, 2], [0, 1]);
    let ceil = Pool2dSpec {
        ceil_mode: true,
        ..floor
    };
    assert_eq!((floor.out_w(), ceil.out_w()), (2, 3));
    let x = RefBuffer(vec![2.0, 4.0, 6.0, 8.0]);
    let (y, i) = R.max_pool2d(&x, ceil).unwrap();
    assert_eq!((y.0, i.0), (vec![4.0, 8.0, 8.0], vec![1.0, 3.0, 3.0]));
    // Padding counted: 6/3, 18/3, 8/2.
    assert_eq!(R.avg_pool2d(&x, ceil).unwrap().0, vec![2.0, 6.0, 4.0]);
    let real_only = Pool2dSpec {
        count_include_pad: false,
        ..ceil
    };
    // Real inputs only: 6/2, 18/3, 8/1.
    assert_eq!(R.avg_pool2d(&x, real_only).unwrap().0, vec![3.0, 6.0, 8.0]);
    let dx = R
        .avg_pool2d_backward(&RefBuffer(vec![6.0, 6.0, 6.0]), real_only)
        .unwrap();
    assert_eq!(dx.0, vec![3.0, 5.0, 2.0, 8.0]);
}

#[test]
fn reference_channel_ops_by_hand() {
    let spec = ChannelSpec {
        batch: 2,
        channels: 1,
        spatial: 2,
    };
    let x = RefBuffer(vec![1.0, 2.0, 3.0, 6.0]);
    let (mean, var) = R.channel_stats(&x, spec).unwrap();
    assert_eq!((mean.0, var.0), (vec![3.0], vec![3.5]));
    let y = R
        .channel_affine(&x, &RefBuffer(vec![2.0]), &RefBuffer(vec![1.0]), spec)
        .unwrap();
    assert_eq!(y.0, vec![3.0, 5.0, 7.0, 13.0]);
    let (ds, db) = R
        .channel_affine_backward(&RefBuffer(vec![1.0, 0.0, 1.0, 1.0]), &x, spec)
        .unwrap();
    assert_eq!((ds.0, db.0), (vec![10.0], vec![3.0]));
}
