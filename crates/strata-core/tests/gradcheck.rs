//! Finite-difference gradient checks for every differentiable op of strata-core.

use strata_core::gradcheck::{GradCheckConfig, check_gradients};
use strata_core::{Device, Result, Tensor};

fn dev() -> Device {
    Device::Cpu
}

fn t(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape.to_vec(), -1.0, 1.0, seed, &dev()).unwrap()
}

/// Values bounded away from zero (for log, sqrt, recip, pow and the kinks of relu/abs).
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let base = Tensor::rand_uniform(shape.to_vec(), 0.3, 1.5, seed, &dev()).unwrap();
    let sign = Tensor::rand_uniform(shape.to_vec(), -1.0, 1.0, seed + 1, &dev())
        .unwrap()
        .sign()
        .unwrap();
    base.mul(&sign).unwrap()
}

fn positive(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape.to_vec(), 0.5, 2.0, seed, &dev()).unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    if let Err(e) = check_gradients(f, inputs, GradCheckConfig::default()) {
        panic!("{e}");
    }
}

#[test]
fn unary_ops_match_finite_differences() {
    let x = away_from_zero(&[3, 4], 1);
    let p = positive(&[3, 4], 2);
    check(|v| v[0].neg(), std::slice::from_ref(&x));
    check(|v| v[0].abs(), std::slice::from_ref(&x));
    check(|v| v[0].exp(), std::slice::from_ref(&x));
    check(|v| v[0].log(), std::slice::from_ref(&p));
    check(|v| v[0].log1p(), std::slice::from_ref(&p));
    check(|v| v[0].sqrt(), std::slice::from_ref(&p));
    check(|v| v[0].square(), std::slice::from_ref(&x));
    check(|v| v[0].recip(), std::slice::from_ref(&p));
    check(|v| v[0].relu(), std::slice::from_ref(&x));
    check(|v| v[0].leaky_relu(0.1), std::slice::from_ref(&x));
    check(|v| v[0].elu(0.7), std::slice::from_ref(&x));
    check(|v| v[0].gelu(), std::slice::from_ref(&x));
    check(|v| v[0].sigmoid(), std::slice::from_ref(&x));
    check(|v| v[0].tanh(), std::slice::from_ref(&x));
    check(|v| v[0].softplus(), std::slice::from_ref(&x));
}

#[test]
fn broadcasting_binary_ops_match_finite_differences() {
    let a = t(&[2, 3, 4], 3);
    let row = t(&[4], 4);
    let col = t(&[2, 1, 4], 5);
    let pa = positive(&[2, 3, 4], 6);
    let pb = positive(&[3, 1], 7);
    check(|v| v[0].add(&v[1]), &[a.clone(), row.clone()]);
    check(|v| v[0].sub(&v[1]), &[a.clone(), col.clone()]);
    check(|v| v[0].mul(&v[1]), &[a.clone(), col.clone()]);
    check(|v| v[0].div(&v[1]), &[a.clone(), pb.clone()]);
    check(|v| v[0].pow(&v[1]), &[pa.clone(), pb.clone()]);
    // maximum/minimum: operands far apart so no tie sits within the finite-difference step
    let hi = a.add_scalar(3.0).unwrap();
    check(|v| v[0].maximum(&v[1]), &[hi.clone(), row.clone()]);
    check(|v| v[0].minimum(&v[1]), &[hi, row]);
}

#[test]
fn scalar_ops_match_finite_differences() {
    let x = away_from_zero(&[5], 8);
    let p = positive(&[5], 9);
    check(|v| v[0].add_scalar(2.0), std::slice::from_ref(&x));
    check(|v| v[0].mul_scalar(-1.5), std::slice::from_ref(&x));
    check(|v| v[0].div_scalar(4.0), std::slice::from_ref(&x));
    check(|v| v[0].rsub_scalar(1.0), std::slice::from_ref(&x));
    check(|v| v[0].rdiv_scalar(2.0), std::slice::from_ref(&p));
    check(|v| v[0].powf(2.5), std::slice::from_ref(&p));
    check(|v| v[0].clamp(-0.2, 0.2), &[x]);
}

#[test]
fn reductions_match_finite_differences() {
    let x = t(&[2, 3, 4], 10);
    check(|v| v[0].sum(&[1]), std::slice::from_ref(&x));
    check(|v| v[0].sum(&[0, 2]), std::slice::from_ref(&x));
    check(|v| v[0].mean(&[2]), std::slice::from_ref(&x));
    check(|v| v[0].mean_all(), std::slice::from_ref(&x));
    check(|v| v[0].sum_all(), std::slice::from_ref(&x));
    check(|v| v[0].max(&[1]), std::slice::from_ref(&x));
    check(|v| v[0].min(&[0, 2]), &[x]);
}

#[test]
fn matmul_and_linear_match_finite_differences() {
    let a = t(&[3, 4], 11);
    let b = t(&[4, 5], 12);
    check(|v| v[0].matmul(&v[1]), &[a.clone(), b.clone()]);
    let ba = t(&[2, 3, 4], 13);
    let bb = t(&[2, 4, 2], 14);
    check(|v| v[0].matmul(&v[1]), &[ba.clone(), bb]);
    check(|v| v[0].matmul(&v[1]), &[ba, b.clone()]);
    check(|v| v[0].matmul(&v[1]), &[a.clone(), t(&[2, 4, 3], 15)]);
    let w = t(&[5, 4], 16);
    let bias = t(&[5], 17);
    check(
        |v| v[0].linear(&v[1], Some(&v[2])),
        &[a.clone(), w.clone(), bias],
    );
    check(|v| v[0].linear(&v[1], None), &[t(&[2, 3, 4], 18), w]);
}

#[test]
fn layout_ops_match_finite_differences() {
    let x = t(&[2, 3, 4], 19);
    check(|v| v[0].permute(&[2, 0, 1]), std::slice::from_ref(&x));
    check(|v| v[0].transpose(0, 2), std::slice::from_ref(&x));
    check(|v| v[0].reshape(vec![6, 4]), std::slice::from_ref(&x));
    check(
        |v| v[0].broadcast_as(vec![5, 2, 3, 4]),
        std::slice::from_ref(&x),
    );
    check(|v| v[0].narrow(1, 1, 2), std::slice::from_ref(&x));
    check(
        |v| Tensor::cat(&[v[0].clone(), v[1].clone()], 1),
        &[x.clone(), t(&[2, 2, 4], 20)],
    );
    check(|v| v[0].flatten_from(1), &[x]);
    let table = t(&[5, 3], 21);
    let idx = Tensor::from_vec(vec![4.0, 0.0, 4.0, 2.0], [4], &dev()).unwrap();
    check(move |v| v[0].index_select_rows(&idx), &[table]);
}

#[test]
fn softmax_family_matches_finite_differences() {
    let x = t(&[3, 5], 22).mul_scalar(3.0).unwrap();
    check(|v| v[0].softmax(), std::slice::from_ref(&x));
    check(|v| v[0].log_softmax(), std::slice::from_ref(&x));
    let labels = Tensor::from_vec(vec![0.0, 4.0, 2.0], [3], &dev()).unwrap();
    let l2 = labels.clone();
    check(
        move |v| v[0].cross_entropy_per_row(&labels, 0.0),
        std::slice::from_ref(&x),
    );
    check(move |v| v[0].cross_entropy_per_row(&l2, 0.2), &[x]);
}

#[test]
fn where_cond_and_dropout_match_finite_differences() {
    let mask = Tensor::from_vec(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], [2, 3], &dev()).unwrap();
    check(
        move |v| Tensor::where_cond(&mask, &v[0], &v[1]),
        &[t(&[2, 3], 23), t(&[3], 24)],
    );
    // A fixed seed fixes the mask, so dropout is a deterministic function of its input.
    check(|v| v[0].dropout(0.3, 99), &[t(&[4, 5], 25)]);
}

#[test]
fn composite_expression_matches_finite_differences() {
    // A small network written out by hand: shared inputs, fan-out and re-use of one tensor.
    let x = t(&[4, 3], 26);
    let w1 = t(&[5, 3], 27);
    let w2 = t(&[2, 5], 28);
    check(
        |v| {
            let h = v[0].linear(&v[1], None)?.tanh()?;
            let y = h.linear(&v[2], None)?;
            y.mul(&y)?.add(&h.sum_keepdim(&[1])?)
        },
        &[x, w1, w2],
    );
}
