//! Invalid hyperparameters are reported by the first step, naming the setting, and change
//! nothing.

mod common;

use common::{G1, W0, grads, param, values};
use strata_optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};

fn step_error(mut opt: impl Optimizer) -> String {
    let w = param("w", &W0);
    let err = opt
        .step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        values(&w),
        W0.to_vec(),
        "a refused step changed the parameter"
    );
    assert_eq!(opt.step_count(), 0);
    err
}

#[test]
fn negative_learning_rate_is_refused() {
    assert!(step_error(Sgd::new(-0.1)).contains("lr"));
    assert!(step_error(Adam::new(-1.0)).contains("lr"));
    assert!(step_error(RmsProp::new(-1.0)).contains("lr"));
    assert!(step_error(Adagrad::new(-1.0)).contains("lr"));
}

#[test]
fn nan_learning_rate_set_later_is_refused() {
    let mut opt = AdamW::new(0.1);
    opt.set_learning_rate(f32::NAN);
    assert!(step_error(opt).contains("lr"));
}

#[test]
fn betas_outside_unit_interval_are_refused() {
    assert!(step_error(Adam::new(0.1).betas(1.0, 0.999)).contains("beta1"));
    assert!(step_error(AdamW::new(0.1).betas(0.9, -0.1)).contains("beta2"));
}

#[test]
fn nesterov_without_momentum_is_refused() {
    assert!(step_error(Sgd::new(0.1).nesterov(true)).contains("Nesterov"));
    assert!(
        step_error(Sgd::new(0.1).momentum(0.9).dampening(0.1).nesterov(true)).contains("dampening")
    );
}

#[test]
fn negative_decays_and_eps_are_refused() {
    assert!(step_error(Sgd::new(0.1).weight_decay(-1.0)).contains("weight_decay"));
    assert!(step_error(Sgd::new(0.1).momentum(-0.5)).contains("momentum"));
    assert!(step_error(Adam::new(0.1).eps(-1e-8)).contains("eps"));
    assert!(step_error(RmsProp::new(0.1).alpha(-0.9)).contains("alpha"));
    assert!(step_error(Adagrad::new(0.1).lr_decay(-0.1)).contains("lr_decay"));
    assert!(
        step_error(Adagrad::new(0.1).initial_accumulator_value(-1.0))
            .contains("initial_accumulator_value")
    );
}

#[test]
fn defaults_match_torch_optim() {
    // AdamW's default weight decay is 0.01: one step from w = 1 with a tiny lr moves w by
    // lr·(0.01·w + 1) (decay plus a unit Adam step).
    let w = param("w", &[1.0]);
    let mut opt = AdamW::new(0.001);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &[2.0])]))
        .unwrap();
    common::assert_close(&values(&w), &[1.0 - 0.001 * 0.01 - 0.001], 2e-7);
    assert_eq!(opt.learning_rate(), 0.001);
}
