//! `strata predict <config> --input FILE [--output FILE]`: rows of a new file through the
//! fitted preprocessing saved by `train` (`pipeline.json`) and the saved weights. A CSV
//! source takes a CSV with the training columns (the target may be absent); an image source
//! takes an IDX image file (raw or gzip). Writes one line per row: the predicted class name
//! (or index) and its probability, or the predicted value for regression.

use std::path::Path;

use strata_core::{Error, Result, Tensor, no_grad};
use strata_data::{IdxArray, IdxType};
use strata_layers::{Mode, Module, load_weights};

use super::args::CliArgs;
use super::evaluate::weights_path;
use super::setup;
use crate::config::{Config, Preprocessing, Task};

/// Runs `strata predict`; returns the lines written (header first).
pub fn predict(args: &CliArgs) -> Result<Vec<String>> {
    let config = setup::load_config(&args.config, &args.overrides)?;
    let input = args
        .input
        .as_ref()
        .ok_or_else(|| Error::invalid("predict", "needs --input FILE"))?;
    let device = setup::device(&config)?;
    let out = config.output_dir();
    let pipeline_path = out.join("pipeline.json");
    if !pipeline_path.exists() {
        return Err(Error::invalid(
            "predict",
            format!(
                "no fitted preprocessing at {}; train first (strata train {})",
                pipeline_path.display(),
                args.config.display()
            ),
        ));
    }
    let prep = Preprocessing::load(&pipeline_path)?;
    let (features, sample_shape) = read_input(&config, &prep, input)?;
    let rows = features.len() / sample_shape.iter().product::<usize>().max(1);
    let model = config
        .model
        .build(&config.file, &sample_shape, &device, config.train.seed)?;
    let weights = weights_path(args, &config);
    load_weights(&model, &weights)?;
    let mut shape = vec![rows];
    shape.extend(&sample_shape);
    let x = Tensor::from_vec(features, shape, &device)?;
    let y = no_grad(|| model.forward(&x, Mode::Eval))?;
    let width = y.elem_count() / rows.max(1);
    let values = y.to_vec()?;
    let classes = prep.class_names();
    let task = match &prep {
        Preprocessing::Table { labels: None, .. } => Task::Regression,
        _ => Task::Classification,
    };
    let mut lines = Vec::with_capacity(rows + 1);
    match task {
        Task::Regression => {
            lines.push("row,prediction".to_string());
            for (r, row) in values.chunks(width.max(1)).enumerate() {
                let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
                lines.push(format!("{r},{}", cells.join(",")));
            }
        }
        Task::Classification => {
            lines.push("row,prediction,probability".to_string());
            for (r, row) in values.chunks(width.max(1)).enumerate() {
                let (best, p) = softmax_argmax(row);
                let name = classes
                    .as_ref()
                    .and_then(|c| c.get(best).cloned())
                    .unwrap_or_else(|| best.to_string());
                lines.push(format!("{r},{name},{p:.4}"));
            }
        }
    }
    let text = lines.join("\n") + "\n";
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| Error::io(path, e))?;
            eprintln!("wrote {} predictions to {}", rows, path.display());
        }
        None => print!("{text}"),
    }
    Ok(lines)
}

/// The input's features, preprocessed, and the per-sample shape.
fn read_input(
    config: &Config,
    prep: &Preprocessing,
    input: &Path,
) -> Result<(Vec<f32>, Vec<usize>)> {
    match prep {
        Preprocessing::Table {
            pipeline, target, ..
        } => {
            let header = std::fs::read_to_string(input)
                .map_err(|e| Error::io(input, e))?
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let has_target = header.split([',', '\t', ';']).any(|h| h.trim() == target);
            let mut data = config.data.clone();
            if !has_target {
                data.target = None;
            }
            let table = data.csv_reader(&config.file)?.read(input)?;
            let (x, width) = pipeline.transform(&table)?;
            Ok((x, vec![width]))
        }
        Preprocessing::Images { sample_shape, .. } => {
            let images = IdxArray::read(input)?;
            if images.element_type != IdxType::U8 || images.dims.len() < 2 {
                return Err(Error::format(
                    input,
                    format!(
                        "expected an IDX file of unsigned-byte images, found {} dimension(s) of {}",
                        images.dims.len(),
                        images.element_type
                    ),
                ));
            }
            let per_sample: usize = images.dims[1..].iter().product();
            let expected: usize = sample_shape.iter().product();
            if per_sample != expected {
                return Err(Error::format(
                    input,
                    format!(
                        "expected images of {expected} values (sample shape {sample_shape:?}), found {:?}",
                        &images.dims[1..]
                    ),
                ));
            }
            let mut pixels: Vec<f32> = images.data.iter().map(|&p| p / 255.0).collect();
            prep.transform_images(&mut pixels)?;
            Ok((pixels, sample_shape.clone()))
        }
    }
}

/// The index of the largest score and its softmax probability.
fn softmax_argmax(row: &[f32]) -> (usize, f32) {
    if row.len() == 1 {
        // One logit: binary classification.
        let p = 1.0 / (1.0 + (-row[0]).exp());
        return if p >= 0.5 { (1, p) } else { (0, 1.0 - p) };
    }
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
    let best =
        row.iter().enumerate().fold(
            (0, f32::NEG_INFINITY),
            |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
        );
    (best.0, (best.1 - max).exp() / sum)
}
