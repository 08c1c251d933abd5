//! `Context`: what a callback may see and do during `fit`.

use std::path::Path;

use strata_core::{Error, Param, Result, Tensor};
use strata_layers::Module;

use super::Trainer;
use crate::checkpoint::Checkpoint;
use crate::history::{EpochLog, History};

/// A callback's view of the trainer.
pub struct Context<'t, 'm> {
    trainer: &'t mut Trainer<'m>,
    epoch: u64,
    batch_loss: Option<f64>,
}

/// A copy of a model's parameters and buffers, to put back later (best weights).
#[derive(Debug, Clone)]
pub struct WeightsSnapshot {
    tensors: Vec<(String, Tensor)>,
}

impl WeightsSnapshot {
    /// The copied tensors, by name.
    pub fn tensors(&self) -> &[(String, Tensor)] {
        &self.tensors
    }
}

impl<'t, 'm> Context<'t, 'm> {
    pub(super) fn new(trainer: &'t mut Trainer<'m>, epoch: u64, batch_loss: Option<f64>) -> Self {
        Context {
            trainer,
            epoch,
            batch_loss,
        }
    }

    /// The current epoch, counted from 0: in `on_epoch_end`, the epoch that just finished;
    /// in `on_train_begin` / `on_train_end`, the next epoch to train.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Batches of the current epoch trained on so far.
    pub fn batch(&self) -> usize {
        self.trainer.state.batch
    }

    /// Optimizer steps taken since the start of the run.
    pub fn step(&self) -> u64 {
        self.trainer.state.step
    }

    /// The number of epochs `fit` trains to.
    pub fn epochs(&self) -> u64 {
        self.trainer.epochs
    }

    /// In `on_batch_end`: the batch's loss (NaN or infinite if it was refused).
    pub fn batch_loss(&self) -> Option<f64> {
        self.batch_loss
    }

    /// The last finished epoch's values (in `on_epoch_end`: the epoch that just finished).
    pub fn logs(&self) -> Option<&EpochLog> {
        self.trainer.state.history.last()
    }

    /// Every finished epoch.
    pub fn history(&self) -> &History {
        &self.trainer.state.history
    }

    /// Asks `fit` to stop after this callback point (mid-epoch from `on_batch_end`).
    pub fn stop(&mut self) {
        self.trainer.stop = true;
    }

    /// Whether a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.trainer.stop
    }

    /// The learning rate the next optimizer step uses.
    pub fn learning_rate(&self) -> f32 {
        self.trainer.optimizer.learning_rate()
    }

    /// Multiplies the learning rate by `factor` from now on (on top of any schedule; the
    /// factor is saved in checkpoints).
    pub fn scale_learning_rate(&mut self, factor: f32) {
        let t = &mut *self.trainer;
        t.state.lr_scale *= factor;
        if t.scheduler.is_none() {
            let lr = t.optimizer.learning_rate() * factor;
            t.optimizer.set_learning_rate(lr);
        }
        t.apply_learning_rate();
    }

    /// The model.
    pub fn model(&self) -> &dyn Module {
        self.trainer.model
    }

    /// The model's trainable parameters.
    pub fn parameters(&self) -> &[Param] {
        &self.trainer.params
    }

    /// Copies the model's parameters and buffers.
    pub fn snapshot_weights(&self) -> Result<WeightsSnapshot> {
        let tensors = model_state(self.trainer.model)
            .into_iter()
            .map(|p| Ok((p.name().to_string(), p.tensor().deep_clone()?)))
            .collect::<Result<_>>()?;
        Ok(WeightsSnapshot { tensors })
    }

    /// Puts a snapshot back into the model, in place.
    pub fn restore_weights(&self, snapshot: &WeightsSnapshot) -> Result<()> {
        assign_by_name(self.trainer.model, &snapshot.tensors, "restore_weights")
    }

    /// A checkpoint of the run as it stands. Refused in the middle of a
    /// gradient-accumulation group (its summed gradients are not saved).
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        self.trainer.checkpoint()
    }

    /// Writes [`Context::checkpoint`] to `path` atomically.
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<()> {
        self.trainer.checkpoint()?.save(path)
    }
}

/// The parameters and buffers of a model, as a weights file holds them.
pub(crate) fn model_state(model: &dyn Module) -> Vec<Param> {
    let mut all = model.parameters();
    all.extend(model.buffers());
    all
}

/// Assigns `tensors` to the model's parameters and buffers of the same names, after checking
/// that the names match exactly and every shape fits (nothing is assigned otherwise).
pub(crate) fn assign_by_name(
    model: &dyn Module,
    tensors: &[(String, Tensor)],
    op: &str,
) -> Result<()> {
    let state = model_state(model);
    for (param, source) in match_by_name(&state, tensors, op)? {
        let source = source.to_device(&param.tensor().device())?;
        param.tensor().assign(&source)?;
    }
    Ok(())
}

/// Pairs each of `state` with the tensor of the same name in `tensors`; an error if the names
/// differ or a shape does not fit.
pub(crate) fn match_by_name<'a>(
    state: &'a [Param],
    tensors: &'a [(String, Tensor)],
    op: &str,
) -> Result<Vec<(&'a Param, &'a Tensor)>> {
    let mut missing = Vec::new();
    let mut pairs = Vec::with_capacity(state.len());
    for param in state {
        match tensors.iter().find(|(n, _)| n == param.name()) {
            Some((_, t)) if t.shape() == param.tensor().shape() => pairs.push((param, t)),
            Some((_, t)) => {
                return Err(Error::invalid(
                    op.to_string(),
                    format!(
                        "`{}` is {} in the model but {} in the saved weights",
                        param.name(),
                        param.tensor().shape(),
                        t.shape()
                    ),
                ));
            }
            None => missing.push(param.name().to_string()),
        }
    }
    let unknown: Vec<&str> = tensors
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !state.iter().any(|p| p.name() == *n))
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        return Err(Error::invalid(
            op.to_string(),
            format!(
                "the saved weights do not match the model (missing: {missing:?}; not in the \
                 model: {unknown:?}); were they saved from another architecture?"
            ),
        ));
    }
    Ok(pairs)
}
