//! Properties of `OptimizerOps`: one to three consecutive fused steps of SGD (momentum,
//! Nesterov, weight decay, first step), Adam and AdamW, RMSprop and Adagrad match
//! `torch.optim`'s formulas for the parameter and every state buffer; `scale_in_place` and
//! `clamp_in_place`; refusal of mismatched lengths and of a missing momentum buffer.

use proptest::prelude::*;
use strata_backend::{
    AdagradSpec, AdamSpec, Backend, BufferOps, OptimizerOps, RmspropSpec, SgdSpec,
};

use super::{download, filler, length_mismatches, upload, wrong_len};
use crate::compare::{Expected, Tolerance};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{adagrad_spec, adam_spec, element_in, rmsprop_spec, sgd_spec, values_in};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Optimizer;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "sgd_step", sgd_step::<B>),
        Property::new(FAMILY, "adam_step", adam_step::<B>),
        Property::new(FAMILY, "rmsprop_step", rmsprop_step::<B>),
        Property::new(FAMILY, "adagrad_step", adagrad_step::<B>),
        Property::new(FAMILY, "scale_in_place", scale_in_place::<B>),
        Property::new(FAMILY, "clamp_in_place", clamp_in_place::<B>),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
        Property::new(
            FAMILY,
            "rejects_missing_momentum_buffer",
            rejects_missing_momentum_buffer::<B>,
        ),
    ]
}

/// Parameter lengths: empty, short, past SIMD widths.
fn lengths() -> BoxedStrategy<usize> {
    prop_oneof![1 => Just(0usize), 1 => Just(1usize), 4 => 2usize..=17, 2 => 18usize..=300].boxed()
}

/// An optimizer run: the spec of the first step, the parameter, the initial state buffers and
/// one gradient per step (1..=3 steps).
#[derive(Debug, Clone)]
struct StepCase<Spec> {
    spec: Spec,
    param: Vec<f32>,
    state: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
}

/// Cases from a spec strategy; `initial_state(spec, n)` draws the state buffers a run starts
/// from.
fn step_cases<Spec: Clone + std::fmt::Debug + 'static>(
    specs: BoxedStrategy<Spec>,
    initial_state: impl Fn(&Spec, usize) -> Vec<BoxedStrategy<Vec<f32>>> + 'static,
) -> impl Strategy<Value = StepCase<Spec>> {
    (specs, lengths(), 1usize..=3)
        .prop_flat_map(move |(spec, n, steps)| {
            let state = initial_state(&spec, n);
            let grads = prop::collection::vec(values_in(n, -1.0, 1.0), steps);
            (Just(spec), values_in(n, -2.0, 2.0), state, grads)
        })
        .prop_map(|(spec, param, state, grads)| StepCase {
            spec,
            param,
            state,
            grads,
        })
}

/// Initial state buffers of length `n` with values in each of `ranges`.
fn states_in(n: usize, ranges: &[(f32, f32)]) -> Vec<BoxedStrategy<Vec<f32>>> {
    ranges
        .iter()
        .map(|&(lo, hi)| values_in(n, lo, hi))
        .collect()
}

/// Compares each buffer after the run, relative to `|before| + |after − before|` (the value
/// and the change the step made).
fn check_buffers(
    names: &[&str],
    before: &[&[f32]],
    expected: &[&[f32]],
    found: &[Vec<f32>],
    tolerance: Tolerance,
) -> Result<(), String> {
    for (((name, before), expected), found) in names.iter().zip(before).zip(expected).zip(found) {
        let scale: Vec<f64> = before
            .iter()
            .zip(expected.iter())
            .map(|(&b, &e)| f64::from(b).abs() + (f64::from(e) - f64::from(b)).abs())
            .collect();
        Expected::new(name, &[before.len()], expected)
            .with_magnitude(&scale)
            .check(found, tolerance)?;
    }
    Ok(())
}

/// `sgd_step` matches torch's SGD over 1..=3 steps: with and without momentum, Nesterov,
/// dampening, weight decay, and a first step that must overwrite whatever the velocity held.
pub fn sgd_step<B: BufferOps + OptimizerOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = step_cases(sgd_spec(), |_: &SgdSpec, n| states_in(n, &[(-1.0, 1.0)]));
    run_property(config, FAMILY, "sgd_step", strategy, |case| {
        let with_velocity = case.spec.momentum != 0.0;
        let mut r_param = RefBuffer(case.param.clone());
        let mut r_velocity = RefBuffer(case.state[0].clone());
        let mut param = upload(backend, &case.param)?;
        let mut velocity = upload(backend, &case.state[0])?;
        for (i, grad) in case.grads.iter().enumerate() {
            let spec = SgdSpec {
                first_step: case.spec.first_step && i == 0,
                ..case.spec
            };
            ReferenceBackend
                .sgd_step(
                    &mut r_param,
                    &RefBuffer(grad.clone()),
                    with_velocity.then_some(&mut r_velocity),
                    spec,
                )
                .or_fail("reference sgd_step")?;
            backend
                .sgd_step(
                    &mut param,
                    &upload(backend, grad)?,
                    with_velocity.then_some(&mut velocity),
                    spec,
                )
                .or_fail(&format!("sgd_step (step {})", i + 1))?;
        }
        let found = [download(backend, &param)?, download(backend, &velocity)?];
        let buffers = if with_velocity { 2 } else { 1 };
        check_buffers(
            &["sgd_step param", "sgd_step velocity"][..buffers],
            &[&case.param, &case.state[0]],
            &[&r_param.0, &r_velocity.0],
            &found,
            config.tolerances.optimizer,
        )
    })
}

/// `adam_step` matches torch's Adam (L2 weight decay) and AdamW (decoupled) over 1..=3 steps
/// from step 1 (zero moments), a few steps in, or step 1000.
pub fn adam_step<B: BufferOps + OptimizerOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    // torch starts the moments at zero; later steps start from any moments (v ≥ 0).
    let moments = |spec: &AdamSpec, n: usize| {
        if spec.step == 1 {
            vec![Just(vec![0.0; n]).boxed(), Just(vec![0.0; n]).boxed()]
        } else {
            states_in(n, &[(-1.0, 1.0), (0.0, 1.0)])
        }
    };
    run_property(
        config,
        FAMILY,
        "adam_step",
        step_cases(adam_spec(), moments),
        |case| {
            let mut r = [
                RefBuffer(case.param.clone()),
                RefBuffer(case.state[0].clone()),
                RefBuffer(case.state[1].clone()),
            ];
            let mut b = [
                upload(backend, &case.param)?,
                upload(backend, &case.state[0])?,
                upload(backend, &case.state[1])?,
            ];
            for (i, grad) in case.grads.iter().enumerate() {
                let spec = AdamSpec {
                    step: case.spec.step + i as u64,
                    ..case.spec
                };
                let [p, m, v] = &mut r;
                ReferenceBackend
                    .adam_step(p, &RefBuffer(grad.clone()), m, v, spec)
                    .or_fail("reference adam_step")?;
                let [p, m, v] = &mut b;
                backend
                    .adam_step(p, &upload(backend, grad)?, m, v, spec)
                    .or_fail(&format!("adam_step (step {})", spec.step))?;
            }
            let found = b
                .iter()
                .map(|buf| download(backend, buf))
                .collect::<Result<Vec<_>, _>>()?;
            check_buffers(
                &["adam_step param", "adam_step m", "adam_step v"],
                &[&case.param, &case.state[0], &case.state[1]],
                &[&r[0].0, &r[1].0, &r[2].0],
                &found,
                config.tolerances.optimizer,
            )
        },
    )
}

/// `rmsprop_step` matches torch's RMSprop (not centered) over 1..=3 steps, with and without
/// momentum.
pub fn rmsprop_step<B: BufferOps + OptimizerOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = step_cases(rmsprop_spec(), |_: &RmspropSpec, n| {
        states_in(n, &[(0.0, 1.0), (-1.0, 1.0)])
    });
    run_property(config, FAMILY, "rmsprop_step", strategy, |case| {
        let with_momentum = case.spec.momentum != 0.0;
        let mut r = [
            RefBuffer(case.param.clone()),
            RefBuffer(case.state[0].clone()),
            RefBuffer(case.state[1].clone()),
        ];
        let mut b = [
            upload(backend, &case.param)?,
            upload(backend, &case.state[0])?,
            upload(backend, &case.state[1])?,
        ];
        for (i, grad) in case.grads.iter().enumerate() {
            let [p, sq, buf] = &mut r;
            ReferenceBackend
                .rmsprop_step(
                    p,
                    &RefBuffer(grad.clone()),
                    sq,
                    with_momentum.then_some(buf),
                    case.spec,
                )
                .or_fail("reference rmsprop_step")?;
            let [p, sq, buf] = &mut b;
            backend
                .rmsprop_step(
                    p,
                    &upload(backend, grad)?,
                    sq,
                    with_momentum.then_some(buf),
                    case.spec,
                )
                .or_fail(&format!("rmsprop_step (step {})", i + 1))?;
        }
        let found = b
            .iter()
            .map(|buf| download(backend, buf))
            .collect::<Result<Vec<_>, _>>()?;
        let buffers = if with_momentum { 3 } else { 2 };
        check_buffers(
            &[
                "rmsprop_step param",
                "rmsprop_step square_avg",
                "rmsprop_step momentum_buf",
            ][..buffers],
            &[&case.param, &case.state[0], &case.state[1]],
            &[&r[0].0, &r[1].0, &r[2].0],
            &found,
            config.tolerances.optimizer,
        )
    })
}

/// `adagrad_step` matches torch's Adagrad over 1..=3 steps, with learning-rate decay.
pub fn adagrad_step<B: BufferOps + OptimizerOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = step_cases(adagrad_spec(), |_: &AdagradSpec, n| {
        states_in(n, &[(0.0, 1.0)])
    });
    run_property(config, FAMILY, "adagrad_step", strategy, |case| {
        let mut r = [
            RefBuffer(case.param.clone()),
            RefBuffer(case.state[0].clone()),
        ];
        let mut b = [
            upload(backend, &case.param)?,
            upload(backend, &case.state[0])?,
        ];
        for (i, grad) in case.grads.iter().enumerate() {
            let spec = AdagradSpec {
                step: case.spec.step + i as u64,
                ..case.spec
            };
            let [p, sum] = &mut r;
            ReferenceBackend
                .adagrad_step(p, &RefBuffer(grad.clone()), sum, spec)
                .or_fail("reference adagrad_step")?;
            let [p, sum] = &mut b;
            backend
                .adagrad_step(p, &upload(backend, grad)?, sum, spec)
                .or_fail(&format!("adagrad_step (step {})", spec.step))?;
        }
        let found = b
            .iter()
            .map(|buf| download(backend, buf))
            .collect::<Result<Vec<_>, _>>()?;
        check_buffers(
            &["adagrad_step param", "adagrad_step sum"],
            &[&case.param, &case.state[0]],
            &[&r[0].0, &r[1].0],
            &found,
            config.tolerances.optimizer,
        )
    })
}

/// An in-place op on `x` with one constant (the scale or the limit).
#[derive(Debug, Clone)]
struct InPlaceCase {
    constant: f32,
    x: Vec<f32>,
}

/// `scale_in_place(x, s)` leaves `x · s` in `x`, for `s` of either sign and 0.
pub fn scale_in_place<B: BufferOps + OptimizerOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = (
        element_in(-4.0, 4.0),
        lengths().prop_flat_map(|n| values_in(n, -8.0, 8.0)),
    )
        .prop_map(|(constant, x)| InPlaceCase { constant, x });
    run_property(config, FAMILY, "scale_in_place", strategy, |case| {
        let mut expected = RefBuffer(case.x.clone());
        ReferenceBackend
            .scale_in_place(&mut expected, case.constant)
            .or_fail("reference scale_in_place")?;
        let mut x = upload(backend, &case.x)?;
        backend
            .scale_in_place(&mut x, case.constant)
            .or_fail("scale_in_place")?;
        Expected::new("scale_in_place", &[case.x.len()], &expected.0)
            .check(&download(backend, &x)?, config.tolerances.elementwise)
    })
}

/// `clamp_in_place(x, limit)` leaves `clamp(x, −limit, limit)` in `x`, exactly, limit 0
/// included.
pub fn clamp_in_place<B: BufferOps + OptimizerOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = (
        element_in(0.0, 4.0),
        lengths().prop_flat_map(|n| values_in(n, -8.0, 8.0)),
    )
        .prop_map(|(constant, x)| InPlaceCase { constant, x });
    run_property(config, FAMILY, "clamp_in_place", strategy, |case| {
        let mut expected = RefBuffer(case.x.clone());
        ReferenceBackend
            .clamp_in_place(&mut expected, case.constant)
            .or_fail("reference clamp_in_place")?;
        let mut x = upload(backend, &case.x)?;
        backend
            .clamp_in_place(&mut x, case.constant)
            .or_fail("clamp_in_place")?;
        Expected::new("clamp_in_place", &[case.x.len()], &expected.0)
            .check(&download(backend, &x)?, Tolerance::EXACT)
    })
}

/// The optimizer buffers that can disagree with the parameter's length.
#[derive(Debug, Clone, Copy)]
enum MismatchedBuffer {
    SgdGrad,
    SgdVelocity,
    AdamM,
    AdamV,
    RmspropSquareAvg,
    AdagradSum,
}

/// Every optimizer step returns `Err` when a gradient or state buffer's length differs from
/// the parameter's.
pub fn rejects_mismatched_lengths<B: BufferOps + OptimizerOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let buffers = prop::sample::select(vec![
        MismatchedBuffer::SgdGrad,
        MismatchedBuffer::SgdVelocity,
        MismatchedBuffer::AdamM,
        MismatchedBuffer::AdamV,
        MismatchedBuffer::RmspropSquareAvg,
        MismatchedBuffer::AdagradSum,
    ]);
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        (buffers, length_mismatches()),
        |&(which, (n, delta))| {
            let given = wrong_len(n, delta);
            let mut param = upload(backend, &filler(n, 0.5))?;
            let mut right = upload(backend, &filler(n, 0.5))?;
            let mut wrong = upload(backend, &filler(given, 0.5))?;
            let sgd = SgdSpec {
                lr: 0.1,
                momentum: 0.9,
                dampening: 0.0,
                weight_decay: 0.0,
                nesterov: false,
                first_step: false,
            };
            let adam = AdamSpec {
                lr: 0.1,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
                decoupled_weight_decay: false,
                step: 1,
            };
            let rmsprop = RmspropSpec {
                lr: 0.1,
                alpha: 0.99,
                eps: 1e-8,
                weight_decay: 0.0,
                momentum: 0.0,
            };
            let adagrad = AdagradSpec {
                lr: 0.1,
                lr_decay: 0.0,
                weight_decay: 0.0,
                eps: 1e-10,
                step: 1,
            };
            let grad = upload(backend, &filler(n, 0.5))?;
            let result = match which {
                MismatchedBuffer::SgdGrad => {
                    backend.sgd_step(&mut param, &wrong, Some(&mut right), sgd)
                }
                MismatchedBuffer::SgdVelocity => {
                    backend.sgd_step(&mut param, &grad, Some(&mut wrong), sgd)
                }
                MismatchedBuffer::AdamM => {
                    backend.adam_step(&mut param, &grad, &mut wrong, &mut right, adam)
                }
                MismatchedBuffer::AdamV => {
                    backend.adam_step(&mut param, &grad, &mut right, &mut wrong, adam)
                }
                MismatchedBuffer::RmspropSquareAvg => {
                    backend.rmsprop_step(&mut param, &grad, &mut wrong, None, rmsprop)
                }
                MismatchedBuffer::AdagradSum => {
                    backend.adagrad_step(&mut param, &grad, &mut wrong, adagrad)
                }
            };
            expect_err(
                result,
                &format!("{which:?} of {given} elements for a parameter of {n}"),
            )
        },
    )
}

/// The steps whose momentum buffer is optional.
#[derive(Debug, Clone, Copy)]
enum MomentumStep {
    Sgd,
    Rmsprop,
}

/// `sgd_step` and `rmsprop_step` with non-zero momentum and no momentum buffer return `Err`.
pub fn rejects_missing_momentum_buffer<B: BufferOps + OptimizerOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let steps = prop::sample::select(vec![MomentumStep::Sgd, MomentumStep::Rmsprop]);
    let strategy = (steps, 0.1f32..0.99, 1usize..=8);
    run_property(
        config,
        FAMILY,
        "rejects_missing_momentum_buffer",
        strategy,
        |&(step, momentum, n)| {
            let mut param = upload(backend, &filler(n, 0.5))?;
            let grad = upload(backend, &filler(n, 0.5))?;
            let result = match step {
                MomentumStep::Sgd => {
                    let spec = SgdSpec {
                        lr: 0.1,
                        momentum,
                        dampening: 0.0,
                        weight_decay: 0.0,
                        nesterov: false,
                        first_step: true,
                    };
                    backend.sgd_step(&mut param, &grad, None, spec)
                }
                MomentumStep::Rmsprop => {
                    let mut square_avg = upload(backend, &filler(n, 0.0))?;
                    let spec = RmspropSpec {
                        lr: 0.1,
                        alpha: 0.99,
                        eps: 1e-8,
                        weight_decay: 0.0,
                        momentum,
                    };
                    backend.rmsprop_step(&mut param, &grad, &mut square_avg, None, spec)
                }
            };
            expect_err(
                result,
                &format!("{step:?} with momentum {momentum} and no momentum buffer"),
            )
        },
    )
}
