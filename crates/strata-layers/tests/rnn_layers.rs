//! The recurrent layers and `Embedding` as modules: shapes, parameter names, and the errors a
//! user sees for bad input.

use strata_core::{Device, Tensor};
use strata_layers::{
    BuildContext, Embedding, Gru, LayerConfig, Lstm, Mode, Module, RnnState, SimpleRnn,
};

fn ctx() -> BuildContext {
    BuildContext::new(Device::Cpu, 7)
}

#[test]
fn bidirectional_two_layer_lstm_shapes_and_names_follow_pytorch() {
    let l = Lstm::new(6)
        .num_layers(2)
        .bidirectional(true)
        .dropout(0.3)
        .build(&[5, 4], &mut ctx())
        .unwrap();
    assert_eq!(l.output_shape(&[5, 4]).unwrap(), vec![12]);
    let names: Vec<String> = l
        .parameters()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert_eq!(names.len(), 16);
    assert_eq!(names[0], "weight_ih_l0");
    assert_eq!(names[4], "weight_ih_l0_reverse");
    assert_eq!(names[15], "bias_hh_l1_reverse");
    assert_eq!(
        l.parameters()[8].tensor().dims(),
        [24, 12],
        "layer 1 reads both directions"
    );
    let x = Tensor::rand_uniform([3, 5, 4], -1.0, 1.0, 1, &Device::Cpu).unwrap();
    assert_eq!(l.forward(&x, Mode::Train).unwrap().dims(), [3, 12]);
    let out = l.forward_seq(&x, &RnnState::default(), Mode::Eval).unwrap();
    assert_eq!(out.output.dims(), [3, 5, 12]);
    assert_eq!(out.h_n.dims(), [4, 3, 6]);
    assert_eq!(out.c_n.unwrap().dims(), [4, 3, 6]);
}

#[test]
fn return_sequences_gives_every_step() {
    let g = Gru::new(3)
        .return_sequences(true)
        .build(&[7, 2], &mut ctx())
        .unwrap();
    assert_eq!(g.output_shape(&[7, 2]).unwrap(), vec![7, 3]);
    let x = Tensor::zeros([2, 7, 2], &Device::Cpu).unwrap();
    assert_eq!(g.forward(&x, Mode::Eval).unwrap().dims(), [2, 7, 3]);
}

#[test]
fn feature_size_mismatch_names_both_sizes() {
    let r = SimpleRnn::new(4).build(&[5, 3], &mut ctx()).unwrap();
    let err = r.output_shape(&[5, 8]).unwrap_err().to_string();
    assert!(err.contains("built for 3 input features"), "{err}");
    let x = Tensor::zeros([2, 5, 8], &Device::Cpu).unwrap();
    let err = r.forward(&x, Mode::Eval).unwrap_err().to_string();
    assert!(
        err.contains("8 features per step") && err.contains("built for 3 features"),
        "{err}"
    );
}

#[test]
fn lengths_longer_than_the_sequence_are_an_error() {
    let l = Lstm::new(4).build(&[3, 2], &mut ctx()).unwrap();
    let x = Tensor::zeros([2, 3, 2], &Device::Cpu).unwrap();
    let lengths = Some(Tensor::from_slice(&[2.0, 4.0], [2], &Device::Cpu).unwrap());
    let state = RnnState {
        lengths,
        ..RnnState::default()
    };
    let err = l
        .forward_seq(&x, &state, Mode::Eval)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("length 4 of sequence 1 is longer than the sequence (3 steps)"),
        "{err}"
    );
}

#[test]
fn token_ids_outside_the_vocabulary_are_an_error() {
    let e = Embedding::new(10, 4)
        .padding_idx(0)
        .build(&[6], &mut ctx())
        .unwrap();
    assert_eq!(e.output_shape(&[6]).unwrap(), vec![6, 4]);
    let ids = Tensor::from_slice(&[1.0, 2.0, 12.0], [1, 3], &Device::Cpu).unwrap();
    let err = e.forward(&ids, Mode::Eval).unwrap_err().to_string();
    assert!(
        err.contains("token id 12 at position 2 is outside the vocabulary of 10"),
        "{err}"
    );
    let row0 = e.weight().narrow(0, 0, 1).unwrap().to_vec().unwrap();
    assert_eq!(row0, vec![0.0; 4], "padding row starts at zero");
}
