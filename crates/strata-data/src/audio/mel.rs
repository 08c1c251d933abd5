//! The mel filterbank and MFCC, following librosa's defaults: Slaney's mel scale and
//! area normalisation, power in decibels clipped 80 dB below the peak, and an orthonormal
//! DCT-II.

use serde::{Deserialize, Serialize};

use super::spectrum::{Spectrogram, Window, power_spectrogram};
use crate::error::{DataError, Result};

/// Hertz to mel on Slaney's scale: linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    if hz >= 1000.0 {
        15.0 + (hz / 1000.0).ln() / (6.4f64.ln() / 27.0)
    } else {
        hz / f_sp
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    if mel >= 15.0 {
        1000.0 * ((mel - 15.0) * (6.4f64.ln() / 27.0)).exp()
    } else {
        mel * f_sp
    }
}

/// Triangular mel filters, `n_mels × (n_fft / 2 + 1)` row-major, between `fmin` and `fmax`
/// Hz (`fmax` at most the Nyquist frequency), each normalised to unit area (librosa's
/// `norm="slaney"`).
pub fn mel_filterbank(
    n_mels: usize,
    n_fft: usize,
    sample_rate: u32,
    fmin: f32,
    fmax: f32,
) -> Result<Vec<f32>> {
    let nyquist = f64::from(sample_rate) / 2.0;
    let (fmin, fmax) = (f64::from(fmin), f64::from(fmax));
    if n_mels == 0 || n_fft < 2 || !(0.0 <= fmin && fmin < fmax && fmax <= nyquist) {
        return Err(DataError::invalid(
            "mel_filterbank",
            format!("n_mels >= 1, n_fft >= 2 and 0 <= fmin < fmax <= {nyquist} Hz (Nyquist)"),
            format!("n_mels {n_mels}, n_fft {n_fft}, fmin {fmin}, fmax {fmax}"),
        ));
    }
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|k| k as f64 * f64::from(sample_rate) / n_fft as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = Vec::with_capacity(n_mels * bins);
    for m in 0..n_mels {
        let (left, centre, right) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let norm = 2.0 / (right - left);
        weights.extend(fft_freqs.iter().map(|&f| {
            let rising = (f - left) / (centre - left);
            let falling = (right - f) / (right - centre);
            (rising.min(falling).max(0.0) * norm) as f32
        }));
    }
    Ok(weights)
}

/// Mel-frequency cepstral coefficients, configured once and applied to many signals;
/// serializable so it ships with a model. Defaults suit 8-16 kHz speech: 13 coefficients
/// from 40 mel bands of a 512-point Hann-windowed power spectrum with hop 160.
///
/// ```
/// use strata_data::audio::Mfcc;
/// let tone: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.3).sin()).collect();
/// let m = Mfcc::new(8000).n_fft(256).hop(80).compute(&tone).unwrap();
/// assert_eq!((m.frames, m.bins), (97, 13));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mfcc {
    sample_rate: u32,
    n_mfcc: usize,
    n_mels: usize,
    n_fft: usize,
    hop: usize,
    fmin: f32,
    fmax: Option<f32>,
    window: Window,
}

impl Mfcc {
    /// The defaults for signals at `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        Mfcc {
            sample_rate,
            n_mfcc: 13,
            n_mels: 40,
            n_fft: 512,
            hop: 160,
            fmin: 0.0,
            fmax: None,
            window: Window::Hann,
        }
    }

    /// Coefficients kept per frame (at most `n_mels`).
    pub fn n_mfcc(mut self, n: usize) -> Self {
        self.n_mfcc = n;
        self
    }

    /// Mel bands.
    pub fn n_mels(mut self, n: usize) -> Self {
        self.n_mels = n;
        self
    }

    /// FFT size = frame length.
    pub fn n_fft(mut self, n: usize) -> Self {
        self.n_fft = n;
        self
    }

    /// Samples between frame starts.
    pub fn hop(mut self, hop: usize) -> Self {
        self.hop = hop;
        self
    }

    /// The band of the mel filters, in Hz (default 0 to Nyquist).
    pub fn band(mut self, fmin: f32, fmax: f32) -> Self {
        self.fmin = fmin;
        self.fmax = Some(fmax);
        self
    }

    /// The analysis window (default Hann).
    pub fn window(mut self, window: Window) -> Self {
        self.window = window;
        self
    }

    /// The mel spectrogram in decibels: `10·log10(max(power, 1e-10))`, floored 80 dB below
    /// its maximum (librosa's `power_to_db(top_db=80)`); `frames × n_mels`.
    pub fn log_mel(&self, signal: &[f32]) -> Result<Spectrogram> {
        let power = power_spectrogram(signal, self.n_fft, self.hop, self.window)?;
        let fmax = self.fmax.unwrap_or(self.sample_rate as f32 / 2.0);
        let filters = mel_filterbank(self.n_mels, self.n_fft, self.sample_rate, self.fmin, fmax)?;
        let mut db = Vec::with_capacity(power.frames * self.n_mels);
        for frame in power.values.chunks_exact(power.bins) {
            for filter in filters.chunks_exact(power.bins) {
                let e: f64 = frame
                    .iter()
                    .zip(filter)
                    .map(|(&p, &w)| f64::from(p) * f64::from(w))
                    .sum();
                db.push(10.0 * e.max(1e-10).log10());
            }
        }
        let peak = db.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Ok(Spectrogram {
            values: db.iter().map(|&d| d.max(peak - 80.0) as f32).collect(),
            frames: power.frames,
            bins: self.n_mels,
        })
    }

    /// The MFCC of `signal`: the orthonormal DCT-II of each frame of [`Mfcc::log_mel`], first
    /// `n_mfcc` coefficients; `frames × n_mfcc`.
    pub fn compute(&self, signal: &[f32]) -> Result<Spectrogram> {
        if self.n_mfcc == 0 || self.n_mfcc > self.n_mels {
            return Err(DataError::invalid(
                "Mfcc::compute",
                format!("1 <= n_mfcc <= n_mels ({})", self.n_mels),
                format!("n_mfcc {}", self.n_mfcc),
            ));
        }
        let mel = self.log_mel(signal)?;
        let n = self.n_mels as f64;
        let mut values = Vec::with_capacity(mel.frames * self.n_mfcc);
        for frame in mel.values.chunks_exact(self.n_mels) {
            for k in 0..self.n_mfcc {
                let scale = if k == 0 {
                    (1.0 / n).sqrt()
                } else {
                    (2.0 / n).sqrt()
                };
                let sum: f64 = frame
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        f64::from(x)
                            * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n))
                                .cos()
                    })
                    .sum();
                values.push((scale * sum) as f32);
            }
        }
        Ok(Spectrogram {
            values,
            frames: mel.frames,
            bins: self.n_mfcc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_is_linear_below_1khz_and_inverts() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        for hz in [0.0, 440.0, 1000.0, 3999.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }

    #[test]
    fn filters_are_non_negative_triangles_of_unit_area_in_hz() {
        let f = mel_filterbank(10, 512, 16000, 0.0, 8000.0).unwrap();
        assert_eq!(f.len(), 10 * 257);
        assert!(f.iter().all(|&w| w >= 0.0));
        // Area of filter m: peak 2/(right-left) times half the base (right-left) = 1, so the
        // weights times the bin spacing (31.25 Hz) sum to about 1.
        for row in f.chunks(257).skip(2) {
            let area: f32 = row.iter().sum::<f32>() * 31.25;
            assert!((area - 1.0).abs() < 0.1, "{area}");
        }
    }

    #[test]
    fn bad_settings_are_errors() {
        assert!(mel_filterbank(0, 512, 16000, 0.0, 8000.0).is_err());
        assert!(mel_filterbank(10, 512, 16000, 0.0, 9000.0).is_err());
        assert!(Mfcc::new(8000).n_mfcc(50).compute(&[0.0; 1000]).is_err());
    }
}
