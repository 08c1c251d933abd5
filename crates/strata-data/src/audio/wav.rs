//! `WavReader`: RIFF/WAVE files (PCM 8/16/24/32-bit integer, 32-bit float) into a mono
//! `f32` signal in `[-1, 1]`, through the `hound` crate.

use std::path::Path;

use crate::error::{DataError, Position, Result};

/// A mono signal and its sample rate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Audio {
    /// Samples in `[-1, 1]`.
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Audio {
    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// Reads WAV files: channels mixed down to mono (their mean), integers scaled by
/// `2^(bits−1)`, optionally resampled to a target rate.
///
/// ```no_run
/// use strata_data::audio::WavReader;
/// let clip = WavReader::new().target_rate(16_000).read("digit.wav").unwrap();
/// assert_eq!(clip.sample_rate, 16_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WavReader {
    target_rate: Option<u32>,
}

impl WavReader {
    /// Keeps the file's own rate.
    pub fn new() -> Self {
        WavReader::default()
    }

    /// Resamples every file to `rate` samples per second (band-limited, see
    /// [`super::resample`]).
    pub fn target_rate(mut self, rate: u32) -> Self {
        self.target_rate = Some(rate);
        self
    }

    /// Reads the file at `path`.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Audio> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        self.read_bytes(&bytes, path)
    }

    /// Reads `bytes` as the contents of a file called `name` (used in errors).
    pub fn read_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<Audio> {
        let path = name.as_ref();
        let bad = |expected: &str, found: String| {
            DataError::format(path, Position::Whole, expected, found)
        };
        let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes))
            .map_err(|e| bad("a RIFF/WAVE header", describe(e)))?;
        let spec = reader.spec();
        let channels = usize::from(spec.channels);
        if channels == 0 || spec.sample_rate == 0 {
            return Err(bad(
                "at least one channel and a sample rate > 0",
                format!("{} channels at {} Hz", spec.channels, spec.sample_rate),
            ));
        }
        let expected_samples = reader.len() as usize;
        let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => reader
                .samples::<f32>()
                .enumerate()
                .map(|(i, s)| s.map_err(|e| truncated(path, i, expected_samples, e)))
                .collect::<Result<_>>()?,
            (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
                let scale = 1.0 / (1u64 << (bits - 1)) as f64;
                reader
                    .samples::<i32>()
                    .enumerate()
                    .map(|(i, s)| {
                        s.map(|v| (f64::from(v) * scale) as f32)
                            .map_err(|e| truncated(path, i, expected_samples, e))
                    })
                    .collect::<Result<_>>()?
            }
            (format, bits) => {
                return Err(bad(
                    "PCM with 8, 16, 24 or 32-bit integer or 32-bit float samples",
                    format!("{bits}-bit {format:?} samples"),
                ));
            }
        };
        let samples = interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        let audio = Audio {
            samples,
            sample_rate: spec.sample_rate,
        };
        match self.target_rate {
            Some(rate) if rate != audio.sample_rate => Ok(Audio {
                samples: super::resample(&audio.samples, audio.sample_rate, rate)?,
                sample_rate: rate,
            }),
            _ => Ok(audio),
        }
    }
}

/// The error for a sample that could not be read (the data chunk ends early).
fn truncated(path: &Path, index: usize, expected: usize, e: hound::Error) -> DataError {
    DataError::format(
        path,
        Position::Whole,
        format!("{expected} samples, as the data chunk header says"),
        format!("{} after sample {index}", describe(e)),
    )
}

fn describe(e: hound::Error) -> String {
    match e {
        // hound reports a short read as `Other` with this message.
        hound::Error::IoError(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof
                || io.to_string().starts_with("Failed to read enough bytes") =>
        {
            "the end of the file".to_string()
        }
        hound::Error::Unsupported => "an encoding hound does not support".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<std::io::Cursor<&mut Vec<u8>>>),
    ) -> Vec<u8> {
        let mut bytes = Vec::new();
        {
            let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut bytes), spec).unwrap();
            write(&mut w);
            w.finalize().unwrap();
        }
        bytes
    }

    fn spec(channels: u16, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: 8000,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    #[test]
    fn reads_every_integer_width_scaled_to_unit_range() {
        for bits in [8u16, 16, 24, 32] {
            let full = 1i64 << (bits - 1);
            let bytes = wav(spec(1, bits, hound::SampleFormat::Int), |w| {
                for v in [-full, -full / 2, 0, full / 2] {
                    w.write_sample(v as i32).unwrap();
                }
            });
            let a = WavReader::new().read_bytes(&bytes, "x.wav").unwrap();
            assert_eq!(a.samples, vec![-1.0, -0.5, 0.0, 0.5], "{bits} bits");
            assert_eq!(a.sample_rate, 8000);
        }
    }

    #[test]
    fn reads_float_and_mixes_stereo_down_to_mono() {
        let bytes = wav(spec(2, 32, hound::SampleFormat::Float), |w| {
            for v in [0.5f32, -0.5, 1.0, 0.0] {
                w.write_sample(v).unwrap();
            }
        });
        let a = WavReader::new().read_bytes(&bytes, "s.wav").unwrap();
        assert_eq!(a.samples, vec![0.0, 0.5]);
    }

    #[test]
    fn truncated_file_names_the_file_and_the_missing_samples() {
        let bytes = wav(spec(1, 16, hound::SampleFormat::Int), |w| {
            for v in 0..100 {
                w.write_sample(v as i16).unwrap();
            }
        });
        let e = WavReader::new()
            .read_bytes(&bytes[..bytes.len() - 51], "t.wav")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.wav (whole file): expected 100 samples"),
            "{e}"
        );
        assert!(e.contains("the end of the file after sample 74"), "{e}");
        let e = WavReader::new()
            .read_bytes(&bytes[..20], "h.wav")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("h.wav (whole file): expected a RIFF/WAVE header"),
            "{e}"
        );
    }

    #[test]
    fn unsupported_encoding_is_an_error() {
        // A 16-bit float header (format tag 3, IEEE float, with 16 bits).
        let mut bytes = wav(spec(1, 32, hound::SampleFormat::Float), |w| {
            w.write_sample(0.0f32).unwrap()
        });
        // fmt chunk: bytes 34..36 hold bits per sample; block align at 32..34.
        bytes[34] = 16;
        bytes[32] = 2;
        let e = WavReader::new()
            .read_bytes(&bytes, "f.wav")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.wav (whole file): expected"), "{e}");
    }

    #[test]
    fn empty_file_and_missing_file_are_errors() {
        assert!(
            WavReader::new()
                .read_bytes(b"", "e.wav")
                .unwrap_err()
                .to_string()
                .contains("e.wav")
        );
        assert!(WavReader::new().read("/nonexistent/a.wav").is_err());
    }
}
