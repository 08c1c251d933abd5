//! Helpers shared by the integration tests: host tensors, hand-made gradients, tolerances.
#![allow(dead_code)] // each test file uses its own subset

use strata_core::{Device, Gradients, Param, Tensor};

/// A parameter named `name` holding `values` (shape `[len]`).
pub fn param(name: &str, values: &[f32]) -> Param {
    let t = Tensor::from_slice(values, [values.len()], &Device::cpu()).unwrap();
    Param::new(name, t)
}

/// Gradients holding `values` for each parameter.
pub fn grads(pairs: &[(&Param, &[f32])]) -> Gradients {
    let mut g = Gradients::new();
    for (p, values) in pairs {
        let t = Tensor::from_slice(values, [values.len()], &Device::cpu()).unwrap();
        g.insert(p.tensor(), t);
    }
    g
}

/// The values of a parameter.
pub fn values(p: &Param) -> Vec<f32> {
    p.tensor().to_vec().unwrap()
}

/// `actual` equals `expected` to within `tol` (absolute) element by element.
pub fn assert_close(actual: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(*a) - e).abs() <= tol,
            "element {i}: {a} vs {e} (all: {actual:?})"
        );
    }
}

/// The first and second gradients of the hand-computed two-step cases, for `w0 = [1, -2]`.
pub const W0: [f32; 2] = [1.0, -2.0];
/// Gradient of step 1.
pub const G1: [f32; 2] = [0.5, 0.25];
/// Gradient of step 2.
pub const G2: [f32; 2] = [1.0, -1.0];

/// Runs `opt` for the two steps `G1`, `G2` from `W0`, returning the values after each.
pub fn two_steps(opt: &mut dyn strata_optim::Optimizer) -> (Vec<f32>, Vec<f32>) {
    let w = param("w", &W0);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G1)]))
        .unwrap();
    let first = values(&w);
    opt.step(std::slice::from_ref(&w), &grads(&[(&w, &G2)]))
        .unwrap();
    (first, values(&w))
}
