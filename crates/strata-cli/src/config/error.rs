//! Turning serde's messages into ones that name the TOML key: `optimizer.lr: expected a
//! float, found a string`. Every config error goes through [`deserialize`] or [`key_error`],
//! so the key is always the first thing in the message.

use std::path::Path;

use serde::de::DeserializeOwned;
use strata_core::{Error, Result};

/// Deserializes `value` (found at `prefix`, `""` for the whole file) into `T`, reporting the
/// exact key of any error.
pub(crate) fn deserialize<T: DeserializeOwned>(
    value: toml::Value,
    file: &Path,
    prefix: &str,
) -> Result<T> {
    deserialize_with(value, file, prefix, |d| T::deserialize(d))
}

/// Like [`deserialize`], with the reading done by `read` (a layer kind's config, chosen at
/// run time), so the key of any error is still exact.
fn deserialize_with<T>(
    value: toml::Value,
    file: &Path,
    prefix: &str,
    read: impl FnOnce(PathDeserializer<'_, '_>) -> std::result::Result<T, toml::de::Error>,
) -> Result<T> {
    try_deserialize_with(value, prefix, read).map_err(|(path, message)| {
        let (path, message) = rewrite(&path, &message);
        key_error(file, &path, message)
    })
}

/// A TOML value read with its key path tracked.
pub(crate) type PathDeserializer<'a, 'b> = serde_path_to_error::Deserializer<'a, 'b, toml::Value>;

/// Reads `value` (found at `prefix`) with `read`; an error comes back as serde's
/// `(key, message)`, not yet rewritten, for a caller that explains some errors itself.
pub(crate) fn try_deserialize_with<T>(
    value: toml::Value,
    prefix: &str,
    read: impl FnOnce(PathDeserializer<'_, '_>) -> std::result::Result<T, toml::de::Error>,
) -> std::result::Result<T, (String, String)> {
    let mut track = serde_path_to_error::Track::new();
    read(serde_path_to_error::Deserializer::new(value, &mut track))
        .map_err(|e| located(prefix, &track.path().to_string(), &e.to_string()))
}

/// The key (`prefix` joined with the tracked `inner` path) and serde's message without the
/// "in `key`" lines toml appends (the path already says where).
fn located(prefix: &str, inner: &str, message: &str) -> (String, String) {
    let path = join(prefix, if inner == "." { "" } else { inner });
    let message: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("in `"))
        .collect();
    (path, message.join(" "))
}

/// An error about the key `path` of the config file `file`.
pub(crate) fn key_error(file: &Path, path: &str, message: impl std::fmt::Display) -> Error {
    if path.is_empty() {
        Error::format(file, message.to_string())
    } else {
        Error::format(file, format!("{path}: {message}"))
    }
}

/// `prefix` and `inner` joined with a dot (either may be empty).
pub(crate) fn join(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_string(),
        (_, true) => prefix.to_string(),
        _ if inner.starts_with('[') => format!("{prefix}{inner}"),
        _ => format!("{prefix}.{inner}"),
    }
}

/// serde's message at `path` as `(key, message)`: a missing or unknown field moves into the
/// key, type names become TOML's (`a float`, `a table`).
pub(crate) fn rewrite(path: &str, message: &str) -> (String, String) {
    if let Some(field) = between(message, "missing field `", "`") {
        return (join(path, field), "missing key".to_string());
    }
    if let Some(field) = between(message, "unknown field `", "`") {
        // serde_path_to_error already ends the path with the unknown key.
        let key = if path.ends_with(field) {
            path.to_string()
        } else {
            join(path, field)
        };
        let expected = message
            .split_once(", expected ")
            .map(|(_, rest)| format!("; expected {}", rest.replace('`', "")))
            .unwrap_or_default();
        return (key, format!("unknown key{expected}"));
    }
    if let Some(value) = between(message, "unknown variant `", "`") {
        let expected = message
            .split_once(", expected ")
            .map(|(_, rest)| rest.replace('`', ""))
            .unwrap_or_default();
        let what = if path.starts_with("model.layers") && path.ends_with(".type") {
            "layer"
        } else {
            "value"
        };
        return (
            path.to_string(),
            format!("unknown {what} \"{value}\"; expected {expected}"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (
            path.to_string(),
            format!(
                "expected {}, found {}",
                expected_name(expected),
                found_name(found)
            ),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (
            path.to_string(),
            format!(
                "expected {}, found {}",
                expected_name(expected),
                found.replace('`', "")
            ),
        );
    }
    (path.to_string(), message.to_string())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

/// serde's name of an expected type, in TOML words.
fn expected_name(expected: &str) -> String {
    match expected {
        "f32" | "f64" => "a float".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".into(),
        "a boolean" | "bool" => "a boolean".into(),
        "a string" | "string" => "a string".into(),
        e if e.starts_with("a sequence") || e.starts_with("an array") => "an array".into(),
        e if e.starts_with("struct ") || e == "a map" => "a table".into(),
        e if e.starts_with("enum ") || e.starts_with("variant identifier") => "a string".into(),
        other => other.to_string(),
    }
}

/// serde's description of a value found, in TOML words.
fn found_name(found: &str) -> String {
    let (kind, value) = found.split_once(' ').unwrap_or((found, ""));
    let value = value.trim_matches('`');
    match kind {
        "string" => format!("a string ({value})"),
        "integer" => format!("an integer ({value})"),
        "floating" => format!(
            "a float ({})",
            value.trim_start_matches("point ").trim_matches('`')
        ),
        "boolean" => format!("a boolean ({value})"),
        "sequence" => "an array".into(),
        "map" => "a table".into(),
        _ => found.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_read_as_toml() {
        let (k, m) = rewrite(
            "optimizer.lr",
            "invalid type: string \"fast\", expected f32",
        );
        assert_eq!(k, "optimizer.lr");
        assert_eq!(m, "expected a float, found a string (\"fast\")");
    }

    #[test]
    fn missing_field_moves_into_the_key() {
        let (k, m) = rewrite("optimizer", "missing field `lr`");
        assert_eq!((k.as_str(), m.as_str()), ("optimizer.lr", "missing key"));
    }

    #[test]
    fn joins_indices_without_a_dot() {
        assert_eq!(join("model.layers", "[2].units"), "model.layers[2].units");
        assert_eq!(join("", "train"), "train");
        assert_eq!(join("data", ""), "data");
    }
}
