//! Pooling layers: max and average pooling in 1-D and 2-D ([`MaxPool1d`], [`MaxPool2d`],
//! [`AvgPool1d`], [`AvgPool2d`]) over a shared window core, and global pooling
//! ([`GlobalAvgPool`], [`GlobalMaxPool`]).

mod avg_pool;
mod global;
mod max_pool;
mod window;

pub use avg_pool::{AvgPool1d, AvgPool2d};
pub use global::{GlobalAvgPool, GlobalMaxPool};
pub use max_pool::{MaxPool1d, MaxPool2d};
