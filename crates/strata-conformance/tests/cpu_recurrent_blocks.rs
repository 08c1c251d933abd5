//! The CPU recurrent op on shapes large enough to be cut into row blocks and to fill whole
//! tiles of its step kernel (the generated conformance cases are too small for either),
//! mirrored against the f64 reference on 1, 2 and 3 threads (in its own test binary: it
//! changes the process-wide thread count).

use strata_backend::{BufferOps, RecurrentOps, RnnCell, RnnOperands, RnnSpec};
use strata_conformance::{Mirror, ReferenceBackend, Tolerances};
use strata_cpu::{CpuBackend, set_num_threads};

/// Deterministic values in (-0.8, 0.8): gates neither linear nor saturated.
fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 625.0 - 0.8)
        .collect()
}

#[test]
fn row_blocks_match_the_reference_on_any_thread_count() {
    let mirror = Mirror::new(CpuBackend::new(), ReferenceBackend, Tolerances::default());
    for threads in [1, 2, 3] {
        set_num_threads(threads);
        for cell in [RnnCell::Tanh, RnnCell::Lstm, RnnCell::Gru] {
            for reverse in [false, true] {
                // 13 rows: tiles of 6 plus a remainder; 45 hidden: masked column panels.
                let spec = RnnSpec {
                    cell,
                    batch: 13,
                    seq_len: 24,
                    input_size: 9,
                    hidden_size: 45,
                    reverse,
                };
                let buf = |n: usize, seed: usize| mirror.from_host(&values(n, seed)).unwrap();
                let (x, w_ih, w_hh) = (
                    buf(spec.input_len(), 1),
                    buf(spec.w_ih_len(), 2),
                    buf(spec.w_hh_len(), 3),
                );
                let (b_ih, b_hh) = (buf(spec.bias_len(), 4), buf(spec.bias_len(), 5));
                let (h0, c0) = (buf(spec.state_len(), 6), buf(spec.state_len(), 7));
                let lengths: Vec<f32> = (0..13).map(|r| (24 - 5 * (r % 4)) as f32).collect();
                let lengths = mirror.from_host(&lengths).unwrap();
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
                let what = format!("{cell:?} reverse {reverse} on {threads} threads");
                let fwd = mirror
                    .rnn_forward(spec, operands)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let dpacked = buf(spec.packed_len(), 8);
                mirror
                    .rnn_backward(spec, operands, &fwd.workspace, &dpacked)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
            }
        }
    }
}
