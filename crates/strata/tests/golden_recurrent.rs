//! Golden values from PyTorch for `SimpleRnn`, `Lstm` and `Gru` (`recurrent.json`, written by
//! `recurrent()` in `scripts/golden/generate.py`): outputs, final states and the gradients of
//! every parameter, the input and the initial states, for one and two layers, one and both
//! directions, full-length and packed ragged batches.

use serde_json::Value;
use strata::layers::{
    BuildContext, Gru, LayerConfig, Lstm, Mode, Module, RnnOutput, RnnState, SimpleRnn,
};
use strata::{Result, Tensor};

mod common;
use common::{DEV, floats, load, tensor};

/// Sequences accumulate over 80 steps of f32 arithmetic: 2e-5 absolute, 1e-4 relative.
#[track_caller]
fn assert_close(what: &str, found: &[f32], expected: &[f32]) {
    common::assert_close(what, found, expected, 2e-5, 1e-4);
}

/// The three layers behind one interface for the test.
enum Layer {
    Rnn(SimpleRnn),
    Lstm(Lstm),
    Gru(Gru),
}

impl Layer {
    fn module(&self) -> &dyn Module {
        match self {
            Layer::Rnn(l) => l,
            Layer::Lstm(l) => l,
            Layer::Gru(l) => l,
        }
    }
    fn set(&mut self, name: &str, t: Tensor) -> Result<()> {
        match self {
            Layer::Rnn(l) => l.set_parameter(name, t),
            Layer::Lstm(l) => l.set_parameter(name, t),
            Layer::Gru(l) => l.set_parameter(name, t),
        }
    }
    fn run(&self, x: &Tensor, s: &RnnState) -> Result<RnnOutput> {
        match self {
            Layer::Rnn(l) => l.forward_seq(x, s, Mode::Eval),
            Layer::Lstm(l) => l.forward_seq(x, s, Mode::Eval),
            Layer::Gru(l) => l.forward_seq(x, s, Mode::Eval),
        }
    }
}

fn check_case(case: &Value) {
    let n = |k: &str| case[k].as_u64().unwrap() as usize;
    let (layers, b, steps, i, h) = (n("layers"), n("batch"), n("steps"), n("input"), n("hidden"));
    let bi = case["bidirectional"].as_bool().unwrap();
    let kind = case["kind"].as_str().unwrap();
    let what = format!(
        "{kind} layers={layers} bidirectional={bi} ragged={}",
        !case["lengths"].is_null()
    );
    let (sample, ctx) = (&[steps, i], &mut BuildContext::new(DEV, 0));
    let mut layer = match kind {
        "rnn" => Layer::Rnn(
            SimpleRnn::new(h)
                .num_layers(layers)
                .bidirectional(bi)
                .build(sample, ctx)
                .unwrap(),
        ),
        "lstm" => Layer::Lstm(
            Lstm::new(h)
                .num_layers(layers)
                .bidirectional(bi)
                .build(sample, ctx)
                .unwrap(),
        ),
        _ => Layer::Gru(
            Gru::new(h)
                .num_layers(layers)
                .bidirectional(bi)
                .build(sample, ctx)
                .unwrap(),
        ),
    };
    for (name, p) in case["params"].as_object().unwrap() {
        let shape: Vec<usize> = p["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        layer.set(name, tensor(&p["value"], &shape)).unwrap();
    }
    let d = if bi { 2 } else { 1 };
    let x = tensor(&case["x"], &[b, steps, i]).variable();
    let h0 = tensor(&case["h0"], &[layers * d, b, h]).variable();
    let c0 = (kind == "lstm").then(|| tensor(&case["c0"], &[layers * d, b, h]).variable());
    let lengths = (!case["lengths"].is_null()).then(|| tensor(&case["lengths"], &[b]));
    let state = RnnState {
        h0: Some(h0.clone()),
        c0: c0.clone(),
        lengths,
    };
    let out = layer.run(&x, &state).unwrap();
    assert_close(
        &format!("{what} output"),
        &out.output.to_vec().unwrap(),
        &floats(&case["output"]),
    );
    assert_close(
        &format!("{what} h_n"),
        &out.h_n.to_vec().unwrap(),
        &floats(&case["h_n"]),
    );
    let mut loss = out
        .output
        .mul(&tensor(&case["up_out"], out.output.dims()))
        .unwrap()
        .sum_all()
        .unwrap()
        .add(
            &out.h_n
                .mul(&tensor(&case["up_h"], out.h_n.dims()))
                .unwrap()
                .sum_all()
                .unwrap(),
        )
        .unwrap();
    if let Some(c_n) = &out.c_n {
        assert_close(
            &format!("{what} c_n"),
            &c_n.to_vec().unwrap(),
            &floats(&case["c_n"]),
        );
        let lc = c_n
            .mul(&tensor(&case["up_c"], c_n.dims()))
            .unwrap()
            .sum_all()
            .unwrap();
        loss = loss.add(&lc).unwrap();
    }
    let grads = loss.backward().unwrap();
    let params = layer.module().parameters();
    assert_eq!(
        params.len(),
        case["grads"].as_object().unwrap().len(),
        "{what}: parameter count"
    );
    for p in params {
        let g = grads
            .get(p.tensor())
            .unwrap_or_else(|| panic!("{what}: no gradient for {}", p.name()));
        assert_close(
            &format!("{what} d{}", p.name()),
            &g.to_vec().unwrap(),
            &floats(&case["grads"][p.name()]),
        );
    }
    assert_close(
        &format!("{what} dx"),
        &grads.get(&x).unwrap().to_vec().unwrap(),
        &floats(&case["dx"]),
    );
    assert_close(
        &format!("{what} dh0"),
        &grads.get(&h0).unwrap().to_vec().unwrap(),
        &floats(&case["dh0"]),
    );
    if let Some(c0) = &c0 {
        assert_close(
            &format!("{what} dc0"),
            &grads.get(c0).unwrap().to_vec().unwrap(),
            &floats(&case["dc0"]),
        );
    }
}

fn check_kind(kind: &str) {
    let all = load("recurrent.json");
    let cases: Vec<&Value> = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .collect();
    assert_eq!(cases.len(), 4, "{kind}: cases in recurrent.json");
    for case in cases {
        check_case(case);
    }
}

#[test]
fn simple_rnn_matches_pytorch_with_gradients() {
    check_kind("rnn");
}

#[test]
fn lstm_matches_pytorch_with_gradients() {
    check_kind("lstm");
}

#[test]
fn gru_matches_pytorch_with_gradients() {
    check_kind("gru");
}
