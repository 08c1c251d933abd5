//! The ops that split their loops across threads give bit-identical results on one and on
//! several threads, on inputs large enough to be split (in its own test binary: it changes
//! the process-wide thread count).

use strata_backend::{
    AdamSpec, BufferOps, Conv2dSpec, ConvOps, ElementwiseOps, OptimizerOps, Pool2dSpec, PoolOps,
    RecurrentOps, RnnCell, RnnOperands, RnnSpec, UnaryOp,
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
    for (h, w, ceil_mode) in [(26, 26, false), (11, 11, false), (11, 11, true)] {
        let spec = Pool2dSpec {
            ceil_mode,
            ..Pool2dSpec::new([16, 32, h, w], [2, 2], [2, 2], [0, 0])
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
    out.extend(recurrent(cpu));
    out
}

/// Forward and backward through time of every cell, both directions, with some rows padded
/// (an odd batch, so the row blocks differ in size on 2 and 3 threads).
fn recurrent(cpu: &CpuBackend) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for cell in [RnnCell::Tanh, RnnCell::Lstm, RnnCell::Gru] {
        for reverse in [false, true] {
            let spec = RnnSpec {
                cell,
                batch: 13,
                seq_len: 40,
                input_size: 9,
                hidden_size: 45,
                reverse,
            };
            let buf = |n: usize, seed: u32| cpu.from_host(&values(n, seed)).unwrap();
            let (x, w_ih, w_hh) = (
                buf(spec.input_len(), 11),
                buf(spec.w_ih_len(), 12),
                buf(spec.w_hh_len(), 13),
            );
            let (b_ih, b_hh) = (buf(spec.bias_len(), 14), buf(spec.bias_len(), 15));
            let (h0, c0) = (buf(spec.state_len(), 16), buf(spec.state_len(), 17));
            let lengths: Vec<f32> = (0..spec.batch).map(|r| (40 - 3 * (r % 5)) as f32).collect();
            let lengths = cpu.from_host(&lengths).unwrap();
            let operands = RnnOperands {
                x: &x,
                w_ih: &w_ih,
                w_hh: &w_hh,
                b_ih: &b_ih,
                b_hh: &b_hh,
                h0: &h0,
                c0: &c0,
                lengths: Some(&lengths),
            };
            let fwd = cpu.rnn_forward(spec, operands).unwrap();
            let dpacked = buf(spec.packed_len(), 18);
            let g = cpu
                .rnn_backward(spec, operands, &fwd.workspace, &dpacked)
                .unwrap();
            out.extend([bits(&fwd.packed), bits(&fwd.workspace)]);
            out.extend(
                [
                    &g.dx, &g.dw_ih, &g.dw_hh, &g.db_ih, &g.db_hh, &g.dh0, &g.dc0,
                ]
                .map(bits),
            );
        }
    }
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
