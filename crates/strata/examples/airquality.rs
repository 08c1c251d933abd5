//! New York air quality, 1973: ozone from solar radiation, wind, temperature and month, with
//! missing values. Rows without an ozone reading have no target and are dropped; the missing
//! solar radiation readings are imputed (median) and every input is standardized by a fitted
//! `Pipeline`. Ozone is skewed, so the network predicts the standardized cube root of it,
//! turned back into ppb. Reports the test RMSE beside the RMSE of always predicting the
//! training mean (`baseline_rmse`).
//!
//! `cargo run --release -p strata --example airquality -- --json`

mod common;

use std::path::Path;

use common::{Args, Stopwatch, print_json, train_epochs};
use strata::data::pipeline::NumericStep;
use strata::data::preprocess::{ImputeStrategy, SimpleImputer, StandardScaler};
use strata::data::{CsvReader, DataLoader, InMemoryDataset, Pipeline, split};
use strata::layers::{Dense, Mode, Module, MseLoss, Relu, Sequential, save_weights};
use strata::optim::Adam;
use strata::{Result, no_grad};

const INPUTS: [&str; 4] = ["Solar.R", "Wind", "Temp", "Month"];
const TARGET: &str = "Ozone";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(60, 16)?;
    let (dir, _) = args.data_dir("airquality", Path::new("../shared/data/airquality"));
    let file = dir.join("airquality.csv");
    let all = CsvReader::new()
        .numeric(&["Ozone", "Solar.R", "Wind", "Temp", "Month", "Day"])
        .read(&file)?;
    let ozone = all.numeric(TARGET)?;
    let table = all.filter_rows(|r| !ozone[r].is_nan());
    eprintln!(
        "{}: {} rows, {} with an ozone reading",
        file.display(),
        all.rows(),
        table.rows()
    );
    let parts = split::train_val_test_split(table.rows(), 0.0, 0.2, args.seed)?;
    let (train, test) = (
        table.take_rows(&parts.train)?,
        table.take_rows(&parts.test)?,
    );

    let mut pipeline = Pipeline::new().numeric(
        &INPUTS,
        vec![
            NumericStep::Impute(SimpleImputer::new(ImputeStrategy::Median)),
            NumericStep::Standard(StandardScaler::new()),
        ],
    );
    let (x_train, width) = pipeline.fit_transform(&train)?;
    let (x_test, _) = pipeline.transform(&test)?;
    let mut target_scaler = StandardScaler::new();
    let cube_root: Vec<f32> = train.numeric(TARGET)?.iter().map(|y| y.cbrt()).collect();
    let y_train = target_scaler.fit_transform(&cube_root, 1)?;
    let y_test_ppb = test.numeric(TARGET)?.to_vec();
    let train_set = InMemoryDataset::new(x_train, vec![width], y_train, vec![1])?;

    let model = Sequential::new()
        .add(Dense::new(32))
        .add(Relu)
        .add(Dense::new(1))
        .build(&[width], &args.device, args.seed)?;
    let mut optimizer = Adam::new(args.lr.unwrap_or(3e-3));
    let loader = DataLoader::new(&train_set, args.batch_size)?.shuffle(args.seed);
    let clock = Stopwatch::start();
    let label = "train mse (standardized)";
    train_epochs(&model, &MseLoss, &mut optimizer, &loader, &args, 20, label)?;
    let train_secs = clock.secs();

    let rows = y_test_ppb.len();
    let x = strata::Tensor::from_vec(x_test, vec![rows, width], &args.device)?;
    let scores = no_grad(|| model.forward(&x, Mode::Eval))?.to_vec()?;
    let predicted: Vec<f32> = target_scaler
        .inverse_transform(&scores, 1)?
        .iter()
        .map(|r| r.powi(3))
        .collect();
    let ozone_train = train.numeric(TARGET)?;
    let train_mean = ozone_train.iter().sum::<f32>() / ozone_train.len().max(1) as f32;
    let rmse = |pred: &dyn Fn(usize) -> f32| {
        let se: f64 = (0..rows)
            .map(|i| f64::from(pred(i) - y_test_ppb[i]).powi(2))
            .sum();
        (se / rows.max(1) as f64).sqrt()
    };
    let test_rmse = rmse(&|i| predicted[i]);
    let baseline_rmse = rmse(&|_| train_mean);
    println!(
        "test rmse {test_rmse:.2} ppb, mean predictor {baseline_rmse:.2} ppb ({:.0}% lower)",
        100.0 * (1.0 - test_rmse / baseline_rmse)
    );

    let save = args
        .save
        .clone()
        .unwrap_or_else(|| "runs/airquality/model.safetensors".into());
    if let Some(parent) = save.parent() {
        std::fs::create_dir_all(parent).map_err(|e| strata::Error::io(parent, e))?;
    }
    save_weights(&model, &save)?;
    pipeline.save(Pipeline::path_beside(&save))?;
    if args.json {
        print_json(serde_json::json!({
            "example": "airquality",
            "device": args.device.to_string(),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "train_samples": train_set.len(),
            "test_samples": rows,
            "train_samples_per_sec": (train_set.len() * args.epochs) as f64 / train_secs.max(1e-9),
            "test_rmse": test_rmse,
            "baseline_rmse": baseline_rmse,
        }));
    }
    Ok(())
}
