//! Saving and loading weights as safetensors files (F32), named by module path
//! (`"0.weight"`), so files interoperate with PyTorch's `state_dict` of the same model.
//!
//! Writes are atomic: the file is written to `<path>.tmp`, synced, then renamed over `path`,
//! so a crash never leaves a half-written weights file. Loads validate everything (names,
//! shapes, dtypes) before assigning anything, so a failed load leaves the model unchanged.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use strata_core::{Device, Error, Param, Result, Tensor};

use crate::module::Module;

/// Writes every parameter and buffer of `model` to the safetensors file `path`.
pub fn save_weights(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    let named: Vec<(String, Tensor)> = state(model)
        .into_iter()
        .map(|p| (p.name().to_string(), p.tensor().clone()))
        .collect();
    save_tensors(path, &named)
}

/// Loads the safetensors file `path` into `model`'s parameters and buffers, in place (their
/// ids are kept, so optimizers holding them keep working). The file must hold exactly the
/// model's tensor names, each F32 with the model's shape; otherwise nothing is assigned and
/// the error names the offending tensors (and both shapes, for a shape mismatch).
pub fn load_weights(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let expected = state(model);
    let names: BTreeSet<&str> = expected.iter().map(|p| p.name()).collect();
    if names.len() != expected.len() {
        return Err(duplicate_names("load_weights", &expected));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = parse(path, &bytes)?;
    let in_file: BTreeSet<&str> = file.names().into_iter().collect();
    let missing: Vec<&str> = names.difference(&in_file).copied().collect();
    let unknown: Vec<&str> = in_file.difference(&names).copied().collect();
    if !missing.is_empty() || !unknown.is_empty() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing from the file: {}", missing.join(", ")));
        }
        if !unknown.is_empty() {
            problems.push(format!("not in the model: {}", unknown.join(", ")));
        }
        return Err(Error::invalid(
            "load_weights",
            format!(
                "{} does not match the model's tensor names ({}); was it saved from another \
                 architecture?",
                path.display(),
                problems.join("; ")
            ),
        ));
    }
    let mut sources = Vec::with_capacity(expected.len());
    for param in &expected {
        let view = file
            .tensor(param.name())
            .map_err(|e| Error::format(path, format!("tensor `{}`: {e}", param.name())))?;
        if view.shape() != param.tensor().dims() {
            return Err(Error::shape(
                "load_weights",
                format!(
                    "`{}` is {:?} in {} but {} in the model",
                    param.name(),
                    view.shape(),
                    path.display(),
                    param.tensor().shape()
                ),
            ));
        }
        let values = f32_values(path, param.name(), &view)?;
        sources.push(Tensor::from_vec(
            values,
            view.shape().to_vec(),
            &param.tensor().device(),
        )?);
    }
    for (param, source) in expected.iter().zip(&sources) {
        param.tensor().assign(source)?;
    }
    Ok(())
}

/// Writes named tensors to the safetensors file `path` as F32, atomically. Names must be
/// unique. (The building block of [`save_weights`], for checkpoints that add optimizer state.)
pub fn save_tensors(path: impl AsRef<Path>, tensors: &[(String, Tensor)]) -> Result<()> {
    let path = path.as_ref();
    let mut data: BTreeMap<&str, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for (name, tensor) in tensors {
        let bytes: Vec<u8> = tensor
            .to_vec()?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        if data.insert(name, (tensor.dims().to_vec(), bytes)).is_some() {
            return Err(Error::invalid(
                "save_tensors",
                format!("two tensors are named `{name}`; names must be unique"),
            ));
        }
    }
    let views = data
        .iter()
        .map(|(name, (shape, bytes))| {
            TensorView::new(Dtype::F32, shape.clone(), bytes).map(|view| (*name, view))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::format(path, format!("cannot encode tensors: {e}")))?;
    let encoded = safetensors::serialize(views, None)
        .map_err(|e| Error::format(path, format!("cannot encode tensors: {e}")))?;
    write_atomically(path, &encoded)
}

/// Reads every tensor of the safetensors file `path` onto `device`, sorted by name. Only F32
/// tensors are supported.
pub fn load_tensors(path: impl AsRef<Path>, device: &Device) -> Result<Vec<(String, Tensor)>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = parse(path, &bytes)?;
    let mut out = Vec::with_capacity(file.len());
    for (name, view) in file.tensors() {
        let values = f32_values(path, &name, &view)?;
        let tensor = Tensor::from_vec(values, view.shape().to_vec(), device)?;
        out.push((name, tensor));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The parameters and buffers of a model: everything a weights file holds.
fn state(model: &dyn Module) -> Vec<Param> {
    let mut all = model.parameters();
    all.extend(model.buffers());
    all
}

fn duplicate_names(op: &str, params: &[Param]) -> Error {
    let mut seen = BTreeSet::new();
    let dups: BTreeSet<&str> = params
        .iter()
        .map(|p| p.name())
        .filter(|n| !seen.insert(*n))
        .collect();
    let dups: Vec<&str> = dups.into_iter().collect();
    Error::invalid(
        op,
        format!("the model has several tensors named {}", dups.join(", ")),
    )
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| {
        Error::format(
            path,
            format!("not a valid safetensors file (corrupt or truncated?): {e}"),
        )
    })
}

fn f32_values(path: &Path, name: &str, view: &TensorView<'_>) -> Result<Vec<f32>> {
    if view.dtype() != Dtype::F32 {
        return Err(Error::format(
            path,
            format!(
                "tensor `{name}` is {:?}; only F32 is supported",
                view.dtype()
            ),
        ));
    }
    Ok(view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Writes `bytes` to `<path>.tmp`, syncs it, and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = {
        let mut name = path.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    };
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        // Best effort: the write already failed, and that is the error to report.
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
