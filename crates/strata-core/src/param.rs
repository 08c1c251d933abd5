//! `Param`: a named trainable variable.

use crate::Tensor;

/// A trainable parameter: a variable tensor and its path in the model (`"0.weight"`), the
/// name under which it is saved and under which optimizers keep its state.
#[derive(Clone, Debug)]
pub struct Param {
    name: String,
    tensor: Tensor,
}

impl Param {
    /// A parameter named `name`. A tensor that is not yet a variable is made one.
    pub fn new(name: impl Into<String>, tensor: Tensor) -> Self {
        let tensor = if tensor.is_variable() {
            tensor
        } else {
            tensor.variable()
        };
        Param {
            name: name.into(),
            tensor,
        }
    }
    /// The parameter's path.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The variable.
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }
    /// The same parameter under `prefix.name` (how containers name their children's).
    pub fn with_prefix(&self, prefix: &str) -> Param {
        Param {
            name: format!("{prefix}.{}", self.name),
            tensor: self.tensor.clone(),
        }
    }
}
