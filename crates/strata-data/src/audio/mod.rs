//! Audio: WAV files into mono `f32` signals at a chosen rate (`wav`, `resample`), and the
//! features a classifier reads (`spectrum`: framing, windows, power spectrogram; `mel`: mel
//! filterbank and MFCC, matching librosa's conventions). Host-side only.

mod mel;
mod resample;
mod spectrum;
mod wav;

pub use mel::{Mfcc, mel_filterbank};
pub use resample::resample;
pub use spectrum::{Spectrogram, Window, frames, power_spectrogram};
pub use wav::{Audio, WavReader};
