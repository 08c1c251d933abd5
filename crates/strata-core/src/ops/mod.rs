//! Tensor operations, one module per op family (the same families as `strata-backend`).
//! Each op checks shapes, calls the backend, and records its backward rule.

pub(crate) mod conv;
mod elementwise;
mod embedding;
mod layout;
mod linalg;
mod nn;
mod norm;
pub(crate) mod optimizer;
pub(crate) mod pool;
pub(crate) mod recurrent;
mod reduce;
