//! `TrainStep`: the one training step `Trainer::fit` and `strata::train_step` both run —
//! forward and loss (through the hook), the non-finite guard, backward, gradient
//! accumulation, clipping and the optimizer update.

use strata_core::{Error, Gradients, Param, Result};
use strata_layers::{Mode, Module};
use strata_optim::{Optimizer, clip_grad_norm, clip_grad_value};

use super::{StepBatch, StepHook, StepOutput};

/// Gradient clipping applied before each optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// Rescale all gradients so their global L2 norm is at most this
    /// ([`strata_optim::clip_grad_norm`]).
    Norm(f32),
    /// Clamp every gradient element to `[-limit, limit]` ([`strata_optim::clip_grad_value`]).
    Value(f32),
}

/// A training step's settings and the gradients of an unfinished accumulation group.
///
/// [`TrainStep::run`] takes one batch: the hook's forward pass and loss; the loss read to
/// the host (the step's one wait for the device) and refused, before any gradient is taken,
/// if it is NaN or infinite; the gradients of the loss (scaled by `1 / accumulate`), summed
/// with those of the group's earlier batches; and, when the group is complete (or `flush`
/// asks for it), [`StepHook::reduce_gradients`], clipping and one optimizer update.
///
/// ```
/// use strata_core::{Device, Tensor};
/// use strata_layers::{Dense, MseLoss, Module, Sequential};
/// use strata_optim::Sgd;
/// use strata_train::step::{LossStep, StepBatch, TrainStep};
/// # fn main() -> strata_core::Result<()> {
/// let model = Sequential::new().add(Dense::new(1)).build(&[2], &Device::cpu(), 0)?;
/// let (params, mut sgd) = (model.parameters(), Sgd::new(0.1));
/// let batch = StepBatch::new(Tensor::ones([4, 2], &Device::cpu())?,
///                            Tensor::zeros([4, 1], &Device::cpu())?);
/// let mut step = TrainStep::new().accumulate(2);
/// let mut hook = LossStep::new(Box::new(MseLoss));
/// let first = step.run(&mut hook, &model, &params, &mut sgd, &batch, false)?;
/// let second = step.run(&mut hook, &model, &params, &mut sgd, &batch, false)?;
/// assert!(!first.updated() && second.updated()); // one update per two batches
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TrainStep {
    accumulate: usize,
    clip: Option<Clip>,
    /// Gradients summed over the batches of an unfinished accumulation group.
    pending: Option<Gradients>,
    pending_batches: usize,
}

/// What one [`TrainStep::run`] did.
#[derive(Debug)]
pub struct StepReport {
    loss: f32,
    updated: bool,
    output: StepOutput,
}

impl StepReport {
    /// The batch's loss, as the hook computed it (before any accumulation scaling).
    pub fn loss(&self) -> f32 {
        self.loss
    }

    /// Whether the loss was finite. When it was not, no gradient was taken, the weights were
    /// not updated and the accumulation group so far was dropped.
    pub fn loss_is_finite(&self) -> bool {
        self.loss.is_finite()
    }

    /// Whether the optimizer updated the weights (the end of an accumulation group).
    pub fn updated(&self) -> bool {
        self.updated
    }

    /// The hook's output, cut from the graph (for metrics).
    pub fn output(&self) -> &StepOutput {
        &self.output
    }
}

impl Default for TrainStep {
    fn default() -> Self {
        TrainStep::new()
    }
}

impl TrainStep {
    /// One optimizer update per batch, no clipping.
    pub fn new() -> Self {
        TrainStep {
            accumulate: 1,
            clip: None,
            pending: None,
            pending_batches: 0,
        }
    }

    /// Sums gradients over `batches` batches before each update (each loss scaled by
    /// `1 / batches`, so the update sees the mean). 0 is refused by [`TrainStep::run`].
    pub fn accumulate(mut self, batches: usize) -> Self {
        self.accumulate = batches;
        self
    }

    /// Clips the gradients before each update (`None`: no clipping).
    pub fn clip(mut self, clip: Option<Clip>) -> Self {
        self.clip = clip;
        self
    }

    /// Batches per update.
    pub fn batches_per_update(&self) -> usize {
        self.accumulate
    }

    /// The clipping applied before each update.
    pub fn clipping(&self) -> Option<Clip> {
        self.clip
    }

    /// Batches whose gradients are summed but not applied yet.
    pub fn pending_batches(&self) -> usize {
        self.pending_batches
    }

    /// Drops the gradients of an unfinished accumulation group.
    pub fn discard_pending(&mut self) {
        self.pending = None;
        self.pending_batches = 0;
    }

    /// Trains on one batch (see [`TrainStep`]); `flush` updates the weights even if the
    /// accumulation group is not complete (the last batch of an epoch). A non-finite loss is
    /// not an error here: the report says so and each caller decides (the trainer asks its
    /// callbacks first). A non-finite gradient norm under [`Clip::Norm`] is an
    /// [`Error::NonFinite`], raised before the update.
    pub fn run(
        &mut self,
        hook: &mut dyn StepHook,
        model: &dyn Module,
        params: &[Param],
        optimizer: &mut dyn Optimizer,
        batch: &StepBatch,
        flush: bool,
    ) -> Result<StepReport> {
        if self.accumulate == 0 {
            return Err(Error::invalid(
                "train step",
                "accumulate must be at least 1 batch; got 0",
            ));
        }
        let output = hook.forward(model, batch, Mode::Train)?;
        let loss = output.loss();
        if loss.elem_count() != 1 {
            return Err(Error::shape(
                "train step",
                format!(
                    "the loss must be a single value; the step returned a tensor of shape {}",
                    loss.shape()
                ),
            ));
        }
        let value = loss.to_scalar()?;
        if !value.is_finite() {
            self.discard_pending();
            return Ok(StepReport {
                loss: value,
                updated: false,
                output: output.into_detached(),
            });
        }
        let scaled = if self.accumulate > 1 {
            loss.mul_scalar(1.0 / self.accumulate as f32)?
        } else {
            loss.clone()
        };
        let grads = hook.backward(&scaled)?;
        let grads = match self.pending.take() {
            Some(mut sum) => {
                sum.accumulate(grads)?;
                sum
            }
            None => grads,
        };
        self.pending_batches += 1;
        let updated = self.pending_batches >= self.accumulate || flush;
        if updated {
            self.pending_batches = 0;
            self.update(hook, grads, params, optimizer)?;
        } else {
            self.pending = Some(grads);
        }
        Ok(StepReport {
            loss: value,
            updated,
            output: output.into_detached(),
        })
    }

    /// The end of a group: the hook's reduction, clipping, one optimizer update.
    fn update(
        &mut self,
        hook: &mut dyn StepHook,
        mut grads: Gradients,
        params: &[Param],
        optimizer: &mut dyn Optimizer,
    ) -> Result<()> {
        hook.reduce_gradients(&mut grads, params)?;
        match self.clip {
            Some(Clip::Norm(max)) => {
                let norm = clip_grad_norm(&mut grads, params, max)?;
                if !norm.is_finite() {
                    return Err(Error::NonFinite {
                        what: "gradient norm".into(),
                        value: norm,
                        context: format!(
                            "optimizer step {}; the weights were not updated",
                            optimizer.step_count() + 1
                        ),
                    });
                }
            }
            Some(Clip::Value(limit)) => clip_grad_value(&mut grads, params, limit)?,
            None => {}
        }
        optimizer.step(params, &grads)
    }
}
