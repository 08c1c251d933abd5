//! Element-by-element comparison of a backend's output with the reference's, and the message
//! that names the worst element when they disagree.

use crate::reference::unravel;

/// How far a backend's element may stray from the reference's:
/// `|found − expected| ≤ abs + rel · max(|expected|, magnitude)`.
///
/// `magnitude` is the scale of the terms an element was computed from (for a sum, `Σ|xᵢ|`),
/// because rounding error in a long accumulation grows with the terms, not with the result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative part, against `max(|expected|, magnitude)`.
    pub rel: f64,
    /// Absolute part.
    pub abs: f64,
}

impl Tolerance {
    /// Bit-for-bit agreement (NaN matches NaN): for ops that only move data.
    pub const EXACT: Tolerance = Tolerance { rel: 0.0, abs: 0.0 };

    /// A tolerance from its relative and absolute parts.
    pub const fn new(rel: f64, abs: f64) -> Self {
        Tolerance { rel, abs }
    }

    fn allowed(&self, expected: f64, magnitude: f64) -> f64 {
        self.abs + self.rel * expected.abs().max(magnitude)
    }
}

/// One output to compare: what it is, its shape (for index vectors in messages), the
/// reference values and, optionally, per-element magnitudes for the tolerance.
pub(crate) struct Expected<'a> {
    pub what: &'a str,
    pub shape: &'a [usize],
    pub values: &'a [f32],
    pub magnitude: Option<&'a [f64]>,
}

impl<'a> Expected<'a> {
    /// An output of shape `shape` with no magnitude information.
    pub fn new(what: &'a str, shape: &'a [usize], values: &'a [f32]) -> Self {
        Expected {
            what,
            shape,
            values,
            magnitude: None,
        }
    }

    /// The same output, with the scale of the terms behind each element.
    pub fn with_magnitude(self, magnitude: &'a [f64]) -> Self {
        Expected {
            magnitude: Some(magnitude),
            ..self
        }
    }

    /// Checks `found` against the reference values; the error names the worst element.
    pub fn check(&self, found: &[f32], tolerance: Tolerance) -> Result<(), String> {
        if found.len() != self.values.len() {
            return Err(format!(
                "{}: expected {} elements (shape {:?}), found {}",
                self.what,
                self.values.len(),
                self.shape,
                found.len()
            ));
        }
        let mut failures = 0;
        let mut worst: Option<(usize, f64)> = None;
        for (i, (&e, &f)) in self.values.iter().zip(found).enumerate() {
            let magnitude = self.magnitude.map_or(0.0, |m| m[i]);
            let excess = excess(
                f64::from(e),
                f64::from(f),
                tolerance.allowed(f64::from(e), magnitude),
            );
            if excess > 0.0 {
                failures += 1;
                if worst.is_none_or(|(_, w)| excess > w) {
                    worst = Some((i, excess));
                }
            }
        }
        let Some((i, _)) = worst else {
            return Ok(());
        };
        let (e, f) = (self.values[i], found[i]);
        let magnitude = self.magnitude.map_or(0.0, |m| m[i]);
        let allowed = tolerance.allowed(f64::from(e), magnitude);
        let index = if self.shape.iter().product::<usize>() == self.values.len() {
            format!("{:?} (flat {i})", unravel(i, self.shape))
        } else {
            format!("flat {i}")
        };
        Err(format!(
            "{}: {failures} of {} elements out of tolerance (rel {:e}, abs {:e}); worst at \
             index {index}: expected {e:e}, found {f:e}, |diff| {:e} > allowed {allowed:e}",
            self.what,
            found.len(),
            tolerance.rel,
            tolerance.abs,
            (f64::from(f) - f64::from(e)).abs(),
        ))
    }
}

/// Checks that `found` holds exactly the bits of `expected` (NaN payloads and −0 included).
pub(crate) fn check_bits(what: &str, expected: &[f32], found: &[f32]) -> Result<(), String> {
    if found.len() != expected.len() {
        return Err(format!(
            "{what}: expected {} elements, found {}",
            expected.len(),
            found.len()
        ));
    }
    let differing = expected
        .iter()
        .zip(found)
        .filter(|(e, f)| e.to_bits() != f.to_bits())
        .count();
    match expected
        .iter()
        .zip(found)
        .position(|(e, f)| e.to_bits() != f.to_bits())
    {
        None => Ok(()),
        Some(i) => Err(format!(
            "{what}: {differing} of {} elements differ in their bits; first at flat {i}: \
             expected {:e} ({:#010x}), found {:e} ({:#010x})",
            found.len(),
            expected[i],
            expected[i].to_bits(),
            found[i],
            found[i].to_bits(),
        )),
    }
}

/// How far `found` is beyond what is allowed (positive means a failure; infinite when one is
/// NaN or infinite and the other is not).
fn excess(expected: f64, found: f64, allowed: f64) -> f64 {
    if expected == found || (expected.is_nan() && found.is_nan()) {
        return 0.0;
    }
    let diff = (found - expected).abs();
    if diff.is_nan() || diff.is_infinite() {
        return f64::INFINITY;
    }
    if allowed == 0.0 {
        return diff;
    }
    diff / allowed - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_tolerance_passes_and_nan_matches_nan() {
        let expected = Expected::new("t", &[3], &[1.0, f32::NAN, f32::INFINITY]);
        assert!(
            expected
                .check(
                    &[1.000_001, f32::NAN, f32::INFINITY],
                    Tolerance::new(1e-5, 0.0)
                )
                .is_ok()
        );
    }

    #[test]
    fn worst_element_is_named_with_its_index() {
        let expected = Expected::new("out", &[2, 2], &[0.0, 1.0, 2.0, 3.0]);
        let message = expected
            .check(&[0.0, 1.1, 2.0, 3.5], Tolerance::new(0.0, 0.01))
            .unwrap_err();
        assert!(message.contains("2 of 4"), "{message}");
        assert!(message.contains("[1, 1] (flat 3)"), "{message}");
        assert!(message.contains("found 3.5e0"), "{message}");
    }

    #[test]
    fn exact_tolerance_rejects_one_ulp() {
        let expected = Expected::new("t", &[1], &[1.0]);
        let next = f32::from_bits(1.0f32.to_bits() + 1);
        assert!(expected.check(&[next], Tolerance::EXACT).is_err());
        assert!(expected.check(&[1.0, 1.0], Tolerance::EXACT).is_err());
    }

    #[test]
    fn magnitude_widens_the_relative_part() {
        let expected = Expected::new("t", &[1], &[0.0]);
        assert!(expected.check(&[1e-4], Tolerance::new(1e-5, 0.0)).is_err());
        let magnitude = [100.0];
        assert!(
            expected
                .with_magnitude(&magnitude)
                .check(&[1e-4], Tolerance::new(1e-5, 0.0))
                .is_ok()
        );
    }
}
