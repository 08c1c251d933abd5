//! Batch normalization layers: [`BatchNorm1d`] (`[C]` or `[C, L]` samples) and
//! [`BatchNorm2d`] (`[C, H, W]` samples), sharing one implementation (`batch_norm`).

mod batch_norm;

pub use batch_norm::{BatchNorm1d, BatchNorm2d};
