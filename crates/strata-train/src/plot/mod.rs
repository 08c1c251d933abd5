//! Charts as PNG (`plotters`, bitmap backend only): the training curves of a [`History`] and
//! the confusion matrix of a classifier. Labels use a built-in pixel font (`font`), so no
//! system font is needed.

mod font;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use strata_core::{Error, Result};

use crate::history::History;
use crate::metrics::ConfusionMatrix;
use font::{draw_text, text_height, text_width};

/// Training curves in blue, validation curves in red.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALID: RGBColor = RGBColor(214, 39, 40);
const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// Values logged by the trainer that are not curves worth a panel.
const NOT_CURVES: [&str; 3] = ["samples_per_sec", "seconds", "lr"];

/// The quantities a history has curves for: every logged name without its `val_` prefix,
/// leaving out bookkeeping (`seconds`, `samples_per_sec`, `lr`) and per-class values
/// (`precision_0`), `loss` first.
pub fn curve_names(history: &History) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in history.names() {
        let base = name.strip_prefix("val_").unwrap_or(&name).to_string();
        let per_class = base
            .rsplit_once('_')
            .is_some_and(|(_, tail)| tail.chars().all(|c| c.is_ascii_digit()));
        if !NOT_CURVES.contains(&base.as_str()) && !per_class && !names.contains(&base) {
            names.push(base);
        }
    }
    names.sort_by_key(|n| (n != "loss", n.clone()));
    names
}

/// Draws one panel per quantity of [`curve_names`] (training in blue, validation in red,
/// epochs on x, the value range on y) into the PNG `path`, `width`×`height` pixels.
pub fn save_curves(
    history: &History,
    path: impl AsRef<Path>,
    (width, height): (u32, u32),
) -> Result<()> {
    let path = path.as_ref();
    let names = curve_names(history);
    if history.is_empty() || names.is_empty() {
        return Err(Error::invalid(
            "save_curves",
            "the history has no epoch with a curve to draw",
        ));
    }
    ensure_parent(path)?;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    let drawn = (|| -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let cols = names.len().min(2);
        let rows = names.len().div_ceil(cols);
        for (panel, name) in root.split_evenly((rows, cols)).iter().zip(&names) {
            draw_panel(panel, history, name).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())
    })();
    drawn.map_err(|e| Error::io(path, std::io::Error::other(e)))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    history: &History,
    name: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let epochs: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.epoch as f64 + 1.0)
        .collect();
    let train = history.series(name);
    let valid = history.series(&format!("val_{name}"));
    let finite = train
        .iter()
        .chain(&valid)
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        let pad = ((hi - lo) * 0.05).max(1e-9);
        (lo - pad, hi + pad)
    } else {
        (0.0, 1.0)
    };
    let x_max = epochs.last().copied().unwrap_or(1.0).max(2.0);
    let scale = 2;
    let line = text_height(scale) + 6;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (left, top, bottom, right) = (text_width("0.0000", scale) + 12, 2 * line + 4, line + 4, 12);
    draw_text(area, name, (left, 6), scale, &INK)?;
    let mut legend_x = left + text_width(name, scale) + 24;
    for (label, color, series) in [("train", TRAIN, &train), ("val", VALID, &valid)] {
        if series.iter().any(|v| v.is_finite()) {
            area.draw(&Rectangle::new(
                [(legend_x, 6 + scale), (legend_x + 14, 6 + 3 * scale)],
                color.filled(),
            ))?;
            draw_text(area, label, (legend_x + 20, 6), scale, &color)?;
            legend_x += 20 + text_width(label, scale) + 16;
        }
    }
    let plot = area.margin(top as u32, bottom as u32, left as u32, right as u32);
    let mut chart = ChartBuilder::on(&plot).build_cartesian_2d(1.0..x_max, lo..hi)?;
    for frac in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = lo + (hi - lo) * frac;
        chart.draw_series(LineSeries::new([(1.0, y), (x_max, y)], &GRID))?;
    }
    for (series, color) in [(&train, TRAIN), (&valid, VALID)] {
        let points: Vec<(f64, f64)> = epochs
            .iter()
            .zip(series.iter())
            .filter(|(_, v)| v.is_finite())
            .map(|(&x, &y)| (x, y))
            .collect();
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(2),
        ))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    area.draw(&Rectangle::new([(left, top), (w - right, h - bottom)], INK))?;
    draw_text(area, &format_value(hi), (4, top), scale, &INK)?;
    draw_text(
        area,
        &format_value(lo),
        (4, h - bottom - text_height(scale)),
        scale,
        &INK,
    )?;
    let first = "epoch 1";
    draw_text(area, first, (left, h - bottom + 4), scale, &INK)?;
    let last = format!("{}", x_max as u64);
    draw_text(
        area,
        &last,
        (w - right - text_width(&last, scale), h - bottom + 4),
        scale,
        &INK,
    )?;
    Ok(())
}

/// A value in at most six characters.
fn format_value(v: f64) -> String {
    let abs = v.abs();
    let text = if abs != 0.0 && !(1e-3..1e5).contains(&abs) {
        format!("{v:.0e}")
    } else if abs >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    };
    text.chars().take(6).collect()
}

/// Draws `matrix` as a heat map into the PNG `path`: rows are true classes, columns
/// predicted ones, each cell shaded by its share of its row and labelled with its count.
/// The image is `cell × classes` pixels square plus margins for the class labels.
pub fn save_confusion_matrix(
    matrix: &ConfusionMatrix,
    path: impl AsRef<Path>,
    cell: u32,
) -> Result<()> {
    let path = path.as_ref();
    let n = matrix.classes();
    if n == 0 || cell < 8 {
        return Err(Error::invalid(
            "save_confusion_matrix",
            format!(
                "needs at least one class and cells of 8 pixels or more; got {n} classes, cell {cell}"
            ),
        ));
    }
    ensure_parent(path)?;
    let margin = 40u32;
    let side = margin + cell * n as u32 + 8;
    let root = BitMapBackend::new(path, (side, side)).into_drawing_area();
    let drawn = (|| -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw_matrix(&root, matrix, margin as i32, cell as i32).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })();
    drawn.map_err(|e| Error::io(path, std::io::Error::other(e)))
}

fn draw_matrix<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    matrix: &ConfusionMatrix,
    margin: i32,
    cell: i32,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let rows = matrix.rows();
    let scale = if cell >= 40 { 2 } else { 1 };
    draw_text(area, "predicted", (margin, 4), 1, &INK)?;
    draw_text(area, "true", (4, margin - 10), 1, &INK)?;
    for (a, row) in rows.iter().enumerate() {
        let total: u64 = row.iter().sum();
        let y = margin + a as i32 * cell;
        let label = a.to_string();
        draw_text(
            area,
            &label,
            (
                margin - 6 - text_width(&label, scale),
                y + cell / 2 - 2 * scale,
            ),
            scale,
            &INK,
        )?;
        for (p, &count) in row.iter().enumerate() {
            let x = margin + p as i32 * cell;
            if a == 0 {
                let label = p.to_string();
                draw_text(
                    area,
                    &label,
                    (
                        x + cell / 2 - text_width(&label, scale) / 2,
                        margin - 6 - text_height(scale),
                    ),
                    scale,
                    &INK,
                )?;
            }
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            let shade = |full: u8| (255.0 - (255.0 - f64::from(full)) * share) as u8;
            let color = RGBColor(shade(TRAIN.0), shade(TRAIN.1), shade(TRAIN.2));
            area.draw(&Rectangle::new(
                [(x, y), (x + cell - 1, y + cell - 1)],
                color.filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(x, y), (x + cell - 1, y + cell - 1)],
                GRID,
            ))?;
            let text = count.to_string();
            let ink = if share > 0.5 { WHITE } else { INK };
            if text_width(&text, scale) < cell - 2 {
                draw_text(
                    area,
                    &text,
                    (
                        x + cell / 2 - text_width(&text, scale) / 2,
                        y + cell / 2 - text_height(scale) / 2,
                    ),
                    scale,
                    &ink,
                )?;
            }
        }
    }
    Ok(())
}

fn ensure_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_names_merge_validation_and_skip_bookkeeping() {
        let mut h = History::new();
        let mut values = std::collections::BTreeMap::new();
        for k in [
            "accuracy",
            "loss",
            "lr",
            "val_loss",
            "val_accuracy",
            "f1_0",
            "seconds",
        ] {
            values.insert(k.to_string(), 1.0);
        }
        h.push(crate::EpochLog { epoch: 0, values });
        assert_eq!(curve_names(&h), ["loss", "accuracy"]);
    }

    #[test]
    fn values_fit_in_six_characters() {
        assert_eq!(format_value(0.123456), "0.1235");
        assert_eq!(format_value(12345.6), "12346");
        assert_eq!(format_value(1e-7), "1e-7");
    }
}
