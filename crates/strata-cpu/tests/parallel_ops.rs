//! The ops that split their loops across threads give bit-identical results on one and on
//! several threads, on inputs large enough to be split (in its own test binary: it changes
//! the process-wide thread count).

use strata_backend::{
    AdamSpec, BufferOps, Conv2dSpec, ConvOps, ElementwiseOps, OptimizerOps, Pool2dSpec, PoolOps,
    UnaryOp,
};
use strata_cpu::{CpuBackend, CpuBuffer, set_num_threads};

/// Deterministic values in [-1, 1) with exact zeros sprinkled in (ReLU's kink).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            if i % 97 == 0 {
                0.0
            } else {
                (s % 20_000) as f32 / 10_000.0 - 1.0
            }
        })
        .collect()
}

fn bits(b: &CpuBuffer) -> Vec<u32> {
    b.as_slice().iter().map(|v| v.to_bits()).collect()
}

/// Every parallel op's outputs, as bits.
fn run_all(cpu: &CpuBackend) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let conv = |stride, pad, groups| Conv2dSpec {
        batch: 16,
        in_channels: 8,
        in_h: 20,
        in_w: 20,
        out_channels: 12,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: stride,
        stride_w: stride,
        pad_top: pad,
        pad_bottom: pad,
        pad_left: pad,
        pad_right: pad,
        dilation_h: 1,
        dilation_w: 1,
        groups,
    };
    // The shape on fewer samples: the direct stride-1 kernels where the CPU has
    // AVX-512, its row tiles and samples split across threads.
    let wide = Conv2dSpec {
        batch: 6,
        in_channels: 32,
        in_h: 14,
        in_w: 14,
        out_channels: 64,
        ..conv(1, 1, 1)
    };
    for spec in [conv(1, 1, 1), conv(2, 1, 1), conv(1, 0, 4), wide] {
        let x = cpu.from_host(&values(spec.input_len(), 1)).unwrap();
        let w = cpu.from_host(&values(spec.weight_len(), 2)).unwrap();
        let b = cpu.from_host(&values(spec.out_channels, 3)).unwrap();
        let dy = cpu.from_host(&values(spec.output_len(), 4)).unwrap();
        out.push(bits(&cpu.conv2d(&x, &w, Some(&b), spec).unwrap()));
        out.push(bits(&cpu.conv2d_backward_input(&dy, &w, spec).unwrap()));
        out.push(bits(&cpu.conv2d_backward_weight(&x, &dy, spec).unwrap()));
        out.push(bits(&cpu.conv2d_backward_bias(&dy, spec).unwrap()));
    }
    for (h, w) in [(26, 26), (11, 11)] {
        let spec = Pool2dSpec {
            batch: 16,
            channels: 32,
            in_h: h,
            in_w: w,
            kernel_h: 2,
            kernel_w: 2,
            stride_h: 2,
            stride_w: 2,
            pad_h: 0,
            pad_w: 0,
        };
        let x = cpu.from_host(&values(spec.input_len(), 5)).unwrap();
        let (y, idx) = cpu.max_pool2d(&x, spec).unwrap();
        let dy = cpu.from_host(&values(spec.output_len(), 6)).unwrap();
        out.push(bits(&y));
        out.push(bits(&idx));
        out.push(bits(&cpu.max_pool2d_backward(&dy, &idx, spec).unwrap()));
    }
    let x = cpu.from_host(&values(300_001, 7)).unwrap();
    let dy = cpu.from_host(&values(300_001, 8)).unwrap();
    for op in [UnaryOp::Relu, UnaryOp::Tanh, UnaryOp::Gelu] {
        out.push(bits(&cpu.unary(op, &x).unwrap()));
        out.push(bits(&cpu.unary_backward(op, &x, &dy).unwrap()));
    }
    let n = 200_003;
    let (mut p, g) = (
        cpu.from_host(&values(n, 9)).unwrap(),
        cpu.from_host(&values(n, 10)).unwrap(),
    );
    let (mut m, mut v) = (cpu.zeros(n).unwrap(), cpu.zeros(n).unwrap());
    for step in 1..=3 {
        let spec = AdamSpec {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            decoupled_weight_decay: true,
            step,
        };
        cpu.adam_step(&mut p, &g, &mut m, &mut v, spec).unwrap();
    }
    out.extend([bits(&p), bits(&m), bits(&v)]);
    out
}

#[test]
fn one_and_several_threads_give_the_same_bits() {
    let cpu = CpuBackend::new();
    set_num_threads(1);
    let serial = run_all(&cpu);
    for threads in [2, 3] {
        set_num_threads(threads);
        let parallel = run_all(&cpu);
        assert_eq!(serial.len(), parallel.len());
        for (k, (a, b)) in serial.iter().zip(&parallel).enumerate() {
            assert!(a == b, "output {k} differs on {threads} threads");
        }
    }
}
