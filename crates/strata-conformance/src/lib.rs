//! Strata's cross-backend equivalence suite.
//!
//! Three parts, public so that any backend author (a CUDA backend, say) can run them from
//! their own tests:
//!
//! - [`ReferenceBackend`]: every op of the [`Backend`](strata_backend::Backend) trait as a
//!   plain loop in `f64`. It is the specification; `tests/reference_self_check.rs` checks it
//!   against hand-computed values.
//! - [`strategies`]: proptest strategies for shapes, values and op specs, biased towards edge
//!   cases (size-1 and empty axes, broadcasting, large logits, shared GEMM operands, ...).
//! - The properties in [`cases`], one function per property and one module per op family,
//!   each comparing a backend with the reference on generated inputs; [`check_backend`],
//!   [`check_family`] and [`check_properties`] run many of them and collect every failure.
//!
//! ```no_run
//! use strata_conformance::{Family, ReferenceBackend, SuiteConfig, check_backend, check_family};
//!
//! let backend = ReferenceBackend::new(); // your backend here
//! let config = SuiteConfig::from_env();
//! if let Err(failure) = check_family(&backend, Family::Linalg, &config) {
//!     panic!("{failure}");
//! }
//! let report = check_backend(&backend, &config).unwrap_or_else(|f| panic!("{f}"));
//! println!("{report}");
//! ```

pub mod cases;
mod compare;
mod mirror;
mod reference;
pub mod strategies;
mod suite;

pub use compare::Tolerance;
pub use mirror::{Mirror, Pair, check_backend_against};
pub use reference::{RefBuffer, ReferenceBackend};
pub use suite::{
    Family, Property, PropertyFailure, PropertyReport, PropertyResult, SuiteConfig, SuiteFailure,
    SuiteReport, Tolerances, all_properties, check_backend, check_family, check_properties,
};
