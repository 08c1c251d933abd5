//! GPU checks of the foundation that the conformance suite does not make: the caching
//! allocator's promise (a repeated step allocates nothing), bit-identical random draws and
//! dropout masks against the CPU backend, index errors without a device read for uploaded
//! labels, and the TF32 opt-in. Each test prints one `SKIP: no CUDA device (...)` line without
//! a GPU and fails instead under `REQUIRE_GPU=1`.

use strata_backend::random::hash_at;
use strata_backend::{
    BackendError, BufferOps, ElementwiseOps, LayoutOps, LinalgOps, MatmulSpec, OptimizerOps,
    RandomOps, SgdSpec, SoftmaxOps, UnaryOp,
};
use strata_cpu::CpuBackend;
use strata_cuda::CudaBackend;
use strata_cuda::testing::cuda_or_skip;

/// One MLP-like step: forward, loss, backward-ish products and an SGD update.
fn step(gpu: &CudaBackend, w: &mut <CudaBackend as BufferOps>::Buffer) -> f32 {
    let x = gpu.from_host(&[0.5; 32 * 16]).expect("x");
    let labels = gpu.from_host(&[3.0; 32]).expect("labels");
    let h = gpu
        .matmul(&x, w, MatmulSpec::new(32, 10, 16))
        .expect("matmul");
    let h = gpu.unary(UnaryOp::Relu, &h).expect("relu");
    let (loss, probs) = gpu
        .softmax_cross_entropy(&h, &labels, 32, 10, 0.1)
        .expect("loss");
    let dloss = gpu.full(32, 1.0 / 32.0).expect("dloss");
    let dh = gpu
        .softmax_cross_entropy_backward(&probs, &labels, &dloss, 32, 10, 0.1)
        .expect("dlogits");
    let mut spec = MatmulSpec::new(16, 10, 32);
    spec.trans_a = true;
    let dw = gpu.matmul(&x, &dh, spec).expect("dw");
    let sgd = SgdSpec {
        lr: 0.1,
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
        first_step: false,
    };
    gpu.sgd_step(w, &dw, None, sgd).expect("sgd");
    gpu.to_host(&loss).expect("loss to host")[0]
}

#[test]
fn a_repeated_step_allocates_nothing_new() {
    let Some(gpu) = cuda_or_skip() else { return };
    let mut w = gpu.from_host(&[0.01; 16 * 10]).expect("w");
    let first = step(&gpu, &mut w);
    let warm = gpu.alloc_stats();
    let second = step(&gpu, &mut w);
    let after = gpu.alloc_stats();
    assert!(first.is_finite() && second.is_finite());
    assert_eq!(
        after.allocations, warm.allocations,
        "the second step allocated device memory: {warm:?} -> {after:?}"
    );
    assert!(after.cache_hits > warm.cache_hits, "{warm:?} -> {after:?}");
}

#[test]
fn random_draws_and_dropout_masks_are_bit_identical_to_the_cpu() {
    let Some(gpu) = cuda_or_skip() else { return };
    let cpu = CpuBackend::new();
    for seed in [0u64, 7, u64::MAX] {
        let hashes = gpu.random_hashes(1000, seed).expect("hashes");
        for (i, &h) in hashes.iter().enumerate() {
            assert_eq!(h, hash_at(seed, i as u64), "hash {i} of seed {seed}");
        }
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        let g = gpu.random_uniform(4097, -1.0, 1.0, seed).expect("uniform");
        let c = cpu.random_uniform(4097, -1.0, 1.0, seed).expect("uniform");
        assert_eq!(bits(gpu.to_host(&g).expect("host")), bits(c.into_vec()));
        let xs: Vec<f32> = (0..5000).map(|i| i as f32 * 0.01 - 20.0).collect();
        let (gy, gm) = gpu
            .dropout(&gpu.from_host(&xs).expect("x"), 0.3, seed)
            .expect("dropout");
        let (cy, cm) = cpu
            .dropout(&cpu.from_host(&xs).expect("x"), 0.3, seed)
            .expect("dropout");
        assert_eq!(bits(gpu.to_host(&gm).expect("mask")), bits(cm.into_vec()));
        assert_eq!(bits(gpu.to_host(&gy).expect("y")), bits(cy.into_vec()));
    }
}

#[test]
fn bad_labels_and_indices_are_errors_not_faults() {
    let Some(gpu) = cuda_or_skip() else { return };
    let logits = gpu.from_host(&[0.0; 6]).expect("logits");
    for bad in [3.0f32, -1.0, 0.5, f32::NAN] {
        let labels = gpu.from_host(&[0.0, bad]).expect("labels");
        let err = gpu
            .softmax_cross_entropy(&logits, &labels, 2, 3, 0.0)
            .expect_err("a label outside 0..3");
        assert!(
            matches!(err, BackendError::InvalidArgument { .. }),
            "{err:?}"
        );
    }
    // Indices computed on the device (no upload summary) are checked too.
    let computed = gpu
        .unary(UnaryOp::Neg, &gpu.from_host(&[1.0]).expect("one"))
        .expect("neg");
    let table = gpu.from_host(&[1.0; 8]).expect("table");
    assert!(gpu.index_select_rows(&table, 4, 2, &computed).is_err());
    gpu.synchronize().expect("no fault left behind");
}

#[test]
fn tf32_is_an_explicit_opt_in() {
    let Some(gpu) = cuda_or_skip() else { return };
    assert!(!gpu.tf32());
    let fast = CudaBackend::with_tf32(0, true).expect("a TF32 backend");
    assert!(fast.tf32());
    let a = fast.from_host(&[1.0; 64 * 64]).expect("a");
    let c = fast
        .matmul(&a, &a, MatmulSpec::new(64, 64, 64))
        .expect("matmul");
    let host = fast.to_host(&c).expect("c");
    assert!(
        host.iter().all(|&v| (v - 64.0).abs() < 1e-3),
        "{:?}",
        &host[..4]
    );
    assert!(!gpu.device_name().expect("device name").is_empty());
    gpu.preload_kernels().expect("every committed PTX loads");
}
