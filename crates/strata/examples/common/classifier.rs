//! The MNIST examples' shared path: load and standardize MNIST, then train a classifier with
//! Adam and a per-batch cosine schedule, reporting test accuracy each epoch.

use std::path::Path;

use strata::data::preprocess::StandardScaler;
use strata::data::{DataLoader, InMemoryDataset, Mnist};
use strata::layers::{CrossEntropyLoss, Mode, Module, Sequential, save_weights};
use strata::optim::{Adam, Schedule, Scheduler};
use strata::{Result, Tensor, no_grad, train_step};

use super::{Args, Stopwatch, print_json};

/// MNIST train and test splits with samples shaped `sample_shape`, standardized with one
/// mean and deviation over all training pixels (fitted on the training split only), and
/// whether the data is the small committed subset.
pub fn load_mnist(
    args: &Args,
    sample_shape: &[usize],
) -> Result<(InMemoryDataset, InMemoryDataset, bool)> {
    let subset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/mnist-subset");
    let (dir, is_subset) = args.data_dir("mnist", &subset);
    let note = if is_subset {
        " (small committed subset)"
    } else {
        ""
    };
    eprintln!("data: {}{note}", dir.display());
    let mnist = Mnist::load(&dir)?;
    let mut train = mnist.train.reshape_samples(sample_shape.to_vec())?;
    if let Some(n) = args.limit {
        train = train.subset(&(0..n.min(train.len())).collect::<Vec<_>>())?;
    }
    let mut test = mnist.test.reshape_samples(sample_shape.to_vec())?;
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
    Ok((train, test, is_subset))
}

/// Trains `model` on `train` with Adam (`lr` unless `--lr` is given) and cosine annealing
/// over the whole run stepped per batch (the last epoch ends on a small learning rate
/// instead of bouncing around the minimum); prints per-epoch loss, test accuracy and
/// samples/s, saves the weights under `runs/<name>/`, and with `--json` prints the final
/// JSON line.
pub fn fit_classifier(
    name: &str,
    model: &Sequential,
    train: &InMemoryDataset,
    test: &InMemoryDataset,
    is_subset: bool,
    args: &Args,
    lr: f32,
) -> Result<()> {
    eprintln!("{}", model.summary());
    let params = model.parameters();
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(args.lr.unwrap_or(lr));
    let loader = DataLoader::new(train, args.batch_size)?.shuffle(args.seed);
    let total_steps = (loader.num_batches() * args.epochs) as u64;
    let mut scheduler =
        Scheduler::attach(Schedule::cosine_annealing(total_steps, 0.0), &mut optimizer)?;

    let (mut train_secs, mut trained_samples, mut test_accuracy) = (0.0, 0usize, 0.0);
    for epoch in 1..=args.epochs {
        let clock = Stopwatch::start();
        let (mut loss_sum, mut batches, mut seen) = (0.0f64, 0usize, 0usize);
        for batch in loader.epoch(epoch as u64) {
            let batch = batch?;
            let (x, y) = batch.to_tensors(&args.device)?;
            let loss = train_step(model, &params, &loss_fn, &mut optimizer, &x, &y)?;
            scheduler.step(&mut optimizer);
            loss_sum += loss as f64;
            batches += 1;
            seen += batch.len();
        }
        let secs = clock.secs();
        train_secs += secs;
        trained_samples += seen;
        test_accuracy = accuracy(model, test, args)?;
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
        .unwrap_or_else(|| format!("runs/{name}/model.safetensors").into());
    if let Some(parent) = save.parent() {
        std::fs::create_dir_all(parent).map_err(|e| strata::Error::io(parent, e))?;
    }
    save_weights(model, &save)?;
    eprintln!("weights saved to {}", save.display());
    println!("test accuracy: {:.2}%", 100.0 * test_accuracy);
    if args.json {
        print_json(serde_json::json!({
            "example": name,
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

/// Fraction of `data` that `model` classifies correctly (batches of 1,000, no graph).
pub fn accuracy(model: &Sequential, data: &InMemoryDataset, args: &Args) -> Result<f64> {
    let loader = DataLoader::new(data, 1000)?;
    let mut correct = 0usize;
    for batch in loader.epoch(0) {
        let (x, y) = batch?.into_tensors(&args.device)?;
        correct += count_correct(model, &x, &y)?;
    }
    Ok(correct as f64 / data.len().max(1) as f64)
}
