//! Training sanity: each optimizer, driven by autograd, minimises f(w) = Σ(w − c)² from 0.

use strata_core::{Device, Param, Result, Tensor};
use strata_optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Schedule, Scheduler, Sgd};

const TARGET: [f32; 4] = [1.0, -2.0, 3.0, 0.5];

/// Runs `steps` steps of `opt` (with `schedule` when given) and returns the final loss.
fn minimise(opt: &mut dyn Optimizer, steps: usize, schedule: Option<Schedule>) -> Result<f32> {
    let dev = Device::cpu();
    let w = Param::new("w", Tensor::zeros([4], &dev)?);
    let c = Tensor::from_slice(&TARGET, [4], &dev)?;
    let params = [w.clone()];
    let loss_of = || w.tensor().sub(&c)?.square()?.sum_all();
    let mut scheduler = match schedule {
        Some(s) => Some(Scheduler::attach(s, opt)?),
        None => None,
    };
    let initial = loss_of()?.to_scalar()?;
    assert!((initial - 14.25).abs() < 1e-5, "Σc² = 14.25, got {initial}");
    for _ in 0..steps {
        let grads = loss_of()?.backward()?;
        opt.step(&params, &grads)?;
        if let Some(s) = scheduler.as_mut() {
            s.step(opt);
        }
    }
    loss_of()?.to_scalar()
}

#[test]
fn sgd_minimises_a_quadratic() {
    assert!(minimise(&mut Sgd::new(0.1), 100, None).unwrap() < 1e-6);
}

#[test]
fn sgd_nesterov_minimises_a_quadratic() {
    let opt = &mut Sgd::new(0.05).momentum(0.9).nesterov(true);
    assert!(minimise(opt, 200, None).unwrap() < 1e-6);
}

#[test]
fn adam_minimises_a_quadratic() {
    let loss = minimise(
        &mut Adam::new(0.1),
        500,
        Some(Schedule::cosine_annealing(500, 0.0)),
    )
    .unwrap();
    assert!(loss < 1e-4, "{loss}");
}

#[test]
fn adamw_minimises_a_quadratic() {
    // Decoupled decay pulls towards 0, so the minimum moves slightly; 1e-3 allows for it.
    let loss = minimise(
        &mut AdamW::new(0.1).weight_decay(1e-4),
        500,
        Some(Schedule::cosine_annealing(500, 0.0)),
    )
    .unwrap();
    assert!(loss < 1e-3, "{loss}");
}

#[test]
fn rmsprop_minimises_a_quadratic() {
    let loss = minimise(
        &mut RmsProp::new(0.05),
        500,
        Some(Schedule::cosine_annealing(500, 0.0)),
    )
    .unwrap();
    assert!(loss < 1e-4, "{loss}");
}

#[test]
fn adagrad_minimises_a_quadratic() {
    let loss = minimise(&mut Adagrad::new(0.5), 500, None).unwrap();
    assert!(loss < 1e-4, "{loss}");
}
