//! One-step-ahead forecasting of the weekly Mauna Loa CO2 series with an LSTM: gaps (`NA`)
//! filled by linear interpolation, windows of 52 weeks expressed relative to their last value
//! and scaled by the training split's weekly-change standard deviation, LSTM(32) → Dense(1)
//! predicting next week's change. The last 20% of the series (chronologically) is the test
//! split. With `--json` the last line holds `test_rmse` and the naive last-value forecast's
//! `naive_rmse`, both in ppm.
//!
//! `cargo run --release --example forecast_lstm -- --json`. The CSV parsing is minimal and
//! local (the data crate's CSV reader was still being written).

mod common;

use std::path::Path;

use common::{Args, Stopwatch, print_json};
use strata::layers::{Dense, Lstm, Mode, Module, MseLoss, Sequential};
use strata::optim::Adam;
use strata::{Error, Result, Tensor, no_grad, train_step};

const WINDOW: usize = 52;

/// Reads `co2_weekly.csv`'s second column, `NA` as missing.
fn load(dir: &Path) -> Result<Vec<Option<f64>>> {
    let path = dir.join("co2_weekly.csv");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(n, line)| {
            let value = line
                .split(',')
                .nth(1)
                .ok_or_else(|| Error::format(&path, format!("line {}: no value column", n + 1)))?;
            match value.trim() {
                "NA" => Ok(None),
                v => v.parse().map(Some).map_err(|_| {
                    Error::format(&path, format!("line {}: `{v}` is not a number", n + 1))
                }),
            }
        })
        .collect()
}

/// Fills gaps by linear interpolation between the nearest known neighbours (edges: nearest).
fn interpolate(series: &[Option<f64>]) -> Result<Vec<f64>> {
    let known: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return Err(Error::invalid("forecast_lstm", "the series has no values"));
    };
    let mut out = vec![0.0; series.len()];
    for w in known.windows(2) {
        let ((i0, v0), (i1, v1)) = (w[0], w[1]);
        for (i, o) in out.iter_mut().enumerate().take(i1 + 1).skip(i0) {
            *o = v0 + (v1 - v0) * (i - i0) as f64 / (i1 - i0) as f64;
        }
    }
    out[..first.0].fill(first.1);
    out[last.0..].fill(last.1);
    Ok(out)
}

/// Windows ending at each `t` in `targets`: inputs `[n, WINDOW, 1]` relative to `y[t-1]`,
/// scaled, and the scaled change `y[t] − y[t−1]`.
fn windows(y: &[f64], targets: std::ops::Range<usize>, scale: f64) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut d) = (Vec::new(), Vec::new());
    for t in targets {
        let last = y[t - 1];
        x.extend(
            y[t - WINDOW..t]
                .iter()
                .map(|&v| ((v - last) / scale) as f32),
        );
        d.push(((y[t] - last) / scale) as f32);
    }
    (x, d)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse(30, 32)?;
    let subset =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../strata-data/data/timeseries-subset");
    let (dir, is_subset) = args.data_dir("timeseries", &subset);
    eprintln!(
        "data: {}{}",
        dir.display(),
        if is_subset {
            " (small committed subset)"
        } else {
            ""
        }
    );
    let raw = load(&dir)?;
    let gaps = raw.iter().filter(|v| v.is_none()).count();
    let y = interpolate(&raw)?;
    let split = y.len() * 4 / 5;
    if split <= WINDOW + 1 || split >= y.len() {
        return Err(Error::invalid(
            "forecast_lstm",
            format!("{} weeks are too few for windows of {WINDOW}", y.len()),
        ));
    }
    let diffs: Vec<f64> = y[1..split].windows(2).map(|w| w[1] - w[0]).collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let scale = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / diffs.len() as f64)
        .sqrt()
        .max(1e-9);
    let (train_x, train_d) = windows(&y, WINDOW..split, scale);
    let (test_x, _) = windows(&y, split..y.len(), scale);
    let n_train = train_d.len();
    eprintln!(
        "{} weeks ({gaps} gaps interpolated), train windows {n_train}, test {}",
        y.len(),
        y.len() - split
    );

    let device = args.device;
    let model = Sequential::new()
        .add(Lstm::new(32))
        .add(Dense::new(1))
        .build(&[WINDOW, 1], &device, args.seed)?;
    let params = model.parameters();
    let mut optimizer = Adam::new(args.lr.unwrap_or(2e-3));
    let clock = Stopwatch::start();
    let mut seen = 0;
    for epoch in 0..args.epochs {
        let mut order: Vec<usize> = (0..n_train).collect();
        let mut state = args
            .seed
            .wrapping_add(epoch as u64 + 1)
            .wrapping_mul(0x2545_F491_4F6C_DD1D);
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut total = 0.0;
        for rows in order.chunks(args.batch_size) {
            let xs: Vec<f32> = rows
                .iter()
                .flat_map(|&r| train_x[r * WINDOW..(r + 1) * WINDOW].iter().copied())
                .collect();
            let ds: Vec<f32> = rows.iter().map(|&r| train_d[r]).collect();
            let x = Tensor::from_vec(xs, [rows.len(), WINDOW, 1], &device)?;
            let d = Tensor::from_vec(ds, [rows.len(), 1], &device)?;
            total +=
                train_step(&model, &params, &MseLoss, &mut optimizer, &x, &d)? * rows.len() as f32;
            seen += rows.len();
        }
        if (epoch + 1) % 5 == 0 || epoch == 0 {
            eprintln!("epoch {}: loss {:.4}", epoch + 1, total / n_train as f32);
        }
    }
    let train_secs = clock.secs();

    let n_test = y.len() - split;
    let x = Tensor::from_vec(test_x, [n_test, WINDOW, 1], &device)?;
    let predicted = no_grad(|| model.forward(&x, Mode::Eval))?.to_vec()?;
    let (mut se, mut se_naive) = (0.0, 0.0);
    for (k, t) in (split..y.len()).enumerate() {
        let forecast = y[t - 1] + f64::from(predicted[k]) * scale;
        se += (forecast - y[t]).powi(2);
        se_naive += (y[t - 1] - y[t]).powi(2);
    }
    let test_rmse = (se / n_test as f64).sqrt();
    let naive_rmse = (se_naive / n_test as f64).sqrt();
    eprintln!("test RMSE {test_rmse:.4} ppm, naive last-value RMSE {naive_rmse:.4} ppm");
    if args.json {
        print_json(serde_json::json!({
            "example": "forecast_lstm",
            "device": device.to_string(),
            "epochs": args.epochs,
            "train_samples_per_sec": seen as f64 / train_secs,
            "test_rmse": test_rmse,
            "naive_rmse": naive_rmse,
            "series": "co2_weekly",
            "gaps_interpolated": gaps,
            "test_points": n_test,
            "subset": is_subset,
        }));
    }
    Ok(())
}
