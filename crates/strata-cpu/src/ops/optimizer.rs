//! Fused optimizer steps: one loop over a parameter, its gradient and its state, following the
//! single-tensor algorithms of `torch.optim` operation for operation.
//!
//! Scalars PyTorch computes in Python (bias corrections, step sizes) are computed here in
//! `f64` and rounded to `f32` once, as PyTorch does when it passes them to its kernels. Flags
//! that change the loop body (weight decay, momentum, Nesterov) are const generics, so every
//! variant is a branch-free loop; each step is a `simd::multiversion!` kernel.

use strata_backend::{
    AdagradSpec, AdamSpec, BackendError, OptimizerOps, Result, RmspropSpec, SgdSpec,
};

use crate::check::invalid;
use crate::simd::multiversion;
use crate::{CpuBackend, CpuBuffer, parallel};

/// `grad + weight_decay · param` when `WD` (PyTorch's `grad.add(param, alpha=wd)`).
#[inline(always)]
fn decayed<const WD: bool>(g: f32, p: f32, wd: f32) -> f32 {
    if WD { g + wd * p } else { g }
}

/// PyTorch's `lerp(start, end, w)` as its CPU kernel computes it.
#[inline(always)]
fn lerp(start: f32, end: f32, w: f32) -> f32 {
    if w < 0.5 {
        start + w * (end - start)
    } else {
        end - (end - start) * (1.0 - w)
    }
}

fn check_state(op: &'static str, param: &CpuBuffer, others: &[usize]) -> Result<()> {
    others
        .iter()
        .try_for_each(|&n| BackendError::check_len(op, param.len(), n))
}

fn check_step(op: &'static str, step: u64) -> Result<()> {
    if step == 0 {
        Err(invalid(op, "step numbers start at 1".to_string()))
    } else {
        Ok(())
    }
}

#[inline(always)]
fn sgd_plain<const WD: bool>(p: &mut [f32], g: &[f32], s: &SgdSpec) {
    for (p, &g) in p.iter_mut().zip(g) {
        *p += -s.lr * decayed::<WD>(g, *p, s.weight_decay);
    }
}

#[inline(always)]
fn sgd_momentum<const WD: bool, const FIRST: bool, const NESTEROV: bool>(
    p: &mut [f32],
    g: &[f32],
    buf: &mut [f32],
    s: &SgdSpec,
) {
    let damp = (1.0 - s.dampening as f64) as f32;
    for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
        let g = decayed::<WD>(g, *p, s.weight_decay);
        *b = if FIRST { g } else { *b * s.momentum + damp * g };
        let step = if NESTEROV { g + s.momentum * *b } else { *b };
        *p += -s.lr * step;
    }
}

#[inline(always)]
fn adam<const L2: bool>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], s: &AdamSpec) {
    let shrink = if s.decoupled_weight_decay {
        (1.0 - s.lr as f64 * s.weight_decay as f64) as f32
    } else {
        1.0
    };
    let w1 = (1.0 - s.beta1 as f64) as f32;
    let w2 = (1.0 - s.beta2 as f64) as f32;
    let bias_c1 = 1.0 - (s.beta1 as f64).powf(s.step as f64);
    let bias_c2 = 1.0 - (s.beta2 as f64).powf(s.step as f64);
    let neg_step_size = (-(s.lr as f64) / bias_c1) as f32;
    let bias_c2_sqrt = bias_c2.sqrt() as f32;
    for ((p, &g), (m, v)) in p.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut())) {
        let g = decayed::<L2>(g, *p, s.weight_decay);
        *p *= shrink;
        *m = lerp(*m, g, w1);
        *v = *v * s.beta2 + w2 * g * g;
        let denom = v.sqrt() / bias_c2_sqrt + s.eps;
        *p += neg_step_size * *m / denom;
    }
}

#[inline(always)]
fn rmsprop<const WD: bool, const MOMENTUM: bool>(
    p: &mut [f32],
    g: &[f32],
    sq: &mut [f32],
    buf: &mut [f32],
    s: &RmspropSpec,
) {
    let w = (1.0 - s.alpha as f64) as f32;
    let param_state = p.iter_mut().zip(g).zip(sq.iter_mut());
    if MOMENTUM {
        for (((p, &g), sq), b) in param_state.zip(buf.iter_mut()) {
            let g = decayed::<WD>(g, *p, s.weight_decay);
            *sq = *sq * s.alpha + w * g * g;
            let avg = sq.sqrt() + s.eps;
            *b = *b * s.momentum + g / avg;
            *p += -s.lr * *b;
        }
    } else {
        for ((p, &g), sq) in param_state {
            let g = decayed::<WD>(g, *p, s.weight_decay);
            *sq = *sq * s.alpha + w * g * g;
            let avg = sq.sqrt() + s.eps;
            *p += -s.lr * g / avg;
        }
    }
}

#[inline(always)]
fn adagrad<const WD: bool>(p: &mut [f32], g: &[f32], sum: &mut [f32], s: &AdagradSpec) {
    let clr = s.lr as f64 / (1.0 + (s.step - 1) as f64 * s.lr_decay as f64);
    let neg_clr = (-clr) as f32;
    for ((p, &g), sum) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
        let g = decayed::<WD>(g, *p, s.weight_decay);
        *sum += g * g;
        let std = sum.sqrt() + s.eps;
        *p += neg_clr * g / std;
    }
}

multiversion! {
    /// One SGD step; `buf` is the velocity (ignored without momentum).
    fn sgd_kernel / sgd_kernel_baseline(p: &mut [f32], g: &[f32], buf: &mut [f32], s: &SgdSpec) {
        let wd = s.weight_decay != 0.0;
        match (s.momentum != 0.0, wd, s.first_step, s.nesterov) {
            (false, false, _, _) => sgd_plain::<false>(p, g, s),
            (false, true, _, _) => sgd_plain::<true>(p, g, s),
            (true, false, false, false) => sgd_momentum::<false, false, false>(p, g, buf, s),
            (true, false, false, true) => sgd_momentum::<false, false, true>(p, g, buf, s),
            (true, false, true, false) => sgd_momentum::<false, true, false>(p, g, buf, s),
            (true, false, true, true) => sgd_momentum::<false, true, true>(p, g, buf, s),
            (true, true, false, false) => sgd_momentum::<true, false, false>(p, g, buf, s),
            (true, true, false, true) => sgd_momentum::<true, false, true>(p, g, buf, s),
            (true, true, true, false) => sgd_momentum::<true, true, false>(p, g, buf, s),
            (true, true, true, true) => sgd_momentum::<true, true, true>(p, g, buf, s),
        }
    }
}

multiversion! {
    /// One Adam/AdamW step.
    fn adam_kernel / adam_kernel_baseline(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], s: &AdamSpec) {
        if !s.decoupled_weight_decay && s.weight_decay != 0.0 {
            adam::<true>(p, g, m, v, s);
        } else {
            adam::<false>(p, g, m, v, s);
        }
    }
}

multiversion! {
    /// One RMSprop step; `buf` is the momentum buffer (ignored without momentum).
    fn rmsprop_kernel / rmsprop_kernel_baseline(p: &mut [f32], g: &[f32], sq: &mut [f32], buf: &mut [f32], s: &RmspropSpec) {
        match (s.weight_decay != 0.0, s.momentum != 0.0) {
            (false, false) => rmsprop::<false, false>(p, g, sq, buf, s),
            (false, true) => rmsprop::<false, true>(p, g, sq, buf, s),
            (true, false) => rmsprop::<true, false>(p, g, sq, buf, s),
            (true, true) => rmsprop::<true, true>(p, g, sq, buf, s),
        }
    }
}

multiversion! {
    /// One Adagrad step.
    fn adagrad_kernel / adagrad_kernel_baseline(p: &mut [f32], g: &[f32], sum: &mut [f32], s: &AdagradSpec) {
        if s.weight_decay != 0.0 {
            adagrad::<true>(p, g, sum, s);
        } else {
            adagrad::<false>(p, g, sum, s);
        }
    }
}

multiversion! {
    /// `x = clamp(x, −limit, limit)`, with NaN passing through as in PyTorch.
    fn clamp_kernel / clamp_kernel_baseline(x: &mut [f32], limit: f32) {
        for v in x.iter_mut() {
            *v = if *v < -limit {
                -limit
            } else if *v > limit {
                limit
            } else {
                *v
            };
        }
    }
}

/// The state buffer a momentum variant needs, checked, or an empty slice when it has none.
fn momentum_state<'a>(
    op: &'static str,
    momentum: f32,
    buf: Option<&'a mut CpuBuffer>,
    len: usize,
) -> Result<&'a mut [f32]> {
    if momentum == 0.0 {
        return Ok(&mut []);
    }
    let Some(buf) = buf else {
        return Err(invalid(
            op,
            "momentum is set but no momentum buffer was given".to_string(),
        ));
    };
    BackendError::check_len(op, len, buf.len())?;
    Ok(buf.as_mut_slice())
}

impl OptimizerOps for CpuBackend {
    fn sgd_step(
        &self,
        param: &mut CpuBuffer,
        grad: &CpuBuffer,
        velocity: Option<&mut CpuBuffer>,
        spec: SgdSpec,
    ) -> Result<()> {
        check_state("sgd_step", param, &[grad.len()])?;
        let buf = momentum_state("sgd_step", spec.momentum, velocity, param.len())?;
        sgd_kernel(param.as_mut_slice(), grad.as_slice(), buf, &spec);
        Ok(())
    }

    fn adam_step(
        &self,
        param: &mut CpuBuffer,
        grad: &CpuBuffer,
        m: &mut CpuBuffer,
        v: &mut CpuBuffer,
        spec: AdamSpec,
    ) -> Result<()> {
        check_state("adam_step", param, &[grad.len(), m.len(), v.len()])?;
        check_step("adam_step", spec.step)?;
        // Elementwise: big parameters (an embedding table) are split across the threads.
        let chunk = parallel::chunk_len(param.len(), 4);
        let parts = param
            .as_mut_slice()
            .chunks_mut(chunk)
            .zip(grad.as_slice().chunks(chunk))
            .zip(m.as_mut_slice().chunks_mut(chunk))
            .zip(v.as_mut_slice().chunks_mut(chunk));
        parallel::run_each(parts, |(((p, g), m), v)| adam_kernel(p, g, m, v, &spec));
        Ok(())
    }

    fn rmsprop_step(
        &self,
        param: &mut CpuBuffer,
        grad: &CpuBuffer,
        square_avg: &mut CpuBuffer,
        momentum_buf: Option<&mut CpuBuffer>,
        spec: RmspropSpec,
    ) -> Result<()> {
        check_state("rmsprop_step", param, &[grad.len(), square_avg.len()])?;
        let buf = momentum_state("rmsprop_step", spec.momentum, momentum_buf, param.len())?;
        rmsprop_kernel(
            param.as_mut_slice(),
            grad.as_slice(),
            square_avg.as_mut_slice(),
            buf,
            &spec,
        );
        Ok(())
    }

    fn adagrad_step(
        &self,
        param: &mut CpuBuffer,
        grad: &CpuBuffer,
        sum: &mut CpuBuffer,
        spec: AdagradSpec,
    ) -> Result<()> {
        check_state("adagrad_step", param, &[grad.len(), sum.len()])?;
        check_step("adagrad_step", spec.step)?;
        adagrad_kernel(
            param.as_mut_slice(),
            grad.as_slice(),
            sum.as_mut_slice(),
            &spec,
        );
        Ok(())
    }

    fn scale_in_place(&self, x: &mut CpuBuffer, s: f32) -> Result<()> {
        for v in x.as_mut_slice() {
            *v *= s;
        }
        Ok(())
    }

    fn clamp_in_place(&self, x: &mut CpuBuffer, limit: f32) -> Result<()> {
        if limit.is_nan() || limit < 0.0 {
            return Err(invalid(
                "clamp_in_place",
                format!("limit {limit} must be non-negative"),
            ));
        }
        clamp_kernel(x.as_mut_slice(), limit);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> CpuBackend {
        CpuBackend::new()
    }

    fn buf(v: &[f32]) -> CpuBuffer {
        CpuBuffer::from_vec(v.to_vec())
    }

    fn assert_close(got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                (*g as f64 - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    }

    fn sgd(lr: f32) -> SgdSpec {
        SgdSpec {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            first_step: true,
        }
    }

    fn adam_spec(step: u64) -> AdamSpec {
        AdamSpec {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            step,
        }
    }

    #[test]
    fn sgd_step_subtracts_learning_rate_times_gradient() {
        let mut p = buf(&[1.0, -2.0]);
        cpu()
            .sgd_step(&mut p, &buf(&[0.5, 0.25]), None, sgd(0.1))
            .unwrap();
        assert_close(p.as_slice(), &[0.95, -2.025]);
    }

    #[test]
    fn sgd_weight_decay_is_added_to_the_gradient() {
        let mut p = buf(&[1.0, -2.0]);
        let spec = SgdSpec {
            weight_decay: 0.1,
            ..sgd(0.1)
        };
        cpu()
            .sgd_step(&mut p, &buf(&[0.5, 0.25]), None, spec)
            .unwrap();
        assert_close(p.as_slice(), &[0.94, -2.005]);
    }

    #[test]
    fn sgd_momentum_starts_from_the_gradient_then_accumulates() {
        let mut p = buf(&[1.0]);
        let mut v = buf(&[123.0]);
        let spec = SgdSpec {
            momentum: 0.9,
            dampening: 0.5,
            ..sgd(0.1)
        };
        cpu()
            .sgd_step(&mut p, &buf(&[0.5]), Some(&mut v), spec)
            .unwrap();
        assert_close(v.as_slice(), &[0.5]);
        assert_close(p.as_slice(), &[0.95]);
        let spec = SgdSpec {
            first_step: false,
            ..spec
        };
        cpu()
            .sgd_step(&mut p, &buf(&[1.0]), Some(&mut v), spec)
            .unwrap();
        // buf = 0.9·0.5 + (1 − 0.5)·1 = 0.95; p = 0.95 − 0.1·0.95
        assert_close(v.as_slice(), &[0.95]);
        assert_close(p.as_slice(), &[0.855]);
    }

    #[test]
    fn sgd_nesterov_steps_along_gradient_plus_momentum() {
        let mut p = buf(&[1.0]);
        let mut v = buf(&[0.5]);
        let spec = SgdSpec {
            momentum: 0.9,
            nesterov: true,
            first_step: false,
            ..sgd(0.1)
        };
        cpu()
            .sgd_step(&mut p, &buf(&[1.0]), Some(&mut v), spec)
            .unwrap();
        // buf = 0.9·0.5 + 1 = 1.45; step = 1 + 0.9·1.45 = 2.305
        assert_close(v.as_slice(), &[1.45]);
        assert_close(p.as_slice(), &[1.0 - 0.2305]);
    }

    #[test]
    fn sgd_momentum_without_velocity_is_an_error() {
        let mut p = buf(&[1.0]);
        let spec = SgdSpec {
            momentum: 0.9,
            ..sgd(0.1)
        };
        assert!(cpu().sgd_step(&mut p, &buf(&[1.0]), None, spec).is_err());
        assert!(
            cpu()
                .sgd_step(&mut p, &buf(&[1.0, 2.0]), None, sgd(0.1))
                .is_err()
        );
    }

    #[test]
    fn adam_first_step_moves_by_learning_rate_along_gradient_sign() {
        let (mut p, mut m, mut v) = (buf(&[1.0, 1.0]), buf(&[0.0, 0.0]), buf(&[0.0, 0.0]));
        cpu()
            .adam_step(&mut p, &buf(&[0.5, -2.0]), &mut m, &mut v, adam_spec(1))
            .unwrap();
        assert_close(m.as_slice(), &[0.05, -0.2]);
        assert_close(v.as_slice(), &[0.00025, 0.004]);
        assert_close(p.as_slice(), &[0.9, 1.1]);
    }

    #[test]
    fn adam_second_step_matches_torch_formula() {
        let (mut p, mut m, mut v) = (buf(&[1.0]), buf(&[0.05]), buf(&[0.00025]));
        cpu()
            .adam_step(&mut p, &buf(&[0.3]), &mut m, &mut v, adam_spec(2))
            .unwrap();
        let m2: f64 = 0.9 * 0.05 + 0.1 * 0.3;
        let v2: f64 = 0.999 * 0.00025 + 0.001 * 0.09;
        let denom = v2.sqrt() / (1.0 - 0.999f64.powi(2)).sqrt() + 1e-8;
        let want = 1.0 - 0.1 / (1.0 - 0.81) * m2 / denom;
        assert_close(m.as_slice(), &[m2]);
        assert_close(v.as_slice(), &[v2]);
        assert_close(p.as_slice(), &[want]);
    }

    #[test]
    fn adam_l2_weight_decay_adds_to_the_gradient() {
        let (mut p, mut m, mut v) = (buf(&[1.0]), buf(&[0.0]), buf(&[0.0]));
        let spec = AdamSpec {
            weight_decay: 0.1,
            ..adam_spec(1)
        };
        cpu()
            .adam_step(&mut p, &buf(&[0.5]), &mut m, &mut v, spec)
            .unwrap();
        assert_close(m.as_slice(), &[0.06]);
        assert_close(p.as_slice(), &[0.9]);
    }

    #[test]
    fn adamw_decays_the_parameter_before_the_adam_update() {
        let (mut p, mut m, mut v) = (buf(&[1.0]), buf(&[0.0]), buf(&[0.0]));
        let spec = AdamSpec {
            weight_decay: 0.01,
            decoupled_weight_decay: true,
            ..adam_spec(1)
        };
        cpu()
            .adam_step(&mut p, &buf(&[0.5]), &mut m, &mut v, spec)
            .unwrap();
        assert_close(m.as_slice(), &[0.05]);
        assert_close(p.as_slice(), &[0.999 - 0.1]);
    }

    #[test]
    fn adam_rejects_step_zero_and_mismatched_state() {
        let (mut p, mut m, mut v) = (buf(&[1.0]), buf(&[0.0]), buf(&[0.0]));
        assert!(
            cpu()
                .adam_step(&mut p, &buf(&[0.5]), &mut m, &mut v, adam_spec(0))
                .is_err()
        );
        let mut short = buf(&[]);
        assert!(
            cpu()
                .adam_step(&mut p, &buf(&[0.5]), &mut m, &mut short, adam_spec(1))
                .is_err()
        );
    }

    #[test]
    fn rmsprop_divides_by_root_mean_square() {
        let (mut p, mut sq) = (buf(&[1.0]), buf(&[0.0]));
        let spec = RmspropSpec {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
        };
        cpu()
            .rmsprop_step(&mut p, &buf(&[0.5]), &mut sq, None, spec)
            .unwrap();
        assert_close(sq.as_slice(), &[0.0025]);
        assert_close(p.as_slice(), &[0.9]);
    }

    #[test]
    fn rmsprop_momentum_accumulates_scaled_gradients() {
        let (mut p, mut sq, mut b) = (buf(&[1.0]), buf(&[0.0]), buf(&[1.0]));
        let spec = RmspropSpec {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
            momentum: 0.9,
        };
        cpu()
            .rmsprop_step(&mut p, &buf(&[0.4]), &mut sq, Some(&mut b), spec)
            .unwrap();
        // g = 0.4 + 0.1 = 0.5; sq = 0.0025; avg = 0.05; buf = 0.9 + 10 = 10.9
        assert_close(b.as_slice(), &[10.9]);
        assert_close(p.as_slice(), &[1.0 - 0.109]);
        assert!(
            cpu()
                .rmsprop_step(&mut p, &buf(&[0.4]), &mut sq, None, spec)
                .is_err()
        );
    }

    #[test]
    fn adagrad_decays_learning_rate_with_step() {
        let (mut p, mut s) = (buf(&[1.0]), buf(&[0.0]));
        let spec = AdagradSpec {
            lr: 0.1,
            lr_decay: 0.5,
            weight_decay: 0.0,
            eps: 1e-10,
            step: 3,
        };
        cpu()
            .adagrad_step(&mut p, &buf(&[0.5]), &mut s, spec)
            .unwrap();
        // clr = 0.1 / (1 + 2·0.5) = 0.05; sum = 0.25; p = 1 − 0.05·0.5/0.5
        assert_close(s.as_slice(), &[0.25]);
        assert_close(p.as_slice(), &[0.95]);
    }

    #[test]
    fn dispatched_and_baseline_adam_agree_bitwise() {
        let g: Vec<f32> = (0..301).map(|i| (i as f32 - 150.0) * 0.013).collect();
        let (mut p1, mut m1, mut v1) = (vec![0.5f32; 301], vec![0.01f32; 301], vec![0.002f32; 301]);
        let (mut p2, mut m2, mut v2) = (p1.clone(), m1.clone(), v1.clone());
        let spec = AdamSpec {
            weight_decay: 0.1,
            ..adam_spec(3)
        };
        adam_kernel(&mut p1, &g, &mut m1, &mut v1, &spec);
        adam_kernel_baseline(&mut p2, &g, &mut m2, &mut v2, &spec);
        assert_eq!((p1, m1, v1), (p2, m2, v2));
    }

    #[test]
    fn scale_and_clamp_in_place() {
        let mut x = buf(&[-3.0, 0.5, 2.0, f32::NAN]);
        cpu().scale_in_place(&mut x, 2.0).unwrap();
        assert_eq!(&x.as_slice()[..3], &[-6.0, 1.0, 4.0]);
        cpu().clamp_in_place(&mut x, 1.5).unwrap();
        assert_eq!(&x.as_slice()[..3], &[-1.5, 1.0, 1.5]);
        assert!(x.as_slice()[3].is_nan());
        assert!(cpu().clamp_in_place(&mut x, -1.0).is_err());
    }
}
