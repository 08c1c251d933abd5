//! Golden values from scikit-learn for `strata-train`'s metrics (written by `metrics()` in
//! `scripts/golden/generate.py`): accuracy, top-2 accuracy, macro and per-class
//! precision/recall/F1, the confusion matrix, MSE/RMSE/MAE/R². The inputs are fed in two
//! uneven batches, so the streaming accumulation is what is checked.

use strata::Tensor;
use strata::train::metrics::{
    Accuracy, ConfusionMatrix, F1, Mae, Metric, Mse, Precision, R2, Recall, Rmse, TopKAccuracy,
};

mod common;
use common::{DEV, floats, num};

/// Metrics are ratios of counts (exact) or f64 sums of f32 inputs: 1e-9 is plenty.
#[track_caller]
fn close(what: &str, found: f64, expected: f64) {
    assert!(
        (found - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: {found} vs scikit-learn {expected}"
    );
}

fn feed(metric: &mut dyn Metric, preds: &[f32], targets: &[f32], width: usize) {
    let n = targets.len();
    let split = n / 3;
    for (lo, hi) in [(0, split), (split, n)] {
        let shape = if width == 1 {
            vec![hi - lo]
        } else {
            vec![hi - lo, width]
        };
        let p = Tensor::from_slice(&preds[lo * width..hi * width], shape, &DEV).unwrap();
        let t = Tensor::from_slice(&targets[lo..hi], [hi - lo], &DEV).unwrap();
        metric.update(&p, &t).unwrap();
    }
}

#[test]
fn classification_metrics_match_scikit_learn() {
    let golden = common::load("metrics.json");
    let c = &golden["classification"];
    let classes = num(&c["classes"]);
    let (scores, labels) = (floats(&c["scores"]), floats(&c["labels"]));
    let value = |key: &str| c[key].as_f64().unwrap();
    let list = |key: &str| -> Vec<f64> {
        c[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };

    let mut accuracy = Accuracy::new();
    let mut top2 = TopKAccuracy::new(2);
    let mut precision = Precision::with_classes(classes);
    let mut recall = Recall::with_classes(classes);
    let mut f1 = F1::with_classes(classes);
    let mut matrix = ConfusionMatrix::new();
    for m in [
        &mut accuracy as &mut dyn Metric,
        &mut top2,
        &mut precision,
        &mut recall,
        &mut f1,
        &mut matrix,
    ] {
        feed(m, &scores, &labels, classes);
    }
    close("accuracy", accuracy.compute(), value("accuracy"));
    close("top-2 accuracy", top2.compute(), value("top2_accuracy"));
    close(
        "macro precision",
        precision.compute(),
        value("precision_macro"),
    );
    close("macro recall", recall.compute(), value("recall_macro"));
    close("macro F1", f1.compute(), value("f1_macro"));
    for (name, found, expected) in [
        ("precision", precision.per_class(), list("precision")),
        ("recall", recall.per_class(), list("recall")),
        ("f1", f1.per_class(), list("f1")),
    ] {
        assert_eq!(found.len(), classes);
        for (k, (f, e)) in found.iter().zip(&expected).enumerate() {
            close(&format!("{name} of class {k}"), *f, *e);
        }
    }
    let expected: Vec<Vec<u64>> = c["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(matrix.rows(), expected);
}

#[test]
fn regression_metrics_match_scikit_learn() {
    let golden = common::load("metrics.json");
    let r = &golden["regression"];
    let (pred, target) = (floats(&r["prediction"]), floats(&r["target"]));
    let mut metrics: Vec<(Box<dyn Metric>, &str)> = vec![
        (Box::new(Mse::new()), "mse"),
        (Box::new(Rmse::new()), "rmse"),
        (Box::new(Mae::new()), "mae"),
        (Box::new(R2::new()), "r2"),
    ];
    for (m, key) in &mut metrics {
        feed(m.as_mut(), &pred, &target, 1);
        close(key, m.compute(), r[*key].as_f64().unwrap());
    }
}
