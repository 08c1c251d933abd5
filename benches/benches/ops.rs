//! Op-level benches of the CPU backend.
//!
//! - `gemm/{backend,raw_cblas}/N`: square N×N·N×N products through `LinalgOps::matmul` and
//!   through a direct `cblas_sgemm` into a preallocated output, to measure the backend's
//!   overhead (allocation, checks). Throughput is reported in elements/s where one "element"
//!   is one FLOP (2·N³ per product), so criterion's `Gelem/s` reads as GFLOP/s.
//! - `elementwise/{add,relu}`: memory-bound maps over 1M floats (bytes/s counts every read
//!   and write).
//! - `mlp`: the ops of one 784-128-64-10 MLP training step at batch 128, at their real shapes.
//!
//! OpenBLAS's thread count comes from `STRATA_NUM_THREADS` (default: all cores) and is shared
//! by the backend and the raw calls.

use std::hint::black_box;
use std::time::Duration;

use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE, cblas_sgemm};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use strata_backend::{
    AdamSpec, BinaryOp, BufferOps, ElementwiseOps, LinalgOps, MatmulSpec, OptimizerOps, RandomOps,
    SoftmaxOps, UnaryOp,
};
use strata_cpu::{CpuBackend, CpuBuffer};

fn random(cpu: &CpuBackend, len: usize, seed: u64) -> CpuBuffer {
    cpu.random_uniform(len, -1.0, 1.0, seed)
        .expect("random buffer")
}

/// `c = a · b` for row-major n×n matrices, straight into OpenBLAS.
fn raw_sgemm(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    let n = n as i32;
    // SAFETY: all three buffers hold n·n floats, checked above.
    unsafe {
        cblas_sgemm(
            CBLAS_LAYOUT::CblasRowMajor,
            CBLAS_TRANSPOSE::CblasNoTrans,
            CBLAS_TRANSPOSE::CblasNoTrans,
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n,
            b.as_ptr(),
            n,
            0.0,
            c.as_mut_ptr(),
            n,
        );
    }
}

fn gemm(c: &mut Criterion) {
    let cpu = CpuBackend::new();
    let mut group = c.benchmark_group("gemm");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [256usize, 512, 1024, 2048] {
        let a = random(&cpu, n * n, 1);
        let b = random(&cpu, n * n, 2);
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_with_input(BenchmarkId::new("backend", n), &n, |bench, &n| {
            bench.iter(|| {
                cpu.matmul(black_box(&a), black_box(&b), MatmulSpec::new(n, n, n))
                    .expect("matmul")
            })
        });
        let mut out = vec![0.0f32; n * n];
        group.bench_with_input(BenchmarkId::new("raw_cblas", n), &n, |bench, &n| {
            bench.iter(|| {
                raw_sgemm(
                    n,
                    black_box(a.as_slice()),
                    black_box(b.as_slice()),
                    &mut out,
                )
            })
        });
    }
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    const N: usize = 1 << 20;
    let cpu = CpuBackend::new();
    let x = random(&cpu, N, 3);
    let y = random(&cpu, N, 4);
    let mut group = c.benchmark_group("elementwise");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Bytes(3 * 4 * N as u64));
    group.bench_function("add_1M", |bench| {
        bench.iter(|| {
            cpu.binary(
                BinaryOp::Add,
                black_box(&x),
                &[N],
                black_box(&y),
                &[N],
                &[N],
            )
            .expect("add")
        })
    });
    group.throughput(Throughput::Bytes(2 * 4 * N as u64));
    group.bench_function("relu_1M", |bench| {
        bench.iter(|| cpu.unary(UnaryOp::Relu, black_box(&x)).expect("relu"))
    });
    group.finish();
}

fn mlp(c: &mut Criterion) {
    const BATCH: usize = 128;
    let cpu = CpuBackend::new();
    let x = random(&cpu, BATCH * 784, 5);
    let w1 = random(&cpu, 128 * 784, 6);
    let b1 = random(&cpu, 128, 7);
    let h = random(&cpu, BATCH * 128, 8);
    let logits = random(&cpu, BATCH * 10, 9);
    let labels = cpu
        .from_host(&(0..BATCH).map(|i| (i % 10) as f32).collect::<Vec<_>>())
        .expect("labels");
    let params = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10;
    let grad = random(&cpu, params, 10);
    let mut p = random(&cpu, params, 11);
    let mut m = cpu.zeros(params).expect("m");
    let mut v = cpu.zeros(params).expect("v");

    let mut group = c.benchmark_group("mlp");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("dense1_forward_128x784x128", |bench| {
        let spec = MatmulSpec {
            trans_b: true,
            ..MatmulSpec::new(BATCH, 128, 784)
        };
        bench.iter(|| {
            cpu.matmul_bias(black_box(&x), &w1, &b1, spec)
                .expect("matmul_bias")
        })
    });
    group.bench_function("dense1_weight_grad_128x784", |bench| {
        let spec = MatmulSpec {
            trans_a: true,
            ..MatmulSpec::new(128, 784, BATCH)
        };
        bench.iter(|| cpu.matmul(black_box(&h), &x, spec).expect("matmul"))
    });
    group.bench_function("relu_backward_128x128", |bench| {
        bench.iter(|| {
            cpu.unary_backward(UnaryOp::Relu, black_box(&h), &h)
                .expect("relu backward")
        })
    });
    group.bench_function("softmax_cross_entropy_128x10", |bench| {
        bench.iter(|| {
            cpu.softmax_cross_entropy(black_box(&logits), &labels, BATCH, 10, 0.0)
                .expect("ce")
        })
    });
    group.bench_function("adam_step_109k", |bench| {
        let spec = AdamSpec {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            step: 1,
        };
        bench.iter(|| {
            cpu.adam_step(&mut p, black_box(&grad), &mut m, &mut v, spec)
                .expect("adam")
        })
    });
    group.finish();
}

criterion_group!(benches, gemm, elementwise, mlp);
criterion_main!(benches);
