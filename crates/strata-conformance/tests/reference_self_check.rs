//! The specification checked: the reference backend against small hand-computed values, and
//! against its own suite (which exercises its error handling and the suite's plumbing).

use std::f32::consts::{LN_2, SQRT_2};

use strata_backend::*;
use strata_conformance::{RefBuffer, ReferenceBackend, SuiteConfig, check_backend};

const R: ReferenceBackend = ReferenceBackend;

fn buf(values: &[f32]) -> RefBuffer {
    RefBuffer(values.to_vec())
}

/// Asserts `found` equals `expected` to 1e-6 relative (the hand values are rounded to f32).
#[track_caller]
fn assert_close(found: &RefBuffer, expected: &[f32]) {
    assert_eq!(found.0.len(), expected.len(), "{found:?} vs {expected:?}");
    for (f, e) in found.0.iter().zip(expected) {
        assert!(
            (f - e).abs() <= 1e-6 * e.abs().max(1.0),
            "{found:?} vs {expected:?}"
        );
    }
}

#[test]
fn reference_passes_its_own_suite() {
    if let Err(failure) = check_backend(&R, &SuiteConfig::from_env()) {
        panic!("{failure}");
    }
}

#[test]
fn unary_ops_match_hand_values() {
    let x = buf(&[-1.0, 0.0, 1.0]);
    assert_close(&R.unary(UnaryOp::Relu, &x).unwrap(), &[0.0, 0.0, 1.0]);
    assert_close(
        &R.unary(UnaryOp::LeakyRelu(0.1), &x).unwrap(),
        &[-0.1, 0.0, 1.0],
    );
    assert_close(
        &R.unary(UnaryOp::Elu(1.0), &x).unwrap(),
        &[-0.632_120_56, 0.0, 1.0],
    );
    assert_close(
        &R.unary(UnaryOp::Gelu, &x).unwrap(),
        &[-0.158_655_25, 0.0, 0.841_344_7],
    );
    assert_close(
        &R.unary(UnaryOp::Sigmoid, &x).unwrap(),
        &[0.268_941_43, 0.5, 0.731_058_6],
    );
    assert_close(
        &R.unary(UnaryOp::Softplus, &x).unwrap(),
        &[0.313_261_7, LN_2, 1.313_261_7],
    );
    assert_close(&R.unary(UnaryOp::Sign, &x).unwrap(), &[-1.0, 0.0, 1.0]);
    // Stable at the extremes: e^-100 (3.7e-44) and 100 + e^-100, neither inf nor NaN.
    let big = buf(&[-100.0, 100.0]);
    assert_close(&R.unary(UnaryOp::Softplus, &big).unwrap(), &[0.0, 100.0]);
    assert_close(
        &R.unary(UnaryOp::Log1p, &buf(&[0.0, 1.0])).unwrap(),
        &[0.0, LN_2],
    );
}

#[test]
fn unary_derivatives_match_hand_values_including_at_zero() {
    let x = buf(&[-1.0, 0.0, 2.0]);
    let dy = buf(&[2.0, 2.0, 2.0]);
    let d = |op| R.unary_backward(op, &x, &dy).unwrap();
    assert_close(&d(UnaryOp::Relu), &[0.0, 0.0, 2.0]);
    assert_close(&d(UnaryOp::LeakyRelu(0.1)), &[0.2, 0.2, 2.0]);
    assert_close(&d(UnaryOp::Abs), &[-2.0, 0.0, 2.0]);
    assert_close(&d(UnaryOp::Square), &[-4.0, 0.0, 8.0]);
    assert_close(&d(UnaryOp::Tanh), &[0.839_948_7, 2.0, 0.141_301_64]);
    assert_close(&d(UnaryOp::Sigmoid), &[0.393_223_46, 0.5, 0.209_987_2]);
    assert_close(&d(UnaryOp::Gelu), &[-0.166_630_94, 1.0, 2.170_463_6]);
    assert_close(&d(UnaryOp::Sign), &[0.0, 0.0, 0.0]);
}

#[test]
fn binary_broadcasts_along_columns_rows_and_scalars() {
    let m = buf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let col = R.binary(
        BinaryOp::Add,
        &m,
        &[2, 3],
        &buf(&[10.0, 20.0]),
        &[2, 1],
        &[2, 3],
    );
    assert_close(&col.unwrap(), &[11.0, 12.0, 13.0, 24.0, 25.0, 26.0]);
    let row = R.binary(
        BinaryOp::Mul,
        &m,
        &[2, 3],
        &buf(&[1.0, 0.0, -1.0]),
        &[1, 3],
        &[2, 3],
    );
    assert_close(&row.unwrap(), &[1.0, 0.0, -3.0, 4.0, 0.0, -6.0]);
    let outer = R.binary(
        BinaryOp::Sub,
        &buf(&[1.0, 2.0]),
        &[2, 1],
        &buf(&[10.0, 20.0]),
        &[1, 2],
        &[2, 2],
    );
    assert_close(&outer.unwrap(), &[-9.0, -19.0, -8.0, -18.0]);
    let scalar_like = R.binary(
        BinaryOp::Pow,
        &buf(&[2.0, 3.0]),
        &[2],
        &buf(&[2.0]),
        &[1],
        &[2],
    );
    assert_close(&scalar_like.unwrap(), &[4.0, 9.0]);
    let bad = R.binary(
        BinaryOp::Add,
        &m,
        &[2, 3],
        &buf(&[1.0, 2.0]),
        &[1, 2],
        &[2, 3],
    );
    assert!(matches!(bad, Err(BackendError::InvalidArgument { .. })));
}

#[test]
fn scalar_compare_and_select_match_hand_values() {
    let x = buf(&[1.0, 2.0, 4.0]);
    assert_close(
        &R.scalar(ScalarOp::RSub, &x, 5.0).unwrap(),
        &[4.0, 3.0, 1.0],
    );
    assert_close(
        &R.scalar(ScalarOp::RDiv, &x, 1.0).unwrap(),
        &[1.0, 0.5, 0.25],
    );
    assert_close(
        &R.scalar(ScalarOp::Pow, &x, 0.5).unwrap(),
        &[1.0, SQRT_2, 2.0],
    );
    assert_close(
        &R.compare_scalar(CmpOp::Le, &x, 2.0).unwrap(),
        &[1.0, 1.0, 0.0],
    );
    let cmp = R
        .compare(CmpOp::Eq, &x, &[3], &buf(&[2.0]), &[1], &[3])
        .unwrap();
    assert_close(&cmp, &[0.0, 1.0, 0.0]);
    let picked = R.select(
        &buf(&[1.0, -0.0, 0.5]),
        &buf(&[1.0, 2.0, 3.0]),
        &buf(&[7.0, 8.0, 9.0]),
    );
    assert_close(&picked.unwrap(), &[1.0, 8.0, 3.0]);
}

#[test]
fn layout_ops_move_values_to_hand_computed_places() {
    let m = buf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_close(
        &R.permute(&m, &[2, 3], &[1, 0]).unwrap(),
        &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0],
    );
    let t = buf(&(0..24).map(|v| v as f32).collect::<Vec<_>>());
    let p = R.permute(&t, &[2, 3, 4], &[2, 0, 1]).unwrap();
    // out[k, i, j] = t[i, j, k] = 12i + 4j + k.
    assert_eq!(&p.0[..7], &[0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 1.0]);
    assert_close(
        &R.broadcast_to(&buf(&[1.0, 2.0]), &[2, 1], &[2, 3]).unwrap(),
        &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0],
    );
    assert_close(
        &R.slice_axis(&m, &[2, 3], 1, 1, 2).unwrap(),
        &[2.0, 3.0, 5.0, 6.0],
    );
    let joined = R.concat(
        &[&buf(&[1.0, 2.0]), &buf(&[10.0, 11.0, 20.0, 21.0])],
        &[&[2, 1], &[2, 2]],
        1,
    );
    assert_close(&joined.unwrap(), &[1.0, 10.0, 11.0, 2.0, 20.0, 21.0]);
    let rows = R
        .index_select_rows(&m, 3, 2, &buf(&[2.0, 0.0, 2.0]))
        .unwrap();
    assert_close(&rows, &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    let added = R.index_add_rows(&m, &buf(&[1.0, 0.0, 1.0]), 3, 2).unwrap();
    assert_close(&added, &[3.0, 4.0, 6.0, 8.0, 0.0, 0.0]);
    assert!(R.index_select_rows(&m, 3, 2, &buf(&[3.0])).is_err());
    assert!(R.index_add_rows(&buf(&[]), &buf(&[0.0]), 0, 0).is_err());
}

#[test]
fn reductions_match_hand_values_and_argmax_keeps_the_first_tie() {
    let m = buf(&[1.0, 2.0, 3.0, 4.0]);
    assert_close(
        &R.reduce(ReduceOp::Sum, &m, &[2, 2], &[0]).unwrap(),
        &[4.0, 6.0],
    );
    assert_close(
        &R.reduce(ReduceOp::Mean, &m, &[2, 2], &[1]).unwrap(),
        &[1.5, 3.5],
    );
    assert_close(
        &R.reduce(ReduceOp::Max, &m, &[2, 2], &[0, 1]).unwrap(),
        &[4.0],
    );
    assert_close(
        &R.reduce(ReduceOp::Min, &m, &[2, 2], &[0, 1]).unwrap(),
        &[1.0],
    );
    assert_close(
        &R.argmax(&buf(&[1.0, 3.0, 3.0, 2.0]), &[4], 0).unwrap(),
        &[1.0],
    );
    assert_close(
        &R.argmax(&buf(&[1.0, 5.0, 5.0, 2.0]), &[2, 2], 0).unwrap(),
        &[1.0, 0.0],
    );
    assert_close(&R.sum_squares(&buf(&[1.0, 2.0, 3.0])).unwrap(), &[14.0]);
    assert!(R.reduce(ReduceOp::Sum, &m, &[2, 2], &[1, 0]).is_err());
}

#[test]
fn matmul_handles_transposes_shared_operands_and_bias() {
    let a = buf(&[1.0, 2.0, 3.0, 4.0]);
    let b = buf(&[5.0, 6.0, 7.0, 8.0]);
    assert_close(
        &R.matmul(&a, &b, MatmulSpec::new(2, 2, 2)).unwrap(),
        &[19.0, 22.0, 43.0, 50.0],
    );
    let ta = MatmulSpec {
        trans_a: true,
        ..MatmulSpec::new(2, 2, 2)
    };
    // Aᵀ·B with Aᵀ = [[1, 3], [2, 4]].
    assert_close(&R.matmul(&a, &b, ta).unwrap(), &[26.0, 30.0, 38.0, 44.0]);
    let tb = MatmulSpec {
        trans_b: true,
        ..MatmulSpec::new(2, 2, 2)
    };
    // A·Bᵀ with Bᵀ = [[5, 7], [6, 8]].
    assert_close(&R.matmul(&a, &b, tb).unwrap(), &[17.0, 23.0, 39.0, 53.0]);
    // Two 1×2 rows of A against one shared 2×1 B.
    let shared = MatmulSpec {
        batch: 2,
        m: 1,
        n: 1,
        k: 2,
        trans_a: false,
        trans_b: false,
        stride_a: 2,
        stride_b: 0,
    };
    assert_close(
        &R.matmul(&a, &buf(&[1.0, 10.0]), shared).unwrap(),
        &[21.0, 43.0],
    );
    let with_bias = R.matmul_bias(&a, &b, &buf(&[1.0, -1.0]), MatmulSpec::new(2, 2, 2));
    assert_close(&with_bias.unwrap(), &[20.0, 21.0, 44.0, 49.0]);
    let empty_inner = R
        .matmul(&buf(&[]), &buf(&[]), MatmulSpec::new(2, 3, 0))
        .unwrap();
    assert_close(&empty_inner, &[0.0; 6]);
    assert_close(
        &R.sum_rows(&buf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 3, 2)
            .unwrap(),
        &[9.0, 12.0],
    );
    assert!(matches!(
        R.matmul(&a, &buf(&[1.0]), MatmulSpec::new(2, 2, 2)),
        Err(BackendError::LengthMismatch { .. })
    ));
}

#[test]
fn softmax_family_matches_hand_values_even_at_large_offsets() {
    let ln3 = 3.0f32.ln();
    let x = buf(&[0.0, ln3]);
    assert_close(&R.softmax(&x, 1, 2).unwrap(), &[0.25, 0.75]);
    assert_close(
        &R.log_softmax(&x, 1, 2).unwrap(),
        &[-1.386_294_4, -0.287_682_1],
    );
    assert_close(
        &R.softmax(&buf(&[1e4, 1e4, -1e4]), 1, 3).unwrap(),
        &[0.5, 0.5, 0.0],
    );
    let y = buf(&[0.25, 0.75]);
    assert_close(
        &R.softmax_backward(&y, &buf(&[1.0, 0.0]), 1, 2).unwrap(),
        &[0.1875, -0.1875],
    );
    let log_y = buf(&[0.25f32.ln(), 0.75f32.ln()]);
    assert_close(
        &R.log_softmax_backward(&log_y, &buf(&[1.0, 0.0]), 1, 2)
            .unwrap(),
        &[0.75, -0.75],
    );

    let (loss, probs) = R
        .softmax_cross_entropy(&x, &buf(&[1.0]), 1, 2, 0.0)
        .unwrap();
    assert_close(&loss, &[0.287_682_1]);
    assert_close(&probs, &[0.25, 0.75]);
    // Smoothing 0.2 over 2 classes: target [0.1, 0.9].
    let (smoothed, _) = R
        .softmax_cross_entropy(&x, &buf(&[1.0]), 1, 2, 0.2)
        .unwrap();
    assert_close(&smoothed, &[0.397_543_3]);
    let d = R
        .softmax_cross_entropy_backward(&y, &buf(&[1.0]), &buf(&[2.0]), 1, 2, 0.0)
        .unwrap();
    assert_close(&d, &[0.5, -0.5]);
    let d = R
        .softmax_cross_entropy_backward(&y, &buf(&[1.0]), &buf(&[2.0]), 1, 2, 0.2)
        .unwrap();
    assert_close(&d, &[0.3, -0.3]);
    assert!(
        R.softmax_cross_entropy(&x, &buf(&[2.0]), 1, 2, 0.0)
            .is_err()
    );
    assert!(
        R.softmax_cross_entropy_backward(&y, &buf(&[-1.0]), &buf(&[1.0]), 1, 2, 0.0)
            .is_err()
    );
}

#[test]
fn random_ops_follow_the_counter_based_generator() {
    let u = R.random_uniform(5, 0.0, 1.0, 42).unwrap();
    let want: Vec<f32> = (0..5).map(|i| random::uniform_at(42, i)).collect();
    assert_eq!(u.0, want);
    let n = R.random_normal(5, 1.0, 2.0, 7).unwrap();
    let want: Vec<f32> = (0..5)
        .map(|i| 1.0 + 2.0 * random::normal_at(7, i))
        .collect();
    assert_close(&n, &want);
    let (y, mask) = R.dropout(&buf(&[1.0; 1000]), 0.5, 3).unwrap();
    assert!(mask.0.iter().all(|&m| m == 0.0 || m == 2.0));
    for (i, &m) in mask.0.iter().enumerate() {
        assert_eq!(m == 2.0, random::uniform_at(3, i as u64) >= 0.5);
    }
    assert_eq!(y.0, mask.0);
    let kept = mask.0.iter().filter(|&&m| m != 0.0).count();
    assert!((400..600).contains(&kept), "kept {kept} of 1000 at p = 0.5");
}

fn sgd(momentum: f32, nesterov: bool, first_step: bool, weight_decay: f32) -> SgdSpec {
    SgdSpec {
        lr: 0.1,
        momentum,
        dampening: 0.0,
        weight_decay,
        nesterov,
        first_step,
    }
}

#[test]
fn sgd_matches_torch_by_hand() {
    let g = buf(&[0.5]);
    let step = |spec: SgdSpec, velocity: f32| {
        let (mut p, mut v) = (buf(&[1.0]), buf(&[velocity]));
        R.sgd_step(&mut p, &g, Some(&mut v), spec).unwrap();
        (p.0[0], v.0[0])
    };
    let close = |(p, v): (f32, f32), (want_p, want_v): (f32, f32)| {
        assert!(
            (p - want_p).abs() < 1e-6 && (v - want_v).abs() < 1e-6,
            "({p}, {v})"
        );
    };
    // Plain: p − lr·g.
    close(step(sgd(0.0, false, true, 0.0), 0.0), (0.95, 0.0));
    // First momentum step: the velocity becomes g, whatever it held.
    close(step(sgd(0.9, false, true, 0.0), 123.0), (0.95, 0.5));
    // Later step: buf = 0.9·0.5 + 0.5 = 0.95.
    close(step(sgd(0.9, false, false, 0.0), 0.5), (0.905, 0.95));
    // Nesterov first step: g + 0.9·g = 0.95.
    close(step(sgd(0.9, true, true, 0.0), 0.0), (0.905, 0.5));
    // Weight decay 0.1 on p = 1: g = 0.6.
    close(step(sgd(0.0, false, true, 0.1), 0.0), (0.94, 0.0));
    let mut p = buf(&[1.0]);
    assert!(
        R.sgd_step(&mut p, &g, None, sgd(0.9, false, true, 0.0))
            .is_err()
    );
}

#[test]
fn adam_and_adamw_match_torch_by_hand() {
    let spec = AdamSpec {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        decoupled_weight_decay: false,
        step: 1,
    };
    let step = |spec: AdamSpec| {
        let (mut p, mut m, mut v) = (buf(&[1.0]), buf(&[0.0]), buf(&[0.0]));
        R.adam_step(&mut p, &buf(&[0.5]), &mut m, &mut v, spec)
            .unwrap();
        (p.0[0], m.0[0], v.0[0])
    };
    // The first bias-corrected step moves by lr·sign(g): m = 0.05, v = 2.5e-4 (to f32's
    // 0.9 and 0.999, which are not exact).
    let (p, m, v) = step(spec);
    assert!(
        (p - 0.9).abs() < 1e-6 && (m - 0.05).abs() < 1e-7,
        "p {p}, m {m}"
    );
    assert!((v - 2.5e-4).abs() < 1e-8, "v {v}");
    // Adam's L2 decay changes the gradient (still lr·sign(g) at step 1).
    let (p, m, _) = step(AdamSpec {
        weight_decay: 0.1,
        ..spec
    });
    assert!((p - 0.9).abs() < 1e-6 && (m - 0.06).abs() < 1e-7);
    // AdamW shrinks the parameter first: 1·(1 − 0.1·0.1) − 0.1.
    let (p, m, _) = step(AdamSpec {
        weight_decay: 0.1,
        decoupled_weight_decay: true,
        ..spec
    });
    assert!((p - 0.89).abs() < 1e-6 && (m - 0.05).abs() < 1e-7);
}

#[test]
fn rmsprop_and_adagrad_match_torch_by_hand() {
    let spec = RmspropSpec {
        lr: 0.01,
        alpha: 0.99,
        eps: 0.0,
        weight_decay: 0.0,
        momentum: 0.0,
    };
    let (mut p, mut sq) = (buf(&[1.0]), buf(&[0.0]));
    R.rmsprop_step(&mut p, &buf(&[0.5]), &mut sq, None, spec)
        .unwrap();
    // sq = 0.01·0.25; p −= 0.01·0.5/0.05.
    assert_close(&sq, &[0.0025]);
    assert_close(&p, &[0.9]);
    let (mut p, mut sq, mut buf_m) = (buf(&[1.0]), buf(&[0.0]), buf(&[1.0]));
    R.rmsprop_step(
        &mut p,
        &buf(&[0.5]),
        &mut sq,
        Some(&mut buf_m),
        RmspropSpec {
            momentum: 0.9,
            ..spec
        },
    )
    .unwrap();
    // buf = 0.9·1 + 10 = 10.9; p −= 0.01·10.9.
    assert_close(&buf_m, &[10.9]);
    assert_close(&p, &[0.891]);

    let spec = AdagradSpec {
        lr: 0.1,
        lr_decay: 0.5,
        weight_decay: 0.0,
        eps: 0.0,
        step: 3,
    };
    let (mut p, mut sum) = (buf(&[1.0]), buf(&[0.75]));
    R.adagrad_step(&mut p, &buf(&[0.5]), &mut sum, spec)
        .unwrap();
    // clr = 0.1/(1 + 2·0.5) = 0.05; sum = 1; p −= 0.05·0.5/1.
    assert_close(&sum, &[1.0]);
    assert_close(&p, &[0.975]);
}

#[test]
fn in_place_ops_and_buffers_match_hand_values() {
    let mut x = buf(&[-3.0, 0.5, 2.0]);
    R.scale_in_place(&mut x, -2.0).unwrap();
    assert_close(&x, &[6.0, -1.0, -4.0]);
    R.clamp_in_place(&mut x, 1.5).unwrap();
    assert_close(&x, &[1.5, -1.0, -1.5]);
    assert!(R.clamp_in_place(&mut x, -1.0).is_err());
    R.add_assign(&mut x, &buf(&[1.0, 1.0, 1.0])).unwrap();
    assert_close(&x, &[2.5, 0.0, -0.5]);
    assert!(matches!(
        R.add_assign(&mut x, &buf(&[1.0])),
        Err(BackendError::LengthMismatch {
            expected: 3,
            found: 1,
            ..
        })
    ));
    assert_eq!(R.to_host(&R.full(2, 7.0).unwrap()).unwrap(), vec![7.0, 7.0]);
}

#[test]
fn reference_rnn_matches_hand_values_and_honours_lengths() {
    // Tanh cell, one feature, hidden 1: h1 = tanh(0.5·1 + 0.25·0) , h2 = tanh(0.5·2 + 0.25·h1).
    let spec = RnnSpec {
        cell: RnnCell::Tanh,
        batch: 2,
        seq_len: 2,
        input_size: 1,
        hidden_size: 1,
        reverse: false,
    };
    let buf = |v: &[f32]| RefBuffer(v.to_vec());
    let (x, wi, wh, zero, h0) = (
        buf(&[1.0, 2.0, 1.0, 2.0]),
        buf(&[0.5]),
        buf(&[0.25]),
        buf(&[0.0]),
        buf(&[0.0, 0.0]),
    );
    let lengths = buf(&[2.0, 1.0]);
    let operands = RnnOperands {
        x: &x,
        w_ih: &wi,
        w_hh: &wh,
        b_ih: &zero,
        b_hh: &zero,
        h0: &h0,
        c0: &h0,
        lengths: Some(&lengths),
    };
    let out = R.rnn_forward(spec, operands).unwrap().packed.0;
    let h1 = 0.5f32.tanh();
    let h2 = (1.0 + 0.25 * h1).tanh();
    // Row 0: outputs h1, h2, then h_n = h2. Row 1 (length 1): h1, 0 (padding), h_n = h1.
    let expected = [h1, h2, h2, h1, 0.0, h1];
    for (f, e) in out.iter().zip(expected) {
        assert!((f - e).abs() < 1e-6, "{out:?} vs {expected:?}");
    }
}
