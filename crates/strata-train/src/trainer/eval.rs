//! `evaluate` and `predict`: forward passes in eval mode with gradient recording off, batches
//! read through [`BatchSource::for_each_batch`] (a loader's prefetch worker included).

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use strata_core::{Error, NoGradGuard, Result, Tensor};
use strata_layers::Mode;

use super::Trainer;
use crate::metrics::{ConfusionMatrix, Mean, Metric};
use crate::source::BatchSource;
use crate::step::StepBatch;

impl Trainer<'_> {
    /// The mean loss (`"loss"`, per sample: each batch's mean weighted by its size) and every
    /// metric's values over one pass of `source`, through the step's forward pass and loss in
    /// eval mode, without recording gradients.
    pub fn evaluate(&mut self, source: &dyn BatchSource) -> Result<BTreeMap<String, f64>> {
        let _guard = NoGradGuard::new();
        evaluate(self, source)
    }

    /// The model's outputs for `x` (`[n, ..sample]`), computed in batches of
    /// [`Trainer::predict_batch_size`] in eval mode, without recording gradients.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        if self.predict_batch_size == 0 {
            return Err(Error::invalid(
                "Trainer::predict",
                "predict_batch_size must be at least 1; got 0",
            ));
        }
        let Some(&n) = x.dims().first() else {
            return Err(Error::shape(
                "Trainer::predict",
                format!(
                    "inputs must have a leading batch dimension; got {}",
                    x.shape()
                ),
            ));
        };
        let _guard = NoGradGuard::new();
        let x = x.to_device(&self.device)?;
        let mut outputs = Vec::with_capacity(n.div_ceil(self.predict_batch_size));
        let mut start = 0;
        while start < n {
            let len = self.predict_batch_size.min(n - start);
            outputs.push(self.forward_eval(&x.narrow(0, start, len)?)?);
            start += len;
        }
        match outputs.len() {
            0 => self.forward_eval(&x),
            1 => Ok(outputs.remove(0)),
            _ => Tensor::cat(&outputs, 0),
        }
    }

    /// The model's outputs for every batch of epoch 0 of `source` (its targets ignored),
    /// concatenated along the batch dimension.
    pub fn predict_source(&self, source: &dyn BatchSource) -> Result<Tensor> {
        let _guard = NoGradGuard::new();
        let mut outputs = Vec::with_capacity(source.num_batches());
        source.for_each_batch(0, 0, &mut |batch| {
            let (x, _) = batch.into_tensors(&self.device)?;
            outputs.push(self.model.forward(&x, Mode::Eval)?);
            Ok(ControlFlow::Continue(()))
        })?;
        match outputs.len() {
            0 => Err(Error::invalid(
                "Trainer::predict_source",
                "the source yields no batch",
            )),
            1 => Ok(outputs.remove(0)),
            _ => Tensor::cat(&outputs, 0),
        }
    }
}

impl Trainer<'_> {
    /// The confusion matrix of the model's predictions over one pass of `source` (eval mode,
    /// no gradient recording), for `classes` classes (0: learnt from the predictions' width).
    pub fn confusion_matrix(
        &self,
        source: &dyn BatchSource,
        classes: usize,
    ) -> Result<ConfusionMatrix> {
        let _guard = NoGradGuard::new();
        let mut matrix = ConfusionMatrix::with_classes(classes);
        source.for_each_batch(0, 0, &mut |batch| {
            let (x, y) = batch.into_tensors(&self.device)?;
            matrix.update(&self.model.forward(&x, Mode::Eval)?, &y)?;
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(matrix)
    }
}

/// The evaluation pass itself (the caller holds the no-grad guard).
pub(super) fn evaluate(
    trainer: &mut Trainer<'_>,
    source: &dyn BatchSource,
) -> Result<BTreeMap<String, f64>> {
    trainer.metrics.reset();
    let mut loss = Mean::new();
    source.for_each_batch(0, 0, &mut |batch| {
        let samples = batch.len() as f64;
        let (x, y) = batch.into_tensors(&trainer.device)?;
        let output = trainer
            .hook
            .forward(trainer.model, &StepBatch::new(x, y), Mode::Eval)?;
        loss.add(f64::from(output.loss().to_scalar()?), samples);
        trainer.metrics.update(&output)?;
        Ok(ControlFlow::Continue(()))
    })?;
    let mut values = BTreeMap::new();
    values.insert("loss".to_string(), loss.value());
    values.extend(trainer.metrics.values());
    Ok(values)
}
