//! Optimizer state: keyed by parameter name, saved and restored exactly, parameters without a
//! gradient skipped, and malformed state refused.

mod common;

use common::{G1, G2, W0, grads, param, values};
use strata_core::{Device, Param, Tensor};
use strata_optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};

fn keys(opt: &dyn Optimizer) -> Vec<String> {
    opt.state().into_iter().map(|(k, _)| k).collect()
}

/// Snapshot of a state, detached from the live buffers.
fn snapshot(opt: &dyn Optimizer) -> Vec<(String, Tensor)> {
    opt.state()
        .into_iter()
        .map(|(k, t)| (k, t.deep_clone().unwrap()))
        .collect()
}

fn host(state: &[(String, Tensor)]) -> Vec<(String, Vec<f32>)> {
    state
        .iter()
        .map(|(k, t)| (k.clone(), t.to_vec().unwrap()))
        .collect()
}

#[test]
fn state_keys_follow_pytorch_names() {
    let w = param("0.weight", &W0);
    let g = grads(&[(&w, &G1)]);
    let cases: Vec<(Box<dyn Optimizer>, Vec<&str>)> = vec![
        (Box::new(Sgd::new(0.1)), vec!["step", "0.weight.step"]),
        (
            Box::new(Sgd::new(0.1).momentum(0.9)),
            vec!["step", "0.weight.step", "0.weight.momentum_buffer"],
        ),
        (
            Box::new(Adam::new(0.1)),
            vec![
                "step",
                "0.weight.step",
                "0.weight.exp_avg",
                "0.weight.exp_avg_sq",
            ],
        ),
        (
            Box::new(RmsProp::new(0.1)),
            vec!["step", "0.weight.step", "0.weight.square_avg"],
        ),
        (
            Box::new(RmsProp::new(0.1).momentum(0.5)),
            vec![
                "step",
                "0.weight.step",
                "0.weight.square_avg",
                "0.weight.momentum_buffer",
            ],
        ),
        (
            Box::new(Adagrad::new(0.1)),
            vec!["step", "0.weight.step", "0.weight.sum"],
        ),
    ];
    for (mut opt, expected) in cases {
        opt.step(std::slice::from_ref(&w), &g).unwrap();
        assert_eq!(keys(opt.as_ref()), expected);
        assert_eq!(opt.step_count(), 1);
    }
}

#[test]
fn adam_state_holds_the_moments() {
    let w = param("w", &W0);
    let mut opt = Adam::new(0.1);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap();
    let state = host(&opt.state());
    // m = 0.1·g1, v = 0.001·g1², step counts [high, low] = [0, 1]
    assert_eq!(state[0], ("step".to_string(), vec![0.0, 1.0]));
    assert_eq!(state[1], ("w.step".to_string(), vec![0.0, 1.0]));
    common::assert_close(&state[2].1, &[0.05, 0.025], 1e-7);
    // (1 − 0.999) is 0.00099998713 in f32, as in PyTorch: hence the 1e-8 tolerance.
    common::assert_close(&state[3].1, &[0.00025, 0.0000625], 1e-8);
}

/// Steps `make()` once, saves, restores into a fresh optimizer with fresh parameters holding
/// the same values, then steps both: they must agree exactly.
fn round_trip(make: impl Fn() -> Box<dyn Optimizer>) {
    let a = param("layer.a", &W0);
    let b = param("layer.b", &[0.5, 1.5, -0.5]);
    let params = [a.clone(), b.clone()];
    let mut original = make();
    original
        .step(&params, &grads(&[(&a, &G1), (&b, &[0.1, -0.2, 0.3])]))
        .unwrap();
    let saved = snapshot(original.as_ref());

    let copy = |p: &Param| Param::new(p.name(), p.tensor().deep_clone().unwrap());
    let (a2, b2) = (copy(&a), copy(&b));
    let mut restored = make();
    restored.load_state(&saved).unwrap();
    assert_eq!(restored.step_count(), 1);

    original
        .step(&params, &grads(&[(&a, &G2), (&b, &[-0.3, 0.2, 0.1])]))
        .unwrap();
    restored
        .step(
            &[a2.clone(), b2.clone()],
            &grads(&[(&a2, &G2), (&b2, &[-0.3, 0.2, 0.1])]),
        )
        .unwrap();
    assert_eq!(values(&a), values(&a2));
    assert_eq!(values(&b), values(&b2));
    assert_eq!(host(&original.state()), host(&restored.state()));
    assert_eq!(restored.step_count(), 2);
}

#[test]
fn sgd_momentum_state_round_trips() {
    round_trip(|| Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true)));
}

#[test]
fn adam_state_round_trips() {
    round_trip(|| Box::new(Adam::new(0.01)));
}

#[test]
fn adamw_state_round_trips() {
    round_trip(|| Box::new(AdamW::new(0.01)));
}

#[test]
fn rmsprop_state_round_trips() {
    round_trip(|| Box::new(RmsProp::new(0.01).momentum(0.9)));
}

#[test]
fn adagrad_state_round_trips() {
    round_trip(|| Box::new(Adagrad::new(0.1).lr_decay(0.1)));
}

#[test]
fn a_parameter_without_gradient_is_skipped_and_gets_no_state() {
    let a = param("a", &W0);
    let b = param("b", &[3.0, 4.0]);
    let mut opt = Adam::new(0.1);
    opt.step(&[a.clone(), b.clone()], &grads(&[(&a, &G1)]))
        .unwrap();
    assert_eq!(values(&b), vec![3.0, 4.0]);
    assert_eq!(keys(&opt), ["step", "a.step", "a.exp_avg", "a.exp_avg_sq"]);
    // b's first update later uses bias correction for its own first step: w −= lr·sign(g)
    opt.step(
        &[a.clone(), b.clone()],
        &grads(&[(&a, &G2), (&b, &[1.0, -1.0])]),
    )
    .unwrap();
    common::assert_close(&values(&b), &[2.9, 4.1], 1e-6);
}

#[test]
fn a_gradient_of_the_wrong_shape_is_refused_before_any_update() {
    let a = param("a", &W0);
    let b = param("b", &[3.0, 4.0]);
    let mut opt = Sgd::new(0.1);
    let err = opt
        .step(
            &[a.clone(), b.clone()],
            &grads(&[(&a, &G1), (&b, &[1.0, 2.0, 3.0])]),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`b`") && err.contains("[3]") && err.contains("[2]"),
        "{err}"
    );
    assert_eq!(values(&a), W0.to_vec());
    assert_eq!(opt.step_count(), 0);
}

#[test]
fn two_parameters_with_one_name_are_refused() {
    let a = param("same", &W0);
    let b = param("same", &[3.0, 4.0]);
    let mut opt = Adam::new(0.1);
    let err = opt
        .step(&[a.clone(), b.clone()], &grads(&[(&a, &G1), (&b, &G1)]))
        .unwrap_err();
    assert!(err.to_string().contains("`same`"), "{err}");
    assert_eq!(values(&a), W0.to_vec());
}

#[test]
fn an_unknown_key_is_refused_and_keeps_the_state() {
    let w = param("w", &W0);
    let mut opt = Adam::new(0.1);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap();
    let before = host(&opt.state());
    let mut bad = snapshot(&opt);
    bad.push((
        "w.momentum_buffer".into(),
        Tensor::zeros([2], &Device::cpu()).unwrap(),
    ));
    let err = opt.load_state(&bad).unwrap_err().to_string();
    assert!(err.contains("w.momentum_buffer"), "{err}");
    assert_eq!(host(&opt.state()), before);
}

#[test]
fn a_missing_buffer_is_refused() {
    let w = param("w", &W0);
    let mut opt = Adam::new(0.1);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap();
    let partial: Vec<_> = snapshot(&opt)
        .into_iter()
        .filter(|(k, _)| k != "w.exp_avg_sq")
        .collect();
    let err = Adam::new(0.1).load_state(&partial).unwrap_err().to_string();
    assert!(err.contains("w.exp_avg_sq"), "{err}");
}

#[test]
fn a_restored_buffer_of_the_wrong_shape_is_reported_at_the_next_step() {
    let w = param("w", &W0);
    let mut opt = Sgd::new(0.1).momentum(0.9);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap();
    let bad: Vec<_> = snapshot(&opt)
        .into_iter()
        .map(|(k, t)| {
            if k == "w.momentum_buffer" {
                (k, Tensor::zeros([3], &Device::cpu()).unwrap())
            } else {
                (k, t)
            }
        })
        .collect();
    let mut restored = Sgd::new(0.1).momentum(0.9);
    restored.load_state(&bad).unwrap();
    let err = restored
        .step(std::slice::from_ref(&w), &grads(&[(&w, &G2)]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("w.momentum_buffer"), "{err}");
}

#[test]
fn loading_an_empty_state_needs_the_step_count() {
    let err = Adam::new(0.1).load_state(&[]).unwrap_err().to_string();
    assert!(err.contains("`step`"), "{err}");
}

#[test]
fn state_buffers_are_allocated_once_and_updated_in_place() {
    let w = param("w", &W0);
    let mut opt = Adam::new(0.1);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap();
    let ids = |opt: &Adam| -> Vec<_> {
        opt.state()
            .into_iter()
            .filter(|(k, _)| k.starts_with("w.exp"))
            .map(|(_, t)| t.id())
            .collect()
    };
    let first = ids(&opt);
    let before = host(&opt.state());
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G2)]))
        .unwrap();
    assert_eq!(ids(&opt), first, "the moment buffers were reallocated");
    assert_ne!(
        host(&opt.state()),
        before,
        "the moment buffers were not updated"
    );
}
