//! The MNIST loader on the committed subset, and its checks on malformed directories.

mod common;

use common::TempDir;
use strata_data::mnist::{self, CLASSES};
use strata_data::{Compression, DataError, IdxArray, IdxType, Mnist};

#[test]
fn committed_subset_has_5000_train_and_1000_test_digits() {
    let m = Mnist::load(mnist::subset_dir()).unwrap();
    assert_eq!((m.train.len(), m.test.len()), (5000, 1000));
    for split in [&m.train, &m.test] {
        assert_eq!(split.sample_shape(), &[1, 28, 28]);
        assert!(split.target_shape().is_empty());
        let mut seen = [false; CLASSES];
        for &label in split.targets() {
            assert!(
                label.fract() == 0.0 && (0.0..10.0).contains(&label),
                "label {label}"
            );
            seen[label as usize] = true;
        }
        assert!(seen.iter().all(|&s| s), "a digit is missing");
        assert!(split.features().iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(split.features().contains(&1.0), "ink pixels scale to 1");
    }
}

#[test]
fn subset_starts_with_the_first_mnist_training_digits() {
    // The first five training labels of MNIST are 5, 0, 4, 1, 9.
    let m = Mnist::load(mnist::subset_dir()).unwrap();
    assert_eq!(&m.train.targets()[..5], &[5.0, 0.0, 4.0, 1.0, 9.0]);
    // and the first test labels 7, 2, 1, 0, 4.
    assert_eq!(&m.test.targets()[..5], &[7.0, 2.0, 1.0, 0.0, 4.0]);
}

/// Writes a tiny MNIST-shaped directory: `n` 2x2 images per split with labels `labels`.
fn tiny(dir: &std::path::Path, labels: &[f32], images: usize, compression: Compression) {
    let suffix = if compression == Compression::Gzip {
        ".gz"
    } else {
        ""
    };
    for prefix in ["train", "t10k"] {
        let img = IdxArray {
            element_type: IdxType::U8,
            dims: vec![images, 2, 2],
            data: vec![255.0; images * 4],
        };
        let lab = IdxArray {
            element_type: IdxType::U8,
            dims: vec![labels.len()],
            data: labels.to_vec(),
        };
        img.write(
            dir.join(format!("{prefix}-images-idx3-ubyte{suffix}")),
            compression,
        )
        .unwrap();
        lab.write(
            dir.join(format!("{prefix}-labels-idx1-ubyte{suffix}")),
            compression,
        )
        .unwrap();
    }
}

#[test]
fn uncompressed_files_load_too() {
    let dir = TempDir::new("mnist-raw");
    tiny(dir.path(), &[3.0, 9.0], 2, Compression::None);
    let m = Mnist::load(dir.path()).unwrap();
    assert_eq!(m.train.sample_shape(), &[1, 2, 2]);
    assert_eq!(m.test.targets(), &[3.0, 9.0]);
    assert_eq!(m.train.features(), &[1.0; 8]);
}

#[test]
fn label_count_must_match_image_count() {
    let dir = TempDir::new("mnist-count");
    tiny(dir.path(), &[1.0, 2.0, 3.0], 2, Compression::Gzip);
    let msg = Mnist::load(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("train-labels-idx1-ubyte.gz") && msg.contains("expected 2 labels"),
        "{msg}"
    );
}

#[test]
fn a_label_outside_0_to_9_is_refused() {
    let dir = TempDir::new("mnist-label");
    tiny(dir.path(), &[1.0, 12.0], 2, Compression::Gzip);
    let msg = Mnist::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("12 as label 1"), "{msg}");
}

#[test]
fn a_missing_file_names_both_accepted_names() {
    let dir = TempDir::new("mnist-missing");
    let err = Mnist::load(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::MissingFile { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("train-images-idx3-ubyte or train-images-idx3-ubyte.gz"),
        "{msg}"
    );
}

#[test]
fn images_of_the_wrong_element_type_are_refused() {
    let dir = TempDir::new("mnist-type");
    tiny(dir.path(), &[1.0, 2.0], 2, Compression::Gzip);
    let floats = IdxArray {
        element_type: IdxType::F32,
        dims: vec![2, 2, 2],
        data: vec![0.5; 8],
    };
    floats
        .write(
            dir.path().join("train-images-idx3-ubyte.gz"),
            Compression::Gzip,
        )
        .unwrap();
    let msg = Mnist::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("f32"), "{msg}");
}

#[test]
fn full_set_in_shared_data_loads_when_present() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !dir.is_dir() {
        eprintln!("skipped: the full MNIST is not at {}", dir.display());
        return;
    }
    let m = Mnist::load(&dir).unwrap();
    assert_eq!((m.train.len(), m.test.len()), (60_000, 10_000));
    let mut counts = [0usize; CLASSES];
    m.test
        .targets()
        .iter()
        .for_each(|&l| counts[l as usize] += 1);
    // The class counts stated in shared/data/mnist/README.md.
    assert_eq!(
        counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[cfg(feature = "tensor")]
#[test]
fn subset_batches_become_image_tensors() {
    let m = Mnist::load(mnist::subset_dir()).unwrap();
    let loader = strata_data::DataLoader::new(&m.test, 64)
        .unwrap()
        .shuffle(1);
    let batch = loader.epoch(0).next().unwrap().unwrap();
    let (x, y) = batch.into_tensors(&strata_core::Device::cpu()).unwrap();
    assert_eq!(x.dims(), &[64, 1, 28, 28]);
    assert_eq!(y.dims(), &[64]);
}
