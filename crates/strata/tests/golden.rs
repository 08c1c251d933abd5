//! Golden values from PyTorch: layers, activations, losses, a small MLP, every optimizer and
//! every schedule. The JSON files come from `scripts/golden/generate.py` (run by hand with
//! `TORCH_PYTHON=... cargo xtask golden`); CI only reads them.

use serde_json::Value;
use strata::Tensor;
use strata::layers::{
    BceWithLogitsLoss, CrossEntropyLoss, Dense, Elu, Gelu, HuberLoss, L1Loss, LeakyRelu, Loss,
    Mode, Module, MseLoss, Relu, Sequential, Sigmoid, Softmax, Tanh,
};

mod common;
use common::{DEV, assert_close, dims, floats, load, tensor};

#[test]
fn dense_forward_and_gradients_match_pytorch() {
    for case in load("dense.json")["cases"].as_array().unwrap() {
        let (n, i, o) = (
            case["batch"].as_u64().unwrap() as usize,
            case["in"].as_u64().unwrap() as usize,
            case["out"].as_u64().unwrap() as usize,
        );
        let x = tensor(&case["x"], &[n, i]).variable();
        let w = tensor(&case["weight"], &[o, i]).variable();
        let b = case.get("bias").map(|b| tensor(b, &[o]).variable());
        let layer = Dense::from_tensors(w.clone(), b.clone()).unwrap();
        let y = layer.forward(&x, Mode::Train).unwrap();
        assert_close(
            "dense y",
            &y.to_vec().unwrap(),
            &floats(&case["y"]),
            1e-5,
            1e-5,
        );
        let up = tensor(&case["upstream"], &[n, o]);
        let grads = y.mul(&up).unwrap().sum_all().unwrap().backward().unwrap();
        assert_close(
            "dense dx",
            &grads.get(&x).unwrap().to_vec().unwrap(),
            &floats(&case["dx"]),
            1e-5,
            1e-5,
        );
        assert_close(
            "dense dweight",
            &grads.get(&w).unwrap().to_vec().unwrap(),
            &floats(&case["dweight"]),
            1e-5,
            1e-5,
        );
        if let Some(b) = &b {
            assert_close(
                "dense dbias",
                &grads.get(b).unwrap().to_vec().unwrap(),
                &floats(&case["dbias"]),
                1e-5,
                1e-5,
            );
        }
    }
}

#[test]
fn activations_and_their_gradients_match_pytorch() {
    for case in load("activations.json")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let shape = dims(&case["shape"]);
        let x = tensor(&case["x"], &shape).variable();
        let y = match name {
            "relu" => Relu.forward(&x, Mode::Train),
            "leaky_relu_0.1" => LeakyRelu::new(0.1).forward(&x, Mode::Train),
            "elu_1.0" => Elu::new(1.0).forward(&x, Mode::Train),
            "elu_0.5" => Elu::new(0.5).forward(&x, Mode::Train),
            "gelu" => Gelu.forward(&x, Mode::Train),
            "sigmoid" => Sigmoid.forward(&x, Mode::Train),
            "tanh" => Tanh.forward(&x, Mode::Train),
            "softmax" => Softmax.forward(&x, Mode::Train),
            "log_softmax" => x.log_softmax(),
            other => panic!("golden file has an activation this test does not know: {other}"),
        }
        .unwrap();
        assert_close(
            &format!("{name} y"),
            &y.to_vec().unwrap(),
            &floats(&case["y"]),
            1e-5,
            1e-5,
        );
        let up = tensor(&case["upstream"], &shape);
        let g = y.mul(&up).unwrap().sum_all().unwrap().backward().unwrap();
        assert_close(
            &format!("{name} dx"),
            &g.get(&x).unwrap().to_vec().unwrap(),
            &floats(&case["dx"]),
            1e-5,
            1e-4,
        );
    }
}

#[test]
fn losses_and_their_gradients_match_pytorch() {
    for case in load("losses.json")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let pred = tensor(&case["prediction"], &dims(&case["shape"])).variable();
        let target = tensor(&case["target"], &dims(&case["target_shape"]));
        let loss_fn: Box<dyn Loss> = match case["kind"].as_str().unwrap() {
            "cross_entropy" => Box::new(
                CrossEntropyLoss::new()
                    .label_smoothing(case["label_smoothing"].as_f64().unwrap() as f32),
            ),
            "bce_with_logits" => Box::new(BceWithLogitsLoss),
            "mse" => Box::new(MseLoss),
            "l1" => Box::new(L1Loss),
            "huber" => Box::new(HuberLoss::new(case["delta"].as_f64().unwrap() as f32)),
            other => panic!("unknown loss kind {other}"),
        };
        let loss = loss_fn.forward(&pred, &target).unwrap();
        let expected = case["loss"].as_f64().unwrap() as f32;
        assert_close(
            &format!("{name} loss"),
            &[loss.to_scalar().unwrap()],
            &[expected],
            1e-5,
            1e-5,
        );
        let g = loss.backward().unwrap();
        assert_close(
            &format!("{name} dprediction"),
            &g.get(&pred).unwrap().to_vec().unwrap(),
            &floats(&case["dprediction"]),
            1e-6,
            1e-4,
        );
    }
}

#[test]
fn mlp_logits_loss_and_named_gradients_match_pytorch() {
    let g = load("mlp.json");
    let model = Sequential::new()
        .add(Dense::new(5))
        .add(Relu)
        .add(Dense::new(4))
        .add(Tanh)
        .add(Dense::new(3))
        .build(&[6], &DEV, 0)
        .unwrap();
    let params = model.parameters();
    for p in &params {
        let entry = &g["params"][p.name()];
        p.tensor()
            .assign(&tensor(&entry["value"], &dims(&entry["shape"])))
            .unwrap();
    }
    let x = tensor(&g["x"], &dims(&g["input_shape"]));
    let labels = Tensor::from_vec(floats(&g["labels"]), [8], &DEV).unwrap();
    let logits = model.forward(&x, Mode::Train).unwrap();
    assert_close(
        "mlp logits",
        &logits.to_vec().unwrap(),
        &floats(&g["logits"]),
        1e-5,
        1e-5,
    );
    let loss = CrossEntropyLoss::new().forward(&logits, &labels).unwrap();
    assert_close(
        "mlp loss",
        &[loss.to_scalar().unwrap()],
        &[g["loss"].as_f64().unwrap() as f32],
        1e-6,
        1e-5,
    );
    let grads = loss.backward().unwrap();
    for p in &params {
        let expected = floats(&g["grads"][p.name()]);
        assert_close(
            &format!("mlp grad {}", p.name()),
            &grads.get(p.tensor()).unwrap().to_vec().unwrap(),
            &expected,
            1e-6,
            1e-4,
        );
    }
}

fn optimizer_from(name: &str, h: &Value) -> Box<dyn strata::optim::Optimizer> {
    use strata::optim::{Adagrad, Adam, AdamW, RmsProp, Sgd};
    let f = |k: &str| h.get(k).and_then(Value::as_f64).map(|v| v as f32);
    let lr = f("lr").expect("lr");
    match name {
        "sgd" => {
            let mut o = Sgd::new(lr);
            if let Some(m) = f("momentum") {
                o = o.momentum(m);
            }
            if let Some(d) = f("dampening") {
                o = o.dampening(d);
            }
            if let Some(w) = f("weight_decay") {
                o = o.weight_decay(w);
            }
            if h.get("nesterov").and_then(Value::as_bool) == Some(true) {
                o = o.nesterov(true);
            }
            Box::new(o)
        }
        "adam" | "adamw" => {
            let betas = h.get("betas").map(floats);
            macro_rules! configure {
                ($o:expr) => {{
                    let mut o = $o;
                    if let Some(b) = &betas {
                        o = o.betas(b[0], b[1]);
                    }
                    if let Some(e) = f("eps") {
                        o = o.eps(e);
                    }
                    if let Some(w) = f("weight_decay") {
                        o = o.weight_decay(w);
                    }
                    Box::new(o) as Box<dyn strata::optim::Optimizer>
                }};
            }
            if name == "adam" {
                configure!(Adam::new(lr))
            } else {
                configure!(AdamW::new(lr))
            }
        }
        "rmsprop" => {
            let mut o = RmsProp::new(lr);
            if let Some(a) = f("alpha") {
                o = o.alpha(a);
            }
            if let Some(m) = f("momentum") {
                o = o.momentum(m);
            }
            if let Some(w) = f("weight_decay") {
                o = o.weight_decay(w);
            }
            Box::new(o)
        }
        "adagrad" => {
            let mut o = Adagrad::new(lr);
            if let Some(d) = f("lr_decay") {
                o = o.lr_decay(d);
            }
            if let Some(w) = f("weight_decay") {
                o = o.weight_decay(w);
            }
            if let Some(e) = f("eps") {
                o = o.eps(e);
            }
            Box::new(o)
        }
        other => panic!("unknown optimizer {other}"),
    }
}

#[test]
fn three_steps_of_every_optimizer_match_pytorch() {
    for case in load("optimizers.json")["cases"].as_array().unwrap() {
        let name = case["optimizer"].as_str().unwrap();
        let what = format!("{name} {}", case["hyper"]);
        let param = strata::Param::new("p", tensor(&case["param"], &[6]));
        let mut opt = optimizer_from(name, &case["hyper"]);
        for (step, (g, after)) in case["grads"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["after"].as_array().unwrap())
            .enumerate()
        {
            let mut grads = strata::Gradients::new();
            grads.insert(param.tensor(), tensor(g, &[6]));
            opt.step(std::slice::from_ref(&param), &grads).unwrap();
            assert_close(
                &format!("{what} step {}", step + 1),
                &param.tensor().to_vec().unwrap(),
                &floats(after),
                1e-6,
                1e-5,
            );
        }
    }
}

#[test]
fn every_schedule_matches_pytorch_step_by_step() {
    use strata::optim::{LrSchedule, Schedule};
    let g = load("schedules.json");
    let base = g["base_lr"].as_f64().unwrap() as f32;
    for case in g["cases"].as_array().unwrap() {
        let u = |k: &str| case[k].as_u64().unwrap();
        let f = |k: &str| case[k].as_f64().unwrap() as f32;
        let schedule = match case["name"].as_str().unwrap() {
            "constant" => Schedule::constant(),
            "step" => Schedule::step_lr(u("step_size"), f("gamma")),
            "exponential" => Schedule::exponential(f("gamma")),
            "cosine" => Schedule::cosine_annealing(u("t_max"), f("eta_min")),
            "linear_warmup_then_cosine" => Schedule::cosine_annealing(u("t_max"), f("eta_min"))
                .with_warmup(u("warmup_steps"), f("start_factor")),
            other => panic!("unknown schedule {other}"),
        };
        let found: Vec<f32> = (0..floats(&case["lrs"]).len() as u64)
            .map(|s| schedule.lr_at(base, s))
            .collect();
        assert_close(
            &format!("schedule {}", case["name"]),
            &found,
            &floats(&case["lrs"]),
            1e-7,
            1e-5,
        );
    }
}
