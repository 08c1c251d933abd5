//! The op families, one file each, with the same names as `strata_backend::ops`.

mod conv;
mod conv_direct;
mod conv_outer;
mod conv_wgrad;
mod elementwise;
mod layout;
mod linalg;
mod norm;
mod optimizer;
mod pool;
mod random;
mod recurrent;
mod reduce;
mod softmax;
