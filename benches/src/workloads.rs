//! The reference workloads of `../shared/bench/README.md`, written with Strata's public API
//! exactly as a user would write them. A step is forward + backward + optimizer update on
//! synthetic data (speed does not depend on the values).

use std::time::Instant;

use strata::layers::{
    Conv1d, Conv2d, CrossEntropyLoss, Dense, Embedding, Flatten, GlobalMaxPool, Lstm, MaxPool2d,
    Mode, Module, Permute, Relu, Sequential,
};
use strata::optim::{Adam, Optimizer, Sgd};
use strata::{Device, Result, Tensor, no_grad, train_step};

/// A workload: its name, batch size, and a closure running one step.
pub struct Workload {
    /// Name as in the shared bench README (`W1_mlp_train`).
    pub name: &'static str,
    /// Samples per step.
    pub batch: usize,
    /// Runs one step.
    pub step: Box<dyn FnMut() -> Result<()>>,
}

/// Names of every workload this binary knows.
pub const WORKLOADS: &[&str] = &[
    "W1_mlp_train",
    "W2_cnn_train",
    "W3_lstm_train",
    "W4_conv1d_text_train",
    "W5_cnn_infer",
];

/// Warm-up and timed steps per repetition for `name`: the same as its PyTorch twin in
/// `../shared/bench/torch/`, so both sides time the same amount of work.
pub fn default_steps(name: &str) -> (usize, usize) {
    match name {
        "W1_mlp_train" => (50, 200),
        "W2_cnn_train" => (10, 40),
        "W3_lstm_train" => (5, 20),
        "W4_conv1d_text_train" => (20, 100),
        "W5_cnn_infer" => (5, 20),
        _ => (10, 50),
    }
}

/// Builds the workload called `name`.
pub fn build(name: &str, device: &Device) -> Result<Workload> {
    match name {
        "W1_mlp_train" => w1_mlp_train(device),
        "W2_cnn_train" => w2_cnn_train(device),
        "W3_lstm_train" => w3_lstm_train(device),
        "W4_conv1d_text_train" => w4_conv1d_text_train(device),
        "W5_cnn_infer" => w5_cnn_infer(device),
        other => Err(strata::Error::invalid(
            "bench",
            format!("unknown workload `{other}`; known: {WORKLOADS:?}"),
        )),
    }
}

/// A training workload: one `train_step` of `model` with softmax cross-entropy on the fixed
/// batch `(x, y)`, updated by `optimizer`.
fn training(
    name: &'static str,
    model: Sequential,
    mut optimizer: impl Optimizer + 'static,
    x: Tensor,
    y: Tensor,
) -> Workload {
    let params = model.parameters();
    let loss_fn = CrossEntropyLoss::new();
    Workload {
        name,
        batch: x.dims()[0],
        step: Box::new(move || {
            train_step(&model, &params, &loss_fn, &mut optimizer, &x, &y)?;
            Ok(())
        }),
    }
}

/// `batch` class labels cycling through `classes`.
fn labels(batch: usize, classes: usize, device: &Device) -> Result<Tensor> {
    let labels: Vec<f32> = (0..batch).map(|i| (i * 7 % classes) as f32).collect();
    Tensor::from_vec(labels, [batch], device)
}

/// Synthetic token ids `[batch, steps]` below `vocab` and binary labels (W3, W4).
fn text_batch(
    batch: usize,
    steps: usize,
    vocab: usize,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let ids: Vec<f32> = (0..batch * steps)
        .map(|i| ((i * 7919) % vocab) as f32)
        .collect();
    Ok((
        Tensor::from_vec(ids, [batch, steps], device)?,
        labels(batch, 2, device)?,
    ))
}

/// W1: Dense 784-128-64-10, ReLU, softmax cross-entropy, SGD lr 0.01 momentum 0.9, batch 128.
pub fn w1_mlp_train(device: &Device) -> Result<Workload> {
    let batch = 128;
    let model = Sequential::new()
        .add(Dense::new(128))
        .add(Relu)
        .add(Dense::new(64))
        .add(Relu)
        .add(Dense::new(10))
        .build(&[784], device, 0)?;
    let x = Tensor::rand_normal([batch, 784], 0.0, 1.0, 1, device)?;
    let y = labels(batch, 10, device)?;
    Ok(training(
        "W1_mlp_train",
        model,
        Sgd::new(0.01).momentum(0.9),
        x,
        y,
    ))
}

/// The W2/W5 network: Conv2d(1→32, 3)+ReLU, MaxPool2, Conv2d(32→64, 3)+ReLU, MaxPool2,
/// Flatten, Dense(1600→128)+ReLU, Dense(128→10).
fn cnn(device: &Device) -> Result<Sequential> {
    Sequential::new()
        .add(Conv2d::new(32, 3))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(64, 3))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Dense::new(128))
        .add(Relu)
        .add(Dense::new(10))
        .build(&[1, 28, 28], device, 0)
}

/// W2: the CNN above, softmax cross-entropy, Adam lr 1e-3, batch 64.
pub fn w2_cnn_train(device: &Device) -> Result<Workload> {
    let batch = 64;
    let x = Tensor::rand_normal([batch, 1, 28, 28], 0.0, 1.0, 1, device)?;
    let y = labels(batch, 10, device)?;
    Ok(training(
        "W2_cnn_train",
        cnn(device)?,
        Adam::new(1e-3),
        x,
        y,
    ))
}

/// W3: Embedding(10000, 64), Lstm(64→128, length 80), last hidden → Dense(128→2), softmax
/// cross-entropy, Adam lr 1e-3, batch 32.
pub fn w3_lstm_train(device: &Device) -> Result<Workload> {
    let (batch, steps, vocab) = (32, 80, 10_000);
    let model = Sequential::new()
        .add(Embedding::new(vocab, 64))
        .add(Lstm::new(128))
        .add(Dense::new(2))
        .build(&[steps], device, 0)?;
    let (x, y) = text_batch(batch, steps, vocab, device)?;
    Ok(training("W3_lstm_train", model, Adam::new(1e-3), x, y))
}

/// W4: Embedding(10000, 64), Conv1d(64→128, k5)+ReLU over length 80, global max pool,
/// Dense(128→2), softmax cross-entropy, Adam lr 1e-3, batch 32.
pub fn w4_conv1d_text_train(device: &Device) -> Result<Workload> {
    let (batch, steps, vocab) = (32, 80, 10_000);
    let model = Sequential::new()
        .add(Embedding::new(vocab, 64))
        .add(Permute::new(&[1, 0]))
        .add(Conv1d::new(128, 5))
        .add(Relu)
        .add(GlobalMaxPool)
        .add(Dense::new(2))
        .build(&[steps], device, 0)?;
    let (x, y) = text_batch(batch, steps, vocab, device)?;
    Ok(training(
        "W4_conv1d_text_train",
        model,
        Adam::new(1e-3),
        x,
        y,
    ))
}

/// W5: the W2 network in eval mode, softmax, no gradient, batch 256.
pub fn w5_cnn_infer(device: &Device) -> Result<Workload> {
    let batch = 256;
    let model = cnn(device)?;
    let x = Tensor::rand_normal([batch, 1, 28, 28], 0.0, 1.0, 1, device)?;
    Ok(Workload {
        name: "W5_cnn_infer",
        batch,
        step: Box::new(move || {
            let probs = no_grad(|| model.forward(&x, Mode::Eval)?.softmax())?;
            // Reading the output waits for the device, as a caller using it would.
            probs.reshape([batch * 10])?.to_vec()?;
            Ok(())
        }),
    })
}

/// Timing of a workload: milliseconds per step of each timed repetition.
pub struct Timing {
    /// Milliseconds per step, one entry per repetition.
    pub reps_ms: Vec<f64>,
}

impl Timing {
    /// The median over repetitions.
    pub fn median_ms(&self) -> f64 {
        let mut v = self.reps_ms.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    }
}

/// Runs `warmup` untimed steps, then `reps` repetitions of `steps` timed steps.
pub fn time(w: &mut Workload, warmup: usize, steps: usize, reps: usize) -> Result<Timing> {
    for _ in 0..warmup {
        (w.step)()?;
    }
    let mut reps_ms = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        for _ in 0..steps {
            (w.step)()?;
        }
        reps_ms.push(t0.elapsed().as_secs_f64() * 1000.0 / steps as f64);
    }
    Ok(Timing { reps_ms })
}
