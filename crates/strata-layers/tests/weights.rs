//! Weights I/O: safetensors round trips, and the errors of loading a file that does not fit.

use std::path::PathBuf;

use strata_core::{Device, Error, Tensor};
use strata_layers::prelude::*;
use strata_layers::weights::{load_tensors, save_tensors};

/// A fresh path under Cargo's per-target temporary directory.
fn temp_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("strata-layers-weights");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}.safetensors", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn mlp(hidden: usize, seed: u64) -> Sequential {
    Sequential::new()
        .add(Dense::new(hidden))
        .add(Relu)
        .add(Dropout::new(0.1))
        .add(Dense::new(3))
        .build(&[5], &Device::best(), seed)
        .unwrap()
}

fn batch() -> Tensor {
    Tensor::rand_uniform([4, 5], -1.0, 1.0, 3, &Device::best()).unwrap()
}

fn outputs(model: &Sequential) -> Vec<f32> {
    model
        .forward(&batch(), Mode::Eval)
        .unwrap()
        .to_vec()
        .unwrap()
}

#[test]
fn save_then_load_into_a_model_built_with_another_seed_gives_identical_outputs() {
    let path = temp_path("round-trip");
    let original = mlp(6, 1);
    save_weights(&original, &path).unwrap();
    let restored = mlp(6, 2);
    assert_ne!(outputs(&original), outputs(&restored));
    load_weights(&restored, &path).unwrap();
    assert_eq!(outputs(&original), outputs(&restored));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_keeps_the_parameter_variables() {
    let path = temp_path("keeps-ids");
    save_weights(&mlp(6, 1), &path).unwrap();
    let model = mlp(6, 2);
    let ids: Vec<_> = model.parameters().iter().map(|p| p.tensor().id()).collect();
    load_weights(&model, &path).unwrap();
    let after: Vec<_> = model.parameters().iter().map(|p| p.tensor().id()).collect();
    assert_eq!(ids, after);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn file_holds_module_path_names_and_shapes() {
    let path = temp_path("names");
    save_weights(&mlp(6, 1), &path).unwrap();
    let tensors = load_tensors(&path, &Device::best()).unwrap();
    let entries: Vec<(&str, &[usize])> = tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.dims()))
        .collect();
    assert_eq!(
        entries,
        [
            ("0.bias", &[6][..]),
            ("0.weight", &[6, 5][..]),
            ("3.bias", &[3][..]),
            ("3.weight", &[3, 6][..])
        ]
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn saving_replaces_the_file_and_leaves_no_temporary_behind() {
    let path = temp_path("atomic");
    save_weights(&mlp(6, 1), &path).unwrap();
    save_weights(&mlp(6, 2), &path).unwrap();
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    assert!(!PathBuf::from(tmp).exists());
    let restored = mlp(6, 3);
    load_weights(&restored, &path).unwrap();
    assert_eq!(outputs(&restored), outputs(&mlp(6, 2)));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_weights_with_a_wrong_shape_names_the_tensor_and_both_shapes() {
    let path = temp_path("wrong-shape");
    save_weights(&mlp(6, 1), &path).unwrap();
    let err = load_weights(&mlp(7, 1), &path).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("`0.bias`") || text.contains("`0.weight`"),
        "{text}"
    );
    assert!(text.contains("[6") && text.contains("[7"), "{text}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_failed_load_leaves_the_model_unchanged() {
    let path = temp_path("unchanged");
    save_tensors(
        &path,
        &[
            (
                "0.weight".to_string(),
                Tensor::ones([6, 5], &Device::best()).unwrap(),
            ),
            (
                "0.bias".to_string(),
                Tensor::ones([6], &Device::best()).unwrap(),
            ),
            (
                "3.weight".to_string(),
                Tensor::ones([3, 6], &Device::best()).unwrap(),
            ),
            (
                "3.bias".to_string(),
                Tensor::ones([2], &Device::best()).unwrap(),
            ),
        ],
    )
    .unwrap();
    let model = mlp(6, 1);
    let before = outputs(&model);
    assert!(load_weights(&model, &path).is_err());
    assert_eq!(outputs(&model), before);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_a_truncated_file_is_a_format_error() {
    let path = temp_path("truncated");
    save_weights(&mlp(6, 1), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = load_weights(&mlp(6, 1), &path).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");
    std::fs::write(&path, &bytes[..5]).unwrap();
    let err = load_weights(&mlp(6, 1), &path).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_a_file_that_is_not_safetensors_is_a_format_error() {
    let path = temp_path("garbage");
    std::fs::write(&path, b"this is not a weights file at all").unwrap();
    let err = load_weights(&mlp(6, 1), &path).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_a_missing_file_is_an_io_error() {
    let err = load_weights(&mlp(6, 1), temp_path("does-not-exist")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

#[test]
fn loading_a_file_missing_a_tensor_names_it() {
    let path = temp_path("missing");
    let single = Sequential::new()
        .add(Dense::new(6))
        .build(&[5], &Device::best(), 0)
        .unwrap();
    save_weights(&single, &path).unwrap();
    let text = load_weights(&mlp(6, 1), &path).unwrap_err().to_string();
    assert!(
        text.contains("missing from the file: 3.bias, 3.weight"),
        "{text}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_a_file_with_an_unknown_tensor_names_it() {
    let path = temp_path("unknown");
    save_weights(&mlp(6, 1), &path).unwrap();
    let single = Sequential::new()
        .add(Dense::new(6))
        .build(&[5], &Device::best(), 0)
        .unwrap();
    let text = load_weights(&single, &path).unwrap_err().to_string();
    assert!(
        text.contains("not in the model: 3.bias, 3.weight"),
        "{text}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn loading_a_non_f32_tensor_is_a_format_error() {
    let path = temp_path("f64");
    let bytes: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![2], &bytes).unwrap();
    std::fs::write(&path, safetensors::serialize([("x", view)], None).unwrap()).unwrap();
    let err = load_tensors(&path, &Device::best()).unwrap_err();
    assert!(
        matches!(err, Error::Format { .. }) && err.to_string().contains("F64"),
        "{err:?}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn saving_two_tensors_with_one_name_is_an_error() {
    let t = Tensor::ones([2], &Device::best()).unwrap();
    let named = [("a".to_string(), t.clone()), ("a".to_string(), t)];
    assert!(save_tensors(temp_path("dup"), &named).is_err());
}
