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
