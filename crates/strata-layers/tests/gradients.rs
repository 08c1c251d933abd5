//! Finite-difference gradient checks of every layer, activation and loss: autograd's
//! gradients through the module must match central differences.

use strata_core::gradcheck::{GradCheckConfig, check_gradients};
use strata_core::{Device, Result, Tensor};
use strata_layers::prelude::*;

/// Values uniform in [-2, 2) kept at least 0.1 away from 0, so that kinks at zero (ReLU, |x|)
/// are never within a finite-difference step.
fn input(shape: &[usize], seed: u64) -> Tensor {
    let dev = Device::best();
    let raw = Tensor::rand_uniform(shape.to_vec(), -2.0, 2.0, seed, &dev).unwrap();
    let values = raw
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|v| {
            if v.abs() < 0.1 {
                v.signum() * 0.1 + v
            } else {
                v
            }
        })
        .collect();
    Tensor::from_vec(values, shape.to_vec(), &dev).unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    if let Err(e) = check_gradients(f, inputs, GradCheckConfig::default()) {
        panic!("{e}");
    }
}

fn ctx() -> BuildContext {
    BuildContext::new(Device::best(), 17)
}

#[test]
fn dense_gradients_match_finite_differences_for_input_weight_and_bias() {
    let (x, w, b) = (input(&[3, 4], 1), input(&[5, 4], 2), input(&[5], 3));
    check(
        |xs| Dense::from_tensors(xs[1].clone(), xs[2].clone())?.forward(&xs[0], Mode::Train),
        &[x, w, b],
    );
}

#[test]
fn dense_without_bias_gradients_match_finite_differences() {
    let (x, w) = (input(&[2, 3], 4), input(&[2, 3], 5));
    check(
        |xs| Dense::from_tensors(xs[1].clone(), None)?.forward(&xs[0], Mode::Train),
        &[x, w],
    );
}

#[test]
fn dense_on_3d_input_gradients_match_finite_differences() {
    let (x, w, b) = (input(&[2, 3, 4], 6), input(&[2, 4], 7), input(&[2], 8));
    check(
        |xs| Dense::from_tensors(xs[1].clone(), xs[2].clone())?.forward(&xs[0], Mode::Train),
        &[x, w, b],
    );
}

#[test]
fn every_activation_gradient_matches_finite_differences() {
    let activations: Vec<Box<dyn Module>> = vec![
        Box::new(Relu),
        Box::new(LeakyRelu::new(0.1)),
        Box::new(Elu::new(0.7)),
        Box::new(Gelu),
        Box::new(Sigmoid),
        Box::new(Tanh),
    ];
    for act in &activations {
        let x = input(&[3, 4], 9);
        if let Err(e) = check_gradients(
            |xs| act.forward(&xs[0], Mode::Train),
            &[x],
            GradCheckConfig::default(),
        ) {
            panic!("{}: {e}", act.kind());
        }
    }
}

#[test]
fn softmax_gradient_matches_finite_differences() {
    check(
        |xs| Softmax.forward(&xs[0], Mode::Train),
        &[input(&[3, 5], 10)],
    );
}

#[test]
fn dropout_gradient_matches_finite_differences_with_a_fixed_mask() {
    let dropout = Dropout::new(0.4).build(&[8], &mut ctx()).unwrap();
    let x = input(&[3, 8], 11);
    dropout.set_seed_state(5);
    let y = dropout.forward(&x, Mode::Train).unwrap().to_vec().unwrap();
    assert!(y.contains(&0.0), "the mask should drop something");
    check(
        |xs| {
            dropout.set_seed_state(5);
            dropout.forward(&xs[0], Mode::Train)
        },
        &[x],
    );
}

#[test]
fn flatten_gradient_matches_finite_differences() {
    check(
        |xs| Flatten.forward(&xs[0], Mode::Train),
        &[input(&[2, 3, 2], 12)],
    );
}

#[test]
fn cross_entropy_gradient_matches_finite_differences() {
    let labels = Tensor::from_vec(vec![0.0, 2.0, 1.0, 2.0], [4], &Device::best()).unwrap();
    for eps in [0.0, 0.1] {
        let loss = CrossEntropyLoss::new().label_smoothing(eps);
        check(|xs| loss.forward(&xs[0], &labels), &[input(&[4, 3], 13)]);
    }
}

#[test]
fn bce_with_logits_gradient_matches_finite_differences() {
    let targets =
        Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0, 0.3, 0.8], [2, 3], &Device::best()).unwrap();
    check(
        |xs| BceWithLogitsLoss.forward(&xs[0], &targets),
        &[input(&[2, 3], 14)],
    );
}

#[test]
fn mse_gradient_matches_finite_differences() {
    let target = input(&[2, 3], 15);
    check(|xs| MseLoss.forward(&xs[0], &target), &[input(&[2, 3], 16)]);
}

/// A target at fixed offsets from the prediction, away from the kinks of |d| (0) and of
/// Huber (±delta = ±1).
fn offset_target(prediction: &Tensor) -> Tensor {
    let offsets = [0.4, -0.3, 2.0, -1.7, 0.6, -2.5];
    let values = prediction
        .to_vec()
        .unwrap()
        .iter()
        .zip(offsets.iter().cycle())
        .map(|(p, o)| p + o)
        .collect();
    Tensor::from_vec(values, prediction.shape().clone(), &prediction.device()).unwrap()
}

#[test]
fn l1_gradient_matches_finite_differences() {
    let p = input(&[2, 3], 17);
    let target = offset_target(&p);
    check(|xs| L1Loss.forward(&xs[0], &target), &[p]);
}

#[test]
fn huber_gradient_matches_finite_differences_in_both_regimes() {
    let p = input(&[2, 3], 18);
    let target = offset_target(&p);
    check(|xs| HuberLoss::new(1.0).forward(&xs[0], &target), &[p]);
}

#[test]
fn three_layer_sequential_gradients_match_finite_differences_end_to_end() {
    let (x, w1, b1, w2, b2) = (
        input(&[2, 4], 19),
        input(&[5, 4], 20),
        input(&[5], 21),
        input(&[3, 5], 22),
        input(&[3], 23),
    );
    let labels = Tensor::from_vec(vec![1.0, 2.0], [2], &Device::best()).unwrap();
    check(
        |xs| {
            let model = Sequential::new()
                .add_built(Dense::from_tensors(xs[1].clone(), xs[2].clone())?)
                .add(Tanh)
                .add_built(Dense::from_tensors(xs[3].clone(), xs[4].clone())?)
                .build(&[4], &Device::best(), 0)?;
            CrossEntropyLoss::new().forward(&model.forward(&xs[0], Mode::Train)?, &labels)
        },
        &[x, w1, b1, w2, b2],
    );
}

#[test]
fn built_sequential_input_gradient_matches_finite_differences() {
    let model = Sequential::new()
        .add(Dense::new(6))
        .add(Sigmoid)
        .add(Dense::new(2))
        .build(&[3], &Device::best(), 5)
        .unwrap();
    check(
        |xs| model.forward(&xs[0], Mode::Eval),
        &[input(&[2, 3], 24)],
    );
}
