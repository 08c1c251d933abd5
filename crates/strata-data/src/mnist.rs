//! The MNIST handwritten digits from their four IDX files, as two [`InMemoryDataset`]s, and
//! the small subset committed in this crate for offline use.
//!
//! Each file is looked up under its canonical name, raw or with `.gz`. Images become samples
//! of shape `[1, rows, cols]` (channel first) with pixels scaled from `0..=255` to `[0, 1]`;
//! labels become scalar targets `0.0..=9.0`.

use std::path::{Path, PathBuf};

use crate::dataset::InMemoryDataset;
use crate::error::{DataError, Position, Result};
use crate::idx::{IdxArray, IdxType};

/// Number of digit classes.
pub const CLASSES: usize = 10;

/// Where the committed subset lives: the first 5,000 training and first 1,000 test images of
/// MNIST, gzip IDX (see the `README.md` there).
pub fn subset_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("mnist-subset")
}

/// The four file names of MNIST (without `.gz`): train images and labels, test images and
/// labels.
pub const FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// MNIST's two splits.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// The training split (60,000 images in the full set).
    pub train: InMemoryDataset,
    /// The test split (10,000 images in the full set).
    pub test: InMemoryDataset,
}

impl Mnist {
    /// Loads MNIST from `dir`, which holds the four [`FILE_NAMES`], each raw or gzipped.
    /// Every file is checked: unsigned-byte IDX, images three-dimensional, labels
    /// one-dimensional, in `0..10` and as many as the images.
    pub fn load(dir: impl AsRef<Path>) -> Result<Mnist> {
        let dir = dir.as_ref();
        let [train_images, train_labels, test_images, test_labels] =
            FILE_NAMES.map(|name| find(dir, name));
        Ok(Mnist {
            train: split(&train_images?, &train_labels?)?,
            test: split(&test_images?, &test_labels?)?,
        })
    }
}

/// The path of MNIST file `name` (one of [`FILE_NAMES`]) in `dir`: `dir/name` if it exists,
/// else `dir/name.gz`, else a [`DataError::MissingFile`] naming both.
pub fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let gz = format!("{name}.gz");
    [name, gz.as_str()]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::MissingFile {
            dir: dir.to_owned(),
            names: vec![name.to_owned(), gz.clone()],
        })
}

/// One split from its image and label files.
fn split(images_path: &Path, labels_path: &Path) -> Result<InMemoryDataset> {
    let images = read_u8(images_path, 3)?;
    let labels = read_u8(labels_path, 1)?;
    let (n, rows, cols) = (images.dims[0], images.dims[1], images.dims[2]);
    if labels.dims[0] != n {
        return Err(DataError::format(
            labels_path,
            Position::Whole,
            format!("{n} labels, one per image of {}", images_path.display()),
            format!("{} labels", labels.dims[0]),
        ));
    }
    if let Some(i) = labels.data.iter().position(|&l| l >= CLASSES as f32) {
        return Err(DataError::format(
            labels_path,
            Position::Whole,
            format!("digit labels 0..={}", CLASSES - 1),
            format!("{} as label {i}", labels.data[i]),
        ));
    }
    let pixels: Vec<f32> = images.data.iter().map(|&p| p / 255.0).collect();
    InMemoryDataset::new(pixels, vec![1, rows, cols], labels.data, vec![])
}

/// Reads an IDX file that must hold unsigned bytes in `ndim` dimensions.
fn read_u8(path: &Path, ndim: usize) -> Result<IdxArray> {
    let array = IdxArray::read(path)?;
    if array.element_type != IdxType::U8 || array.dims.len() != ndim {
        return Err(DataError::format(
            path,
            Position::Whole,
            format!("a {ndim}-dimensional IDX file of {}", IdxType::U8),
            format!(
                "{} dimension(s) of {}",
                array.dims.len(),
                array.element_type
            ),
        ));
    }
    Ok(array)
}
