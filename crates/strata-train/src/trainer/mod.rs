//! `Trainer`: fit / evaluate / predict around a model, a loss and an optimizer.
//!
//! Module map: this file (the builder and the `fit` loop: batches from the source, each
//! through the shared [`TrainStep`]), `context` (what callbacks see), `eval` (evaluate and
//! predict, without gradient recording), `metric_set` (metrics attached to the step's
//! outputs, one host copy per output and batch), `resume` (checkpoints out and in), `memory`
//! (the summary printed at start, with a memory estimate).

mod context;
mod eval;
mod memory;
mod metric_set;
mod resume;

pub use context::{Context, WeightsSnapshot};
pub use memory::MemoryEstimate;
pub(crate) use metric_set::MetricSet;

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use strata_core::{Device, Error, Param, Result, Tensor, no_grad};
use strata_data::Batch;
use strata_layers::{Loss, Mode, Module};
use strata_optim::{Optimizer, Schedule, Scheduler};

use crate::callbacks::Callback;
use crate::checkpoint::TrainState;
use crate::history::{EpochLog, History};
use crate::metrics::{Mean, Metric};
use crate::progress::{EpochProgress, display_order};
use crate::source::BatchSource;
use crate::step::{Clip, LossStep, StepBatch, StepHook, StepReport, TrainStep};

/// When a learning-rate schedule advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScheduleUnit {
    /// After every optimizer step (the default).
    #[default]
    Step,
    /// After every epoch.
    Epoch,
}

/// Trains a model: `fit` runs epochs over a training [`BatchSource`] (a `DataLoader`, read
/// through its prefetch worker when it has one), with an optional validation pass after
/// each; `evaluate` and `predict` run without recording gradients. Train and eval modes
/// (dropout, batch norm) are switched for you. Each batch goes through the same
/// [`TrainStep`] as `strata::train_step`; [`Trainer::with_step`] takes a [`StepHook`] for
/// models whose forward pass and loss are more than `loss(model(x), y)`.
///
/// ```no_run
/// # use strata_core::Device;
/// # use strata_data::{DataLoader, InMemoryDataset};
/// # use strata_layers::{CrossEntropyLoss, Dense, Dropout, Relu, Sequential};
/// # use strata_optim::{Adam, Schedule};
/// # use strata_train::{Trainer, callbacks::EarlyStopping, metrics::Accuracy};
/// # fn main() -> strata_core::Result<()> {
/// # let (train, valid) = (InMemoryDataset::new(vec![0.0; 4], vec![4], vec![0.0], vec![]).unwrap(),
/// #                      InMemoryDataset::new(vec![0.0; 4], vec![4], vec![0.0], vec![]).unwrap());
/// let model = Sequential::new()
///     .add(Dense::new(64)).add(Relu).add(Dropout::new(0.2)).add(Dense::new(10))
///     .build(&[4], &Device::cpu(), 42)?;
/// let mut trainer = Trainer::new(&model, CrossEntropyLoss::new(), Adam::new(1e-3))
///     .epochs(10)
///     .schedule(Schedule::cosine_annealing(1000, 0.0))
///     .metric(Accuracy::new())
///     .callback(EarlyStopping::new("val_loss").patience(2).restore_best_weights(true))
///     .clip(strata_train::Clip::Norm(1.0));
/// let history = trainer.fit(
///     &DataLoader::new(&train, 32)?.shuffle(7),
///     Some(&DataLoader::new(&valid, 256)?),
/// )?;
/// println!("best val_loss {:?}", history.series("val_loss"));
/// # Ok(()) }
/// ```
pub struct Trainer<'m> {
    model: &'m dyn Module,
    params: Vec<Param>,
    hook: Box<dyn StepHook + 'm>,
    optimizer: Box<dyn Optimizer>,
    pending_schedule: Option<Schedule>,
    scheduler: Option<Scheduler>,
    schedule_unit: ScheduleUnit,
    metrics: MetricSet,
    callbacks: Vec<Box<dyn Callback>>,
    epochs: u64,
    device: Device,
    seed: u64,
    /// The step's settings and the gradients of an unfinished accumulation group.
    step: TrainStep,
    verbose: bool,
    predict_batch_size: usize,
    config: serde_json::Value,
    state: TrainState,
    stop: bool,
}

impl<'m> Trainer<'m> {
    /// A trainer for `model` (built) with `loss` and `optimizer`: 1 epoch, no schedule, no
    /// metric but the loss, on the device of the model's first parameter, verbose.
    pub fn new(
        model: &'m dyn Module,
        loss: impl Loss + 'static,
        optimizer: impl Optimizer + 'static,
    ) -> Self {
        Trainer::with_boxed(model, Box::new(loss), Box::new(optimizer))
    }

    /// [`Trainer::new`] with a loss and an optimizer chosen at run time.
    pub fn with_boxed(
        model: &'m dyn Module,
        loss: Box<dyn Loss>,
        optimizer: Box<dyn Optimizer>,
    ) -> Self {
        Trainer::with_boxed_step(model, Box::new(LossStep::new(loss)), optimizer)
    }

    /// A trainer whose steps run `hook` (a [`StepHook`], or a closure
    /// `FnMut(&dyn Module, &StepBatch, Mode) -> Result<StepOutput>`) for the forward pass and
    /// the loss: several outputs, each with its own loss, weight and metrics
    /// ([`Trainer::output_metric`]), or any computation between the batch and the loss. The
    /// rest of the step (non-finite guard, accumulation, clipping, update) and of `fit` is the
    /// same as with [`Trainer::new`]; `evaluate` calls the hook in `Mode::Eval`.
    pub fn with_step(
        model: &'m dyn Module,
        hook: impl StepHook + 'm,
        optimizer: impl Optimizer + 'static,
    ) -> Self {
        Trainer::with_boxed_step(model, Box::new(hook), Box::new(optimizer))
    }

    /// [`Trainer::with_step`] with a hook and an optimizer chosen at run time.
    pub fn with_boxed_step(
        model: &'m dyn Module,
        hook: Box<dyn StepHook + 'm>,
        optimizer: Box<dyn Optimizer>,
    ) -> Self {
        let params = model.parameters();
        let device = params
            .first()
            .map(|p| p.tensor().device())
            .unwrap_or_else(Device::cpu);
        let learning_rate = optimizer.learning_rate();
        Trainer {
            model,
            params,
            hook,
            optimizer,
            pending_schedule: None,
            scheduler: None,
            schedule_unit: ScheduleUnit::Step,
            metrics: MetricSet::default(),
            callbacks: Vec::new(),
            epochs: 1,
            device,
            seed: 0,
            step: TrainStep::new(),
            verbose: true,
            predict_batch_size: 256,
            config: serde_json::Value::Null,
            state: TrainState {
                learning_rate,
                lr_scale: 1.0,
                ..TrainState::default()
            },
            stop: false,
        }
    }

    /// Total number of epochs `fit` trains to (counting epochs already done, when resumed).
    pub fn epochs(mut self, epochs: u64) -> Self {
        self.epochs = epochs;
        self
    }

    /// Drives the learning rate along `schedule` from the optimizer's rate, advancing per
    /// [`ScheduleUnit`] (per step by default). Validated when `fit` starts.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.pending_schedule = Some(schedule);
        self.scheduler = None;
        self
    }

    /// Uses an existing scheduler (its base rate and position are kept).
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.pending_schedule = None;
        self.scheduler = Some(scheduler);
        self
    }

    /// Whether the schedule advances per optimizer step or per epoch.
    pub fn schedule_unit(mut self, unit: ScheduleUnit) -> Self {
        self.schedule_unit = unit;
        self
    }

    /// Adds a metric, computed on the training batches and on validation (`"val_"` names).
    /// It reads the step's first output (the model's output, with [`Trainer::new`]).
    pub fn metric(mut self, metric: impl Metric + 'static) -> Self {
        self.metrics.push(None, Box::new(metric));
        self
    }

    /// Adds a boxed metric.
    pub fn boxed_metric(mut self, metric: Box<dyn Metric>) -> Self {
        self.metrics.push(None, metric);
        self
    }

    /// Adds a metric of the step's output named `output` (see [`Trainer::with_step`]),
    /// logged as `"{output}_{name}"` (`"class_accuracy"`, and `"val_class_accuracy"`).
    pub fn output_metric(mut self, output: &str, metric: impl Metric + 'static) -> Self {
        self.metrics
            .push(Some(output.to_string()), Box::new(metric));
        self
    }

    /// Adds a callback, run in the order added.
    pub fn callback(mut self, callback: impl Callback + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Adds a boxed callback.
    pub fn boxed_callback(mut self, callback: Box<dyn Callback>) -> Self {
        self.callbacks.push(callback);
        self
    }

    /// The device batches are copied to (default: the model's).
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// The run's seed, recorded in checkpoints and the config (the model and the loader
    /// take their own seeds when they are built).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sums gradients over `batches` batches before each optimizer step (each batch's loss
    /// scaled by `1 / batches`, so the step sees the mean). An epoch's last group may be
    /// shorter; it is stepped too. 0 is refused by `fit`.
    pub fn accumulate(mut self, batches: usize) -> Self {
        self.step = std::mem::take(&mut self.step).accumulate(batches);
        self
    }

    /// Clips gradients before each optimizer step.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.step = std::mem::take(&mut self.step).clip(Some(clip));
        self
    }

    /// Whether to print the summary, a progress bar (on a terminal) or one line per epoch,
    /// on stderr (default: true).
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Batch size of [`Trainer::predict`] on a tensor (default 256).
    pub fn predict_batch_size(mut self, batch_size: usize) -> Self {
        self.predict_batch_size = batch_size;
        self
    }

    /// The user's description of the run (model, pipeline, data settings), saved verbatim in
    /// every checkpoint.
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = config;
        self
    }

    /// The model.
    pub fn model(&self) -> &'m dyn Module {
        self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// Every finished epoch.
    pub fn history(&self) -> &History {
        &self.state.history
    }

    /// Where the run stands (epoch, batch, step, ...).
    pub fn state(&self) -> &TrainState {
        &self.state
    }

    /// The seed given to [`Trainer::seed`].
    pub fn run_seed(&self) -> u64 {
        self.seed
    }

    /// Trains until [`Trainer::epochs`] epochs are done (continuing from where a previous
    /// `fit` or a resumed checkpoint stopped) or a callback stops it, validating on `valid`
    /// after each epoch. Returns the whole history. Batches come through
    /// [`BatchSource::for_each_batch`], so a `DataLoader` with `.prefetch(n)` assembles them
    /// on its worker thread while the step runs.
    ///
    /// A batch whose loss is NaN or infinite never updates the weights: if a callback (such
    /// as [`crate::callbacks::TerminateOnNan`]) stops training on it, `fit` returns `Ok`;
    /// otherwise it returns [`Error::NonFinite`] naming the epoch and batch.
    pub fn fit(
        &mut self,
        train: &dyn BatchSource,
        valid: Option<&dyn BatchSource>,
    ) -> Result<History> {
        self.prepare_fit(train)?;
        self.stop = false;
        self.run_callbacks(self.state.epoch, None, |cb, ctx| cb.on_train_begin(ctx))?;
        let result = self.run_epochs(train, valid);
        let end = self.run_callbacks(self.state.epoch, None, |cb, ctx| cb.on_train_end(ctx));
        result?;
        end?;
        Ok(self.state.history.clone())
    }

    fn prepare_fit(&mut self, train: &dyn BatchSource) -> Result<()> {
        if self.step.batches_per_update() == 0 {
            return Err(Error::invalid(
                "Trainer::fit",
                "accumulate must be at least 1 batch; got 0",
            ));
        }
        let batches = train.num_batches();
        if batches == 0 {
            return Err(Error::invalid(
                "Trainer::fit",
                "the training loader yields no batch (empty dataset, or drop_last with fewer \
                 samples than one batch)",
            ));
        }
        let resumed = self.state.epoch > 0 || self.state.batch > 0;
        if resumed
            && self.state.batches_per_epoch != 0
            && (self.state.batches_per_epoch, self.state.batch_size)
                != (batches, train.batch_size())
        {
            return Err(Error::invalid(
                "Trainer::fit",
                format!(
                    "the run was checkpointed with {} batches of {} per epoch but this loader \
                     gives {} batches of {}; resume with the same dataset and batch size",
                    self.state.batches_per_epoch,
                    self.state.batch_size,
                    batches,
                    train.batch_size()
                ),
            ));
        }
        self.state.batches_per_epoch = batches;
        self.state.batch_size = train.batch_size();
        self.attach_pending_schedule()?;
        if self.verbose && self.state.epoch == 0 && self.state.batch == 0 {
            eprintln!("{}", self.describe());
        }
        Ok(())
    }

    fn run_epochs(
        &mut self,
        train: &dyn BatchSource,
        valid: Option<&dyn BatchSource>,
    ) -> Result<()> {
        while self.state.epoch < self.epochs && !self.stop {
            let epoch = self.state.epoch;
            if self.state.batch == 0 {
                self.state.epoch_loss_sum = 0.0;
                self.state.epoch_samples = 0.0;
                self.run_callbacks(epoch, None, |cb, ctx| cb.on_epoch_begin(ctx))?;
            }
            self.metrics.reset();
            let mut progress = EpochProgress::start(
                self.verbose,
                epoch,
                self.epochs,
                train.num_batches(),
                self.state.batch,
            );
            if let Err(e) = self.run_batches(train, &mut progress) {
                progress.abandon();
                return Err(e);
            }
            if self.stop && self.state.batch < train.num_batches() {
                progress.abandon();
                break;
            }
            let log = self.finish_epoch(valid, &progress)?;
            let mut shown: Vec<(String, f64)> = log
                .values
                .iter()
                .filter(|(k, _)| k.as_str() != "seconds" && !is_per_class(k))
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            shown.sort_by(|a, b| display_order(&a.0).cmp(&display_order(&b.0)));
            progress.finish(&shown);
            self.state.history.push(log);
            self.state.epoch += 1;
            self.state.batch = 0;
            if self.schedule_unit == ScheduleUnit::Epoch
                && let Some(s) = &mut self.scheduler
            {
                s.step(self.optimizer.as_mut());
                self.state.scheduler_step = Some(s.current_step());
                self.apply_learning_rate();
            }
            self.run_callbacks(epoch, None, |cb, ctx| cb.on_epoch_end(ctx))?;
        }
        Ok(())
    }

    fn run_batches(&mut self, train: &dyn BatchSource, progress: &mut EpochProgress) -> Result<()> {
        let (epoch, total) = (self.state.epoch, train.num_batches());
        train.for_each_batch(epoch, self.state.batch, &mut |batch| {
            self.train_batch(batch, total, progress)
        })
    }

    /// One batch of `fit`: the shared step, then the bookkeeping around it (schedule,
    /// metrics, epoch loss, progress, callbacks). Breaks when a callback asks to stop.
    fn train_batch(
        &mut self,
        batch: Batch,
        total: usize,
        progress: &mut EpochProgress,
    ) -> Result<ControlFlow<()>> {
        let epoch = self.state.epoch;
        let samples = batch.len();
        let (x, y) = batch.into_tensors(&self.device)?;
        let last_of_epoch = self.state.batch + 1 == total;
        let report = self
            .step
            .run(
                self.hook.as_mut(),
                self.model,
                &self.params,
                self.optimizer.as_mut(),
                &StepBatch::new(x, y),
                last_of_epoch,
            )
            .map_err(|e| self.locate(e))?;
        let value = report.loss();
        if !report.loss_is_finite() {
            self.run_callbacks(epoch, Some(f64::from(value)), |cb, ctx| {
                cb.on_batch_end(ctx)
            })?;
            if self.stop {
                return Ok(ControlFlow::Break(()));
            }
            return Err(Error::NonFinite {
                what: "loss".into(),
                value,
                context: format!(
                    "epoch {}, batch {} (optimizer step {}); the weights were not updated",
                    epoch + 1,
                    self.state.batch + 1,
                    self.state.step + 1
                ),
            });
        }
        if report.updated() {
            self.after_update();
        }
        self.record_batch(&report, samples, progress)?;
        self.run_callbacks(epoch, Some(f64::from(value)), |cb, ctx| {
            cb.on_batch_end(ctx)
        })?;
        Ok(if self.stop {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }

    /// Adds a trained batch to the epoch's metrics, loss (weighted by its samples, so the
    /// epoch's loss is the per-sample mean even with a shorter last batch) and progress.
    fn record_batch(
        &mut self,
        report: &StepReport,
        samples: usize,
        progress: &mut EpochProgress,
    ) -> Result<()> {
        self.metrics.update(report.output())?;
        self.state.batch += 1;
        self.state.epoch_loss_sum += f64::from(report.loss()) * samples as f64;
        self.state.epoch_samples += samples as f64;
        progress.batch(
            samples,
            self.state.epoch_loss_sum / self.state.epoch_samples,
            &self.metrics,
        );
        Ok(())
    }

    /// After an optimizer update: count it and advance a per-step schedule.
    fn after_update(&mut self) {
        self.state.step += 1;
        if self.schedule_unit == ScheduleUnit::Step
            && let Some(s) = &mut self.scheduler
        {
            s.step(self.optimizer.as_mut());
            self.state.scheduler_step = Some(s.current_step());
        }
        self.apply_learning_rate();
    }

    /// Adds the epoch and batch to a step's non-finite error (a gradient norm).
    fn locate(&self, error: Error) -> Error {
        match error {
            Error::NonFinite {
                what,
                value,
                context,
            } => Error::NonFinite {
                what,
                value,
                context: format!(
                    "epoch {}, batch {}, {context}",
                    self.state.epoch + 1,
                    self.state.batch + 1
                ),
            },
            other => other,
        }
    }

    /// Attaches a schedule given to [`Trainer::schedule`], from the optimizer's current
    /// (base) rate. Done before a checkpoint changes that rate.
    fn attach_pending_schedule(&mut self) -> Result<()> {
        if let Some(schedule) = self.pending_schedule.take() {
            let mut scheduler = Scheduler::attach(schedule, self.optimizer.as_mut())?;
            if let Some(step) = self.state.scheduler_step {
                scheduler.set_current_step(step);
            }
            self.scheduler = Some(scheduler);
            self.apply_learning_rate();
        }
        Ok(())
    }

    /// Sets the optimizer's rate to the schedule's times the callbacks' scale, and records it.
    fn apply_learning_rate(&mut self) {
        if let Some(s) = &self.scheduler {
            self.optimizer
                .set_learning_rate(s.learning_rate() * self.state.lr_scale);
        }
        self.state.learning_rate = self.optimizer.learning_rate();
    }

    fn finish_epoch(
        &mut self,
        valid: Option<&dyn BatchSource>,
        progress: &EpochProgress,
    ) -> Result<EpochLog> {
        let mut values = BTreeMap::new();
        let mut loss = Mean::new();
        loss.add(
            self.state.epoch_loss_sum / self.state.epoch_samples.max(1.0),
            self.state.epoch_samples,
        );
        values.insert("loss".to_string(), loss.value());
        values.extend(self.metrics.values());
        values.insert("samples_per_sec".to_string(), progress.samples_per_sec());
        values.insert("seconds".to_string(), progress.seconds());
        values.insert("lr".to_string(), f64::from(self.optimizer.learning_rate()));
        if let Some(valid) = valid {
            for (k, v) in self.evaluate_quietly(valid)? {
                values.insert(format!("val_{k}"), v);
            }
        }
        Ok(EpochLog {
            epoch: self.state.epoch,
            values,
        })
    }

    /// Runs `f` on every callback with a context; the callbacks are taken out for the call so
    /// the context can lend the rest of the trainer.
    fn run_callbacks(
        &mut self,
        epoch: u64,
        batch_loss: Option<f64>,
        mut f: impl FnMut(&mut dyn Callback, &mut Context<'_, 'm>) -> Result<()>,
    ) -> Result<()> {
        let mut callbacks = std::mem::take(&mut self.callbacks);
        let mut result = Ok(());
        for cb in &mut callbacks {
            let mut ctx = Context::new(self, epoch, batch_loss);
            result = f(cb.as_mut(), &mut ctx);
            if result.is_err() {
                break;
            }
        }
        self.callbacks = callbacks;
        result
    }

    /// Evaluates with gradient recording off, in eval mode, and puts nothing on screen.
    fn evaluate_quietly(&mut self, source: &dyn BatchSource) -> Result<BTreeMap<String, f64>> {
        let _guard = strata_core::NoGradGuard::new();
        eval::evaluate(self, source)
    }

    /// The predictions of `x` in batches, in eval mode and without gradient recording.
    fn forward_eval(&self, x: &Tensor) -> Result<Tensor> {
        no_grad(|| self.model.forward(x, Mode::Eval))
    }
}

/// Per-class values (`f1_3`) are logged but left off the progress line.
fn is_per_class(name: &str) -> bool {
    name.rsplit_once('_')
        .is_some_and(|(_, tail)| tail.chars().all(|c| c.is_ascii_digit()))
}
