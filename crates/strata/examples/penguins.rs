//! Palmer penguins: species from measurements, island and sex, with missing values. The data
//! pipeline in a few lines: read the CSV, drop duplicate rows, stratified train/test split,
//! a fitted `Pipeline` (median imputation + standard scaling for numbers, most-frequent
//! imputation + one-hot for categories), a small dense network, accuracy and a confusion
//! matrix. The fitted pipeline is saved beside the weights.
//!
//! `cargo run --release -p strata --example penguins -- --json`

mod common;

use std::path::Path;

use common::{Args, Stopwatch, print_json, train_epochs};
use strata::data::pipeline::{Encoding, NumericStep};
use strata::data::preprocess::{
    CategoricalImputer, CategoricalStrategy, ImputeStrategy, OneHotEncoder, OrdinalEncoder,
    SimpleImputer, StandardScaler, Unknown,
};
use strata::data::{CsvReader, DataLoader, InMemoryDataset, Pipeline, split};
use strata::layers::{CrossEntropyLoss, Dense, Mode, Module, Relu, Sequential, save_weights};
use strata::optim::Adam;
use strata::{Result, Tensor, no_grad};

const NUMERIC: [&str; 4] = [
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
];
const CATEGORICAL: [&str; 2] = ["island", "sex"];

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(20, 16)?;
    let (dir, _) = args.data_dir("penguins", Path::new("../shared/data/penguins"));
    let file = dir.join("penguins.csv");
    let table = CsvReader::new()
        .numeric(&NUMERIC)
        .categorical(&["species", "island", "sex", "year"])
        .read(&file)?;
    let (table, duplicates) = table.drop_duplicates();
    let (table, unlabelled) = {
        let species = table.categorical("species")?;
        let n = table.rows();
        let kept = table.filter_rows(|r| species[r].is_some());
        let dropped = n - kept.rows();
        (kept, dropped)
    };
    eprintln!(
        "{}: {} rows ({duplicates} duplicates, {unlabelled} without species dropped)",
        file.display(),
        table.rows()
    );

    let mut species = OrdinalEncoder::new();
    species.fit(table.categorical("species")?)?;
    let labels = species.transform(table.categorical("species")?)?;
    let label_ids: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
    let parts = split::stratified_split(&label_ids, 0.0, 0.2, args.seed)?;
    let (train, test) = (
        table.take_rows(&parts.train)?,
        table.take_rows(&parts.test)?,
    );

    let mut pipeline = Pipeline::new()
        .numeric(
            &NUMERIC,
            vec![
                NumericStep::Impute(SimpleImputer::new(ImputeStrategy::Median)),
                NumericStep::Standard(StandardScaler::new()),
            ],
        )
        .categorical(
            &CATEGORICAL,
            Some(CategoricalImputer::new(CategoricalStrategy::MostFrequent)),
            Encoding::OneHot(OneHotEncoder::new().unknown(Unknown::Ignore)),
        );
    let (x_train, width) = pipeline.fit_transform(&train)?;
    let (x_test, _) = pipeline.transform(&test)?;
    eprintln!("features: {:?}", pipeline.feature_names());
    let y_train = species.transform(train.categorical("species")?)?;
    let y_test = species.transform(test.categorical("species")?)?;
    let train_set = InMemoryDataset::new(x_train, vec![width], y_train, vec![])?;
    let test_set = InMemoryDataset::new(x_test, vec![width], y_test, vec![])?;
    let classes = species.categories().len();

    let model = Sequential::new()
        .add(Dense::new(16))
        .add(Relu)
        .add(Dense::new(classes))
        .build(&[width], &args.device, args.seed)?;
    let loss_fn = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(args.lr.unwrap_or(1e-2));
    let loader = DataLoader::new(&train_set, args.batch_size)?.shuffle(args.seed);
    let clock = Stopwatch::start();
    let last_loss = train_epochs(&model, &loss_fn, &mut optimizer, &loader, &args, 10, "loss")?;
    let train_secs = clock.secs();

    let predicted = predict(&model, &test_set, &args)?;
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (&p, &t) in predicted.iter().zip(test_set.targets()) {
        confusion[t as usize][p] += 1;
    }
    let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
    let accuracy = correct as f64 / test_set.len().max(1) as f64;
    eprintln!(
        "confusion matrix (rows: true, columns: predicted) {:?}",
        species.categories()
    );
    for (name, row) in species.categories().iter().zip(&confusion) {
        eprintln!("  {name:>10} {row:?}");
    }
    println!(
        "test accuracy: {:.2}% ({correct}/{})",
        100.0 * accuracy,
        test_set.len()
    );

    let save = args
        .save
        .clone()
        .unwrap_or_else(|| "runs/penguins/model.safetensors".into());
    if let Some(parent) = save.parent() {
        std::fs::create_dir_all(parent).map_err(|e| strata::Error::io(parent, e))?;
    }
    save_weights(&model, &save)?;
    pipeline.save(Pipeline::path_beside(&save))?;
    eprintln!("weights and pipeline saved beside {}", save.display());
    if args.json {
        print_json(serde_json::json!({
            "example": "penguins",
            "device": args.device.to_string(),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "train_samples": train_set.len(),
            "test_samples": test_set.len(),
            "train_samples_per_sec": (train_set.len() * args.epochs) as f64 / train_secs.max(1e-9),
            "final_train_loss": last_loss,
            "test_accuracy": accuracy,
            "classes": species.categories(),
            "confusion_matrix": confusion,
        }));
    }
    Ok(())
}

/// The predicted class of every sample.
fn predict(model: &Sequential, data: &InMemoryDataset, args: &Args) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(data.len());
    for batch in DataLoader::new(data, 256)?.epoch(0) {
        let (x, _) = batch?.into_tensors(&args.device)?;
        let pred: Tensor = no_grad(|| model.forward(&x, Mode::Eval)?.argmax(1))?;
        out.extend(pred.to_vec()?.into_iter().map(|p| p as usize));
    }
    Ok(out)
}
