//! Reverse-mode automatic differentiation, define-by-run.
//!
//! An op whose inputs track gradients (and while recording is on) stores a [`Node`]: its
//! inputs and a one-shot backward rule. [`Tensor::backward`] orders the graph topologically,
//! runs each rule once in reverse with recording off, and *takes* each node out of its tensor
//! as it goes, so the graph's memory (saved activations) is released during the backward
//! pass, not when the last handle to the loss is dropped.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use crate::{Error, Result, Tensor, TensorId};

/// The backward rule of one op: given the gradient of its output and its inputs, the gradient
/// of each input (`None` where an input needs none).
pub(crate) type BackwardFn =
    Box<dyn FnOnce(&Tensor, &[Tensor]) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// One recorded op.
pub(crate) struct Node {
    op: &'static str,
    inputs: Vec<Tensor>,
    backward: BackwardFn,
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread currently record a graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Turns graph recording off on this thread until dropped (inference, optimizer updates).
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Stops recording; the previous state returns when the guard is dropped.
    pub fn new() -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { previous }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        NoGradGuard::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` without recording a graph.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Builds the node of an op when recording is on and some input tracks gradients. `make` is
/// only called then, so ops pay nothing for autograd in inference.
pub(crate) fn record<F>(
    op: &'static str,
    inputs: &[&Tensor],
    make: impl FnOnce() -> F,
) -> Option<Node>
where
    F: FnOnce(&Tensor, &[Tensor]) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
{
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return None;
    }
    Some(Node {
        op,
        inputs: inputs.iter().map(|t| (*t).clone()).collect(),
        backward: Box::new(make()),
    })
}

/// The gradients of the variables a loss depends on, keyed by tensor id.
#[derive(Default, Clone)]
pub struct Gradients {
    map: HashMap<TensorId, Tensor>,
}

impl std::fmt::Debug for Gradients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.map.iter().map(|(k, v)| (k, v.shape())))
            .finish()
    }
}

impl Gradients {
    /// An empty set.
    pub fn new() -> Self {
        Gradients::default()
    }
    /// The gradient of `t`, if it received one.
    pub fn get(&self, t: &Tensor) -> Option<&Tensor> {
        self.map.get(&t.id())
    }
    /// The gradient stored under `id`.
    pub fn get_id(&self, id: TensorId) -> Option<&Tensor> {
        self.map.get(&id)
    }
    /// Sets the gradient of `t` (used by gradient accumulation and clipping).
    pub fn insert(&mut self, t: &Tensor, grad: Tensor) {
        self.map.insert(t.id(), grad);
    }
    /// Removes and returns the gradient of `t`.
    pub fn remove(&mut self, t: &Tensor) -> Option<Tensor> {
        self.map.remove(&t.id())
    }
    /// Number of gradients held.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether no gradient is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// All `(id, gradient)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&TensorId, &Tensor)> {
        self.map.iter()
    }
    /// Adds `other`'s gradients into this set (gradient accumulation over micro-batches).
    pub fn accumulate(&mut self, other: Gradients) -> Result<()> {
        for (id, g) in other.map {
            match self.map.remove(&id) {
                Some(existing) => {
                    let sum = crate::no_grad(|| existing.add(&g))?;
                    self.map.insert(id, sum);
                }
                None => {
                    self.map.insert(id, g);
                }
            }
        }
        Ok(())
    }
}

impl Tensor {
    /// Computes the gradient of this one-element tensor (a loss) with respect to every variable
    /// it depends on. The graph is consumed: a second `backward` through the same ops is an
    /// error.
    pub fn backward(&self) -> Result<Gradients> {
        if self.elem_count() != 1 {
            return Err(Error::Autograd(format!(
                "backward needs a one-element tensor (a loss) but this one has shape {}; \
                 reduce it first, e.g. with `mean_all()`",
                self.shape()
            )));
        }
        if !self.requires_grad() {
            return Err(Error::Autograd(
                "backward called on a tensor that does not depend on any variable \
                 (was it computed under no_grad, or from detached tensors?)"
                    .into(),
            ));
        }
        let order = topological_order(self);
        let _guard = crate::NoGradGuard::new();
        let mut pending: HashMap<TensorId, Tensor> = HashMap::new();
        pending.insert(
            self.id(),
            Tensor::ones(self.shape().clone(), &self.device())?,
        );
        let mut grads = Gradients::new();
        for t in order.iter().rev() {
            let Some(grad) = pending.remove(&t.id()) else {
                continue;
            };
            if t.is_variable() {
                grads.map.insert(t.id(), grad);
                continue;
            }
            let node =
                t.0.node
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .ok_or_else(|| {
                        Error::Autograd(
                            "this graph was already used by an earlier backward; recompute the \
                         forward pass"
                                .into(),
                        )
                    })?;
            let Node {
                op,
                inputs,
                backward,
            } = node;
            let input_grads = backward(&grad, &inputs)?;
            drop(grad);
            for (input, g) in inputs.iter().zip(input_grads) {
                let Some(g) = g else { continue };
                if !input.requires_grad() {
                    continue;
                }
                if g.shape() != input.shape() {
                    return Err(Error::Autograd(format!(
                        "internal: backward of {op} produced a gradient of shape {} for an \
                         input of shape {}",
                        g.shape(),
                        input.shape()
                    )));
                }
                match pending.remove(&input.id()) {
                    Some(existing) => {
                        pending.insert(input.id(), existing.add(&g)?);
                    }
                    None => {
                        pending.insert(input.id(), g);
                    }
                }
            }
        }
        Ok(grads)
    }
}

/// Tensors reachable from `root` through recorded nodes, each after all its inputs.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited: HashSet<TensorId> = HashSet::new();
    // Iterative post-order DFS: (tensor, children already pushed?).
    let mut stack: Vec<(Tensor, bool)> = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !visited.insert(t.id()) {
            continue;
        }
        let children: Vec<Tensor> =
            t.0.node
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|n| {
                    n.inputs
                        .iter()
                        .filter(|i| i.requires_grad())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
        stack.push((t, true));
        for c in children {
            if !visited.contains(&c.id()) {
                stack.push((c, false));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use crate::{Device, Tensor};

    #[test]
    fn graph_memory_is_released_by_backward() {
        let x = Tensor::from_slice(&[1.0, 2.0, 3.0], [3], &Device::Cpu)
            .unwrap()
            .variable();
        let h = x.exp().unwrap();
        let weak = std::sync::Arc::downgrade(&h.0);
        let y = h.sum_all().unwrap();
        drop(h);
        assert!(
            weak.upgrade().is_some(),
            "the graph should hold the intermediate"
        );
        y.backward().unwrap();
        assert!(
            weak.upgrade().is_none(),
            "intermediate still alive after backward"
        );
    }
}
