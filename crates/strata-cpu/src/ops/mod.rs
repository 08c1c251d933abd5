//! The op families, one file each, with the same names as `strata_backend::ops`.

mod elementwise;
mod layout;
mod linalg;
mod optimizer;
mod random;
mod reduce;
mod softmax;
