//! The suite's properties, one module per op family (named as `strata_backend::ops`), one
//! public function per property. Each function runs its property on its own and returns a
//! [`PropertyResult`](crate::PropertyResult); each module's `properties()` lists them for
//! [`check_family`](crate::check_family).

pub mod buffer;
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

use proptest::prelude::*;
use strata_backend::BufferOps;

use crate::suite::OrFail;

/// Copies host data into a new buffer of the backend under test.
fn upload<B: BufferOps>(backend: &B, data: &[f32]) -> Result<B::Buffer, String> {
    backend.from_host(data).or_fail("from_host")
}

/// Copies a buffer of the backend under test back to the host.
fn download<B: BufferOps>(backend: &B, buf: &B::Buffer) -> Result<Vec<f32>, String> {
    backend.to_host(buf).or_fail("to_host")
}

/// `len` copies of `value`, for buffers whose content does not matter to a property.
fn filler(len: usize, value: f32) -> Vec<f32> {
    vec![value; len]
}

/// `|v|` of each value, widened.
fn magnitudes(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v).abs()).collect()
}

/// A correct length `n ≥ 1` and how far to get it wrong (−1 or +1..=3), for the properties
/// that check a backend refuses buffers that disagree with their shapes.
fn length_mismatches() -> BoxedStrategy<(usize, isize)> {
    (1usize..=8, prop_oneof![Just(-1isize), 1isize..=3]).boxed()
}

/// `n + delta` for a pair drawn by [`length_mismatches`]: never equal to `n`, never negative.
fn wrong_len(n: usize, delta: isize) -> usize {
    n.saturating_add_signed(delta)
}
