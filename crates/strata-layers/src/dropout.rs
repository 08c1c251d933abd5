//! `Dropout`: inverted dropout in training, the identity in evaluation.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use strata_backend::random::derive_seed;
use strata_core::{Error, Param, Result, Tensor};

use crate::module::{BuildContext, LayerConfig, Mode, Module, check_rng_state_len};

/// The settings of a [`Dropout`] layer (`type = "dropout"` in a config): the drop
/// probability `p`, which must be in `[0, 1)` (checked at build).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutConfig {
    /// The drop probability.
    pub p: f32,
}

impl LayerConfig for DropoutConfig {
    type Layer = Dropout;

    fn build(&self, _input: &[usize], ctx: &mut BuildContext) -> Result<Dropout> {
        if !(0.0..1.0).contains(&self.p) {
            return Err(Error::invalid(
                format!("Dropout({})", self.p),
                format!("p must be in [0, 1); got {}", self.p),
            ));
        }
        Ok(Dropout {
            p: self.p,
            base_seed: AtomicU64::new(ctx.next_seed()),
            calls: AtomicU64::new(0),
        })
    }
}

/// Zeroes each element with probability `p` during training and scales the others by
/// `1 / (1 − p)`, so evaluation (the identity) needs no rescaling. Built from a
/// [`DropoutConfig`] (`Dropout::new(0.2)`).
///
/// Masks are reproducible: the layer takes a base seed from the [`BuildContext`] and counts its
/// training forwards; the `n`-th forward draws its mask from the stream
/// `derive_seed(base, n)`. Every forward draws a fresh mask, and a run with the same seed
/// draws the same masks on every device. [`Dropout::seed_state`] and
/// [`Dropout::set_seed_state`] save and restore the counter; [`Module::rng_state`] saves the
/// base seed and the counter, so a checkpoint restores the masks even into a layer built from
/// another seed.
#[derive(Debug)]
pub struct Dropout {
    p: f32,
    // Atomic so that `Module::set_rng_state` (a `&self` method) can restore it.
    base_seed: AtomicU64,
    calls: AtomicU64,
}

impl Dropout {
    /// The config of dropout with drop probability `p`, which must be in `[0, 1)` (checked at
    /// build).
    // The Keras spelling users look for; the built layer comes from `LayerConfig::build`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(p: f32) -> DropoutConfig {
        DropoutConfig { p }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// The number of training forwards so far: the next mask's stream number.
    pub fn seed_state(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Sets the stream number of the next mask (restoring a checkpoint, or replaying a mask).
    pub fn set_seed_state(&self, state: u64) {
        self.calls.store(state, Ordering::Relaxed);
    }
}

impl Module for Dropout {
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        if !mode.is_train() {
            return Ok(x.clone());
        }
        let base = self.base_seed.load(Ordering::Relaxed);
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        x.dropout(self.p, derive_seed(base, call))
    }

    fn parameters(&self) -> Vec<Param> {
        Vec::new()
    }

    fn kind(&self) -> String {
        format!("Dropout({})", self.p)
    }

    /// `[base seed, counter]`.
    fn rng_state(&self) -> Vec<u64> {
        vec![self.base_seed.load(Ordering::Relaxed), self.seed_state()]
    }

    fn set_rng_state(&self, state: &[u64]) -> Result<()> {
        check_rng_state_len(&self.kind(), 2, state)?;
        self.base_seed.store(state[0], Ordering::Relaxed);
        self.set_seed_state(state[1]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Device;

    fn built(p: f32, seed: u64) -> Dropout {
        Dropout::new(p)
            .build(&[100], &mut BuildContext::new(Device::best(), seed))
            .unwrap()
    }

    fn ones() -> Tensor {
        Tensor::ones([4, 100], &Device::best()).unwrap()
    }

    #[test]
    fn eval_mode_is_the_identity() {
        let d = built(0.5, 1);
        assert_eq!(
            d.forward(&ones(), Mode::Eval).unwrap().to_vec().unwrap(),
            vec![1.0; 400]
        );
        assert_eq!(d.seed_state(), 0);
    }

    #[test]
    fn train_mode_drops_about_p_and_scales_the_rest() {
        let y = built(0.25, 1)
            .forward(&ones(), Mode::Train)
            .unwrap()
            .to_vec()
            .unwrap();
        let kept = y.iter().filter(|&&v| v != 0.0).count();
        assert!((250..350).contains(&kept), "kept {kept} of 400");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    }

    #[test]
    fn each_forward_draws_a_fresh_mask() {
        let d = built(0.5, 1);
        let a = d.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap();
        let b = d.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap();
        assert_ne!(a, b);
        assert_eq!(d.seed_state(), 2);
    }

    #[test]
    fn masks_repeat_with_the_same_seed_and_seed_state() {
        let (a, b) = (built(0.5, 7), built(0.5, 7));
        let ya = a.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap();
        let yb = b.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap();
        assert_eq!(ya, yb);
        a.set_seed_state(0);
        assert_eq!(
            a.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap(),
            ya
        );
    }

    #[test]
    fn rng_state_carries_the_masks_into_a_layer_built_from_another_seed() {
        let (a, b) = (built(0.5, 7), built(0.5, 8));
        a.forward(&ones(), Mode::Train).unwrap();
        b.set_rng_state(&a.rng_state()).unwrap();
        assert_eq!(
            a.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap(),
            b.forward(&ones(), Mode::Train).unwrap().to_vec().unwrap()
        );
        assert!(b.set_rng_state(&[1]).is_err());
    }

    #[test]
    fn p_outside_zero_one_is_rejected_at_build() {
        for p in [1.0, -0.1, f32::NAN] {
            let e = Dropout::new(p)
                .build(&[3], &mut BuildContext::new(Device::best(), 0))
                .unwrap_err()
                .to_string();
            assert!(e.contains("[0, 1)"), "{e}");
        }
    }

    #[test]
    fn each_build_draws_its_base_seed_from_the_context() {
        let mut ctx = BuildContext::new(Device::best(), 3);
        let (a, b) = (
            Dropout::new(0.5).build(&[3], &mut ctx).unwrap(),
            Dropout::new(0.5).build(&[3], &mut ctx).unwrap(),
        );
        assert_ne!(a.rng_state()[0], b.rng_state()[0]);
        assert_eq!((a.rng_state()[1], b.rng_state()[1]), (0, 0));
    }
}
