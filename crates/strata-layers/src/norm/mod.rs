//! Batch normalization layers: [`BatchNorm1d`] (`[C]` or `[C, L]` samples) and
//! [`BatchNorm2d`] (`[C, H, W]` samples) with their configs, sharing one implementation
//! (`batch_norm`).

mod batch_norm;

pub use batch_norm::{
    BatchNorm1d, BatchNorm1dConfig, BatchNorm2d, BatchNorm2dConfig, BatchNormSettings,
};
