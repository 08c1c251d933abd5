//! One `[[model.layers]]` table read into the layer config it names: peek `type`, take out
//! this format's own keys (`activation`, `repeat`), and hand the rest to that kind's config
//! struct, which refuses keys it does not know. Errors name the exact key:
//! `model.layers[1].units: not a field of relu (it takes no fields)`,
//! `model.layers[3].units: missing key (dense needs units)`.

use std::path::Path;

use strata_core::Result;
use strata_layers::{LayerKind, LayerSpec};

use crate::config::error::{deserialize, key_error, rewrite, try_deserialize_with};

/// One layer table, read.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerEntry {
    /// The layer's config.
    pub layer: LayerSpec,
    /// The activation placed after it (`activation = "relu"`), if any.
    pub activation: Option<LayerSpec>,
    /// How many times the layer (with its activation) is stacked (default 1).
    pub repeat: usize,
}

impl LayerEntry {
    /// Reads the table found at `key` (`model.layers[2]`) of the config `file`.
    pub fn read(table: &toml::Table, file: &Path, key: &str) -> Result<LayerEntry> {
        let mut fields = table.clone();
        let kind = kind(fields.remove("type"), file, key)?;
        let repeat = match fields.remove("repeat") {
            Some(value) => deserialize::<usize>(value, file, &format!("{key}.repeat"))?,
            None => 1,
        };
        if repeat == 0 {
            return Err(key_error(
                file,
                &format!("{key}.repeat"),
                "expected at least 1, found 0",
            ));
        }
        let activation = match fields.remove("activation") {
            Some(value) => Some(activation(value, file, &format!("{key}.activation"))?),
            None => None,
        };
        let layer = try_deserialize_with(toml::Value::Table(fields), key, |d| kind.deserialize(d))
            .map_err(|(path, message)| explain(kind, key, &path, &message, file))?;
        Ok(LayerEntry {
            layer,
            activation,
            repeat,
        })
    }
}

/// The kind `type` names.
fn kind(value: Option<toml::Value>, file: &Path, key: &str) -> Result<LayerKind> {
    let key = format!("{key}.type");
    let name: String = match value {
        Some(value) => deserialize(value, file, &key)?,
        None => return Err(key_error(file, &key, "missing key")),
    };
    LayerKind::from_name(&name).ok_or_else(|| {
        key_error(
            file,
            &key,
            format!(
                "unknown layer \"{name}\"; expected one of {}",
                LayerKind::names()
            ),
        )
    })
}

/// The activation `activation = "..."` names: a kind the registry marks as an activation.
fn activation(value: toml::Value, file: &Path, key: &str) -> Result<LayerSpec> {
    let name: String = deserialize(value, file, key)?;
    let found = LayerKind::from_name(&name).filter(|k| k.is_activation());
    let Some(kind) = found else {
        let names: Vec<&str> = LayerKind::ALL
            .iter()
            .filter(|k| k.is_activation())
            .map(|k| k.name())
            .collect();
        return Err(key_error(
            file,
            key,
            format!("unknown value \"{name}\"; expected {}", names.join(", ")),
        ));
    };
    deserialize_kind_defaults(kind, file, key)
}

/// An activation's config with every setting at its default.
fn deserialize_kind_defaults(kind: LayerKind, file: &Path, key: &str) -> Result<LayerSpec> {
    try_deserialize_with(toml::Value::Table(toml::Table::new()), key, |d| {
        kind.deserialize(d)
    })
    .map_err(|(path, message)| {
        let (path, message) = rewrite(&path, &message);
        key_error(file, &path, message)
    })
}

/// serde's error reading a `kind` table at `key`, in this file's words: a key the kind does
/// not take, a key it needs; anything else as every other config error.
fn explain(
    kind: LayerKind,
    key: &str,
    path: &str,
    message: &str,
    file: &Path,
) -> strata_core::Error {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, list)) = rest.split_once('`')
        && (path == key || path.strip_prefix(key) == Some(&format!(".{field}")))
    {
        let takes = match list.split_once(", expected ") {
            Some((_, list)) => format!(
                "it takes {}",
                list.trim_start_matches("one of ").replace('`', "")
            ),
            None => "it takes no fields".to_string(),
        };
        return key_error(
            file,
            &format!("{key}.{field}"),
            format!("not a field of {kind} ({takes})"),
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && path == key
    {
        let field = rest.trim_end_matches('`');
        return key_error(
            file,
            &format!("{key}.{field}"),
            format!(
                "missing key ({kind} needs {})",
                kind.required_fields().join(", ")
            ),
        );
    }
    let (path, message) = rewrite(path, message);
    key_error(file, &path, message)
}
