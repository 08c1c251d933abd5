//! Tensor operations, one module per op family (the same families as `strata-backend`).
//! Each op checks shapes, calls the backend, and records its backward rule.

mod elementwise;
mod layout;
mod linalg;
mod nn;
pub(crate) mod optimizer;
mod reduce;
