//! The CPU's direct stride-1 convolution kernels (channel counts that are multiples of 16,
//! which the generated conformance cases, at most 9 channels, never reach) mirrored against
//! the f64 reference: forward, input, weight and bias gradients, on 1, 2 and 3 threads (in
//! its own test binary: it changes the process-wide thread count).

use strata_backend::{BufferOps, Conv2dSpec, ConvOps};
use strata_conformance::{Mirror, ReferenceBackend, Tolerances};
use strata_cpu::{CpuBackend, set_num_threads};

/// Deterministic values in [-0.8, 0.8).
fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 625.0 - 0.8)
        .collect()
}

/// Stride 1, one group; `[top, bottom, left, right]` padding and a dilation per axis.
fn spec(
    [batch, in_channels, in_h, in_w]: [usize; 4],
    out_channels: usize,
    [kernel_h, kernel_w]: [usize; 2],
    [pad_top, pad_bottom, pad_left, pad_right]: [usize; 4],
    [dilation_h, dilation_w]: [usize; 2],
) -> Conv2dSpec {
    Conv2dSpec {
        pad_top,
        pad_bottom,
        pad_left,
        pad_right,
        dilation_h,
        dilation_w,
        ..Conv2dSpec::new(
            [batch, in_channels, in_h, in_w],
            out_channels,
            [kernel_h, kernel_w],
        )
    }
}

#[test]
fn direct_kernels_match_the_reference_on_any_thread_count() {
    let mirror = Mirror::new(CpuBackend::new(), ReferenceBackend, Tolerances::default());
    let specs = [
        // The layer, on a smaller batch.
        spec([3, 32, 14, 14], 64, [3, 3], [1, 1, 1, 1], [1, 1]),
        // Odd sizes, 16 channels in, 48 out (neither a whole tile of 32), no padding.
        spec([2, 16, 9, 11], 48, [3, 3], [0, 0, 0, 0], [1, 1]),
        // Asymmetric padding, a rectangular kernel, dilation.
        spec([2, 32, 7, 12], 16, [2, 5], [1, 0, 2, 3], [2, 1]),
        // A 1x1 kernel with padding, and a one-row (conv1d) input.
        spec([2, 16, 5, 6], 32, [1, 1], [1, 1, 1, 1], [1, 1]),
        spec([4, 48, 1, 29], 16, [1, 5], [0, 0, 2, 2], [1, 1]),
        // Input channels not a multiple of 16 with output channels that are.
        spec([2, 5, 8, 8], 32, [3, 3], [1, 1, 1, 1], [1, 1]),
    ];
    for threads in [1, 2, 3] {
        set_num_threads(threads);
        for (k, s) in specs.iter().enumerate() {
            let what = format!("case {k} ({s:?}) on {threads} threads");
            let buf = |n: usize, seed: usize| mirror.from_host(&values(n, seed)).unwrap();
            let (x, w, b) = (
                buf(s.input_len(), 1),
                buf(s.weight_len(), 2),
                buf(s.out_channels, 3),
            );
            let dy = buf(s.output_len(), 4);
            mirror
                .conv2d(&x, &w, Some(&b), *s)
                .unwrap_or_else(|e| panic!("forward, {what}: {e}"));
            mirror
                .conv2d(&x, &w, None, *s)
                .unwrap_or_else(|e| panic!("forward without bias, {what}: {e}"));
            mirror
                .conv2d_backward_input(&dy, &w, *s)
                .unwrap_or_else(|e| panic!("input gradient, {what}: {e}"));
            mirror
                .conv2d_backward_weight(&x, &dy, *s)
                .unwrap_or_else(|e| panic!("weight gradient, {what}: {e}"));
            mirror
                .conv2d_backward_bias(&dy, *s)
                .unwrap_or_else(|e| panic!("bias gradient, {what}: {e}"));
        }
    }
}
