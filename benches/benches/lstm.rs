//! Criterion benches of one LSTM layer alone, on the shape of
//! `../shared/bench/torch/micro_lstm.py`: batch 32, length 80, 64 inputs, 128 hidden. Forward
//! alone, and forward + backward (every gradient, as PyTorch's `out.sum().backward()` with an
//! input that requires grad). `cargo bench -p strata-benches --bench lstm`.

use criterion::{Criterion, criterion_group, criterion_main};
use strata_backend::{BufferOps, RecurrentOps, RnnCell, RnnOperands, RnnSpec};
use strata_cpu::CpuBackend;

fn spec() -> RnnSpec {
    RnnSpec {
        cell: RnnCell::Lstm,
        batch: 32,
        seq_len: 80,
        input_size: 64,
        hidden_size: 128,
        reverse: false,
    }
}

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 31 + seed * 17) % 97) as f32 - 48.0) * 0.002)
        .collect()
}

fn lstm(c: &mut Criterion) {
    let cpu = CpuBackend::new();
    let s = spec();
    let upload = |n: usize, seed: usize| cpu.from_host(&values(n, seed)).expect("upload");
    let (x, w_ih, w_hh) = (
        upload(s.input_len(), 1),
        upload(s.w_ih_len(), 2),
        upload(s.w_hh_len(), 3),
    );
    let (b_ih, b_hh) = (upload(s.bias_len(), 4), upload(s.bias_len(), 5));
    let (h0, c0) = (
        cpu.zeros(s.state_len()).expect("h0"),
        cpu.zeros(s.state_len()).expect("c0"),
    );
    // d(sum of outputs): ones over the step outputs, zeros over h_n and c_n.
    let mut dpacked = vec![0.0f32; s.packed_len()];
    let rows = s.seq_len + s.cell.state_count();
    for b in 0..s.batch {
        dpacked[b * rows * s.hidden_size..(b * rows + s.seq_len) * s.hidden_size].fill(1.0);
    }
    let dpacked = cpu.from_host(&dpacked).expect("upload");
    let operands = RnnOperands {
        x: &x,
        w_ih: &w_ih,
        w_hh: &w_hh,
        b_ih: &b_ih,
        b_hh: &b_hh,
        h0: &h0,
        c0: &c0,
        lengths: None,
    };
    let mut group = c.benchmark_group("lstm_b32_t80_i64_h128");
    group.bench_function("forward", |bench| {
        bench.iter(|| cpu.rnn_forward(s, operands).expect("forward"))
    });
    group.bench_function("forward_backward", |bench| {
        bench.iter(|| {
            let fwd = cpu.rnn_forward(s, operands).expect("forward");
            cpu.rnn_backward(s, operands, &fwd.workspace, &dpacked)
                .expect("backward")
        })
    });
    group.finish();
}

criterion_group!(benches, lstm);
criterion_main!(benches);
