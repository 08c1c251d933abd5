//! Each optimizer against single and double steps computed by hand from the `torch.optim`
//! formulas, from `w = [1, -2]` with gradients `[0.5, 0.25]` then `[1, -1]`.

mod common;

use common::{assert_close, two_steps};
use strata_optim::{Adagrad, Adam, AdamW, RmsProp, Sgd};

const TOL: f64 = 1e-6;

#[test]
fn sgd_plain_step_is_lr_times_gradient() {
    // w − 0.1·g: [1 − 0.05, −2 − 0.025], then [0.95 − 0.1, −2.025 + 0.1]
    let (first, second) = two_steps(&mut Sgd::new(0.1));
    assert_close(&first, &[0.95, -2.025], TOL);
    assert_close(&second, &[0.85, -1.925], TOL);
}

#[test]
fn sgd_momentum_starts_from_the_gradient_then_accumulates() {
    // b1 = g1 = [0.5, 0.25]; w = [0.95, −2.025]
    // b2 = 0.9·b1 + g2 = [1.45, −0.775]; w = [0.95 − 0.145, −2.025 + 0.0775]
    let (first, second) = two_steps(&mut Sgd::new(0.1).momentum(0.9));
    assert_close(&first, &[0.95, -2.025], TOL);
    assert_close(&second, &[0.805, -1.9475], TOL);
}

#[test]
fn sgd_dampening_scales_the_new_gradient_after_the_first_step() {
    // lr 1, μ 0.5, τ 0.5: b1 = g1 (no dampening on the first step); w = [0.5, −2.25]
    // b2 = 0.5·b1 + 0.5·g2 = [0.75, −0.375]; w = [−0.25, −1.875]
    let (first, second) = two_steps(&mut Sgd::new(1.0).momentum(0.5).dampening(0.5));
    assert_close(&first, &[0.5, -2.25], TOL);
    assert_close(&second, &[-0.25, -1.875], TOL);
}

#[test]
fn sgd_nesterov_with_weight_decay() {
    // step 1: g = g1 + 0.1·w = [0.6, 0.05]; b = g; w −= 0.1·(g + 0.9b) = 0.1·[1.14, 0.095]
    // step 2: g = g2 + 0.1·[0.886, −2.0095] = [1.0886, −1.20095];
    //         b = 0.9·[0.6, 0.05] + g = [1.6286, −1.15595];
    //         w −= 0.1·(g + 0.9b) = 0.1·[2.55434, −2.241305]
    let (first, second) =
        two_steps(&mut Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(0.1));
    assert_close(&first, &[0.886, -2.0095], TOL);
    assert_close(&second, &[0.630566, -1.7853695], TOL);
}

#[test]
fn adam_two_steps_with_bias_correction() {
    // step 1: m̂ = g1, √v̂ = |g1| so w −= 0.1·sign(g1)
    // step 2: m = [0.145, −0.0775], v = [0.00124975, 0.0010624375],
    //         w −= 0.1/0.19 · m / (√v/√0.001999 + 1e-8)
    let (first, second) = two_steps(&mut Adam::new(0.1));
    assert_close(&first, &[0.9, -2.1], TOL);
    assert_close(&second, &[0.8034818006, -2.0440496474], TOL);
}

#[test]
fn adam_weight_decay_is_added_to_the_gradient() {
    // g = g1 + 1.0·w = [1.5, −1.75]: the step follows the sign of the decayed gradient
    let w = common::param("w", &common::W0);
    let mut opt = Adam::new(0.1).weight_decay(1.0);
    strata_optim::Optimizer::step(
        &mut opt,
        std::slice::from_ref(&w),
        &common::grads(&[(&w, &common::G1)]),
    )
    .unwrap();
    assert_close(&common::values(&w), &[0.9, -1.9], TOL);
}

#[test]
fn adamw_decays_the_weights_before_the_adam_update() {
    // w ← w·(1 − 0.1·0.1), then the Adam step: [0.99 − 0.1, −1.98 − 0.1]
    // step 2: [0.89·0.99, −2.08·0.99] minus the Adam step of the first test
    let (first, second) = two_steps(&mut AdamW::new(0.1).weight_decay(0.1));
    assert_close(&first, &[0.89, -2.08], TOL);
    assert_close(&second, &[0.7845818006, -2.0032496474], TOL);
}

#[test]
fn rmsprop_two_steps() {
    // s1 = 0.01·g1² so √s1 = 0.1·|g1| and w −= 0.01·10·sign(g1)
    // s2 = 0.99·s1 + 0.01·g2² = [0.012475, 0.01061875]; w −= 0.01·g2/(√s2 + 1e-8)
    let (first, second) = two_steps(&mut RmsProp::new(0.01));
    assert_close(&first, &[0.9, -2.1], TOL);
    assert_close(&second, &[0.8104677318, -2.0029571732], TOL);
}

#[test]
fn rmsprop_momentum_accumulates_the_normalised_gradient() {
    // b1 = g1/(√s1 + ε) = [10, 10]; b2 = 0.9·b1 + g2/(√s2 + ε)
    let (first, second) = two_steps(&mut RmsProp::new(0.01).momentum(0.9));
    assert_close(&first, &[0.9, -2.1], TOL);
    assert_close(&second, &[0.7204677498, -2.0929571372], TOL);
}

#[test]
fn adagrad_two_steps_with_lr_decay() {
    // step 1: clr = 0.1, sum = g1², w −= 0.1·sign(g1)
    // step 2: clr = 0.1/(1 + 0.5), sum = [1.25, 1.0625], w −= clr·g2/√sum
    let (first, second) = two_steps(&mut Adagrad::new(0.1).lr_decay(0.5));
    assert_close(&first, &[0.9, -2.1], TOL);
    assert_close(&second, &[0.8403715206, -2.0353238333], TOL);
}

#[test]
fn adagrad_initial_accumulator_value_starts_the_sum() {
    // sum = 0.75 + g1² = [1, 0.8125]; w −= 0.1·g1/√sum
    let (first, _) = two_steps(&mut Adagrad::new(0.1).initial_accumulator_value(0.75));
    assert_close(&first, &[0.95, -2.0277350098], TOL);
}
