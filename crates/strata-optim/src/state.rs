//! Per-parameter optimizer state: the buffers an optimizer keeps for each parameter (moments,
//! velocities) and the number of updates that parameter received, allocated on the
//! parameter's first update and reused by every later one; and their export to, and import
//! from, named tensors for checkpoints.
//!
//! Keys: `"{param}.{slot}"` for a buffer (`"0.weight.exp_avg"`), `"{param}.step"` for the
//! parameter's update count and `"step"` (no dot, so no parameter's key can collide with it)
//! for the optimizer's own count. Counts are stored as `[high, low]` with
//! `count = high · 2²⁴ + low`, both exact in `f32`, because one `f32` holds integers exactly
//! only up to 2²⁴ ≈ 16.7 million steps.
//!
//! This module knows nothing of update rules: each optimizer names its slots and their
//! initial value.

use std::collections::BTreeMap;

use strata_core::{Device, Error, Gradients, Param, Result, Tensor, TensorId};

use crate::check;

/// Key of the optimizer-wide step count.
const STEP_KEY: &str = "step";
/// Suffix of a parameter's update count.
const PARAM_STEP_SUFFIX: &str = "step";
/// Counts are split into two base-2²⁴ digits so each is exact in `f32`.
const COUNT_BASE: u64 = 1 << 24;

/// The state of one parameter.
#[derive(Debug)]
struct ParamState {
    /// Updates this parameter has received (PyTorch's per-parameter `step`).
    step: u64,
    /// One buffer per slot, each of the parameter's shape and on its device.
    buffers: Vec<Tensor>,
    /// The tensor this state belongs to, learnt on its first update, so that two parameters
    /// sharing a name are caught instead of sharing moments.
    owner: Option<TensorId>,
}

/// The state of every parameter an optimizer has seen, by parameter name.
#[derive(Debug, Default)]
pub(crate) struct StateStore {
    params: BTreeMap<String, ParamState>,
}

impl StateStore {
    /// Updates every parameter of `params` that has a gradient: first checks every gradient's
    /// shape and prepares every state (so an error leaves all parameters unchanged), then
    /// calls `apply(param, grad, buffers, step)` for each, where `step` is the number of this
    /// update of that parameter, starting at 1.
    pub(crate) fn update(
        &mut self,
        optimizer: &'static str,
        params: &[Param],
        grads: &Gradients,
        slots: &[&str],
        init: f32,
        mut apply: impl FnMut(&Tensor, &Tensor, &[Tensor], u64) -> Result<()>,
    ) -> Result<()> {
        for param in params {
            if let Some(grad) = grads.get(param.tensor()) {
                check::gradient_shape(optimizer, param, grad)?;
                self.prepare(optimizer, param, slots, init)?;
            }
        }
        for param in params {
            let Some(grad) = grads.get(param.tensor()) else {
                continue;
            };
            let state = self.prepare(optimizer, param, slots, init)?;
            apply(param.tensor(), grad, &state.buffers, state.step + 1)?;
            state.step += 1;
        }
        Ok(())
    }

    /// The state of `param`, creating its `slots` (filled with `init`) on first use, and
    /// checking that it belongs to this tensor and fits its shape. A buffer restored on
    /// another device moves to the parameter's device once, here.
    fn prepare(
        &mut self,
        optimizer: &'static str,
        param: &Param,
        slots: &[&str],
        init: f32,
    ) -> Result<&mut ParamState> {
        let tensor = param.tensor();
        let name = param.name();
        if !self.params.contains_key(name) {
            let buffers = slots
                .iter()
                .map(|_| Tensor::full(init, tensor.shape().clone(), &tensor.device()))
                .collect::<Result<Vec<_>>>()?;
            self.params.insert(
                name.to_owned(),
                ParamState {
                    step: 0,
                    buffers,
                    owner: None,
                },
            );
        }
        let state = self
            .params
            .get_mut(name)
            .expect("the state of this parameter was inserted above");
        match state.owner {
            Some(id) if id != tensor.id() => {
                return Err(Error::invalid(
                    optimizer,
                    format!(
                        "two different parameters are named `{name}`; parameter names must be \
                         unique (optimizer state is keyed by name)"
                    ),
                ));
            }
            _ => state.owner = Some(tensor.id()),
        }
        if state.buffers.len() != slots.len() {
            return Err(Error::invalid(
                optimizer,
                format!(
                    "the state of `{name}` has {} buffer(s) but {optimizer} with these settings \
                     keeps {} ({slots:?}); was it restored from an optimizer with other settings?",
                    state.buffers.len(),
                    slots.len()
                ),
            ));
        }
        for (buffer, slot) in state.buffers.iter_mut().zip(slots) {
            if buffer.shape() != tensor.shape() {
                return Err(Error::shape(
                    optimizer,
                    format!(
                        "state `{name}.{slot}` is {} but the parameter is {}",
                        buffer.shape(),
                        tensor.shape()
                    ),
                ));
            }
            if buffer.device() != tensor.device() {
                *buffer = buffer.to_device(&tensor.device())?;
            }
        }
        Ok(state)
    }

    /// The state as named tensors (see the module documentation for the keys). Buffers are
    /// handles to the live state.
    pub(crate) fn export(&self, slots: &[&str], steps: u64) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(1 + self.params.len() * (slots.len() + 1));
        out.push((STEP_KEY.to_owned(), count_tensor(steps)));
        for (name, state) in &self.params {
            out.push((
                format!("{name}.{PARAM_STEP_SUFFIX}"),
                count_tensor(state.step),
            ));
            for (slot, buffer) in slots.iter().zip(&state.buffers) {
                out.push((format!("{name}.{slot}"), buffer.clone()));
            }
        }
        out
    }

    /// Replaces the state with the one in `state` (copying its tensors) and returns the
    /// optimizer-wide step count it holds. Every parameter must have its count and all of
    /// `slots`; on any error the current state is kept.
    pub(crate) fn import(
        &mut self,
        optimizer: &'static str,
        state: &[(String, Tensor)],
        slots: &[&str],
    ) -> Result<u64> {
        let mut steps = None;
        let mut found: BTreeMap<&str, (Option<u64>, Vec<Option<Tensor>>)> = BTreeMap::new();
        for (key, tensor) in state {
            if key == STEP_KEY {
                steps = Some(decode_count(optimizer, key, tensor)?);
                continue;
            }
            let unknown = || {
                Error::invalid(
                    optimizer,
                    format!(
                        "unknown state key `{key}`: {optimizer} with these settings keeps \
                         `step` and `{{param}}.step` plus `{{param}}.{{slot}}` for slots {slots:?}"
                    ),
                )
            };
            let (name, suffix) = key.rsplit_once('.').ok_or_else(unknown)?;
            let entry = found
                .entry(name)
                .or_insert_with(|| (None, vec![None; slots.len()]));
            if suffix == PARAM_STEP_SUFFIX {
                entry.0 = Some(decode_count(optimizer, key, tensor)?);
            } else {
                let slot = slots
                    .iter()
                    .position(|s| *s == suffix)
                    .ok_or_else(unknown)?;
                entry.1[slot] = Some(tensor.deep_clone()?);
            }
        }
        let missing =
            |key: String| Error::invalid(optimizer, format!("the state to load has no `{key}`"));
        let steps = steps.ok_or_else(|| missing(STEP_KEY.to_owned()))?;
        let mut params = BTreeMap::new();
        for (name, (step, buffers)) in found {
            let step = step.ok_or_else(|| missing(format!("{name}.{PARAM_STEP_SUFFIX}")))?;
            let buffers = buffers
                .into_iter()
                .zip(slots)
                .map(|(buffer, slot)| buffer.ok_or_else(|| missing(format!("{name}.{slot}"))))
                .collect::<Result<Vec<_>>>()?;
            params.insert(
                name.to_owned(),
                ParamState {
                    step,
                    buffers,
                    owner: None,
                },
            );
        }
        self.params = params;
        Ok(steps)
    }
}

/// A count as the host tensor `[high, low]`.
fn count_tensor(count: u64) -> Tensor {
    let digits = vec![(count / COUNT_BASE) as f32, (count % COUNT_BASE) as f32];
    // Two values for a two-element host tensor: this cannot fail.
    Tensor::from_vec(digits, [2], &Device::cpu()).expect("a two-element host tensor")
}

/// Reads a count written by [`count_tensor`].
fn decode_count(optimizer: &'static str, key: &str, tensor: &Tensor) -> Result<u64> {
    let bad = |found: String| {
        Error::invalid(
            optimizer,
            format!(
                "state `{key}` must be a count [high, low] of two integers in 0..2^24; found {found}"
            ),
        )
    };
    if tensor.elem_count() != 2 {
        return Err(bad(format!("a tensor of shape {}", tensor.shape())));
    }
    let digits = tensor.to_vec()?;
    let digit = |v: f32| -> Option<u64> {
        (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && (v as u64) < COUNT_BASE)
            .then_some(v as u64)
    };
    match (digit(digits[0]), digit(digits[1])) {
        (Some(high), Some(low)) => Ok(high * COUNT_BASE + low),
        _ => Err(bad(format!("{digits:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_exactly_beyond_f32_integer_range() {
        for count in [
            0,
            1,
            COUNT_BASE - 1,
            COUNT_BASE,
            123_456_789_012,
            (1 << 48) - 1,
        ] {
            let t = count_tensor(count);
            assert_eq!(decode_count("test", "step", &t).unwrap(), count);
        }
    }

    #[test]
    fn a_fractional_count_is_rejected() {
        let t = Tensor::from_vec(vec![0.0, 1.5], [2], &Device::cpu()).unwrap();
        assert!(decode_count("test", "step", &t).is_err());
    }
}
