//! MNIST with a dense network: 784-128-64-10, ReLU, Adam (lr 2e-3, cosine-annealed per
//! batch), batch 64, inputs standardized with the training pixels' mean and deviation.
//!
//! `cargo run --release -p strata --example mnist_mlp -- --epochs 5`
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
use strata::layers::{Dense, Relu, Sequential};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(5, 64)?;
    let (train, test, is_subset) = load_mnist(&args, &[784])?;
    let model = Sequential::new()
        .add(Dense::new(128))
        .add(Relu)
        .add(Dense::new(64))
        .add(Relu)
        .add(Dense::new(10))
        .build(&[784], &args.device, args.seed)?;
    fit_classifier("mnist_mlp", &model, &train, &test, is_subset, &args, 2e-3)
}
