//! Hyperparameter search: grid and seeded random search over named parameters (learning
//! rate, batch size, depth, width, or any path a caller understands), successive halving to
//! stop losing trials early, and a results table (text and CSV) naming the best trial.
//!
//! The objective is a closure `FnMut(&TrialConfig, epochs) -> Result<TrialResult>`, so a
//! search works from code with no config file; the `strata tune` command builds one from
//! TOML. This module never trains anything itself.
//!
//! Module map: `space` (parameters, domains, the seeded generator), `trial` (one trial's
//! values and result), `search` ([`Tuner`]: enumeration, rungs, halving), `report`
//! ([`TuneReport`]: best trial, table, CSV).

mod report;
mod search;
mod space;
mod trial;

pub use report::{TrialRecord, TrialStatus, TuneReport};
pub use search::{Direction, Halving, Strategy, Tuner};
pub use space::{Domain, ParamValue, SearchSpace};
pub use trial::{TrialConfig, TrialResult};

#[cfg(test)]
mod tests;
