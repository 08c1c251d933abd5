//! What a search varies: named parameters, each a list of values or a range, and the
//! seeded generator random search draws from.

use std::fmt;

use serde::{Deserialize, Serialize};
use strata_core::{Error, Result};

/// One value of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A flag.
    Bool(bool),
    /// An integer (a batch size, a width, a depth).
    Int(i64),
    /// A real number (a learning rate).
    Float(f64),
    /// A name (an optimizer, an activation).
    Str(String),
}

impl ParamValue {
    /// The value as a float (integers convert).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Float(x) => Some(*x),
            ParamValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The value as an integer (floats with no fractional part convert).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ParamValue::Int(i) => Some(*i),
            ParamValue::Float(x) if x.fract() == 0.0 => Some(*x as i64),
            _ => None,
        }
    }

    /// The value as a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{}", shortest(*x)),
            ParamValue::Str(s) => write!(f, "{s}"),
        }
    }
}

/// `x` with at most 4 significant digits, without trailing zeros (`0.001`, `3.162e-4`).
fn shortest(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        let s = format!("{x:.3e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exp}")
    } else {
        let s = format!("{:.*}", decimals(x), x);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

fn decimals(x: f64) -> usize {
    if x == 0.0 {
        return 1;
    }
    (3 - x.abs().log10().floor() as i64).clamp(0, 12) as usize
}

impl From<f64> for ParamValue {
    fn from(x: f64) -> Self {
        ParamValue::Float(x)
    }
}

impl From<i64> for ParamValue {
    fn from(i: i64) -> Self {
        ParamValue::Int(i)
    }
}

impl From<usize> for ParamValue {
    fn from(i: usize) -> Self {
        ParamValue::Int(i as i64)
    }
}

impl From<bool> for ParamValue {
    fn from(b: bool) -> Self {
        ParamValue::Bool(b)
    }
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        ParamValue::Str(s.to_string())
    }
}

/// The values one parameter may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Domain {
    /// One of these (grid search enumerates them).
    Choice(Vec<ParamValue>),
    /// A real number drawn uniformly from `[low, high)`.
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// A positive real whose logarithm is drawn uniformly (learning rates).
    LogUniform {
        /// Lower end (> 0).
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// An integer drawn uniformly from `low..=high`.
    IntUniform {
        /// Lower end.
        low: i64,
        /// Upper end (inclusive).
        high: i64,
    },
}

impl Domain {
    fn check(&self, name: &str) -> Result<()> {
        let bad = |m: String| Err(Error::invalid("SearchSpace", format!("`{name}`: {m}")));
        match self {
            Domain::Choice(v) if v.is_empty() => bad("expected at least one value".into()),
            Domain::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && low < high) =>
            {
                bad(format!("expected finite low < high, found [{low}, {high}]"))
            }
            Domain::LogUniform { low, high } if !(*low > 0.0 && high.is_finite() && low < high) => {
                bad(format!("expected 0 < low < high, found [{low}, {high}]"))
            }
            Domain::IntUniform { low, high } if low > high => {
                bad(format!("expected low <= high, found [{low}, {high}]"))
            }
            _ => Ok(()),
        }
    }

    fn sample(&self, rng: &mut SplitMix64) -> ParamValue {
        match self {
            Domain::Choice(v) => v[rng.below(v.len() as u64) as usize].clone(),
            Domain::Uniform { low, high } => ParamValue::Float(low + rng.unit() * (high - low)),
            Domain::LogUniform { low, high } => {
                let (a, b) = (low.ln(), high.ln());
                ParamValue::Float((a + rng.unit() * (b - a)).exp())
            }
            Domain::IntUniform { low, high } => {
                let span = (high - low) as u64 + 1;
                ParamValue::Int(low + rng.below(span) as i64)
            }
        }
    }
}

/// Named parameters and their domains, in the order they were added (the order of the
/// results table's columns and of grid enumeration: the last parameter varies fastest).
///
/// ```
/// use strata_train::tune::SearchSpace;
/// let space = SearchSpace::new()
///     .choice("optimizer.lr", [1e-3, 1e-2])
///     .choice("data.batch_size", [32usize, 64]);
/// assert_eq!(space.grid().unwrap().len(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchSpace {
    params: Vec<(String, Domain)>,
}

impl SearchSpace {
    /// An empty space (one trial of the base configuration).
    pub fn new() -> Self {
        SearchSpace::default()
    }

    /// Adds (or replaces) parameter `name` with `domain`.
    pub fn param(mut self, name: impl Into<String>, domain: Domain) -> Self {
        let name = name.into();
        match self.params.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = domain,
            None => self.params.push((name, domain)),
        }
        self
    }

    /// Parameter `name` takes one of `values`.
    pub fn choice<V: Into<ParamValue>>(
        self,
        name: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.param(
            name,
            Domain::Choice(values.into_iter().map(Into::into).collect()),
        )
    }

    /// Parameter `name` is drawn uniformly from `[low, high)`.
    pub fn uniform(self, name: impl Into<String>, low: f64, high: f64) -> Self {
        self.param(name, Domain::Uniform { low, high })
    }

    /// Parameter `name` is drawn log-uniformly from `[low, high)`.
    pub fn log_uniform(self, name: impl Into<String>, low: f64, high: f64) -> Self {
        self.param(name, Domain::LogUniform { low, high })
    }

    /// Parameter `name` is an integer drawn uniformly from `low..=high`.
    pub fn int_uniform(self, name: impl Into<String>, low: i64, high: i64) -> Self {
        self.param(name, Domain::IntUniform { low, high })
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[(String, Domain)] {
        &self.params
    }

    /// Parameter names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.params.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Checks every domain.
    pub fn validate(&self) -> Result<()> {
        self.params.iter().try_for_each(|(n, d)| d.check(n))
    }

    /// Every combination of the lists (the last parameter varying fastest). A range is an
    /// error: a grid needs values.
    pub fn grid(&self) -> Result<Vec<Vec<(String, ParamValue)>>> {
        self.validate()?;
        let mut combos: Vec<Vec<(String, ParamValue)>> = vec![Vec::new()];
        for (name, domain) in &self.params {
            let Domain::Choice(values) = domain else {
                return Err(Error::invalid(
                    "grid search",
                    format!(
                        "`{name}` is a range; a grid needs a list of values (or use random search)"
                    ),
                ));
            };
            combos = combos
                .into_iter()
                .flat_map(|combo| {
                    values.iter().map(move |v| {
                        let mut c = combo.clone();
                        c.push((name.clone(), v.clone()));
                        c
                    })
                })
                .collect();
        }
        Ok(combos)
    }

    /// `trials` draws, reproducible from `seed`.
    pub fn sample(&self, trials: usize, seed: u64) -> Result<Vec<Vec<(String, ParamValue)>>> {
        self.validate()?;
        let mut rng = SplitMix64::new(seed);
        Ok((0..trials)
            .map(|_| {
                self.params
                    .iter()
                    .map(|(n, d)| (n.clone(), d.sample(&mut rng)))
                    .collect()
            })
            .collect())
    }
}

/// SplitMix64: tiny, seedable, and the same on every platform, so a seed names one search.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_enumerates_the_product_last_parameter_fastest() {
        let g = SearchSpace::new()
            .choice("a", [1i64, 2])
            .choice("b", ["x", "y", "z"])
            .grid()
            .unwrap();
        assert_eq!(g.len(), 6);
        let flat: Vec<String> = g.iter().map(|c| format!("{}{}", c[0].1, c[1].1)).collect();
        assert_eq!(flat, ["1x", "1y", "1z", "2x", "2y", "2z"]);
    }

    #[test]
    fn grid_refuses_a_range() {
        let e = SearchSpace::new()
            .log_uniform("lr", 1e-4, 1e-2)
            .grid()
            .unwrap_err()
            .to_string();
        assert!(e.contains("`lr` is a range"), "{e}");
    }

    #[test]
    fn random_draws_are_reproducible_and_inside_their_domains() {
        let space = SearchSpace::new()
            .log_uniform("lr", 1e-4, 1e-2)
            .int_uniform("width", 8, 10)
            .uniform("p", 0.1, 0.5)
            .choice("bs", [16i64, 32]);
        let a = space.sample(50, 7).unwrap();
        assert_eq!(a, space.sample(50, 7).unwrap());
        assert_ne!(a, space.sample(50, 8).unwrap());
        for t in &a {
            let lr = t[0].1.as_f64().unwrap();
            assert!((1e-4..1e-2).contains(&lr));
            assert!((8..=10).contains(&t[1].1.as_i64().unwrap()));
            assert!((0.1..0.5).contains(&t[2].1.as_f64().unwrap()));
        }
        let widths: std::collections::BTreeSet<i64> =
            a.iter().map(|t| t[1].1.as_i64().unwrap()).collect();
        assert_eq!(widths.len(), 3, "every integer of the range is drawn");
    }

    #[test]
    fn invalid_domains_name_the_parameter() {
        let e = SearchSpace::new()
            .log_uniform("lr", 0.0, 1.0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("`lr`: expected 0 < low < high"), "{e}");
        assert!(
            SearchSpace::new()
                .choice("a", Vec::<i64>::new())
                .validate()
                .is_err()
        );
    }

    #[test]
    fn floats_print_short() {
        assert_eq!(ParamValue::Float(0.001).to_string(), "0.001");
        assert_eq!(ParamValue::Float(0.003).to_string(), "0.003");
        assert_eq!(ParamValue::Float(3.16227766e-4).to_string(), "3.162e-4");
        assert_eq!(ParamValue::Float(0.5).to_string(), "0.5");
        assert_eq!(ParamValue::Float(64.0).to_string(), "64");
    }
}
