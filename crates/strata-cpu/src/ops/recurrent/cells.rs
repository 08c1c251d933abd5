//! The fused cell kernels of one batch row and one step: the LSTM row forward and backward
//! (AVX-512 or AVX2 builds chosen at run time, all giving the same bits) and the tanh map.

use crate::math::{exp, sigmoid};
use crate::simd::multiversion;

/// `tanh(x) = 1 − 2 / (e^{2x} + 1)`, through the vectorizable `exp` (saturates cleanly).
#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

multiversion! {
    /// `tanh` of every element, in place.
    fn tanh_in_place / tanh_in_place_baseline(a: &mut [f32]) {
        a.iter_mut().for_each(|v| *v = tanh(*v));
    }
}

/// `tanh` of every element of a tanh cell's row, in place.
pub(super) fn tanh_row(a: &mut [f32]) {
    tanh_in_place(a);
}

multiversion! {
    /// One LSTM row forward: activates the gates `a` (`[i, f, g, o]`, `h` each) in place,
    /// keeps the previous cell state in `cprev`, updates `c` to `f·c + i·g`, writes
    /// `tanh(c)` to `tc` and `o·tanh(c)` to `hrow`.
    fn lstm_forward_row / lstm_forward_row_baseline(
        a: &mut [f32],
        c: &mut [f32],
        cprev: &mut [f32],
        tc: &mut [f32],
        hrow: &mut [f32],
    ) {
        let h = c.len();
        a[..2 * h].iter_mut().for_each(|v| *v = sigmoid(*v));
        a[2 * h..3 * h].iter_mut().for_each(|v| *v = tanh(*v));
        a[3 * h..4 * h].iter_mut().for_each(|v| *v = sigmoid(*v));
        cprev[..h].copy_from_slice(c);
        let (ai, af, ag, ao) = (&a[..h], &a[h..2 * h], &a[2 * h..3 * h], &a[3 * h..4 * h]);
        for (((cv, &i), &f), &gg) in c.iter_mut().zip(ai).zip(af).zip(ag) {
            *cv = f * *cv + i * gg;
        }
        for (t, &cv) in tc[..h].iter_mut().zip(c.iter()) {
            *t = tanh(cv);
        }
        for ((hv, &o), &t) in hrow[..h].iter_mut().zip(ao).zip(tc[..h].iter()) {
            *hv = o * t;
        }
    }
}

/// [`lstm_forward_row`], compiled with AVX-512F when the CPU has it (16 floats a vector
/// instead of 8: the same operations in the same order, so the same bits).
pub(super) fn lstm_forward_row_wide(
    a: &mut [f32],
    c: &mut [f32],
    cprev: &mut [f32],
    tc: &mut [f32],
    hrow: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512(a: &mut [f32], c: &mut [f32], p: &mut [f32], tc: &mut [f32], h: &mut [f32]) {
            lstm_forward_row_baseline(a, c, p, tc, h);
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked on the line above.
            unsafe { avx512(a, c, cprev, tc, hrow) };
            return;
        }
    }
    lstm_forward_row(a, c, cprev, tc, hrow);
}

/// [`lstm_backward_row`], compiled with AVX-512F when the CPU has it (same bits).
pub(super) fn lstm_backward_row_wide(
    gates: [&[f32]; 4],
    cprev: &[f32],
    tc: &[f32],
    dy: &[f32],
    dh: &mut [f32],
    dc: &mut [f32],
    dgates: [&mut [f32]; 4],
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512(
            gates: [&[f32]; 4],
            cprev: &[f32],
            tc: &[f32],
            dy: &[f32],
            dh: &mut [f32],
            dc: &mut [f32],
            dgates: [&mut [f32]; 4],
        ) {
            lstm_backward_row_baseline(gates, cprev, tc, dy, dh, dc, dgates);
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked on the line above.
            unsafe { avx512(gates, cprev, tc, dy, dh, dc, dgates) };
            return;
        }
    }
    lstm_backward_row(gates, cprev, tc, dy, dh, dc, dgates);
}

multiversion! {
    /// One LSTM row backward: from the activated gates, the previous cell state, `tanh(c)`,
    /// the output gradient `dy` and the carried `dh`/`dc`, writes the four pre-activation gate
    /// gradients, carries `dc` back one step and clears `dh` (refilled by the recurrent GEMM).
    fn lstm_backward_row / lstm_backward_row_baseline(
        gates: [&[f32]; 4],
        cprev: &[f32],
        tc: &[f32],
        dy: &[f32],
        dh: &mut [f32],
        dc: &mut [f32],
        dgates: [&mut [f32]; 4],
    ) {
        let h = dc.len();
        // Every slice cut to exactly `h` so the loop runs without bounds checks.
        let [ai, af, ag, ao] = gates.map(|g| &g[..h]);
        let (cprev, tc, dy, dh) = (&cprev[..h], &tc[..h], &dy[..h], &mut dh[..h]);
        let [dgi, dgf, dgg, dgo] = dgates;
        let (dgi, dgf, dgg, dgo) = (&mut dgi[..h], &mut dgf[..h], &mut dgg[..h], &mut dgo[..h]);
        for j in 0..h {
            let (i, f, g, og) = (ai[j], af[j], ag[j], ao[j]);
            let dt = dh[j] + dy[j];
            let dcc = dc[j] + dt * og * (1.0 - tc[j] * tc[j]);
            dgi[j] = dcc * g * i * (1.0 - i);
            dgf[j] = dcc * cprev[j] * f * (1.0 - f);
            dgg[j] = dcc * i * (1.0 - g * g);
            dgo[j] = dt * tc[j] * og * (1.0 - og);
            dc[j] = dcc * f;
            dh[j] = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatched_and_baseline_lstm_rows_agree_bitwise() {
        let h = 37;
        let vals = |n: usize, k: f32| {
            (0..n)
                .map(|i| (i as f32 * k).sin() * 3.0)
                .collect::<Vec<f32>>()
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        type Fwd = fn(&mut [f32], &mut [f32], &mut [f32], &mut [f32], &mut [f32]);
        let run = |fwd: Fwd| {
            let (mut a, mut c) = (vals(4 * h, 0.37), vals(h, 0.91));
            let (mut cprev, mut tc, mut hrow) = (vec![0.0; h], vec![0.0; h], vec![0.0; h]);
            fwd(&mut a, &mut c, &mut cprev, &mut tc, &mut hrow);
            [a, c, cprev, tc, hrow].map(|v| bits(&v))
        };
        assert_eq!(run(lstm_forward_row), run(lstm_forward_row_baseline));
        assert_eq!(run(lstm_forward_row_wide), run(lstm_forward_row_baseline));
        type Bwd = fn([&[f32]; 4], &[f32], &[f32], &[f32], &mut [f32], &mut [f32], [&mut [f32]; 4]);
        let run_back = |bwd: Bwd| {
            let a = vals(4 * h, 0.23)
                .iter()
                .map(|v| sigmoid(*v))
                .collect::<Vec<f32>>();
            let (cprev, tc, dy) = (
                vals(h, 0.5),
                vals(h, 0.7).iter().map(|v| tanh(*v)).collect::<Vec<_>>(),
                vals(h, 1.3),
            );
            let (mut dh, mut dc, mut dg) = (vals(h, 0.11), vals(h, 0.19), vec![0.0; 4 * h]);
            let (d0, rest) = dg.split_at_mut(h);
            let (d1, rest) = rest.split_at_mut(h);
            let (d2, d3) = rest.split_at_mut(h);
            bwd(
                [&a[..h], &a[h..2 * h], &a[2 * h..3 * h], &a[3 * h..]],
                &cprev,
                &tc,
                &dy,
                &mut dh,
                &mut dc,
                [d0, d1, d2, d3],
            );
            [dh, dc, dg].map(|v| bits(&v))
        };
        assert_eq!(
            run_back(lstm_backward_row),
            run_back(lstm_backward_row_baseline)
        );
        assert_eq!(
            run_back(lstm_backward_row_wide),
            run_back(lstm_backward_row_baseline)
        );
    }
}
