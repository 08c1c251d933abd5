//! Writes the MNIST subset committed in `crates/strata-data/data/mnist-subset/`: the first
//! 5,000 training and the first 1,000 test images and labels of the full MNIST files, as
//! gzip IDX under the canonical names, after checking that every digit occurs in each split.
//!
//! ```sh
//! cargo run -p strata-data --no-default-features --example make_mnist_subset -- [SOURCE_DIR] [OUT_DIR]
//! ```
//!
//! `SOURCE_DIR` defaults to `../shared/data/mnist` beside the workspace (the full set) and
//! `OUT_DIR` to the committed subset directory. The output is byte-for-byte reproducible:
//! gzip at the best level, no file name, modification time 0.

use std::path::PathBuf;

use strata_data::mnist::{self, CLASSES, FILE_NAMES};
use strata_data::{Compression, DataError, IdxArray};

/// Images (and labels) kept from each split: train, then test.
const KEEP: [usize; 2] = [5_000, 1_000];

fn main() -> Result<(), DataError> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let source = args.next().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
    });
    let out = args.next().unwrap_or_else(mnist::subset_dir);
    std::fs::create_dir_all(&out).map_err(|e| DataError::io(&out, e))?;

    for (files, keep) in FILE_NAMES.chunks_exact(2).zip(KEEP) {
        let images = IdxArray::read(mnist::find(&source, files[0])?)?.take_first(keep)?;
        let labels = IdxArray::read(mnist::find(&source, files[1])?)?.take_first(keep)?;
        let mut counts = [0usize; CLASSES];
        for &label in &labels.data {
            // Labels were checked to be bytes; a value outside 0..10 is caught just below.
            if let Some(c) = counts.get_mut(label as usize) {
                *c += 1;
            }
        }
        if counts.iter().sum::<usize>() != keep || counts.contains(&0) {
            return Err(DataError::invalid(
                "make_mnist_subset",
                format!(
                    "all {CLASSES} digits among the first {keep} labels of {}",
                    files[1]
                ),
                format!("class counts {counts:?}"),
            ));
        }
        for (name, array) in [(files[0], &images), (files[1], &labels)] {
            let path = out.join(format!("{name}.gz"));
            array.write(&path, Compression::Gzip)?;
            let size = std::fs::metadata(&path)
                .map_err(|e| DataError::io(&path, e))?
                .len();
            eprintln!(
                "wrote {} ({size} bytes, dims {:?})",
                path.display(),
                array.dims
            );
        }
        eprintln!("{}: class counts {counts:?}", files[1]);
    }
    Ok(())
}
