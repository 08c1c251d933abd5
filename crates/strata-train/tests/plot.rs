//! Curves and confusion matrices are written as PNG files that decode to the expected size;
//! the history files round-trip.

mod common;

use common::{blobs, mlp, temp_dir};
use strata_data::DataLoader;
use strata_layers::CrossEntropyLoss;
use strata_optim::Adam;
use strata_train::metrics::{Accuracy, ConfusionMatrix, Metric};
use strata_train::plot::{save_confusion_matrix, save_curves};
use strata_train::{History, Trainer};

#[test]
fn a_fitted_history_draws_curves_and_round_trips_through_json_and_csv() {
    let (train, valid) = (blobs(60, 1), blobs(30, 2));
    let model = mlp(1);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(0.02))
        .epochs(4)
        .metric(Accuracy::new())
        .verbose(false);
    let history = trainer
        .fit(
            &DataLoader::new(&train, 16).unwrap(),
            Some(&DataLoader::new(&valid, 30).unwrap()),
        )
        .unwrap();
    let dir = temp_dir("plot");
    let png = dir.join("curves.png");
    save_curves(&history, &png, (800, 300)).unwrap();
    let image = image::open(&png).unwrap();
    assert_eq!((image.width(), image.height()), (800, 300));
    // Not a blank canvas: the training curve's blue is there.
    let rgb = image.to_rgb8();
    assert!(rgb.pixels().any(|p| p.0 == [31, 119, 180]));

    history.save_json(dir.join("history.json")).unwrap();
    history.save_csv(dir.join("history.csv")).unwrap();
    assert_eq!(
        History::load_json(dir.join("history.json")).unwrap(),
        history
    );
    let csv = History::load_csv(dir.join("history.csv")).unwrap();
    assert_eq!(csv.series("val_accuracy"), history.series("val_accuracy"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_confusion_matrix_image_has_one_cell_per_class_pair() {
    let mut matrix = ConfusionMatrix::with_classes(3);
    for (a, p, n) in [(0, 0, 20), (1, 1, 15), (1, 2, 5), (2, 2, 19), (2, 0, 1)] {
        for _ in 0..n {
            matrix.add(a, p);
        }
    }
    assert_eq!(matrix.accuracy(), 54.0 / 60.0);
    matrix.reset();
    matrix.add(0, 1);
    let dir = temp_dir("confusion");
    let png = dir.join("confusion.png");
    save_confusion_matrix(&matrix, &png, 50).unwrap();
    let image = image::open(&png).unwrap();
    // 40 pixels of labels, 3 cells of 50, 8 of margin.
    assert_eq!((image.width(), image.height()), (198, 198));
    let err = save_confusion_matrix(&ConfusionMatrix::new(), &png, 50).unwrap_err();
    assert!(err.to_string().contains("at least one class"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_history_has_no_curves() {
    let err = save_curves(
        &History::new(),
        std::env::temp_dir().join("x.png"),
        (100, 100),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no epoch"), "{err}");
}
