//! Augmentations: random changes to one sample's features, applied by the
//! [`crate::DataLoader`] as it assembles a batch (on its worker thread when prefetching).
//!
//! Each sample draws from its own stream, fixed by the loader's seed, the epoch and the
//! sample's place in the epoch, so a run is reproducible whether or not it prefetches.

use std::fmt::Debug;

use crate::rng::SplitMix64;

/// The random numbers one sample's augmentations draw from.
#[derive(Debug, Clone)]
pub struct SampleRng(SplitMix64);

impl SampleRng {
    /// The stream of `seed` for draw number `index` (a sample's place in an epoch).
    pub fn new(seed: u64, index: u64) -> Self {
        SampleRng(SplitMix64::for_round(seed, index))
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.0.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform integer in `low..=high` (`low <= high`).
    pub fn int_in(&mut self, low: i64, high: i64) -> i64 {
        let span = (high - low) as u64 + 1;
        low + ((u128::from(self.0.next_u64()) * u128::from(span)) >> 64) as i64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = ((self.0.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

/// A random change to one sample. `shape` is the sample's shape (no batch dimension);
/// `features` has its element count.
pub trait Augment: Send + Sync + Debug {
    /// Changes `features` in place.
    fn apply(&self, features: &mut [f32], shape: &[usize], rng: &mut SampleRng);
}

/// Height and width of an image sample `[H, W]` or `[C, H, W]` (the last two dimensions).
fn image_dims(shape: &[usize]) -> Option<(usize, usize)> {
    match shape {
        [.., h, w] => Some((*h, *w)),
        _ => None,
    }
}

/// Pads an image by `padding` zeros on every side and crops a random window of the original
/// size back out (the CIFAR recipe): a random shift of up to `padding` pixels each way.
/// Samples of fewer than two dimensions are left alone.
#[derive(Debug, Clone, Copy)]
pub struct RandomCrop {
    /// Zeros added on each side before cropping.
    pub padding: usize,
}

impl Augment for RandomCrop {
    fn apply(&self, features: &mut [f32], shape: &[usize], rng: &mut SampleRng) {
        let Some((h, w)) = image_dims(shape) else {
            return;
        };
        let p = self.padding as i64;
        let (dy, dx) = (rng.int_in(-p, p), rng.int_in(-p, p));
        for plane in features.chunks_exact_mut((h * w).max(1)) {
            let src = plane.to_vec();
            for y in 0..h {
                for x in 0..w {
                    let (sy, sx) = (y as i64 + dy, x as i64 + dx);
                    plane[y * w + x] = if (0..h as i64).contains(&sy) && (0..w as i64).contains(&sx)
                    {
                        src[sy as usize * w + sx as usize]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// Mirrors an image left-right with `probability`. Samples of fewer than two dimensions are
/// left alone.
#[derive(Debug, Clone, Copy)]
pub struct HorizontalFlip {
    /// Chance of a flip, 0-1.
    pub probability: f32,
}

impl Augment for HorizontalFlip {
    fn apply(&self, features: &mut [f32], shape: &[usize], rng: &mut SampleRng) {
        let Some((_, w)) = image_dims(shape) else {
            return;
        };
        if w == 0 || rng.uniform() >= self.probability {
            return;
        }
        for row in features.chunks_exact_mut(w) {
            row.reverse();
        }
    }
}

/// Adds independent Gaussian noise of standard deviation `std` to every value.
#[derive(Debug, Clone, Copy)]
pub struct GaussianNoise {
    /// Standard deviation of the noise.
    pub std: f32,
}

impl Augment for GaussianNoise {
    fn apply(&self, features: &mut [f32], _shape: &[usize], rng: &mut SampleRng) {
        for v in features {
            *v += self.std * rng.normal();
        }
    }
}

/// Shifts a signal along its last dimension by a random whole number of samples in
/// `-max_shift..=max_shift`, filling the gap with zeros (audio time shift).
#[derive(Debug, Clone, Copy)]
pub struct TimeShift {
    /// Largest shift either way, in samples.
    pub max_shift: usize,
}

impl Augment for TimeShift {
    fn apply(&self, features: &mut [f32], shape: &[usize], rng: &mut SampleRng) {
        let len = shape.last().copied().unwrap_or(features.len());
        if len == 0 {
            return;
        }
        let m = self.max_shift.min(len) as i64;
        let shift = rng.int_in(-m, m);
        for track in features.chunks_exact_mut(len) {
            let src = track.to_vec();
            for (i, v) in track.iter_mut().enumerate() {
                let s = i as i64 - shift;
                *v = if (0..len as i64).contains(&s) {
                    src[s as usize]
                } else {
                    0.0
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_with_zero_padding_is_the_identity_and_shifts_stay_in_range() {
        let img: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let mut x = img.clone();
        RandomCrop { padding: 0 }.apply(&mut x, &[1, 3, 4], &mut SampleRng::new(1, 0));
        assert_eq!(x, img);
        for i in 0..20 {
            let mut x = img.clone();
            RandomCrop { padding: 1 }.apply(&mut x, &[3, 4], &mut SampleRng::new(1, i));
            // Every kept value is an original pixel; zeros fill at most one row and column.
            assert!(x.iter().all(|v| img.contains(v)));
            assert!(x.iter().filter(|&&v| v != 0.0).count() >= 5);
        }
    }

    #[test]
    fn flip_reverses_each_row_when_it_fires() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        HorizontalFlip { probability: 1.0 }.apply(&mut x, &[2, 3], &mut SampleRng::new(0, 0));
        assert_eq!(x, vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        HorizontalFlip { probability: 0.0 }.apply(&mut x, &[2, 3], &mut SampleRng::new(0, 0));
        assert_eq!(x, vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
    }

    #[test]
    fn noise_has_the_asked_deviation() {
        let mut x = vec![0.0f32; 20_000];
        GaussianNoise { std: 0.5 }.apply(&mut x, &[20_000], &mut SampleRng::new(3, 0));
        let mean = x.iter().sum::<f32>() / x.len() as f32;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / x.len() as f32;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.02, "{}", var.sqrt());
    }

    #[test]
    fn time_shift_moves_the_signal_and_zero_fills() {
        let signal = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..50 {
            let mut x = signal.clone();
            TimeShift { max_shift: 2 }.apply(&mut x, &[5], &mut SampleRng::new(9, i));
            let shift = (0..=2)
                .map(|s| s as i64)
                .chain([-1, -2])
                .find(|&s| {
                    (0..5).all(|j: i64| {
                        let src = j - s;
                        x[j as usize]
                            == if (0..5).contains(&src) {
                                signal[src as usize]
                            } else {
                                0.0
                            }
                    })
                })
                .expect("a shift within ±2");
            seen.insert(shift);
        }
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn sample_streams_are_reproducible_and_in_range() {
        let mut a = SampleRng::new(5, 7);
        let mut b = SampleRng::new(5, 7);
        for _ in 0..100 {
            let u = a.uniform();
            assert_eq!(u, b.uniform());
            assert!((0.0..1.0).contains(&u));
            let k = a.int_in(-3, 3);
            assert_eq!(k, b.int_in(-3, 3));
            assert!((-3..=3).contains(&k));
        }
    }
}
