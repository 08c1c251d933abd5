//! Band-limited resampling: a Hann-windowed sinc interpolator whose cutoff is the lower of
//! the two Nyquist frequencies, so downsampling does not alias.

use crate::error::{DataError, Result};

/// Zero crossings of the sinc kernel on each side (at the lower rate): longer is sharper.
const ZERO_CROSSINGS: f64 = 16.0;

/// `signal` at `from` samples per second, resampled to `to`: `round(len · to / from)` samples.
///
/// ```
/// let y = strata_data::audio::resample(&[0.0; 100], 8_000, 16_000).unwrap();
/// assert_eq!(y.len(), 200);
/// ```
pub fn resample(signal: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == 0 || to == 0 {
        return Err(DataError::invalid(
            "resample",
            "sample rates > 0",
            format!("from {from} Hz to {to} Hz"),
        ));
    }
    if from == to {
        return Ok(signal.to_vec());
    }
    let ratio = f64::from(from) / f64::from(to);
    let cutoff = (f64::from(to) / f64::from(from)).min(1.0);
    let half_width = ZERO_CROSSINGS / cutoff;
    let n_out = (signal.len() as f64 / ratio).round() as usize;
    let last = signal.len() as i64 - 1;
    Ok((0..n_out)
        .map(|i| {
            let t = i as f64 * ratio;
            let lo = ((t - half_width).ceil() as i64).max(0);
            let hi = ((t + half_width).floor() as i64).min(last);
            let mut acc = 0.0f64;
            for k in lo..=hi {
                let x = t - k as f64;
                let window = 0.5 + 0.5 * (std::f64::consts::PI * x / half_width).cos();
                acc += f64::from(signal[k as usize]) * cutoff * sinc(cutoff * x) * window;
            }
            acc as f32
        })
        .collect())
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    #[test]
    fn upsampling_a_tone_gives_the_tone_at_the_new_rate() {
        let y = resample(&tone(440.0, 8000, 800), 8000, 16000).unwrap();
        let expected = tone(440.0, 16000, 1600);
        assert_eq!(y.len(), 1600);
        let err = y[100..1500]
            .iter()
            .zip(&expected[100..1500])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn downsampling_removes_frequencies_above_the_new_nyquist() {
        let y = resample(&tone(6000.0, 16000, 1600), 16000, 8000).unwrap();
        assert_eq!(y.len(), 800);
        let peak = y[100..700].iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        assert!(peak < 0.05, "aliased peak {peak}");
        let kept = resample(&tone(1000.0, 16000, 1600), 16000, 8000).unwrap();
        let peak = kept[100..700]
            .iter()
            .map(|v| v.abs())
            .fold(0.0f32, f32::max);
        assert!((peak - 1.0).abs() < 0.02, "pass-band peak {peak}");
    }

    #[test]
    fn same_rate_is_the_identity_and_zero_rates_are_errors() {
        assert_eq!(resample(&[1.0, 2.0], 8000, 8000).unwrap(), vec![1.0, 2.0]);
        assert!(resample(&[1.0], 0, 8000).is_err());
        assert!(resample(&[], 8000, 16000).unwrap().is_empty());
    }
}
