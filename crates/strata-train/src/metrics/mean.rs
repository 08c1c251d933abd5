//! `Mean`: a running, sample-weighted mean of scalar values (the trainer's epoch loss).

/// The mean of values added with weights (a batch's mean loss weighted by its size), in f64.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean {
    sum: f64,
    weight: f64,
}

impl Mean {
    /// An empty mean.
    pub fn new() -> Self {
        Mean::default()
    }

    /// Adds `value` with weight `weight` (a number of samples).
    pub fn add(&mut self, value: f64, weight: f64) {
        self.sum += value * weight;
        self.weight += weight;
    }

    /// The weighted mean; NaN when nothing was added.
    pub fn value(&self) -> f64 {
        if self.weight == 0.0 {
            f64::NAN
        } else {
            self.sum / self.weight
        }
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        *self = Mean::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_weighted_by_their_size() {
        let mut m = Mean::new();
        assert!(m.value().is_nan());
        m.add(1.0, 3.0);
        m.add(3.0, 1.0);
        assert_eq!(m.value(), 1.5);
        m.reset();
        assert!(m.value().is_nan());
    }
}
