//! `[model]`: the per-sample input shape and the layers (`[[model.layers]]`), each a table
//! naming a kind of strata-layers' registry (`type = "conv2d"`) with that kind's keys, plus
//! two conveniences of this file format: `activation = "relu"` (an activation layer after
//! it) and `repeat = n` (the layer, with its activation, stacked `n` times: a depth knob for
//! tuning). [`ModelConfig::architecture`] expands it into the `SequentialConfig` it
//! describes; the layer kinds and their keys belong to strata-layers, so a new layer needs no
//! edit here.

mod layer_table;

use std::path::Path;

use serde::{Deserialize, Serialize};
use strata_core::{Device, Result};
use strata_layers::{Sequential, SequentialConfig};

use super::error::key_error;

pub use layer_table::LayerEntry;

/// `[model]` as written: the layer tables stay raw until [`ModelConfig::layers`] reads each
/// one as its kind's config, so every error names the exact key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Per-sample input shape (no batch dimension), e.g. `[1, 28, 28]`. When absent the
    /// shape of the data's samples is used.
    #[serde(default)]
    pub input_shape: Option<Vec<usize>>,
    /// The layer tables, in order.
    pub layers: Vec<toml::Table>,
}

impl ModelConfig {
    /// Every layer table read: a known `type`, the keys it needs, no key it does not take.
    /// `file` names the config in errors.
    pub fn layers(&self, file: &Path) -> Result<Vec<LayerEntry>> {
        if self.layers.is_empty() {
            return Err(key_error(
                file,
                "model.layers",
                "expected at least one layer",
            ));
        }
        self.layers
            .iter()
            .enumerate()
            .map(|(i, table)| LayerEntry::read(table, file, &format!("model.layers[{i}]")))
            .collect()
    }

    /// Checks every layer table (see [`ModelConfig::layers`]).
    pub fn validate(&self, file: &Path) -> Result<()> {
        self.layers(file).map(drop)
    }

    /// The stack of layer configs this section describes, activations and repeats expanded
    /// (what a saved architecture holds).
    pub fn architecture(&self, file: &Path) -> Result<SequentialConfig> {
        let mut config = SequentialConfig {
            input_shape: self.input_shape.clone(),
            layers: Vec::new(),
        };
        for entry in self.layers(file)? {
            for _ in 0..entry.repeat {
                config.push(entry.layer.clone());
                if let Some(activation) = &entry.activation {
                    config.push(activation.clone());
                }
            }
        }
        Ok(config)
    }

    /// The model, built for `input_shape` (or the data's `sample_shape` when the config has
    /// none) on `device` from `seed`.
    pub fn build(
        &self,
        file: &Path,
        sample_shape: &[usize],
        device: &Device,
        seed: u64,
    ) -> Result<Sequential> {
        let input = self.input_shape.as_deref().unwrap_or(sample_shape);
        self.architecture(file)?
            .build(input, device, seed)
            .map_err(|e| key_error(file, "model", e))
    }
}
