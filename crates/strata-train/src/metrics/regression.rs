//! Regression metrics, element by element over predictions and targets of the same size:
//! MSE, RMSE, MAE and R² (all accumulated in f64).

use strata_core::{Result, Tensor};

use super::{Metric, MetricBatch, host_pair};

/// Running sums shared by the regression metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    n: f64,
    abs_err: f64,
    sq_err: f64,
    target: f64,
    target_sq: f64,
}

impl Sums {
    fn add(&mut self, op: &'static str, batch: &MetricBatch<'_>) -> Result<()> {
        let (p, y) = host_pair(op, batch)?;
        for (&p, &y) in p.iter().zip(y) {
            let (p, y) = (f64::from(p), f64::from(y));
            let e = p - y;
            self.n += 1.0;
            self.abs_err += e.abs();
            self.sq_err += e * e;
            self.target += y;
            self.target_sq += y * y;
        }
        Ok(())
    }

    fn mean(&self, sum: f64) -> f64 {
        if self.n == 0.0 {
            f64::NAN
        } else {
            sum / self.n
        }
    }
}

macro_rules! regression_metric {
    ($(#[$doc:meta])* $name:ident, $label:literal, |$s:ident| $value:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq)]
        pub struct $name {
            sums: Sums,
        }

        impl $name {
            /// The metric over an empty stream.
            pub fn new() -> Self {
                $name::default()
            }
        }

        impl Metric for $name {
            fn name(&self) -> String {
                $label.into()
            }

            fn update(&mut self, predictions: &Tensor, targets: &Tensor) -> Result<()> {
                self.update_batch(&MetricBatch::new(predictions, targets))
            }

            fn update_batch(&mut self, batch: &MetricBatch<'_>) -> Result<()> {
                self.sums.add(stringify!($name), batch)
            }

            fn compute(&self) -> f64 {
                let $s = &self.sums;
                $value
            }

            fn reset(&mut self) {
                self.sums = Sums::default();
            }
        }
    };
}

regression_metric!(
    /// Mean squared error.
    Mse,
    "mse",
    |s| s.mean(s.sq_err)
);
regression_metric!(
    /// Root mean squared error.
    Rmse,
    "rmse",
    |s| s.mean(s.sq_err).sqrt()
);
regression_metric!(
    /// Mean absolute error.
    Mae,
    "mae",
    |s| s.mean(s.abs_err)
);
regression_metric!(
    /// Coefficient of determination, `1 − SS_res / SS_tot`, over all elements as one series
    /// (scikit-learn's `r2_score` on flattened arrays). NaN when the targets are constant.
    R2,
    "r2",
    |s| {
        let total = s.target_sq - s.target * s.target / s.n;
        if s.n == 0.0 || total <= 0.0 {
            f64::NAN
        } else {
            1.0 - s.sq_err / total
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn t(values: &[f32]) -> Tensor {
        Tensor::from_slice(values, [values.len()], &Device::cpu()).unwrap()
    }

    #[test]
    fn regression_metrics_by_hand_over_two_batches() {
        // Errors 0.5, -0.5, 0, 2 → MSE (0.25+0.25+0+4)/4 = 1.125, MAE 3/4.
        // Targets 3, -0.5, 2, 7: mean 2.875, SS_tot = 29.1875; R² = 1 − 4.5/29.1875.
        let (p1, y1) = (t(&[2.5, 0.0]), t(&[3.0, -0.5]));
        let (p2, y2) = (t(&[2.0, 9.0]), t(&[2.0, 7.0]));
        let mut metrics: Vec<Box<dyn Metric>> = vec![
            Box::new(Mse::new()),
            Box::new(Rmse::new()),
            Box::new(Mae::new()),
            Box::new(R2::new()),
        ];
        for m in &mut metrics {
            m.update(&p1, &y1).unwrap();
            m.update(&p2, &y2).unwrap();
        }
        let values: Vec<f64> = metrics.iter().map(|m| m.compute()).collect();
        assert_eq!(values[0], 1.125);
        assert!((values[1] - 1.125f64.sqrt()).abs() < 1e-12);
        assert_eq!(values[2], 0.75);
        assert!((values[3] - (1.0 - 4.5 / 29.1875)).abs() < 1e-12);
    }

    #[test]
    fn mismatched_sizes_are_refused() {
        let err = Mse::new().update(&t(&[1.0, 2.0]), &t(&[1.0])).unwrap_err();
        assert!(err.to_string().contains("same number of values"), "{err}");
    }

    #[test]
    fn r2_of_constant_targets_is_nan() {
        let mut m = R2::new();
        m.update(&t(&[1.0, 2.0]), &t(&[3.0, 3.0])).unwrap();
        assert!(m.compute().is_nan());
    }
}
