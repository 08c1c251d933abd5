//! The description printed when `fit` starts: the model's summary (for containers that keep
//! one) and an estimate of the memory training holds.

use strata_core::{Param, Result, Tensor};
use strata_optim::Optimizer;

use super::Trainer;

/// Bytes held by training, besides activations: parameters, their gradients, and the
/// optimizer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Parameters and buffers.
    pub parameters: usize,
    /// One gradient per trainable parameter.
    pub gradients: usize,
    /// Optimizer state buffers (moments, velocities).
    pub optimizer: usize,
}

impl MemoryEstimate {
    /// The sum of the three parts.
    pub fn total(&self) -> usize {
        self.parameters + self.gradients + self.optimizer
    }
}

impl std::fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Memory estimate (f32, excluding activations): {} = parameters {} + gradients {} + \
             optimizer state {}",
            human(self.total()),
            human(self.parameters),
            human(self.gradients),
            human(self.optimizer)
        )
    }
}

fn human(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl Trainer<'_> {
    /// The memory training holds besides activations. The optimizer's buffers per parameter
    /// are counted from its state when it has one, otherwise measured on a one-element probe
    /// parameter whose state is then discarded (the optimizer is left as it was).
    pub fn memory_estimate(&mut self) -> MemoryEstimate {
        let bytes = |ps: &[Param]| {
            ps.iter()
                .map(|p| p.tensor().elem_count() * 4)
                .sum::<usize>()
        };
        let trainable = bytes(&self.params);
        let buffers = bytes(&self.model.buffers());
        let state_bytes: usize = self
            .optimizer
            .state()
            .iter()
            .filter(|(k, _)| !k.ends_with(".step") && k != "step")
            .map(|(_, t)| t.elem_count() * 4)
            .sum();
        let optimizer = if state_bytes > 0 {
            state_bytes
        } else {
            probe_slots(self.optimizer.as_mut()).unwrap_or(0) * trainable
        };
        MemoryEstimate {
            parameters: trainable + buffers,
            gradients: trainable,
            optimizer,
        }
    }

    /// The summary table (when the model keeps one) and the memory estimate.
    pub fn describe(&mut self) -> String {
        let mut out = match self.model.model_summary() {
            Some(summary) => format!("{summary}\n"),
            None => format!(
                "{}: {} trainable parameters\n",
                self.model.kind(),
                self.model.num_parameters()
            ),
        };
        out.push_str(&self.memory_estimate().to_string());
        out
    }
}

/// How many state buffers `optimizer` keeps per parameter: one step on a one-element probe
/// parameter with a zero gradient, then the previous state is put back.
fn probe_slots(optimizer: &mut dyn Optimizer) -> Result<usize> {
    const PROBE: &str = "__strata_memory_probe__";
    let before: Vec<(String, Tensor)> = optimizer
        .state()
        .into_iter()
        .map(|(k, t)| Ok((k, t.deep_clone()?)))
        .collect::<Result<_>>()?;
    let lr = optimizer.learning_rate();
    let device = strata_core::Device::cpu();
    let probe = Param::new(PROBE, Tensor::zeros([1], &device)?.variable());
    let mut grads = strata_core::Gradients::new();
    grads.insert(probe.tensor(), Tensor::zeros([1], &device)?);
    let stepped = optimizer.step(std::slice::from_ref(&probe), &grads);
    let slots = optimizer
        .state()
        .iter()
        .filter(|(k, _)| k.starts_with(PROBE) && !k.ends_with(".step"))
        .count();
    optimizer.load_state(&before)?;
    optimizer.set_learning_rate(lr);
    stepped?;
    Ok(slots)
}
