//! Behaviour of the autograd engine: what is recorded, what is reported, what is freed.

use strata_core::{Device, Error, Tensor, no_grad};

fn var(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(data, shape.to_vec(), &Device::Cpu)
        .unwrap()
        .variable()
}

#[test]
fn gradient_of_shared_input_accumulates() {
    let x = var(&[2.0, 3.0], &[2]);
    // y = Σ x·x + Σ x  → dy/dx = 2x + 1
    let y = x.mul(&x).unwrap().add(&x).unwrap().sum_all().unwrap();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![5.0, 7.0]);
}

#[test]
fn no_grad_records_nothing() {
    let x = var(&[1.0], &[1]);
    let y = no_grad(|| x.mul_scalar(2.0).unwrap());
    assert!(!y.requires_grad());
    assert!(matches!(
        y.sum_all().unwrap().backward(),
        Err(Error::Autograd(_))
    ));
}

#[test]
fn backward_twice_through_one_graph_is_an_error() {
    let x = var(&[1.0, 2.0], &[2]);
    let h = x.exp().unwrap();
    let y = h.sum_all().unwrap();
    y.backward().unwrap();
    let again = y.backward();
    assert!(matches!(again, Err(Error::Autograd(m)) if m.contains("already used")));
}

#[test]
fn backward_of_non_scalar_is_an_error() {
    let x = var(&[1.0, 2.0], &[2]);
    let err = x.mul_scalar(2.0).unwrap().backward().unwrap_err();
    assert!(err.to_string().contains("one-element"), "{err}");
}

#[test]
fn only_variables_get_gradients_and_constants_get_none() {
    let x = var(&[1.0, 2.0], &[2]);
    let c = Tensor::from_slice(&[3.0, 4.0], [2], &Device::Cpu).unwrap();
    let y = x.mul(&c).unwrap().sum_all().unwrap();
    let g = y.backward().unwrap();
    assert_eq!(g.len(), 1);
    assert!(g.get(&c).is_none());
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![3.0, 4.0]);
}

#[test]
fn detach_cuts_the_graph() {
    let x = var(&[1.0, 2.0], &[2]);
    let d = x.mul_scalar(3.0).unwrap().detach();
    let y = d.mul(&x).unwrap().sum_all().unwrap();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![3.0, 6.0]);
}

#[test]
fn optimizer_update_keeps_the_variable_id() {
    let p = var(&[1.0, 1.0], &[2]);
    let id = p.id();
    let g = Tensor::from_slice(&[0.5, -0.5], [2], &Device::Cpu).unwrap();
    let spec = strata_core::SgdSpec {
        lr: 0.1,
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
        first_step: true,
    };
    strata_core::sgd_step(&p, &g, None, spec).unwrap();
    assert_eq!(p.id(), id);
    assert_eq!(p.to_vec().unwrap(), vec![0.95, 1.05]);
}
