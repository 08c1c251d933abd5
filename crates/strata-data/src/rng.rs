//! The seeded shuffles of this crate (loader epochs, dataset splits). A SplitMix64 stream
//! driving a Fisher–Yates shuffle: small, fast, and fixed by this file rather than by a
//! dependency's version, so an order recorded today (a checkpoint's epoch, a split) is the
//! same order on every later build and platform.

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit counter through a strong mixing function.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The stream seeded by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The stream of `seed` for round `round` (an epoch): each pair gives an unrelated stream.
    pub(crate) fn for_round(seed: u64, round: u64) -> Self {
        SplitMix64::new(mix(seed ^ mix(round.wrapping_add(0x5851_F42D_4C95_7F2D))))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in `0..bound` (`bound > 0`), by Lemire's multiply-and-reject, without bias.
    fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let wide = u128::from(self.next_u64()) * u128::from(bound);
            if (wide as u64) >= threshold {
                return (wide >> 64) as u64;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates): every permutation equally likely.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_values_match_the_published_splitmix64_sequence() {
        // Reference outputs of SplitMix64 seeded with 1234567 (from the reference C code).
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }

    #[test]
    fn shuffle_is_a_permutation_and_reproducible() {
        let mut a: Vec<u32> = (0..100).collect();
        let mut b = a.clone();
        SplitMix64::for_round(7, 3).shuffle(&mut a);
        SplitMix64::for_round(7, 3).shuffle(&mut b);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn rounds_give_different_orders() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        SplitMix64::for_round(7, 0).shuffle(&mut a);
        SplitMix64::for_round(7, 1).shuffle(&mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = SplitMix64::new(42);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.below(3) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
