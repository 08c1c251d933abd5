//! Numerical checks of dropout between stacked recurrent layers: a two-layer stack in
//! training mode must equal layer 0, then exactly the documented dropout mask, then layer 1;
//! in evaluation mode the mask is gone; and gradients flow through the fixed mask.

use strata_backend::random::derive_seed;
use strata_core::gradcheck::{GradCheckConfig, check_gradients};
use strata_core::{Device, RnnCell, Tensor};

use super::recurrent::{Recurrent, RecurrentConfig, RnnState};
use crate::module::{BuildContext, Mode};

const HIDDEN: usize = 4;
const P: f32 = 0.5;

/// A built two-layer stack with dropout `P`, and two one-layer stacks holding its layers'
/// weights.
fn stack_and_layers(cell: RnnCell) -> (Recurrent, Recurrent, Recurrent) {
    let mut ctx = BuildContext::new(Device::Cpu, 11);
    let one = RecurrentConfig {
        return_sequences: true,
        ..RecurrentConfig::new(HIDDEN)
    };
    let two = RecurrentConfig {
        num_layers: 2,
        dropout: P,
        ..one
    };
    let stack = Recurrent::build(cell, two, &[5, 3], &mut ctx).unwrap();
    let mut first = Recurrent::build(cell, one, &[5, 3], &mut ctx).unwrap();
    let mut second = Recurrent::build(cell, one, &[5, HIDDEN], &mut ctx).unwrap();
    for p in stack.parameters() {
        let (target, name) = match p.name().strip_suffix("_l1") {
            Some(base) => (&mut second, format!("{base}_l0")),
            None => (&mut first, p.name().to_string()),
        };
        target.set_parameter(&name, p.tensor().detach()).unwrap();
    }
    (stack, first, second)
}

fn input() -> Tensor {
    Tensor::rand_uniform([2, 5, 3], -1.0, 1.0, 3, &Device::Cpu).unwrap()
}

#[test]
fn training_mode_applies_exactly_the_derived_mask_between_layers() {
    for cell in [RnnCell::Tanh, RnnCell::Lstm, RnnCell::Gru] {
        let (stack, first, second) = stack_and_layers(cell);
        let x = input();
        let state = RnnState::default();
        let call = stack.rng_counter();
        let got = stack.forward_seq(&x, &state, Mode::Train).unwrap();

        let between = first.forward_seq(&x, &state, Mode::Train).unwrap().output;
        let seed = derive_seed(derive_seed(stack.dropout_seed(), call), 1);
        let dropped = between.dropout(P, seed).unwrap();
        let mask = dropped.to_vec().unwrap();
        assert!(
            mask.contains(&0.0) && mask.iter().any(|&v| v != 0.0),
            "{cell:?}: the mask should drop some values and keep others"
        );
        let want = second.forward_seq(&dropped, &state, Mode::Train).unwrap();
        assert_eq!(
            got.output.to_vec().unwrap(),
            want.output.to_vec().unwrap(),
            "{cell:?}: stack output != layer 1(dropout(layer 0))"
        );

        // Evaluation mode: no mask, the plain composition.
        let eval = stack.forward_seq(&x, &state, Mode::Eval).unwrap().output;
        let plain = second
            .forward_seq(&between, &state, Mode::Eval)
            .unwrap()
            .output;
        assert_eq!(eval.to_vec().unwrap(), plain.to_vec().unwrap(), "{cell:?}");
    }
}

#[test]
fn each_training_forward_draws_a_new_mask_and_a_restored_counter_repeats_it() {
    let (stack, _, _) = stack_and_layers(RnnCell::Lstm);
    let x = input();
    let state = RnnState::default();
    let start = stack.rng_counter();
    let a = stack.forward_seq(&x, &state, Mode::Train).unwrap().output;
    let b = stack.forward_seq(&x, &state, Mode::Train).unwrap().output;
    assert_ne!(a.to_vec().unwrap(), b.to_vec().unwrap());
    stack.set_rng_counter(start);
    let again = stack.forward_seq(&x, &state, Mode::Train).unwrap().output;
    assert_eq!(a.to_vec().unwrap(), again.to_vec().unwrap());
}

#[test]
fn gradients_through_the_inter_layer_mask_match_finite_differences() {
    for cell in [RnnCell::Lstm, RnnCell::Gru] {
        let (stack, _, _) = stack_and_layers(cell);
        let start = stack.rng_counter();
        let result = check_gradients(
            |xs| {
                stack.set_rng_counter(start);
                stack
                    .forward_seq(&xs[0], &RnnState::default(), Mode::Train)?
                    .output
                    .sum_all()
            },
            &[input()],
            GradCheckConfig::default(),
        );
        if let Err(e) = result {
            panic!("{cell:?}: {e}");
        }
    }
}

#[test]
fn restoring_the_rng_state_into_a_layer_built_from_another_seed_repeats_the_masks() {
    use crate::{LayerConfig, Lstm, Module};
    let build = |seed| {
        Lstm::new(HIDDEN)
            .num_layers(2)
            .dropout(P)
            .build(&[5, 3], &mut BuildContext::new(Device::Cpu, seed))
            .unwrap()
    };
    let (a, mut b) = (build(1), build(2));
    for p in a.parameters() {
        b.set_parameter(p.name(), p.tensor().detach()).unwrap();
    }
    let x = input();
    a.forward(&x, Mode::Train).unwrap();
    b.set_rng_state(&a.rng_state()).unwrap();
    let (ya, yb) = (
        a.forward(&x, Mode::Train).unwrap(),
        b.forward(&x, Mode::Train).unwrap(),
    );
    assert_eq!(ya.to_vec().unwrap(), yb.to_vec().unwrap());
    assert_eq!(a.rng_state(), b.rng_state());
}
