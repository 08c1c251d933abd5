//! Benchmarks of Strata. The op-level Criterion benches live in `benches/ops.rs`
//! (`cargo bench -p strata-benches --bench ops`); workload code shared by benches goes here.

pub mod micro;
pub mod workloads;
