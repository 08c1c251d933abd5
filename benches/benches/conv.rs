//! Criterion benches of the CPU convolution alone, on the shape of
//! `../shared/bench/torch/micro_conv2d.py`: x 64x32x14x14, w 64x32x3x3, padding 1, stride 1.
//! Forward (with bias) and backward (input, weight and bias gradients, as PyTorch's
//! `convolution_backward`). `cargo bench -p strata-benches --bench conv`.

use criterion::{Criterion, criterion_group, criterion_main};
use strata_backend::{BufferOps, Conv2dSpec, ConvOps};
use strata_cpu::CpuBackend;

fn spec() -> Conv2dSpec {
    Conv2dSpec {
        batch: 64,
        in_channels: 32,
        in_h: 14,
        in_w: 14,
        out_channels: 64,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_top: 1,
        pad_bottom: 1,
        pad_left: 1,
        pad_right: 1,
        dilation_h: 1,
        dilation_w: 1,
        groups: 1,
    }
}

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 31 + seed * 17) % 97) as f32 - 48.0) * 0.01)
        .collect()
}

fn conv2d(c: &mut Criterion) {
    let cpu = CpuBackend::new();
    let s = spec();
    let upload = |n: usize, seed: usize| cpu.from_host(&values(n, seed)).expect("upload");
    let (x, w, b, dy) = (
        upload(s.input_len(), 1),
        upload(s.weight_len(), 2),
        upload(s.out_channels, 3),
        upload(s.output_len(), 4),
    );
    let mut group = c.benchmark_group("conv2d_64x32x14x14_k3x3x64_pad1");
    group.bench_function("forward", |bench| {
        bench.iter(|| cpu.conv2d(&x, &w, Some(&b), s).expect("conv2d"))
    });
    group.bench_function("backward", |bench| {
        bench.iter(|| {
            let dx = cpu
                .conv2d_backward_input(&dy, &w, s)
                .expect("backward input");
            let dw = cpu
                .conv2d_backward_weight(&x, &dy, s)
                .expect("backward weight");
            let db = cpu.conv2d_backward_bias(&dy, s).expect("backward bias");
            (dx, dw, db)
        })
    });
    group.finish();
}

criterion_group!(benches, conv2d);
criterion_main!(benches);
