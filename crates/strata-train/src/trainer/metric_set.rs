//! `MetricSet`: the trainer's metrics, each attached to one output of the step, fed one
//! [`MetricBatch`] per output and batch that all of that output's metrics share (so the
//! predictions and targets reach the host once per batch, however many metrics read them).

use strata_core::{Error, Result};

use crate::metrics::{Metric, MetricBatch};
use crate::step::{NamedOutput, StepOutput};

/// The metrics of a trainer, in the order they were added.
#[derive(Default)]
pub(crate) struct MetricSet {
    slots: Vec<Slot>,
}

/// A metric and the output it reads.
struct Slot {
    /// `None`: the step's first output, reported under the metric's own names; `Some(o)`:
    /// output `o`, reported as `"{o}_{name}"`.
    output: Option<String>,
    metric: Box<dyn Metric>,
}

impl Slot {
    fn reads(&self, index: usize, head: &NamedOutput) -> bool {
        match &self.output {
            None => index == 0,
            Some(name) => name == head.name(),
        }
    }

    fn label(&self, name: String) -> String {
        match &self.output {
            None => name,
            Some(output) => format!("{output}_{name}"),
        }
    }
}

impl MetricSet {
    /// Adds `metric`, reading `output` (`None`: the first).
    pub(crate) fn push(&mut self, output: Option<String>, metric: Box<dyn Metric>) {
        self.slots.push(Slot { output, metric });
    }

    /// Forgets every batch (start of an epoch or of an evaluation).
    pub(crate) fn reset(&mut self) {
        self.slots.iter_mut().for_each(|s| s.metric.reset());
    }

    /// Adds one batch's outputs: each output's metrics share one [`MetricBatch`], made only if
    /// some metric reads that output. Every metric's output is checked to exist first, so an
    /// error leaves every metric as it was.
    pub(crate) fn update(&mut self, step: &StepOutput) -> Result<()> {
        if self.slots.is_empty() {
            return Ok(());
        }
        let heads = step.outputs();
        self.check_outputs(heads)?;
        for (index, head) in heads.iter().enumerate() {
            let mut shared = None;
            for slot in self.slots.iter_mut().filter(|s| s.reads(index, head)) {
                let batch = shared
                    .get_or_insert_with(|| MetricBatch::new(head.predictions(), head.targets()));
                slot.metric.update_batch(batch)?;
            }
        }
        Ok(())
    }

    fn check_outputs(&self, heads: &[NamedOutput]) -> Result<()> {
        let names: Vec<&str> = heads.iter().map(NamedOutput::name).collect();
        if let Some((i, name)) = names
            .iter()
            .enumerate()
            .find(|(i, n)| names[..*i].contains(n))
        {
            return Err(Error::invalid(
                "Trainer",
                format!(
                    "the step returned two outputs named `{name}` (outputs {names:?}, the \
                     second at position {i}); give each output its own name"
                ),
            ));
        }
        for slot in &self.slots {
            let found = match &slot.output {
                None => !heads.is_empty(),
                Some(name) => names.contains(&name.as_str()),
            };
            if !found {
                let wanted = slot
                    .output
                    .as_deref()
                    .map_or("the first output".to_string(), |o| format!("output `{o}`"));
                return Err(Error::invalid(
                    "Trainer",
                    format!(
                        "metric `{}` reads {wanted}, but the step returned outputs {names:?}",
                        slot.metric.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every value of every metric, under the names it is logged with.
    pub(crate) fn values(&self) -> Vec<(String, f64)> {
        self.slots
            .iter()
            .flat_map(|s| {
                s.metric
                    .values()
                    .into_iter()
                    .map(|(name, value)| (s.label(name), value))
            })
            .collect()
    }

    /// Each metric's main value so far, under its logged name (for the progress bar).
    pub(crate) fn running(&self) -> impl Iterator<Item = (String, f64)> + '_ {
        self.slots
            .iter()
            .map(|s| (s.label(s.metric.name()), s.metric.compute()))
    }

    /// The logged name of each metric's main value.
    pub(crate) fn names(&self) -> Vec<String> {
        self.slots
            .iter()
            .map(|s| s.label(s.metric.name()))
            .collect()
    }
}
