//! The suite's public face: configuration, reports, failures, the property registry and the
//! `check_*` entry points, plus the glue that runs one property through proptest.

use std::fmt;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use strata_backend::{Backend, BackendError};

use crate::cases;
use crate::compare::Tolerance;

/// Tolerances per op family. Ops that only move data (layout, select, comparisons, argmax,
/// buffer round trips, uniform draws over exact ranges, dropout masks) are always compared
/// bit for bit and have no entry here.
///
/// Where an op accumulates, the relative part applies to the scale of the accumulated terms
/// (`Σ|xᵢ|`, `Σ|aᵢₚ·bₚⱼ|`), not to the result, so cancellation does not make it unfair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Unary (forward and backward), binary, scalar ops, `add_assign`.
    ///
    /// Default rel 1e-5, abs 1e-6: f32 `exp`/`ln`/`tanh`/`erf` are good to a few ulp (1e-7
    /// relative), but fused formulas cancel (GELU′ = Φ(x) + x·φ(x) near x = −0.75,
    /// `tanh′ = 1 − tanh²` for |x| ≈ 6), leaving absolute errors near 1e-7.
    pub elementwise: Tolerance,
    /// `reduce`, `sum_squares`, `index_add_rows` (relative to `Σ|xᵢ|`).
    ///
    /// Default rel 1e-5, abs 1e-6: a plain f32 running sum of n terms errs by about
    /// √n·2⁻²⁴·Σ|xᵢ|, 2e-6·Σ|xᵢ| for the 2048-element reductions generated here.
    pub reduce: Tolerance,
    /// `matmul`, `matmul_bias`, `sum_rows` (relative to `Σₚ|aᵢₚ·bₚⱼ|` plus `|bias|`).
    ///
    /// Default rel 1e-5, abs 1e-6: GEMM accumulates k ≤ 33 products in f32 (FMA or not),
    /// at worst k·2⁻²⁴ ≈ 2e-6 of the terms' scale, against the f64 reference.
    pub linalg: Tolerance,
    /// Softmax, log-softmax, their backward passes and the fused cross-entropy.
    ///
    /// Default rel 1e-5, abs 1e-5: the row sum of up to 33 exponentials errs by up to
    /// 33·2⁻²⁴ relative, which `ln` turns into an absolute error of about 2e-6 on the
    /// log-probabilities and losses, whatever their size.
    pub softmax: Tolerance,
    /// Normal draws and uniform draws over ranges whose affine map rounds.
    ///
    /// Default rel 1e-5, abs 1e-5: Box-Muller goes through f32 `ln`, `sqrt` and `cos`, which
    /// devices implement to a few ulp (CUDA's `__cosf` to 2⁻²¹ absolute), scaled by std ≤ 3.
    pub random: Tolerance,
    /// Fused optimizer steps (relative to `|before| + |after − before|` of each value).
    ///
    /// Default rel 1e-5, abs 1e-6: about ten f32 operations per element. Bias corrections
    /// are per-step scalars: compute them in f64 as torch does, because `1 − 0.999²` in f32
    /// already carries a 3e-5 relative error.
    pub optimizer: Tolerance,
    /// Recurrent layers over whole sequences, forward and backpropagation through time.
    ///
    /// Default rel 1e-4, abs 2e-5: each step sums up to 8 products in f32 and goes through
    /// f32 `exp`; errors of about 1e-6 compound over up to 4 steps and, in the backward pass,
    /// through up to 4·H-term sums of gate gradients.
    pub recurrent: Tolerance,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            elementwise: Tolerance::new(1e-5, 1e-6),
            reduce: Tolerance::new(1e-5, 1e-6),
            linalg: Tolerance::new(1e-5, 1e-6),
            softmax: Tolerance::new(1e-5, 1e-5),
            random: Tolerance::new(1e-5, 1e-5),
            optimizer: Tolerance::new(1e-5, 1e-6),
            recurrent: Tolerance::new(1e-4, 2e-5),
        }
    }
}

/// How the suite runs: cases per property, the seed, shrinking effort and tolerances.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// Generated cases per property (per variant, for properties that cover every variant of
    /// an op enum). Default 64.
    pub cases: u32,
    /// Seed of the case generator; each property mixes in its name. A fixed default keeps CI
    /// reproducible; vary it (`STRATA_CONFORMANCE_SEED`) to explore new inputs.
    pub seed: u64,
    /// Upper bound on shrinking steps after a failure. Default 512.
    pub max_shrink_iters: u32,
    /// Tolerances per op family.
    pub tolerances: Tolerances,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        SuiteConfig {
            cases: 64,
            seed: 0x5EED_0FC0_FFEE,
            max_shrink_iters: 512,
            tolerances: Tolerances::default(),
        }
    }
}

impl SuiteConfig {
    /// The default configuration with `cases` and `seed` taken from the environment variables
    /// `STRATA_CONFORMANCE_CASES` and `STRATA_CONFORMANCE_SEED` when they hold numbers.
    pub fn from_env() -> Self {
        let mut config = SuiteConfig::default();
        let number = |name: &str| std::env::var(name).ok()?.trim().parse::<u64>().ok();
        if let Some(cases) = number("STRATA_CONFORMANCE_CASES") {
            config.cases = u32::try_from(cases).unwrap_or(u32::MAX);
        }
        if let Some(seed) = number("STRATA_CONFORMANCE_SEED") {
            config.seed = seed;
        }
        config
    }

    /// This configuration with `cases` cases per property.
    pub fn with_cases(mut self, cases: u32) -> Self {
        self.cases = cases;
        self
    }

    /// This configuration with generator seed `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// An op family, named as the modules of `strata_backend::ops` (plus `buffer` for the
/// `BufferOps` part of the trait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `BufferOps`: allocation, transfer, copy, `add_assign`.
    Buffer,
    /// `ElementwiseOps`.
    Elementwise,
    /// `LayoutOps`.
    Layout,
    /// `ReduceOps`.
    Reduce,
    /// `LinalgOps`.
    Linalg,
    /// `SoftmaxOps`.
    Softmax,
    /// `RandomOps`.
    Random,
    /// `OptimizerOps`.
    Optimizer,
    /// `ConvOps`: 2-D convolution and its backward primitives.
    Conv,
    /// `PoolOps`: max and average pooling and their backward passes.
    Pool,
    /// `NormOps`: per-channel statistics and affine maps (batch norm, bias over channels).
    Norm,
    /// `RecurrentOps`.
    Recurrent,
}

impl Family {
    /// Every family, in the order the suite runs them.
    pub const ALL: [Family; 12] = [
        Family::Buffer,
        Family::Elementwise,
        Family::Layout,
        Family::Reduce,
        Family::Linalg,
        Family::Softmax,
        Family::Random,
        Family::Optimizer,
        Family::Recurrent,
        Family::Conv,
        Family::Pool,
        Family::Norm,
    ];

    /// The family's module name (`"elementwise"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Family::Buffer => "buffer",
            Family::Elementwise => "elementwise",
            Family::Layout => "layout",
            Family::Reduce => "reduce",
            Family::Linalg => "linalg",
            Family::Softmax => "softmax",
            Family::Random => "random",
            Family::Optimizer => "optimizer",
            Family::Conv => "conv",
            Family::Pool => "pool",
            Family::Norm => "norm",
            Family::Recurrent => "recurrent",
        }
    }

    /// The family's properties, in the order they run.
    pub fn properties<B: Backend>(self) -> Vec<Property<B>> {
        match self {
            Family::Buffer => cases::buffer::properties(),
            Family::Elementwise => cases::elementwise::properties(),
            Family::Layout => cases::layout::properties(),
            Family::Reduce => cases::reduce::properties(),
            Family::Linalg => cases::linalg::properties(),
            Family::Softmax => cases::softmax::properties(),
            Family::Random => cases::random::properties(),
            Family::Optimizer => cases::optimizer::properties(),
            Family::Conv => cases::conv::properties(),
            Family::Pool => cases::pool::properties(),
            Family::Norm => cases::norm::properties(),
            Family::Recurrent => cases::recurrent::properties(),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one property function returns.
pub type PropertyResult = Result<PropertyReport, PropertyFailure>;

/// A named property of the suite, runnable against a backend `B`.
pub struct Property<B> {
    /// The family it belongs to.
    pub family: Family,
    /// Its name, the name of the function in `cases::<family>` that implements it.
    pub name: &'static str,
    /// Runs it.
    pub run: fn(&B, &SuiteConfig) -> PropertyResult,
}

impl<B> Property<B> {
    pub(crate) fn new(
        family: Family,
        name: &'static str,
        run: fn(&B, &SuiteConfig) -> PropertyResult,
    ) -> Self {
        Property { family, name, run }
    }
}

/// Every property of the suite, family by family.
pub fn all_properties<B: Backend>() -> Vec<Property<B>> {
    Family::ALL
        .iter()
        .flat_map(|f| f.properties::<B>())
        .collect()
}

/// A property that held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyReport {
    /// Its family.
    pub family: Family,
    /// Its name.
    pub property: &'static str,
    /// Generated cases that passed.
    pub cases: u64,
}

/// A property that failed, with the minimal input proptest shrank it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyFailure {
    /// Its family.
    pub family: Family,
    /// Its name.
    pub property: &'static str,
    /// The minimal failing input: op variant, shapes or spec first, then values.
    pub input: String,
    /// What went wrong: the worst element (index, expected, found), an unexpected `Err`, an
    /// `Ok` where an `Err` was due, or a panic.
    pub reason: String,
}

impl fmt::Display for PropertyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}::{} failed: {}\n    minimal failing input: {}",
            self.family, self.property, self.reason, self.input
        )
    }
}

impl std::error::Error for PropertyFailure {}

/// The properties a backend passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteReport {
    /// The backend's `name()`.
    pub backend: String,
    /// Each property that held.
    pub passed: Vec<PropertyReport>,
}

impl SuiteReport {
    /// Total generated cases that passed.
    pub fn cases(&self) -> u64 {
        self.passed.iter().map(|p| p.cases).sum()
    }
}

impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} properties held over {} generated cases",
            self.backend,
            self.passed.len(),
            self.cases()
        )
    }
}

/// The properties a backend failed (every failing property, not only the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteFailure {
    /// The backend's `name()`.
    pub backend: String,
    /// The properties that held.
    pub passed: Vec<PropertyReport>,
    /// The properties that failed.
    pub failures: Vec<PropertyFailure>,
}

impl fmt::Display for SuiteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} of {} properties failed",
            self.backend,
            self.failures.len(),
            self.failures.len() + self.passed.len()
        )?;
        for failure in &self.failures {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SuiteFailure {}

/// Runs every property of the suite against `backend`.
///
/// Every property runs even after one fails, so the error lists all failing ops at once.
pub fn check_backend<B: Backend>(
    backend: &B,
    config: &SuiteConfig,
) -> Result<SuiteReport, SuiteFailure> {
    check_properties(backend, config, all_properties())
}

/// Runs the properties of one op family against `backend`.
pub fn check_family<B: Backend>(
    backend: &B,
    family: Family,
    config: &SuiteConfig,
) -> Result<SuiteReport, SuiteFailure> {
    check_properties(backend, config, family.properties())
}

/// Runs the given properties against `backend`, collecting every failure.
pub fn check_properties<B: Backend>(
    backend: &B,
    config: &SuiteConfig,
    properties: Vec<Property<B>>,
) -> Result<SuiteReport, SuiteFailure> {
    let mut passed = Vec::new();
    let mut failures = Vec::new();
    for property in properties {
        match (property.run)(backend, config) {
            Ok(report) => passed.push(report),
            Err(failure) => failures.push(failure),
        }
    }
    let name = backend.name();
    if failures.is_empty() {
        Ok(SuiteReport {
            backend: name,
            passed,
        })
    } else {
        Err(SuiteFailure {
            backend: name,
            passed,
            failures,
        })
    }
}

/// The longest input description kept in a failure; a shrunk input is usually far shorter.
const MAX_INPUT_CHARS: usize = 4000;

/// Runs one property: `config.cases` inputs from `strategy`, each checked by `test`, which
/// returns the reason for a failure. A panic in `test` counts as a failure.
pub(crate) fn run_property<S>(
    config: &SuiteConfig,
    family: Family,
    property: &'static str,
    strategy: S,
    test: impl Fn(&S::Value) -> Result<(), String>,
) -> PropertyResult
where
    S: Strategy,
{
    // Config::default() reads PROPTEST_* variables; the suite's own settings win, and forking
    // (PROPTEST_FORK, PROPTEST_TIMEOUT) is off because it needs a #[test] name to re-run.
    let mut proptest_config = Config::with_cases(config.cases);
    proptest_config.fork = false;
    proptest_config.timeout = 0;
    proptest_config.failure_persistence = None;
    proptest_config.max_shrink_iters = config.max_shrink_iters;
    proptest_config.rng_seed = RngSeed::Fixed(config.seed ^ name_hash(property));
    let mut runner = TestRunner::new(proptest_config);
    let outcome = runner.run(&strategy, |input| test(&input).map_err(TestCaseError::fail));
    match outcome {
        Ok(()) => Ok(PropertyReport {
            family,
            property,
            cases: u64::from(config.cases),
        }),
        Err(TestError::Fail(reason, input)) => Err(PropertyFailure {
            family,
            property,
            input: truncate(format!("{input:?}")),
            reason: reason.message().to_string(),
        }),
        Err(TestError::Abort(reason)) => Err(PropertyFailure {
            family,
            property,
            input: String::from("(none: the run was aborted)"),
            reason: reason.message().to_string(),
        }),
    }
}

/// Folds the results of a property that runs once per op variant into one: the cases add
/// up; the first failure is kept and the reasons of the other failing variants are appended.
pub(crate) fn combine(
    family: Family,
    property: &'static str,
    results: impl IntoIterator<Item = PropertyResult>,
) -> PropertyResult {
    let mut cases = 0;
    let mut failure: Option<PropertyFailure> = None;
    for result in results {
        match (result, failure.as_mut()) {
            (Ok(report), _) => cases += report.cases,
            (Err(first), None) => failure = Some(first),
            (Err(other), Some(first)) => {
                first.reason.push_str("\n    another variant failed too: ");
                first.reason.push_str(&other.reason);
            }
        }
    }
    match failure {
        Some(failure) => Err(failure),
        None => Ok(PropertyReport {
            family,
            property,
            cases,
        }),
    }
}

/// FNV-1a of a property name, so each property draws its own inputs from the same seed.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn truncate(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_INPUT_CHARS) {
        text.truncate(cut);
        text.push_str(" ...");
    }
    text
}

/// Turns a backend's `Err` on a valid input into a failure reason naming the call.
pub(crate) trait OrFail<T> {
    /// `Ok` unchanged; `Err(e)` becomes "`who` returned an error for a valid input: e".
    fn or_fail(self, who: &str) -> Result<T, String>;
}

impl<T> OrFail<T> for Result<T, BackendError> {
    fn or_fail(self, who: &str) -> Result<T, String> {
        self.map_err(|e| format!("{who} returned an error for a valid input: {e}"))
    }
}

/// Checks that a call on an invalid input returned `Err`.
pub(crate) fn expect_err<T>(result: Result<T, BackendError>, what: &str) -> Result<(), String> {
    match result {
        Err(_) => Ok(()),
        Ok(_) => Err(format!("returned Ok for an invalid input: {what}")),
    }
}
