//! Checkpoints: one safetensors file holding everything a run needs to continue exactly —
//! the model's weights and buffers, the optimizer's state, and (as JSON in the file's
//! metadata) the [`TrainState`]: epoch, batch within the epoch, optimizer step, schedule
//! position, learning rate, the model's RNG counters, the running epoch loss, the loader's
//! shape and the history so far — plus the user's config.
//!
//! The file is written atomically (temporary file, fsync, rename), so a run killed at any
//! point leaves the previous checkpoint whole. A checksum over every tensor and both JSON
//! documents is stored with them: a truncated or corrupted file is refused with an error
//! that says so, never loaded half-right.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use strata_core::{Device, Error, Result, Tensor};

use crate::history::History;
use crate::io::write_atomically;

/// Tensor-name prefix of the model's weights and buffers.
const MODEL_PREFIX: &str = "model/";
/// Tensor-name prefix of the optimizer's state.
const OPTIM_PREFIX: &str = "optim/";
/// Metadata keys.
const FORMAT_KEY: &str = "format";
const FORMAT: &str = "strata-checkpoint-v1";
const STATE_KEY: &str = "state";
const CONFIG_KEY: &str = "config";
const CHECKSUM_KEY: &str = "checksum";

/// Where a run stands: everything but the tensors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// The epoch in progress (counted from 0), or the next one when `batch` is 0.
    pub epoch: u64,
    /// Batches of `epoch` already trained on.
    pub batch: usize,
    /// Optimizer steps taken since the start of the run.
    pub step: u64,
    /// The learning-rate scheduler's step, when a schedule is attached.
    pub scheduler_step: Option<u64>,
    /// The learning rate the next optimizer step uses.
    pub learning_rate: f32,
    /// The factor callbacks applied on top of the schedule (reduce-on-plateau).
    pub lr_scale: f32,
    /// The model's RNG counters ([`strata_layers::Module::rng_state`]).
    pub rng: Vec<u64>,
    /// Sum of `loss × samples` over the batches of `epoch` so far.
    pub epoch_loss_sum: f64,
    /// Samples of `epoch` so far.
    pub epoch_samples: f64,
    /// Batches per epoch of the training loader that wrote the checkpoint.
    pub batches_per_epoch: usize,
    /// Batch size of that loader.
    pub batch_size: usize,
    /// Every finished epoch.
    pub history: History,
}

/// A snapshot of a run (see the module documentation).
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The model's parameters and buffers, by name.
    pub weights: Vec<(String, Tensor)>,
    /// The optimizer's state ([`strata_optim::Optimizer::state`]).
    pub optimizer: Vec<(String, Tensor)>,
    /// Where the run stands.
    pub state: TrainState,
    /// The user's description of the run (model and pipeline settings), kept verbatim.
    pub config: serde_json::Value,
}

impl Checkpoint {
    /// Writes the checkpoint to the file `path` atomically, creating its directory.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let state = serde_json::to_string(&self.state).map_err(|e| {
            Error::invalid("Checkpoint::save", format!("cannot encode the state: {e}"))
        })?;
        let config = serde_json::to_string(&self.config).map_err(|e| {
            Error::invalid("Checkpoint::save", format!("cannot encode the config: {e}"))
        })?;
        let mut named: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (prefix, tensors) in [
            (MODEL_PREFIX, &self.weights),
            (OPTIM_PREFIX, &self.optimizer),
        ] {
            for (name, tensor) in tensors {
                let bytes = tensor
                    .to_vec()?
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                named.push((format!("{prefix}{name}"), tensor.dims().to_vec(), bytes));
            }
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = named.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::invalid(
                "Checkpoint::save",
                format!("two tensors are named `{}`; names must be unique", w[0].0),
            ));
        }
        let checksum = checksum(
            named
                .iter()
                .map(|(n, s, b)| (n.as_str(), s.as_slice(), b.as_slice())),
            &state,
            &config,
        );
        let views = named
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.as_str(), v))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::format(path, format!("cannot encode tensors: {e}")))?;
        let metadata = HashMap::from([
            (FORMAT_KEY.to_string(), FORMAT.to_string()),
            (STATE_KEY.to_string(), state),
            (CONFIG_KEY.to_string(), config),
            (CHECKSUM_KEY.to_string(), format!("{checksum:016x}")),
        ]);
        let bytes = safetensors::serialize(views, Some(metadata))
            .map_err(|e| Error::format(path, format!("cannot encode the checkpoint: {e}")))?;
        write_atomically(path, &bytes)
    }

    /// Reads a checkpoint written by [`Checkpoint::save`], with its tensors on `device`. A
    /// file that is not a checkpoint, truncated, or whose contents do not match their
    /// checksum is an error naming the file and the problem.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Checkpoint> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let corrupt = |what: String| {
            Error::format(
                path,
                format!(
                    "not a usable Strata checkpoint ({what}); it may be truncated or corrupted"
                ),
            )
        };
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| corrupt(format!("unreadable header: {e}")))?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| corrupt(format!("unreadable tensors: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| corrupt(format!("no `{key}` entry in its metadata")))
        };
        let format = get(FORMAT_KEY)?;
        if format != FORMAT {
            return Err(corrupt(format!("format `{format}`, expected `{FORMAT}`")));
        }
        let (state_text, config_text) = (get(STATE_KEY)?, get(CONFIG_KEY)?);
        let mut names: Vec<(String, TensorView<'_>)> = file.tensors();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, view) in &names {
            if view.dtype() != Dtype::F32 {
                return Err(corrupt(format!(
                    "tensor `{name}` is {:?}, not F32",
                    view.dtype()
                )));
            }
        }
        let found = checksum(
            names.iter().map(|(n, v)| (n.as_str(), v.shape(), v.data())),
            state_text,
            config_text,
        );
        if format!("{found:016x}") != *get(CHECKSUM_KEY)? {
            return Err(corrupt(
                "its contents do not match the stored checksum".into(),
            ));
        }
        let state: TrainState = serde_json::from_str(state_text)
            .map_err(|e| corrupt(format!("unreadable training state: {e}")))?;
        let config = serde_json::from_str(config_text)
            .map_err(|e| corrupt(format!("unreadable config: {e}")))?;
        let (mut weights, mut optimizer) = (Vec::new(), Vec::new());
        for (name, view) in names {
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let tensor = Tensor::from_vec(values, view.shape().to_vec(), device)?;
            if let Some(rest) = name.strip_prefix(MODEL_PREFIX) {
                weights.push((rest.to_string(), tensor));
            } else if let Some(rest) = name.strip_prefix(OPTIM_PREFIX) {
                optimizer.push((rest.to_string(), tensor));
            } else {
                return Err(corrupt(format!("unexpected tensor `{name}`")));
            }
        }
        Ok(Checkpoint {
            weights,
            optimizer,
            state,
            config,
        })
    }
}

/// FNV-1a (64-bit) over every tensor's name, shape and bytes, in name order, then both JSON
/// documents: cheap, and enough to catch truncation and bit rot (not an attacker).
fn checksum<'a>(
    tensors: impl Iterator<Item = (&'a str, &'a [usize], &'a [u8])>,
    state: &str,
    config: &str,
) -> u64 {
    let mut h = Fnv::new();
    for (name, shape, bytes) in tensors {
        h.write(name.as_bytes());
        for &d in shape {
            h.write(&(d as u64).to_le_bytes());
        }
        h.write(&(bytes.len() as u64).to_le_bytes());
        h.write(bytes);
    }
    h.write(state.as_bytes());
    h.write(&[0]);
    h.write(config.as_bytes());
    h.0
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let dev = Device::cpu();
        Checkpoint {
            weights: vec![
                (
                    "0.weight".into(),
                    Tensor::from_vec(vec![1.0, -2.5, 3.25, 0.1], [2, 2], &dev).unwrap(),
                ),
                (
                    "0.bias".into(),
                    Tensor::from_vec(vec![0.5, f32::MIN_POSITIVE], [2], &dev).unwrap(),
                ),
            ],
            optimizer: vec![(
                "step".into(),
                Tensor::from_vec(vec![0.0, 3.0], [2], &dev).unwrap(),
            )],
            state: TrainState {
                epoch: 2,
                batch: 5,
                step: 37,
                scheduler_step: Some(37),
                learning_rate: 1e-3,
                lr_scale: 0.5,
                rng: vec![u64::MAX, 3],
                epoch_loss_sum: 0.1 + 0.2,
                epoch_samples: 80.0,
                batches_per_epoch: 16,
                batch_size: 8,
                history: History::new(),
            },
            config: serde_json::json!({"model": "mlp", "width": 64}),
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir()
            .join(format!("strata-ckpt-unit-{}", std::process::id()))
            .join(name)
    }

    #[test]
    fn a_checkpoint_round_trips_exactly() {
        let path = temp("round.safetensors");
        let c = sample();
        c.save(&path).unwrap();
        let back = Checkpoint::load(&path, &Device::cpu()).unwrap();
        assert_eq!(back.state, c.state);
        assert_eq!(back.config, c.config);
        let bits = |v: &[(String, Tensor)]| -> Vec<(String, Vec<u32>)> {
            let mut out: Vec<_> = v
                .iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        t.to_vec().unwrap().iter().map(|x| x.to_bits()).collect(),
                    )
                })
                .collect();
            out.sort();
            out
        };
        assert_eq!(bits(&back.weights), bits(&c.weights));
        assert_eq!(bits(&back.optimizer), bits(&c.optimizer));
        assert!(!path.with_extension("safetensors.tmp").exists());
    }

    #[test]
    fn a_flipped_byte_is_refused_by_the_checksum() {
        let path = temp("flip.safetensors");
        sample().save(&path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&path, bytes).unwrap();
        let err = Checkpoint::load(&path, &Device::cpu())
            .unwrap_err()
            .to_string();
        assert!(err.contains("do not match the stored checksum"), "{err}");
    }
}
