//! Corrupted and truncated checkpoints are refused with a clear error, and a failed load
//! leaves the trainer and its model unchanged.

mod common;

use common::{blobs, mlp, temp_dir, weight_bits};
use strata_data::DataLoader;
use strata_layers::CrossEntropyLoss;
use strata_optim::Adam;
use strata_train::Trainer;

fn saved_checkpoint(test: &str) -> (std::path::PathBuf, Vec<u8>) {
    let dir = temp_dir(test);
    let data = blobs(24, 1);
    let model = mlp(1);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(1e-2)).verbose(false);
    trainer
        .fit(&DataLoader::new(&data, 8).unwrap().shuffle(1), None)
        .unwrap();
    let path = dir.join("run.safetensors");
    trainer.save_checkpoint(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn resume_error(path: &std::path::Path) -> String {
    let model = mlp(2);
    let before = weight_bits(&model);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(1e-2)).verbose(false);
    let err = trainer.resume(path).unwrap_err().to_string();
    assert_eq!(
        weight_bits(&model),
        before,
        "a refused checkpoint changed the model"
    );
    assert_eq!(trainer.state().step, 0);
    err
}

#[test]
fn a_truncated_checkpoint_is_refused() {
    let (path, bytes) = saved_checkpoint("truncated");
    for keep in [bytes.len() - 3, bytes.len() / 2, 7] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let err = resume_error(&path);
        assert!(
            err.contains("not a usable Strata checkpoint"),
            "{keep}: {err}"
        );
        assert!(err.contains("truncated or corrupted"), "{err}");
        assert!(err.contains("run.safetensors"), "{err}");
    }
}

#[test]
fn a_corrupted_checkpoint_is_refused() {
    let (path, mut bytes) = saved_checkpoint("corrupted");
    // A bit flip in the middle of the tensor data: the file still parses.
    let middle = bytes.len() - 200;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let err = resume_error(&path);
    assert!(err.contains("do not match the stored checksum"), "{err}");
}

#[test]
fn a_plain_weights_file_is_not_a_checkpoint() {
    let dir = temp_dir("plain");
    let path = dir.join("weights.safetensors");
    strata_layers::save_weights(&mlp(1), &path).unwrap();
    let err = resume_error(&path);
    assert!(err.contains("no `format` entry"), "{err}");
}

#[test]
fn a_checkpoint_of_another_architecture_is_refused_before_anything_changes() {
    let (path, _) = saved_checkpoint("architecture");
    let model = strata_layers::Sequential::new()
        .add(strata_layers::Dense::new(5))
        .add(strata_layers::Dropout::new(0.1))
        .build(&[2], &strata_core::Device::cpu(), 0)
        .unwrap();
    let before = weight_bits(&model);
    let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(1e-2));
    let err = trainer.resume(&path).unwrap_err().to_string();
    assert!(
        err.contains("do not match the model") || err.contains("in the model but"),
        "{err}"
    );
    assert_eq!(weight_bits(&model), before);
}
