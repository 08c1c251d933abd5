//! Layers and autograd learn: a two-layer MLP fits XOR with a hand-written SGD loop.

use strata_core::{Device, SgdSpec, Tensor, sgd_step};
use strata_layers::prelude::*;

#[test]
fn two_layer_mlp_fits_xor_to_full_accuracy_with_plain_sgd() {
    let dev = Device::best();
    let x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2], &dev).unwrap();
    let labels = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], [4], &dev).unwrap();
    let model = Sequential::new()
        .add(Dense::new(8))
        .add(Tanh)
        .add(Dense::new(2))
        .build(&[2], &dev, 7)
        .unwrap();
    let loss_fn = CrossEntropyLoss::new();
    let spec = SgdSpec {
        lr: 0.5,
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
        first_step: false,
    };
    let params = model.parameters();
    let mut last_loss = f32::INFINITY;
    for _ in 0..1000 {
        let loss = loss_fn
            .forward(&model.forward(&x, Mode::Train).unwrap(), &labels)
            .unwrap();
        last_loss = loss.to_scalar().unwrap();
        let grads = loss.backward().unwrap();
        for p in &params {
            let g = grads
                .get(p.tensor())
                .expect("every parameter gets a gradient");
            sgd_step(p.tensor(), g, None, spec).unwrap();
        }
    }
    let predicted = model
        .forward(&x, Mode::Eval)
        .unwrap()
        .argmax(1)
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(
        predicted,
        vec![0.0, 1.0, 1.0, 0.0],
        "final loss {last_loss}"
    );
    assert!(last_loss < 0.1, "final loss {last_loss}");
}
