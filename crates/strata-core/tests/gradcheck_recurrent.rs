//! Finite-difference gradient checks through whole sequences for `Tensor::rnn` (every cell,
//! both directions, ragged lengths) and for `Tensor::embedding`.

use strata_core::gradcheck::{GradCheckConfig, check_gradients};
use strata_core::{Device, RnnCell, RnnInputs, Tensor};

fn t(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape.to_vec(), -0.8, 0.8, seed, &Device::Cpu).unwrap()
}

fn check_cell(cell: RnnCell, reverse: bool, ragged: bool) {
    let (b, s, i, h) = (2, 3, 2, 2);
    let g = cell.gates() * h;
    let mut inputs = vec![
        t(&[b, s, i], 1),
        t(&[g, i], 2),
        t(&[g, h], 3),
        t(&[g], 4),
        t(&[g], 5),
        t(&[b, h], 6),
    ];
    if cell.has_cell_state() {
        inputs.push(t(&[b, h], 7));
    }
    let lengths = Tensor::from_slice(&[3.0, 1.0], [2], &Device::Cpu).unwrap();
    let result = check_gradients(
        |v| {
            Tensor::rnn(
                cell,
                reverse,
                RnnInputs {
                    x: &v[0],
                    w_ih: &v[1],
                    w_hh: &v[2],
                    b_ih: &v[3],
                    b_hh: &v[4],
                    h0: Some(&v[5]),
                    c0: v.get(6),
                    lengths: ragged.then_some(&lengths),
                },
            )
        },
        &inputs,
        GradCheckConfig::default(),
    );
    if let Err(e) = result {
        panic!("{cell:?} reverse={reverse} ragged={ragged}: {e}");
    }
}

#[test]
fn tanh_rnn_sequence_matches_finite_differences() {
    for (reverse, ragged) in [(false, false), (true, false), (false, true), (true, true)] {
        check_cell(RnnCell::Tanh, reverse, ragged);
    }
}

#[test]
fn lstm_sequence_matches_finite_differences() {
    for (reverse, ragged) in [(false, false), (true, false), (false, true), (true, true)] {
        check_cell(RnnCell::Lstm, reverse, ragged);
    }
}

#[test]
fn gru_sequence_matches_finite_differences() {
    for (reverse, ragged) in [(false, false), (true, false), (false, true), (true, true)] {
        check_cell(RnnCell::Gru, reverse, ragged);
    }
}

#[test]
fn padded_steps_do_not_change_outputs() {
    // The same sequence with two extra garbage steps and length 2 gives the same h_n and c_n.
    let (i, h) = (3, 4);
    let w = [
        t(&[4 * h, i], 11),
        t(&[4 * h, h], 12),
        t(&[4 * h], 13),
        t(&[4 * h], 14),
    ];
    let run = |x: &Tensor, lengths: Option<&Tensor>| {
        let out = Tensor::rnn(
            RnnCell::Lstm,
            true,
            RnnInputs {
                x,
                w_ih: &w[0],
                w_hh: &w[1],
                b_ih: &w[2],
                b_hh: &w[3],
                h0: None,
                c0: None,
                lengths,
            },
        )
        .unwrap();
        let steps = x.dims()[1];
        out.narrow(1, steps, 2).unwrap().to_vec().unwrap()
    };
    let short = t(&[1, 2, i], 15);
    let padded = Tensor::cat(&[short.clone(), t(&[1, 2, i], 16)], 1).unwrap();
    let lengths = Tensor::from_slice(&[2.0], [1], &Device::Cpu).unwrap();
    assert_eq!(run(&short, None), run(&padded, Some(&lengths)));
}

#[test]
fn lengths_longer_than_the_sequence_are_refused() {
    let (x, wi, wh, b) = (t(&[2, 3, 2], 1), t(&[4, 2], 2), t(&[4, 4], 3), t(&[4], 4));
    let lengths = Tensor::from_slice(&[3.0, 5.0], [2], &Device::Cpu).unwrap();
    let err = Tensor::rnn(
        RnnCell::Tanh,
        false,
        RnnInputs {
            x: &x,
            w_ih: &wi,
            w_hh: &wh,
            b_ih: &b,
            b_hh: &b,
            h0: None,
            c0: None,
            lengths: Some(&lengths),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("rnn")
            && err.contains("length 5 of sequence 1 is longer than the sequence (3 steps)"),
        "{err}"
    );
}

#[test]
fn feature_size_mismatch_is_refused() {
    let (x, wi, wh, b) = (
        t(&[2, 3, 5], 1),
        t(&[12, 2], 2),
        t(&[12, 4], 3),
        t(&[12], 4),
    );
    let err = Tensor::rnn(
        RnnCell::Gru,
        false,
        RnnInputs {
            x: &x,
            w_ih: &wi,
            w_hh: &wh,
            b_ih: &b,
            b_hh: &b,
            h0: None,
            c0: None,
            lengths: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("gru")
            && err.contains("input has 5 features per step but weight_ih is [12, 2]"),
        "{err}"
    );
}

#[test]
fn embedding_matches_finite_differences_and_skips_padding() {
    let table = t(&[5, 3], 21);
    let ids = Tensor::from_slice(&[1.0, 0.0, 4.0, 1.0], [2, 2], &Device::Cpu).unwrap();
    let result = check_gradients(
        |v| v[0].embedding(&ids, None),
        std::slice::from_ref(&table),
        GradCheckConfig::default(),
    );
    assert!(result.is_ok(), "{result:?}");
    let w = table.variable();
    let grads = w
        .embedding(&ids, Some(0))
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let g = grads.get(&w).unwrap().to_vec().unwrap();
    assert_eq!(&g[0..3], &[0.0; 3], "padding row gets no gradient");
    assert_eq!(&g[3..6], &[2.0; 3], "id 1 appears twice");
}

#[test]
fn embedding_refuses_ids_outside_the_vocabulary() {
    let table = t(&[5, 3], 21);
    let ids = Tensor::from_slice(&[1.0, 7.0], [2], &Device::Cpu).unwrap();
    let err = table.embedding(&ids, None).unwrap_err().to_string();
    assert!(
        err.contains("token id 7 at position 1 is outside the vocabulary of 5"),
        "{err}"
    );
}
