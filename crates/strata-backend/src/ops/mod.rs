//! The op families of the `Backend` trait, one module each.

pub mod elementwise;
pub mod layout;
pub mod linalg;
pub mod optimizer;
pub mod random;
pub mod reduce;
pub mod softmax;
