//! The `strata` command line run in-process on the committed MNIST subset and a small CSV:
//! train writes its files, evaluate and predict read them back, tune picks the best trial,
//! and every committed config reads.

use std::path::{Path, PathBuf};

use strata_cli::{self as cli, CliArgs, Command};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn args(command: Command, config: &Path) -> CliArgs {
    CliArgs {
        command,
        config: config.to_path_buf(),
        overrides: Vec::new(),
        weights: None,
        input: None,
        output: None,
        quiet: true,
        resume: false,
    }
}

/// A small MLP on 1,000 images of the committed subset, two epochs.
fn mnist_config(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"
[data]
source = "mnist"
path = "{subset}"
sample_shape = [784]
limit = 1000
test_limit = 300
validation_split = 0.2
batch_size = 32
preprocess = [{{ step = "scale" }}]

[model]
layers = [{{ type = "dense", units = 32, activation = "relu" }}, {{ type = "dense", units = 10 }}]

[optimizer]
type = "adam"
lr = 3e-3

[schedule]
type = "cosine_annealing"

[train]
epochs = 2
metrics = ["accuracy"]
progress = false
output_dir = "{out}"
{extra}
"#,
        subset = strata::data::mnist::subset_dir().display(),
        out = dir.join("out").display(),
    );
    let path = dir.join("mnist.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn train_writes_weights_pipeline_history_and_curves_then_evaluate_and_predict_read_them() {
    let dir = temp_dir("train");
    let config = mnist_config(&dir, "");
    let outcome = cli::train(&args(Command::Train, &config)).unwrap();
    for file in [
        &outcome.weights,
        &outcome.pipeline,
        &outcome.history,
        &outcome.curves,
    ] {
        assert!(file.is_file(), "{} missing", file.display());
    }
    assert!(outcome.output_dir.join("history.csv").is_file());
    assert!(outcome.output_dir.join("confusion.png").is_file());
    assert!(outcome.output_dir.join("config.toml").is_file());
    let history = strata::train::History::load_json(&outcome.history).unwrap();
    assert_eq!(history.len(), 2);
    let png = std::fs::read(&outcome.curves).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let val = outcome.last_epoch["val_accuracy"];
    assert!(val > 0.6, "two epochs on 800 images should pass 60%: {val}");
    let test = outcome.test.clone().unwrap();

    let scores = cli::evaluate(&args(Command::Evaluate, &config)).unwrap();
    assert_eq!(scores["accuracy"], test["accuracy"]);
    // Fewer training rows would fit another scaler; evaluate must use the saved one.
    let mut fewer = args(Command::Evaluate, &config);
    fewer.overrides = vec![("data.limit".into(), toml::Value::Integer(500))];
    let again = cli::evaluate(&fewer).unwrap();
    assert_eq!(again["loss"], scores["loss"]);

    let mut p = args(Command::Predict, &config);
    p.input = Some(strata::data::mnist::subset_dir().join("t10k-images-idx3-ubyte.gz"));
    p.output = Some(dir.join("preds.csv"));
    let lines = cli::predict(&p).unwrap();
    assert_eq!(lines[0], "row,prediction,probability");
    assert_eq!(lines.len(), 1 + 1000);
    let written = std::fs::read_to_string(dir.join("preds.csv")).unwrap();
    assert_eq!(written.lines().count(), 1001);

    std::fs::remove_file(&outcome.pipeline).unwrap();
    let err = cli::evaluate(&args(Command::Evaluate, &config)).unwrap_err();
    assert!(err.to_string().contains("pipeline.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tune_prints_trials_and_keeps_the_best_by_validation_accuracy() {
    let dir = temp_dir("tune");
    let config = mnist_config(
        &dir,
        r#"
[tune]
metric = "val_accuracy"
mode = "max"
epochs = 2
halving = { eta = 2, min_epochs = 1 }
[tune.space]
"optimizer.lr" = [1e-4, 3e-3, 1e-2]
"data.batch_size" = [64]
"#,
    );
    let outcome = cli::tune(&args(Command::Tune, &config)).unwrap();
    let report = &outcome.report;
    assert_eq!(report.trials.len(), 3);
    let best = report.best().last_metric().unwrap();
    for t in &report.trials {
        assert!(t.last_metric().unwrap() <= best, "{}", report.table());
    }
    // Halving: 3 trials at 1 epoch, the best 2 go on to 2 epochs.
    let at_two = report.trials.iter().filter(|t| t.epochs() == 2).count();
    assert_eq!(at_two, 2, "{}", report.table());
    assert!(outcome.csv.is_file());
    for f in ["model.safetensors", "pipeline.json", "config.toml"] {
        assert!(outcome.best_dir.join(f).is_file(), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_csv_config_imputes_encodes_and_predicts_class_names() {
    let dir = temp_dir("csv");
    let mut csv = String::from("size,colour,weight,label\n");
    for i in 0..120 {
        let big = i % 2 == 0;
        let size = if i % 17 == 0 {
            "NA".to_string()
        } else {
            format!("{}", if big { 5.0 } else { 1.0 } + (i % 5) as f32 * 0.1)
        };
        let colour = if i % 13 == 0 {
            "NA"
        } else if big {
            "red"
        } else {
            "blue"
        };
        let label = if big { "large" } else { "small" };
        csv.push_str(&format!("{size},{colour},{},{label}\n", 10 + i % 7));
    }
    std::fs::write(dir.join("things.csv"), csv).unwrap();
    std::fs::write(
        dir.join("new.csv"),
        "size,colour,weight\n5.2,red,11\n1.1,blue,12\n",
    )
    .unwrap();
    let text = format!(
        r#"
[data]
source = "csv"
path = "things.csv"
target = "label"
drop = ["weight"]
validation_split = 0.2
test_split = 0.2
batch_size = 8
preprocess = [
    {{ step = "impute", strategy = "median" }},
    {{ step = "impute", columns = ["colour"], strategy = "most_frequent" }},
    {{ step = "scale", method = "standard" }},
    {{ step = "encode", method = "one_hot" }},
]
[model]
layers = [{{ type = "dense", units = 8, activation = "relu" }}, {{ type = "dense", units = 2 }}]
[optimizer]
type = "adam"
lr = 0.05
[train]
epochs = 15
metrics = ["accuracy", "f1"]
progress = false
output_dir = "{out}"
"#,
        out = dir.join("out").display()
    );
    let config = dir.join("things.toml");
    std::fs::write(&config, text).unwrap();
    let outcome = cli::train(&args(Command::Train, &config)).unwrap();
    assert_eq!(outcome.test.as_ref().unwrap()["accuracy"], 1.0);
    let mut p = args(Command::Predict, &config);
    p.input = Some(dir.join("new.csv"));
    let lines = cli::predict(&p).unwrap();
    assert!(lines[1].starts_with("0,large,"), "{lines:?}");
    assert!(lines[2].starts_with("1,small,"), "{lines:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn repo_config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs")
        .join(name)
}

#[test]
fn every_committed_config_reads_and_the_cnn_summary_matches_the_example() {
    for name in [
        "mnist_cnn.toml",
        "mnist_mlp.toml",
        "penguins.toml",
        "mnist_tune.toml",
    ] {
        let c = cli::load_config(&repo_config(name), &[]).unwrap();
        c.optimizer.build(&c.file).unwrap();
    }
    let text = cli::summary(&args(Command::Summary, &repo_config("mnist_cnn.toml"))).unwrap();
    // Conv2d(32,3)-ReLU-MaxPool2-Conv2d(64,3)-ReLU-MaxPool2-Flatten-Dense(128)-ReLU-Dense(10).
    assert!(
        text.contains("(None, 10)") && text.contains("Total params: 225,034"),
        "{text}"
    );
    let model = cli::load_config(&repo_config("mnist_cnn.toml"), &[])
        .unwrap()
        .model
        .build(
            Path::new("mnist_cnn.toml"),
            &[1, 28, 28],
            &strata::Device::cpu(),
            0,
        )
        .unwrap();
    assert_eq!(model.len(), 10);
    let params: usize = model.summary().rows().iter().map(|r| r.params).sum();
    assert_eq!(params, 320 + 18_496 + 204_928 + 1_290);
}

#[test]
fn the_binary_reports_a_bad_key_as_an_error_with_exit_code_2() {
    let dir = temp_dir("bad");
    let config = mnist_config(&dir, "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "type = \"dense\", units = 32",
        "type = \"densse\", units = 32",
    );
    std::fs::write(&config, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["summary", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("model.layers[0].type: unknown layer \"densse\""),
        "{stderr}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["train"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_resume_continues_from_the_last_checkpoint_to_the_same_weights() {
    let dir = temp_dir("resume");
    let config = mnist_config(&dir, "[callbacks]\ncheckpoint = { monitor = \"val_loss\" }");
    // No schedule: its length would change with train.epochs below.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[schedule]\ntype = \"cosine_annealing\"\n", "");
    std::fs::write(&config, text).unwrap();
    let weights = |path: &Path| {
        strata::layers::weights::load_tensors(path, &strata::Device::cpu())
            .unwrap()
            .into_iter()
            .map(|(name, t)| (name, t.to_vec().unwrap()))
            .collect::<Vec<_>>()
    };
    let whole = cli::train(&args(Command::Train, &config)).unwrap();
    let uninterrupted = weights(&whole.weights);

    let mut first = args(Command::Train, &config);
    first.overrides = vec![cli::parse_override("train.epochs=1").unwrap()];
    cli::train(&first).unwrap();
    let mut rest = args(Command::Train, &config);
    rest.resume = true;
    let resumed = cli::train(&rest).unwrap();
    assert_eq!(weights(&resumed.weights), uninterrupted);
    let history = strata::train::History::load_json(&resumed.history).unwrap();
    assert_eq!(history.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_numeric_csv_target_trains_a_regressor_and_predicts_values() {
    let dir = temp_dir("regression");
    let mut csv = String::from("a,b,y\n");
    for i in 0..200 {
        let (a, b) = ((i % 10) as f32 / 10.0, (i % 7) as f32 / 7.0);
        let a_text = if i % 23 == 0 {
            "NA".into()
        } else {
            a.to_string()
        };
        csv.push_str(&format!("{a_text},{b},{}\n", 2.0 * a - b + 0.5));
    }
    std::fs::write(dir.join("r.csv"), csv).unwrap();
    std::fs::write(dir.join("new.csv"), "a,b\n0.5,0.0\n").unwrap();
    let text = format!(
        r#"
[data]
source = "csv"
path = "r.csv"
target = "y"
validation_split = 0.1
test_split = 0.2
batch_size = 16
preprocess = [{{ step = "impute", strategy = "mean" }}]
[model]
layers = [{{ type = "dense", units = 1 }}]
[optimizer]
type = "sgd"
lr = 0.1
momentum = 0.9
[train]
epochs = 40
loss = "mse"
metrics = ["rmse", "r2"]
progress = false
output_dir = "{out}"
"#,
        out = dir.join("out").display()
    );
    let config = dir.join("r.toml");
    std::fs::write(&config, text).unwrap();
    let outcome = cli::train(&args(Command::Train, &config)).unwrap();
    let test = outcome.test.unwrap();
    // Imputed rows (a missing, filled with the mean) keep it below 1.
    assert!(test["r2"] > 0.8, "{test:?}");
    let mut p = args(Command::Predict, &config);
    p.input = Some(dir.join("new.csv"));
    let lines = cli::predict(&p).unwrap();
    assert_eq!(lines[0], "row,prediction");
    let value: f32 = lines[1].split(',').nth(1).unwrap().parse().unwrap();
    assert!((value - 1.5).abs() < 0.2, "{value}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_search_over_a_key_the_config_does_not_have_is_refused_before_training() {
    let dir = temp_dir("badtune");
    let config = mnist_config(
        &dir,
        "[tune]\n[tune.space]\n\"optimizer.lrr\" = [0.1, 0.2]\n",
    );
    let e = cli::tune(&args(Command::Tune, &config))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("tune.space.\"optimizer.lrr\": optimizer.lrr: unknown key; expected one of type, lr, momentum, dampening, nesterov, weight_decay, betas, eps, alpha, lr_decay"),
        "{e}"
    );
    let config = mnist_config(
        &dir,
        "[tune]\n[tune.space]\n\"model.layers.7.units\" = [1]\n",
    );
    let e = cli::tune(&args(Command::Tune, &config))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("index 7 is past the end of `model.layers` (2 entries)"),
        "{e}"
    );
    assert!(!dir.join("out").join("trials").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn random_search_draws_ranges_reproducibly_from_the_seed() {
    let dir = temp_dir("random");
    let config = mnist_config(
        &dir,
        r#"
[tune]
strategy = "random"
trials = 2
seed = 5
epochs = 1
[tune.space]
"optimizer.lr" = { log_uniform = [1e-3, 1e-2] }
"model.layers.0.units" = { int_uniform = [8, 16] }
"#,
    );
    let values = |report: &strata::train::tune::TuneReport| {
        report
            .trials
            .iter()
            .map(|t| {
                (
                    t.config.f64("optimizer.lr").unwrap(),
                    t.config.usize("model.layers.0.units").unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let a = cli::tune(&args(Command::Tune, &config)).unwrap().report;
    let b = cli::tune(&args(Command::Tune, &config)).unwrap().report;
    assert_eq!(values(&a), values(&b));
    for (lr, units) in values(&a) {
        assert!((1e-3..1e-2).contains(&lr) && (8..=16).contains(&units));
    }
    // Each trial trained the width it drew: its saved config says so.
    let saved = std::fs::read_to_string(
        a.trials[0]
            .last()
            .unwrap()
            .checkpoint
            .as_ref()
            .unwrap()
            .join("config.toml"),
    )
    .unwrap();
    assert!(
        saved.contains(&format!("units = {}", values(&a)[0].1)),
        "{saved}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
