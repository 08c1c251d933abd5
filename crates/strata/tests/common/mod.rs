//! What the golden-value tests share: reading the JSON written by
//! `scripts/golden/generate.py`, turning its arrays into tensors, and comparing with a stated
//! tolerance.

#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;

use serde_json::Value;
use strata::{Device, Tensor};

/// The device the golden comparisons run on.
pub const DEV: Device = Device::Cpu;

/// The parsed golden file `tests/golden/<name>`.
pub fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `cases` array of the golden file `name`.
pub fn cases(name: &str) -> Vec<Value> {
    load(name)["cases"]
        .as_array()
        .expect("a `cases` array")
        .clone()
}

/// A JSON array of numbers as `f32`.
pub fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

/// A JSON array of integers as dimensions.
pub fn dims(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

/// A JSON integer as `usize`.
pub fn num(v: &Value) -> usize {
    v.as_u64().expect("integer") as usize
}

/// A tensor of `shape` from a JSON array.
pub fn tensor(v: &Value, shape: &[usize]) -> Tensor {
    Tensor::from_vec(floats(v), shape.to_vec(), &DEV).unwrap()
}

/// Asserts `found` matches `expected` within `atol + rtol·|expected|` everywhere.
#[track_caller]
pub fn assert_close(what: &str, found: &[f32], expected: &[f32], atol: f32, rtol: f32) {
    assert_eq!(found.len(), expected.len(), "{what}: length");
    for (i, (f, e)) in found.iter().zip(expected).enumerate() {
        assert!(
            (f - e).abs() <= atol + rtol * e.abs(),
            "{what}: element {i}: found {f}, reference gives {e}"
        );
    }
}
