//! The step hook: what a training step computes (the forward pass and the loss) and the two
//! points a wrapper may take over (backward, and the summed gradients before the update).

use std::borrow::Cow;
use std::ops::Deref;

use strata_core::{Gradients, Param, Result, Tensor};
use strata_layers::{Loss, Mode, Module};

/// The tensors of one batch on the trainer's device, as a step hook sees them.
///
/// Today a batch is one feature tensor and one target tensor (`[batch, ..]` each). Its fields
/// are private so that named inputs and targets can join them without breaking a hook.
#[derive(Debug, Clone)]
pub struct StepBatch {
    features: Tensor,
    targets: Tensor,
}

impl StepBatch {
    /// A batch of `features` (`[batch, ..sample]`) and their `targets`.
    pub fn new(features: Tensor, targets: Tensor) -> Self {
        StepBatch { features, targets }
    }

    /// The model's input.
    pub fn features(&self) -> &Tensor {
        &self.features
    }

    /// What the loss compares the model's output with.
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }

    /// Number of samples: the features' leading dimension (1 for a zero-dimensional tensor).
    pub fn len(&self) -> usize {
        self.features.dims().first().copied().unwrap_or(1)
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One output of a step: a name, the predictions and the targets its metrics score them
/// against.
#[derive(Debug, Clone)]
pub struct NamedOutput {
    name: Cow<'static, str>,
    predictions: Tensor,
    targets: Tensor,
}

impl NamedOutput {
    /// The output's name (`"output"` for [`LossStep`]'s single output).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's predictions for this output.
    pub fn predictions(&self) -> &Tensor {
        &self.predictions
    }

    /// The targets the predictions are scored against.
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }
}

/// What a step hook returns: the loss to take gradients of (one value; with several outputs,
/// their losses combined with their weights) and the outputs, in order, that metrics read.
#[derive(Debug, Clone)]
pub struct StepOutput {
    loss: Tensor,
    heads: Vec<NamedOutput>,
}

impl StepOutput {
    /// A step's result with its loss and no output yet.
    pub fn new(loss: Tensor) -> Self {
        StepOutput {
            loss,
            heads: Vec::new(),
        }
    }

    /// Adds an output: its `name`, the model's `predictions` and the `targets` they are
    /// scored against. The trainer's metrics attach to outputs by name
    /// ([`crate::Trainer::output_metric`]); [`crate::Trainer::metric`] attaches to the first.
    pub fn with_output(
        mut self,
        name: impl Into<Cow<'static, str>>,
        predictions: Tensor,
        targets: Tensor,
    ) -> Self {
        self.heads.push(NamedOutput {
            name: name.into(),
            predictions,
            targets,
        });
        self
    }

    /// The loss.
    pub fn loss(&self) -> &Tensor {
        &self.loss
    }

    /// The outputs, in the order they were added.
    pub fn outputs(&self) -> &[NamedOutput] {
        &self.heads
    }

    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&NamedOutput> {
        self.heads.iter().find(|h| h.name == name)
    }

    /// The same output cut from the graph: metrics read values, and nothing they hold keeps
    /// the backward graph (and its saved activations) alive.
    pub(crate) fn into_detached(self) -> StepOutput {
        StepOutput {
            loss: self.loss.detach(),
            heads: self
                .heads
                .into_iter()
                .map(|h| NamedOutput {
                    predictions: h.predictions.detach(),
                    targets: h.targets.detach(),
                    ..h
                })
                .collect(),
        }
    }
}

/// What a training step computes, supplied by the user when a model is not "one input, one
/// output, one loss": [`StepHook::forward`] runs the model on a batch and returns the loss
/// and the outputs metrics read. The trainer does the rest the same way for every hook
/// (non-finite guard, gradient accumulation, clipping, the optimizer update, metrics).
///
/// A closure `FnMut(&dyn Module, &StepBatch, Mode) -> Result<StepOutput>` is a hook. The two
/// other methods have defaults; a wrapper around another hook (data-parallel training, for
/// one) overrides them:
/// - [`StepHook::backward`] turns the loss into gradients (default: `loss.backward()`);
/// - [`StepHook::reduce_gradients`] sees the gradients summed over an accumulation group,
///   once per optimizer update, before clipping (default: nothing).
///
/// ```
/// use strata_core::{Device, Result, Tensor};
/// use strata_data::{DataLoader, InMemoryDataset};
/// use strata_layers::{CrossEntropyLoss, Dense, Loss, Mode, Module, MseLoss, Sequential};
/// use strata_optim::Adam;
/// use strata_train::metrics::{Accuracy, Mae};
/// use strata_train::step::{StepBatch, StepOutput};
/// use strata_train::Trainer;
///
/// # fn main() -> Result<()> {
/// // Two heads on one trunk: 3 class scores and one regression value per sample; each
/// // target row is [class, value].
/// let data = InMemoryDataset::new(vec![0.5; 8 * 4], vec![4], vec![1.0, 0.25].repeat(8), vec![2])?;
/// let model = Sequential::new().add(Dense::new(4)).build(&[4], &Device::cpu(), 1)?;
/// let two_heads = |model: &dyn Module, batch: &StepBatch, mode: Mode| -> Result<StepOutput> {
///     let out = model.forward(batch.features(), mode)?;
///     let n = batch.len();
///     let (scores, value) = (out.narrow(1, 0, 3)?, out.narrow(1, 3, 1)?);
///     let class = batch.targets().narrow(1, 0, 1)?.reshape([n])?;
///     let target = batch.targets().narrow(1, 1, 1)?;
///     let loss = CrossEntropyLoss::new().forward(&scores, &class)?.mul_scalar(0.7)?
///         .add(&MseLoss.forward(&value, &target)?.mul_scalar(0.3)?)?;
///     Ok(StepOutput::new(loss)
///         .with_output("class", scores, class)
///         .with_output("value", value, target))
/// };
/// let mut trainer = Trainer::with_step(&model, two_heads, Adam::new(1e-2))
///     .epochs(2)
///     .output_metric("class", Accuracy::new())
///     .output_metric("value", Mae::new())
///     .verbose(false);
/// let history = trainer.fit(&DataLoader::new(&data, 4)?, None)?;
/// let last = history.last().unwrap();
/// assert!(last.get("class_accuracy").is_some() && last.get("value_mae").is_some());
/// # Ok(()) }
/// ```
pub trait StepHook: Send {
    /// The forward pass and the loss of one batch, in `mode` (`Mode::Train` in `fit`,
    /// `Mode::Eval` in `evaluate`, where gradient recording is off).
    fn forward(&mut self, model: &dyn Module, batch: &StepBatch, mode: Mode) -> Result<StepOutput>;

    /// The gradients of `loss` (already scaled for gradient accumulation) with respect to
    /// every parameter it depends on. Default: [`Tensor::backward`].
    fn backward(&mut self, loss: &Tensor) -> Result<Gradients> {
        loss.backward()
    }

    /// Called once per optimizer update with the gradients summed over the accumulation
    /// group, before clipping and the update; may change them in place (an average across
    /// processes, say). Default: leaves them as they are.
    fn reduce_gradients(&mut self, grads: &mut Gradients, params: &[Param]) -> Result<()> {
        let _ = (grads, params);
        Ok(())
    }
}

impl<F> StepHook for F
where
    F: FnMut(&dyn Module, &StepBatch, Mode) -> Result<StepOutput> + Send,
{
    fn forward(&mut self, model: &dyn Module, batch: &StepBatch, mode: Mode) -> Result<StepOutput> {
        self(model, batch, mode)
    }
}

/// The step of a model with one input, one output and one loss: `model.forward(features)`,
/// then the loss against the targets; one output named `"output"`. `Trainer::new` and
/// `strata::train_step` use it.
#[derive(Debug, Clone)]
pub struct LossStep<L> {
    loss: L,
}

impl<L> LossStep<L>
where
    L: Deref + Send,
    L::Target: Loss,
{
    /// The step for `loss`, held by any pointer to it (`Box<dyn Loss>`, `&dyn Loss`, ...).
    pub fn new(loss: L) -> Self {
        LossStep { loss }
    }
}

impl<L> StepHook for LossStep<L>
where
    L: Deref + Send,
    L::Target: Loss,
{
    fn forward(&mut self, model: &dyn Module, batch: &StepBatch, mode: Mode) -> Result<StepOutput> {
        let predictions = model.forward(batch.features(), mode)?;
        let loss = self.loss.forward(&predictions, batch.targets())?;
        Ok(StepOutput::new(loss).with_output("output", predictions, batch.targets().clone()))
    }
}
