//! The reference workloads of `../shared/bench/README.md`, written with Strata's public API
//! exactly as a user would write them. A step is forward + backward + optimizer update on
//! synthetic data (speed does not depend on the values).

use std::time::Instant;

use strata::layers::{CrossEntropyLoss, Dense, Module, Relu, Sequential};
use strata::optim::Sgd;
use strata::{Device, Result, Tensor, train_step};

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
pub const WORKLOADS: &[&str] = &["W1_mlp_train"];

/// Builds the workload called `name`.
pub fn build(name: &str, device: &Device) -> Result<Workload> {
    match name {
        "W1_mlp_train" => w1_mlp_train(device),
        other => Err(strata::Error::invalid(
            "bench",
            format!("unknown workload `{other}`; known: {WORKLOADS:?}"),
        )),
    }
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
    let params = model.parameters();
    let mut opt = Sgd::new(0.01).momentum(0.9);
    let loss_fn = CrossEntropyLoss::new();
    let x = Tensor::rand_normal([batch, 784], 0.0, 1.0, 1, device)?;
    let labels: Vec<f32> = (0..batch).map(|i| (i * 7 % 10) as f32).collect();
    let y = Tensor::from_vec(labels, [batch], device)?;
    Ok(Workload {
        name: "W1_mlp_train",
        batch,
        step: Box::new(move || {
            train_step(&model, &params, &loss_fn, &mut opt, &x, &y)?;
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
