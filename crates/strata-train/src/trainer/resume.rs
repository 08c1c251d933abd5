//! Checkpoints out of and into a trainer.

use std::path::Path;

use strata_core::{Error, Result};

use super::Trainer;
use super::context::{assign_by_name, match_by_name, model_state};
use crate::checkpoint::{Checkpoint, TrainState};

impl Trainer<'_> {
    /// A checkpoint of the run as it stands: weights, optimizer state, schedule position,
    /// epoch and batch, learning rate, the model's RNG counters, history and config. Refused
    /// in the middle of a gradient-accumulation group.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        let pending = self.step.pending_batches();
        if pending > 0 {
            let group = self.step.batches_per_update();
            return Err(Error::invalid(
                "Trainer::checkpoint",
                format!(
                    "{pending} batch(es) of a {group}-batch gradient-accumulation group are not \
                     applied yet; checkpoint at a group boundary (a batch count divisible by \
                     {group})"
                ),
            ));
        }
        let weights = model_state(self.model)
            .into_iter()
            .map(|p| (p.name().to_string(), p.tensor().clone()))
            .collect();
        let state = TrainState {
            rng: self.model.rng_state(),
            scheduler_step: self.scheduler.as_ref().map(|s| s.current_step()),
            learning_rate: self.optimizer.learning_rate(),
            ..self.state.clone()
        };
        Ok(Checkpoint {
            weights,
            optimizer: self.optimizer.state(),
            state,
            config: self.run_config(),
        })
    }

    /// Writes [`Trainer::checkpoint`] to the file `path`, atomically.
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<()> {
        self.checkpoint()?.save(path)
    }

    /// Loads the checkpoint file `path` into this trainer (built with the same model
    /// architecture, optimizer kind and settings, schedule and loaders): the next `fit`
    /// continues where the checkpoint was taken, bit for bit on the CPU.
    pub fn resume(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let checkpoint = Checkpoint::load(path, &self.device)?;
        self.restore(checkpoint)
    }

    /// Restores an in-memory checkpoint (see [`Trainer::resume`]). Everything is checked
    /// before the model is changed.
    pub fn restore(&mut self, checkpoint: Checkpoint) -> Result<()> {
        let Checkpoint {
            weights,
            optimizer,
            state,
            config: _,
        } = checkpoint;
        let expected_rng = self.model.rng_state().len();
        if state.rng.len() != expected_rng {
            return Err(Error::invalid(
                "Trainer::resume",
                format!(
                    "the checkpoint holds {} RNG counter(s) but the model keeps {expected_rng}; \
                     was it saved from another architecture?",
                    state.rng.len()
                ),
            ));
        }
        self.attach_pending_schedule()?;
        // Names and shapes first, then the optimizer (which keeps its state on error), and
        // only then the weights: a refused checkpoint leaves the model as it was.
        match_by_name(&model_state(self.model), &weights, "Trainer::resume")?;
        self.optimizer.load_state(&optimizer)?;
        assign_by_name(self.model, &weights, "Trainer::resume")?;
        self.model.set_rng_state(&state.rng)?;
        if let (Some(step), Some(s)) = (state.scheduler_step, self.scheduler.as_mut()) {
            s.set_current_step(step);
        }
        self.optimizer.set_learning_rate(state.learning_rate);
        self.step.discard_pending();
        self.state = state;
        Ok(())
    }

    /// The config saved in checkpoints: the trainer's settings and the user's config.
    fn run_config(&self) -> serde_json::Value {
        serde_json::json!({
            "trainer": {
                "epochs": self.epochs,
                "seed": self.seed,
                "accumulate": self.step.batches_per_update(),
                "clip": self.step.clipping().map(|c| format!("{c:?}")),
                "schedule": self.scheduler.as_ref().map(|s| s.schedule()),
                "schedule_unit": format!("{:?}", self.schedule_unit),
                "loss_metric_names": self.metrics.names(),
            },
            "user": self.config,
        })
    }
}
