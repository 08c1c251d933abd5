//! Does the loader keep the model fed? Times one epoch of the MNIST CNN (the `mnist_cnn`
//! network) on the same shuffled batches fed four ways:
//! - `preloaded`: every batch built as a tensor before the clock starts (no data work at all
//!   during the epoch: the floor);
//! - `one_tensor`: the whole training set as one tensor on the device, each batch gathered
//!   from it by index on the training thread (the usual "preloaded" set-up; no augmentation,
//!   which happens on the host);
//! - `inline`: batches assembled by the loader on the training thread;
//! - `prefetch`: batches assembled on the loader's prefetch thread.
//!
//! Each with and without a random crop augmentation (padding 2). Interleaved rounds after a
//! warm-up (`--epochs` of them, default 8), the order of the ways rotated from round to round;
//! prints the best epoch time of each way as one JSON line.
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

/// Timed rounds (epochs per way) unless `--epochs` says otherwise; the best is reported.
/// A multiple of the four ways, so that each way runs in each position of a round.
const DEFAULT_ROUNDS: usize = 8;

const FEEDS: [Feed; 4] = [
    Feed::Preloaded,
    Feed::OneTensor,
    Feed::Inline,
    Feed::Prefetch,
];

/// How batches reach the training step.
#[derive(Clone, Copy, Debug)]
enum Feed {
    Preloaded,
    OneTensor,
    Inline,
    Prefetch,
}

impl Feed {
    fn name(self) -> &'static str {
        match self {
            Feed::Preloaded => "preloaded",
            Feed::OneTensor => "one_tensor",
            Feed::Inline => "inline",
            Feed::Prefetch => "prefetch",
        }
    }
}

fn run() -> Result<()> {
    let args = Args::parse(DEFAULT_ROUNDS, 64)?;
    // One round times one epoch of each way: `--epochs` sets how many rounds.
    let rounds = args.epochs.max(1);
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
        let mut best = [f64::INFINITY; FEEDS.len()];
        for round in 0..rounds {
            // Each round starts at the next way, so every way runs in every position of a
            // round equally often (the first epoch of a round measured slower or faster than
            // the others: a position effect that would otherwise favour one way).
            for k in 0..FEEDS.len() {
                let i = (round + k) % FEEDS.len();
                if let Some(secs) = epoch_secs(&train, &args, FEEDS[i], augment)? {
                    best[i] = best[i].min(secs);
                }
            }
        }
        for (feed, secs) in FEEDS.iter().zip(best) {
            if secs.is_infinite() {
                continue;
            }
            println!(
                "{}",
                serde_json::json!({
                    "workload": "mnist_cnn_epoch",
                    "feed": feed.name(),
                    "augment": if augment { "random_crop_2" } else { "none" },
                    "samples": n,
                    "batch": args.batch_size,
                    "threads": threads,
                    "epoch_secs": secs,
                    "samples_per_sec": n as f64 / secs,
                    "rounds": rounds,
                })
            );
        }
    }
    Ok(())
}

/// Seconds for one epoch of training on `train` fed by `feed`, or `None` where that way
/// cannot apply the augmentation.
fn epoch_secs(
    train: &InMemoryDataset,
    args: &Args,
    feed: Feed,
    augment: bool,
) -> Result<Option<f64>> {
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
    Ok(Some(match feed {
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
        Feed::OneTensor if augment => return Ok(None),
        Feed::OneTensor => {
            let n = train.len();
            let x_all = Tensor::from_slice(train.features(), vec![n, 28 * 28], &args.device)?;
            let y_all = Tensor::from_slice(train.targets(), vec![n, 1], &args.device)?;
            let order = loader.order(0);
            let clock = Stopwatch::start();
            for rows in order.chunks(args.batch_size) {
                let b = rows.len();
                let idx: Vec<f32> = rows.iter().map(|&r| r as f32).collect();
                let idx = Tensor::from_vec(idx, vec![b], &args.device)?;
                let x = x_all.index_select_rows(&idx)?.reshape(vec![b, 1, 28, 28])?;
                let y = y_all.index_select_rows(&idx)?.reshape(vec![b])?;
                step(&x, &y)?;
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
    }))
}
