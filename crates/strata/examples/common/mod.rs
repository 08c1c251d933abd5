//! What every example shares: the common flags (`--data`, `--epochs`, `--batch-size`,
//! `--device`, `--seed`, `--json`), finding the data set, and the final JSON line.

#![allow(dead_code)]

pub mod classifier;

use std::path::{Path, PathBuf};
use std::time::Instant;

use strata::{Device, Error, Result};

/// The flags every example accepts.
#[derive(Debug, Clone)]
pub struct Args {
    /// `--data DIR`, resolved (see [`Args::data_dir`]).
    pub data: Option<PathBuf>,
    /// `--epochs N`.
    pub epochs: usize,
    /// `--batch-size N`.
    pub batch_size: usize,
    /// `--device cpu|cuda`.
    pub device: Device,
    /// `--seed N`.
    pub seed: u64,
    /// `--json`: print one JSON object as the last line.
    pub json: bool,
    /// `--lr X` (examples that take a learning rate).
    pub lr: Option<f32>,
    /// `--limit N`: use only the first N training samples (quick runs).
    pub limit: Option<usize>,
    /// `--save PATH`: where to write the weights.
    pub save: Option<PathBuf>,
}

impl Args {
    /// Parses the process arguments, with the example's own defaults.
    pub fn parse(default_epochs: usize, default_batch: usize) -> Result<Args> {
        let mut args = Args {
            data: None,
            epochs: default_epochs,
            batch_size: default_batch,
            device: Device::best(),
            seed: 42,
            json: false,
            lr: None,
            limit: None,
            save: None,
        };
        let raw: Vec<String> = std::env::args().skip(1).collect();
        let mut it = raw.iter();
        let bad =
            |flag: &str, v: &str| Error::invalid("arguments", format!("{flag}: cannot use `{v}`"));
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| Error::invalid("arguments", format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--data" => args.data = Some(PathBuf::from(value()?)),
                "--epochs" => {
                    let v = value()?;
                    args.epochs = v.parse().map_err(|_| bad(flag, &v))?
                }
                "--batch-size" => {
                    let v = value()?;
                    args.batch_size = v.parse().map_err(|_| bad(flag, &v))?
                }
                "--device" => args.device = Device::parse(&value()?)?,
                "--seed" => {
                    let v = value()?;
                    args.seed = v.parse().map_err(|_| bad(flag, &v))?
                }
                "--lr" => {
                    let v = value()?;
                    args.lr = Some(v.parse().map_err(|_| bad(flag, &v))?)
                }
                "--limit" => {
                    let v = value()?;
                    args.limit = Some(v.parse().map_err(|_| bad(flag, &v))?)
                }
                "--save" => args.save = Some(PathBuf::from(value()?)),
                "--json" => args.json = true,
                "-h" | "--help" => {
                    eprintln!(
                        "flags: --data DIR --epochs N --batch-size N --device cpu|cuda --seed N \
                         --lr X --limit N --save PATH --json"
                    );
                    std::process::exit(0);
                }
                other => {
                    return Err(Error::invalid(
                        "arguments",
                        format!("unknown flag `{other}` (try --help)"),
                    ));
                }
            }
        }
        if args.batch_size == 0 {
            return Err(Error::invalid(
                "arguments",
                "--batch-size must be at least 1",
            ));
        }
        Ok(args)
    }

    /// The data folder of set `name`: `--data`, else `$STRATA_DATA/<name>`, else
    /// `../shared/data/<name>` when it exists, else the committed subset `fallback`.
    /// Returns the folder and whether it is the small committed subset.
    pub fn data_dir(&self, name: &str, fallback: &Path) -> (PathBuf, bool) {
        if let Some(d) = &self.data {
            return (d.clone(), false);
        }
        if let Ok(root) = std::env::var("STRATA_DATA") {
            let d = Path::new(&root).join(name);
            if d.is_dir() {
                return (d, false);
            }
        }
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        for base in [
            PathBuf::from("../shared/data"),
            manifest.join("../../../shared/data"),
        ] {
            let d = base.join(name);
            if d.is_dir() {
                return (d, false);
            }
        }
        (fallback.to_path_buf(), true)
    }
}

/// Wall-clock timer for throughput figures.
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts timing.
    pub fn start() -> Self {
        Stopwatch(Instant::now())
    }
    /// Seconds since start.
    pub fn secs(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Prints the final JSON object (one line on stdout).
pub fn print_json(value: serde_json::Value) {
    println!("{value}");
}

/// Trains `model` for `args.epochs` epochs over `loader` (on its prefetch thread when the
/// loader has one), printing the mean `label` every `every` epochs and after the last;
/// returns the last epoch's mean loss.
pub fn train_epochs<D: strata::data::Dataset + Sync + ?Sized>(
    model: &dyn strata::layers::Module,
    loss_fn: &dyn strata::layers::Loss,
    optimizer: &mut dyn strata::optim::Optimizer,
    loader: &strata::data::DataLoader<'_, D>,
    args: &Args,
    every: usize,
    label: &str,
) -> Result<f64> {
    let params = model.parameters();
    let mut mean = 0.0;
    for epoch in 1..=args.epochs {
        let (mut sum, mut batches) = (0.0f64, 0usize);
        loader.for_each_batch(epoch as u64, |batch| {
            let (x, y) = batch.into_tensors(&args.device)?;
            sum += f64::from(strata::train_step(
                model, &params, loss_fn, optimizer, &x, &y,
            )?);
            batches += 1;
            Ok::<_, Error>(())
        })?;
        mean = sum / batches.max(1) as f64;
        if epoch % every.max(1) == 0 || epoch == args.epochs {
            eprintln!("epoch {epoch}/{}: {label} {mean:.4}", args.epochs);
        }
    }
    Ok(mean)
}
