//! The MNIST examples' shared path: load and standardize MNIST, then train a classifier with
//! the `Trainer` (Adam, a per-batch cosine schedule, test accuracy each epoch).

use std::path::Path;

use strata::Result;
use strata::data::preprocess::StandardScaler;
use strata::data::{DataLoader, InMemoryDataset, Mnist};
use strata::layers::{CrossEntropyLoss, Sequential, save_weights};
use strata::optim::{Adam, Schedule};
use strata::train::Trainer;
use strata::train::metrics::Accuracy;
use strata::train::plot::{save_confusion_matrix, save_curves};

use super::{Args, print_json};

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

/// Trains `model` on `train` with the [`Trainer`]: Adam (`lr` unless `--lr` is given) and
/// cosine annealing over the whole run stepped per batch (the last epoch ends on a small
/// learning rate instead of bouncing around the minimum), test accuracy after every epoch.
/// Saves the weights, the history (JSON), the curves and the test confusion matrix (PNG)
/// under `runs/<name>/`, and with `--json` prints the final JSON line.
pub fn fit_classifier(
    name: &str,
    model: &Sequential,
    train: &InMemoryDataset,
    test: &InMemoryDataset,
    is_subset: bool,
    args: &Args,
    lr: f32,
) -> Result<()> {
    let loader = DataLoader::new(train, args.batch_size)?.shuffle(args.seed);
    let total_steps = (loader.num_batches() * args.epochs) as u64;
    let mut trainer = Trainer::new(
        model,
        CrossEntropyLoss::new(),
        Adam::new(args.lr.unwrap_or(lr)),
    )
    .epochs(args.epochs as u64)
    .schedule(Schedule::cosine_annealing(total_steps, 0.0))
    .metric(Accuracy::new())
    .device(args.device)
    .seed(args.seed);
    let test_loader = DataLoader::new(test, 1000)?;
    let history = trainer.fit(&loader, Some(&test_loader))?;
    let test_accuracy = history
        .last()
        .and_then(|log| log.get("val_accuracy"))
        .unwrap_or(0.0);
    // Throughput over the training passes only (validation excluded).
    let (samples, secs) = history.epochs.iter().fold((0.0, 0.0), |(n, t), log| {
        let secs = log.get("seconds").unwrap_or(0.0);
        (
            n + log.get("samples_per_sec").unwrap_or(0.0) * secs,
            t + secs,
        )
    });
    let save = args
        .save
        .clone()
        .unwrap_or_else(|| format!("runs/{name}/model.safetensors").into());
    if let Some(parent) = save.parent() {
        std::fs::create_dir_all(parent).map_err(|e| strata::Error::io(parent, e))?;
    }
    save_weights(model, &save)?;
    let run_dir = save.parent().unwrap_or(Path::new("."));
    history.save_json(run_dir.join("history.json"))?;
    save_curves(&history, run_dir.join("curves.png"), (900, 320))?;
    let confusion = trainer.confusion_matrix(&test_loader, 10)?;
    save_confusion_matrix(&confusion, run_dir.join("confusion.png"), 40)?;
    eprintln!(
        "weights, history.json, curves.png and confusion.png saved in {}",
        run_dir.display()
    );
    println!("test accuracy: {:.2}%", 100.0 * test_accuracy);
    if args.json {
        print_json(serde_json::json!({
            "example": name,
            "device": args.device.to_string(),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "train_samples": train.len(),
            "train_samples_per_sec": samples / f64::max(secs, 1e-9),
            "test_accuracy": test_accuracy,
            "full_dataset": !is_subset,
        }));
    }
    Ok(())
}
