//! `strata-cli`: the `strata` command line, `train`, `evaluate`, `predict`, `tune` and
//! `summary` of a training run described in TOML ([`config`]: the file's schema). The binary
//! (`src/main.rs`) only calls [`main`]; every command is also a function returning
//! `Result`, so tests run them in-process.
//!
//! Module map: `config` (the TOML schema and turning it into models, optimizers, schedules
//! and data), `args` (std-only argument parsing), `setup` (config → device, loss, metrics,
//! model, data), `fit` (one training run through `strata-train`'s `Trainer`), one file per
//! command (`train`, `evaluate`, `predict`, `tune`, `summary`). Layer kinds are not listed
//! here: a layer table is read through strata-layers' registry.

#![forbid(unsafe_code)]

pub mod config;

mod args;
mod evaluate;
mod fit;
mod predict;
mod setup;
mod summary;
mod train;
mod tune;

pub use args::{CliArgs, Command, USAGE, parse_override};
pub use evaluate::evaluate;
pub use predict::predict;
pub use setup::{load_config, load_table};
pub use summary::summary;
pub use train::{TrainOutcome, train};
pub use tune::{TuneOutcome, tune};

use strata_core::Result;

/// Runs the command `args` describes.
pub fn run(args: &CliArgs) -> Result<()> {
    match args.command {
        Command::Train => train(args).map(drop),
        Command::Evaluate => evaluate(args).map(drop),
        Command::Predict => predict(args).map(drop),
        Command::Tune => tune(args).map(drop),
        Command::Summary => summary(args).map(|text| print!("{text}")),
    }
}

/// The program: parses `std::env::args`, runs the command, prints an error as
/// `error: ...` and returns the exit code (0, or 2 on any error).
pub fn main() -> i32 {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let outcome = CliArgs::parse(&raw).and_then(|parsed| match parsed {
        Some(args) => run(&args),
        None => {
            println!("{USAGE}");
            Ok(())
        }
    });
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
