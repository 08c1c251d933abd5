//! Gradient clipping by global norm and by value, as `torch.nn.utils` defines them.

mod common;

use common::{assert_close, grads, param};
use strata_optim::{clip_grad_norm, clip_grad_value};

fn grad_of(g: &strata_core::Gradients, p: &strata_core::Param) -> Vec<f32> {
    g.get(p.tensor()).unwrap().to_vec().unwrap()
}

#[test]
fn norm_above_max_is_scaled_to_max_over_norm_plus_eps() {
    let a = param("a", &[0.0, 0.0]);
    let b = param("b", &[0.0]);
    let mut g = grads(&[(&a, &[3.0, 0.0]), (&b, &[4.0])]);
    let norm = clip_grad_norm(&mut g, &[a.clone(), b.clone()], 1.0).unwrap();
    assert_eq!(norm, 5.0);
    let coef = 1.0 / (5.0 + 1e-6);
    assert_close(&grad_of(&g, &a), &[3.0 * coef, 0.0], 1e-7);
    assert_close(&grad_of(&g, &b), &[4.0 * coef], 1e-7);
}

#[test]
fn norm_below_max_leaves_gradients_unchanged() {
    let a = param("a", &[0.0, 0.0]);
    let mut g = grads(&[(&a, &[3.0, 4.0])]);
    assert_eq!(
        clip_grad_norm(&mut g, std::slice::from_ref(&a), 10.0).unwrap(),
        5.0
    );
    assert_eq!(grad_of(&g, &a), vec![3.0, 4.0]);
}

#[test]
fn a_gradient_shared_by_two_parameters_is_scaled_once() {
    let a = param("a", &[0.0]);
    let b = param("b", &[0.0]);
    let shared = strata_core::Tensor::from_slice(&[4.0], [1], &strata_core::Device::cpu()).unwrap();
    let mut g = strata_core::Gradients::new();
    g.insert(a.tensor(), shared.clone());
    g.insert(b.tensor(), shared);
    // norm = √(16 + 16); each becomes 4·2/(√32 + 1e-6)
    let norm = clip_grad_norm(&mut g, &[a.clone(), b.clone()], 2.0).unwrap();
    assert!((norm - 32f32.sqrt()).abs() < 1e-6);
    let want = 4.0 * 2.0 / (32f64.sqrt() + 1e-6);
    assert_close(&grad_of(&g, &a), &[want], 1e-6);
    assert_close(&grad_of(&g, &b), &[want], 1e-6);
}

#[test]
fn parameters_without_gradients_do_not_count() {
    let a = param("a", &[0.0, 0.0]);
    let b = param("b", &[0.0]);
    let mut g = grads(&[(&a, &[3.0, 4.0])]);
    assert_eq!(clip_grad_norm(&mut g, &[a, b], 1.0).unwrap(), 5.0);
}

#[test]
fn a_non_finite_norm_is_returned_and_gradients_left_alone() {
    let a = param("a", &[0.0, 0.0]);
    let mut g = grads(&[(&a, &[f32::INFINITY, 1.0])]);
    let norm = clip_grad_norm(&mut g, std::slice::from_ref(&a), 1.0).unwrap();
    assert!(norm.is_infinite());
    assert_eq!(grad_of(&g, &a), vec![f32::INFINITY, 1.0]);
}

#[test]
fn invalid_max_norm_is_refused() {
    let a = param("a", &[0.0]);
    let mut g = grads(&[(&a, &[1.0])]);
    assert!(clip_grad_norm(&mut g, std::slice::from_ref(&a), -1.0).is_err());
    assert!(clip_grad_norm(&mut g, std::slice::from_ref(&a), f32::NAN).is_err());
}

#[test]
fn value_clipping_clamps_each_element() {
    let a = param("a", &[0.0, 0.0, 0.0]);
    let mut g = grads(&[(&a, &[-3.0, 0.5, 2.0])]);
    clip_grad_value(&mut g, std::slice::from_ref(&a), 1.0).unwrap();
    assert_eq!(grad_of(&g, &a), vec![-1.0, 0.5, 1.0]);
    assert!(clip_grad_value(&mut g, std::slice::from_ref(&a), -1.0).is_err());
}
