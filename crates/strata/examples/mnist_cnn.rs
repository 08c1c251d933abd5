//! MNIST with a small convolutional network: Conv2d(32, 3)-ReLU-MaxPool2-Conv2d(64, 3)-ReLU-
//! MaxPool2-Flatten-Dense(128)-ReLU-Dense(10), Adam (lr 1e-3, cosine-annealed per batch),
//! batch 64, inputs standardized with the training pixels' mean and deviation.
//!
//! `cargo run --release -p strata --example mnist_cnn -- --epochs 3`
//!
//! Uses the full MNIST from `../shared/data/mnist` when present, otherwise the small subset
//! committed in `crates/strata-data/data/mnist-subset`. Trains with `strata::train::Trainer`:
//! the summary, a progress bar (on a terminal) or one line per epoch on stderr; saves the
//! weights, `history.json`, `curves.png` and `confusion.png` under `runs/<example>/`, and with
//! `--json` ends with one JSON line.

mod common;

use common::Args;
use common::classifier::{fit_classifier, load_mnist};
use strata::Result;
use strata::layers::{Conv2d, Dense, Flatten, MaxPool2d, Relu, Sequential};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(3, 64)?;
    let (train, test, is_subset) = load_mnist(&args, &[1, 28, 28])?;
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
    fit_classifier("mnist_cnn", &model, &train, &test, is_subset, &args, 1e-3)
}
