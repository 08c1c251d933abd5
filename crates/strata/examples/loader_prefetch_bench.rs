//! Does the loader keep the model fed? Times one epoch of the MNIST CNN (the `mnist_cnn`
//! network) three ways on the same shuffled batches: every batch built as a tensor before
//! the clock starts (the data preloaded: the floor), batches assembled on the training thread,
//! and batches assembled on the loader's prefetch thread — each with and without a random
//! crop augmentation (padding 2). Three interleaved rounds after a warm-up; prints the best
//! epoch time of each way as one JSON line.
//!
//! `STRATA_NUM_THREADS=1 cargo run --release -p strata --example loader_prefetch_bench -- --limit 6400`

mod common;

use std::path::Path;

use common::{Args, Stopwatch};
use strata::data::augment::RandomCrop;
use strata::data::preprocess::StandardScaler;
use strata::data::{DataLoader, InMemoryDataset, Mnist};
use strata::layers::{
    Conv2d, CrossEntropyLoss, Dense, Flatten, MaxPool2d, Module, Relu, Sequential,
};
use strata::optim::Adam;
use strata::{Device, Result, Tensor, train_step};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn cnn(device: &Device, seed: u64) -> Result<Sequential> {
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
        .build(&[1, 28, 28], device, seed)
}

/// Timed rounds per way (the best is reported).
const ROUNDS: usize = 3;

const FEEDS: [Feed; 3] = [Feed::Preloaded, Feed::Inline, Feed::Prefetch];

/// How batches reach the training step.
#[derive(Clone, Copy, Debug)]
enum Feed {
    Preloaded,
    Inline,
    Prefetch,
}

fn run() -> Result<()> {
    let args = Args::parse(1, 64)?;
    let subset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/mnist-subset");
    let (dir, _) = args.data_dir("mnist", &subset);
    let mnist = Mnist::load(&dir)?;
    let mut train = mnist.train.reshape_samples(vec![1, 28, 28])?;
    let n = args.limit.unwrap_or(6400).min(train.len());
    train = train.subset(&(0..n).collect::<Vec<_>>())?;
    let mut scaler = StandardScaler::new();
    scaler.fit(train.features(), 1)?;
    scaler.transform_in_place(train.features_mut(), 1)?;
    let threads = std::env::var("STRATA_NUM_THREADS").unwrap_or_else(|_| "all".into());
    // Warm-up: first-touch allocations and caches, not counted.
    epoch_secs(&train, &args, Feed::Preloaded, false)?;
    for augment in [false, true] {
        // Interleaved rounds, best of each: the machine is shared, so noise only adds time.
        let mut best = [f64::INFINITY; 3];
        for _ in 0..ROUNDS {
            for (i, feed) in FEEDS.iter().enumerate() {
                best[i] = best[i].min(epoch_secs(&train, &args, *feed, augment)?);
            }
        }
        for (feed, secs) in FEEDS.iter().zip(best) {
            println!(
                "{}",
                serde_json::json!({
                    "workload": "mnist_cnn_epoch",
                    "feed": format!("{feed:?}").to_lowercase(),
                    "augment": if augment { "random_crop_2" } else { "none" },
                    "samples": n,
                    "batch": args.batch_size,
                    "threads": threads,
                    "epoch_secs": secs,
                    "samples_per_sec": n as f64 / secs,
                    "rounds": ROUNDS,
                })
            );
        }
    }
    Ok(())
}

/// Seconds for one epoch of training on `train` fed by `feed`.
fn epoch_secs(train: &InMemoryDataset, args: &Args, feed: Feed, augment: bool) -> Result<f64> {
    let model = cnn(&args.device, args.seed)?;
    let params = model.parameters();
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(1e-3);
    let mut loader = DataLoader::new(train, args.batch_size)?.shuffle(args.seed);
    if augment {
        loader = loader.augment(RandomCrop { padding: 2 });
    }
    let mut step = |x: &Tensor, y: &Tensor| -> Result<()> {
        train_step(&model, &params, &loss_fn, &mut optimizer, x, y).map(|_| ())
    };
    Ok(match feed {
        Feed::Preloaded => {
            let tensors = loader
                .epoch(0)
                .map(|b| b?.into_tensors(&args.device))
                .collect::<Result<Vec<_>>>()?;
            let clock = Stopwatch::start();
            for (x, y) in &tensors {
                step(x, y)?;
            }
            clock.secs()
        }
        Feed::Inline => {
            let clock = Stopwatch::start();
            for batch in loader.epoch(0) {
                let (x, y) = batch?.into_tensors(&args.device)?;
                step(&x, &y)?;
            }
            clock.secs()
        }
        Feed::Prefetch => {
            let loader = loader.prefetch(2);
            let clock = Stopwatch::start();
            loader.for_each_batch(0, |batch| {
                let (x, y) = batch.into_tensors(&args.device)?;
                step(&x, &y)
            })?;
            clock.secs()
        }
    })
}
