//! Framing, analysis windows and the power spectrogram (`|FFT|²` of each windowed frame,
//! through `rustfft`). Frames start at 0 and step by the hop, without centre padding
//! (librosa's `center=False`).

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// An analysis window, periodic (as `scipy.signal.get_window` and librosa use for spectra).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Window {
    /// All ones.
    Rectangular,
    /// `0.5 − 0.5·cos(2πn/N)` (default).
    #[default]
    Hann,
    /// `0.54 − 0.46·cos(2πn/N)`.
    Hamming,
}

impl Window {
    /// The `len` coefficients.
    pub fn coefficients(self, len: usize) -> Vec<f32> {
        let n = len as f64;
        (0..len)
            .map(|i| {
                let c = (std::f64::consts::TAU * i as f64 / n).cos();
                (match self {
                    Window::Rectangular => 1.0,
                    Window::Hann => 0.5 - 0.5 * c,
                    Window::Hamming => 0.54 - 0.46 * c,
                }) as f32
            })
            .collect()
    }
}

/// Cuts `signal` into frames of `frame_len` starting every `hop` samples: `frames ×
/// frame_len` values and the frame count. A signal shorter than one frame gives one frame,
/// zero-padded; otherwise the samples after the last whole frame are dropped.
///
/// ```
/// let (f, n) = strata_data::audio::frames(&[1.0, 2.0, 3.0, 4.0, 5.0], 3, 2).unwrap();
/// assert_eq!((f, n), (vec![1.0, 2.0, 3.0, 3.0, 4.0, 5.0], 2));
/// ```
pub fn frames(signal: &[f32], frame_len: usize, hop: usize) -> Result<(Vec<f32>, usize)> {
    if frame_len == 0 || hop == 0 {
        return Err(DataError::invalid(
            "frames",
            "a frame length and hop >= 1",
            format!("frame length {frame_len}, hop {hop}"),
        ));
    }
    if signal.len() < frame_len {
        let mut one = signal.to_vec();
        one.resize(frame_len, 0.0);
        return Ok((one, 1));
    }
    let n = 1 + (signal.len() - frame_len) / hop;
    let mut out = Vec::with_capacity(n * frame_len);
    for i in 0..n {
        out.extend_from_slice(&signal[i * hop..i * hop + frame_len]);
    }
    Ok((out, n))
}

/// A time-frequency array: `frames × bins` values, frame after frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spectrogram {
    /// The values, row-major `[frames, bins]`.
    pub values: Vec<f32>,
    /// Number of frames (time steps).
    pub frames: usize,
    /// Values per frame (frequency bins, mel bands or coefficients).
    pub bins: usize,
}

/// `|FFT(window · frame)|²` of every frame of `n_fft` samples, hop `hop`: `n_fft / 2 + 1`
/// bins per frame, from 0 Hz to the Nyquist frequency.
pub fn power_spectrogram(
    signal: &[f32],
    n_fft: usize,
    hop: usize,
    window: Window,
) -> Result<Spectrogram> {
    let (framed, n) = frames(signal, n_fft, hop)?;
    let coefficients = window.coefficients(n_fft);
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let bins = n_fft / 2 + 1;
    let mut buffer = vec![Complex::new(0.0f64, 0.0); n_fft];
    let mut values = Vec::with_capacity(n * bins);
    for frame in framed.chunks_exact(n_fft) {
        for ((b, &x), &w) in buffer.iter_mut().zip(frame).zip(&coefficients) {
            *b = Complex::new(f64::from(x) * f64::from(w), 0.0);
        }
        fft.process(&mut buffer);
        values.extend(buffer[..bins].iter().map(|c| c.norm_sqr() as f32));
    }
    Ok(Spectrogram {
        values,
        frames: n,
        bins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_match_their_formulas() {
        assert_eq!(Window::Hann.coefficients(4), vec![0.0, 0.5, 1.0, 0.5]);
        let h = Window::Hamming.coefficients(4);
        assert!((h[0] - 0.08).abs() < 1e-6 && (h[2] - 1.0).abs() < 1e-6);
        assert_eq!(Window::Rectangular.coefficients(2), vec![1.0, 1.0]);
    }

    #[test]
    fn a_bin_centred_tone_puts_its_power_in_its_bin() {
        // 8 cycles over 64 samples, rectangular window: all power in bin 8, (64/2)² = 1024.
        let x: Vec<f32> = (0..64)
            .map(|i| (std::f32::consts::TAU * 8.0 * i as f32 / 64.0).cos())
            .collect();
        let s = power_spectrogram(&x, 64, 64, Window::Rectangular).unwrap();
        assert_eq!((s.frames, s.bins), (1, 33));
        assert!((s.values[8] - 1024.0).abs() < 1e-2, "{}", s.values[8]);
        assert!(
            s.values
                .iter()
                .enumerate()
                .all(|(i, &v)| i == 8 || v < 1e-6)
        );
    }

    #[test]
    fn short_signals_pad_to_one_frame_and_bad_sizes_are_errors() {
        assert_eq!(frames(&[1.0], 3, 1).unwrap(), (vec![1.0, 0.0, 0.0], 1));
        assert!(frames(&[1.0], 0, 1).is_err());
        assert!(power_spectrogram(&[1.0], 4, 0, Window::Hann).is_err());
    }
}
