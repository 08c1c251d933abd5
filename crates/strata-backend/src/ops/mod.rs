//! The op families of the `Backend` trait, one module each.

pub mod conv;
pub mod elementwise;
pub mod layout;
pub mod linalg;
pub mod norm;
pub mod optimizer;
pub mod pool;
pub mod random;
pub mod recurrent;
pub mod reduce;
pub mod softmax;
