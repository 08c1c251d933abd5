//! MNIST with a small convolutional network: Conv2d(32, 3)-ReLU-MaxPool2-Conv2d(64, 3)-ReLU-
//! MaxPool2-Flatten-Dense(128)-ReLU-Dense(10), Adam (lr 1e-3, cosine-annealed per batch),
//! batch 64, inputs standardized with the training pixels' mean and deviation.
//!
//! `cargo run --release -p strata --example mnist_cnn -- --epochs 3`
//!
//! Uses the full MNIST from `../shared/data/mnist` when present, otherwise the small subset
//! committed in `crates/strata-data/data/mnist-subset`. Prints per-epoch loss, accuracy and
//! time to stderr, saves the weights, and with `--json` ends with one JSON line.

mod common;

use std::path::Path;

use common::{Args, Stopwatch, print_json};
use strata::data::preprocess::StandardScaler;
use strata::data::{DataLoader, Mnist};
use strata::layers::{
    Conv2d, CrossEntropyLoss, Dense, Flatten, MaxPool2d, Mode, Module, Relu, Sequential,
    save_weights,
};
use strata::optim::{Adam, Schedule, Scheduler};
use strata::{Result, Tensor, no_grad, train_step};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(3, 64)?;
    let subset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/mnist-subset");
    let (dir, is_subset) = args.data_dir("mnist", &subset);
    eprintln!(
        "data: {}{}",
        dir.display(),
        if is_subset {
            " (small committed subset)"
        } else {
            ""
        }
    );
    let mnist = Mnist::load(&dir)?;
    let mut train = mnist.train.reshape_samples(vec![1, 28, 28])?;
    if let Some(n) = args.limit {
        train = train.subset(&(0..n.min(train.len())).collect::<Vec<_>>())?;
    }
    let mut test = mnist.test.reshape_samples(vec![1, 28, 28])?;
    // Standardize with one mean and standard deviation over all training pixels (the classic
    // MNIST recipe), fitted on the training split only and applied to both.
    let mut scaler = StandardScaler::new();
    scaler.fit(train.features(), 1)?;
    scaler.transform_in_place(train.features_mut(), 1)?;
    scaler.transform_in_place(test.features_mut(), 1)?;
    eprintln!(
        "train {} images, test {} images, device {}",
        train.len(),
        test.len(),
        args.device
    );

    let model = Sequential::new()
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
        .build(&[1, 28, 28], &args.device, args.seed)?;
    eprintln!("{}", model.summary());
    let params = model.parameters();
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(args.lr.unwrap_or(1e-3));
    let loader = DataLoader::new(&train, args.batch_size)?.shuffle(args.seed);
    // Cosine annealing over the whole run, stepped per batch: the final epoch ends on a
    // small learning rate instead of bouncing around the minimum.
    let total_steps = (loader.num_batches() * args.epochs) as u64;
    let mut scheduler =
        Scheduler::attach(Schedule::cosine_annealing(total_steps, 0.0), &mut optimizer)?;

    let mut train_secs = 0.0;
    let mut trained_samples = 0usize;
    let mut test_accuracy = 0.0;
    for epoch in 1..=args.epochs {
        let clock = Stopwatch::start();
        let (mut loss_sum, mut batches, mut seen) = (0.0f64, 0usize, 0usize);
        for batch in loader.epoch(epoch as u64) {
            let batch = batch?;
            let (x, y) = batch.to_tensors(&args.device)?;
            let loss = train_step(&model, &params, &loss_fn, &mut optimizer, &x, &y)?;
            scheduler.step(&mut optimizer);
            loss_sum += loss as f64;
            batches += 1;
            seen += batch.len();
        }
        let secs = clock.secs();
        train_secs += secs;
        trained_samples += seen;
        test_accuracy = accuracy(&model, &test, &args)?;
        eprintln!(
            "epoch {epoch}/{}: loss {:.4}  test accuracy {:.2}%  {:.1}s  {:.0} samples/s",
            args.epochs,
            loss_sum / batches.max(1) as f64,
            100.0 * test_accuracy,
            secs,
            seen as f64 / secs
        );
    }
    let save = args
        .save
        .clone()
        .unwrap_or_else(|| "runs/mnist_cnn/model.safetensors".into());
    if let Some(parent) = save.parent() {
        std::fs::create_dir_all(parent).map_err(|e| strata::Error::io(parent, e))?;
    }
    save_weights(&model, &save)?;
    eprintln!("weights saved to {}", save.display());
    println!("test accuracy: {:.2}%", 100.0 * test_accuracy);
    if args.json {
        print_json(serde_json::json!({
            "example": "mnist_cnn",
            "device": args.device.to_string(),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "train_samples": train.len(),
            "train_samples_per_sec": trained_samples as f64 / train_secs.max(1e-9),
            "test_accuracy": test_accuracy,
            "full_dataset": !is_subset,
        }));
    }
    Ok(())
}

fn count_correct(model: &Sequential, x: &Tensor, y: &Tensor) -> Result<usize> {
    no_grad(|| {
        let pred = model.forward(x, Mode::Eval)?.argmax(1)?.to_vec()?;
        let truth = y.to_vec()?;
        Ok(pred.iter().zip(&truth).filter(|(p, t)| p == t).count())
    })
}

fn accuracy(model: &Sequential, data: &strata::data::InMemoryDataset, args: &Args) -> Result<f64> {
    let loader = DataLoader::new(data, 1000)?;
    let mut correct = 0usize;
    for batch in loader.epoch(0) {
        let (x, y) = batch?.into_tensors(&args.device)?;
        correct += count_correct(model, &x, &y)?;
    }
    Ok(correct as f64 / data.len().max(1) as f64)
}
