//! Criterion-free op timings on any backend, on the shapes of `../shared/bench/torch/
//! micro_conv2d.py` and `micro_lstm.py`, as [`Workload`]s so the `workloads` binary times and
//! prints them like the training workloads (`--device cuda` runs them on the GPU).
//!
//! Each step calls the backend primitives directly (what PyTorch's twin times: one
//! `F.conv2d`, one `aten.convolution_backward`, one `nn.LSTM` forward, forward + backward) and
//! ends with `synchronize`, so the time of a GPU step covers its kernels (a no-op on the CPU).

use strata::Result;
use strata_backend::{Backend, Conv2dSpec, RnnCell, RnnOperands, RnnSpec};

use crate::workloads::Workload;

/// Names of the op timings, as the PyTorch twins print them.
pub const MICRO: &[&str] = &[
    "micro_conv2d_fwd",
    "micro_conv2d_bwd",
    "micro_lstm_fwd_bwd",
    "micro_lstm_fwd",
];

/// Warm-up and timed steps per repetition for `name`: the PyTorch twins' defaults.
pub fn default_steps(name: &str) -> Option<(usize, usize)> {
    match name {
        "micro_conv2d_fwd" | "micro_conv2d_bwd" => Some((10, 40)),
        "micro_lstm_fwd_bwd" | "micro_lstm_fwd" => Some((5, 20)),
        _ => None,
    }
}

/// Builds the op timing called `name` on `backend`, or `None` for another name.
pub fn build<B: Backend + Clone>(name: &str, backend: &B) -> Option<Result<Workload>> {
    match name {
        "micro_conv2d_fwd" => Some(conv2d(backend, false)),
        "micro_conv2d_bwd" => Some(conv2d(backend, true)),
        "micro_lstm_fwd_bwd" => Some(lstm(backend, true)),
        "micro_lstm_fwd" => Some(lstm(backend, false)),
        _ => None,
    }
}

/// Deterministic values in about ±0.5·`scale` (speed does not depend on them).
fn values(n: usize, seed: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 31 + seed * 17) % 97) as f32 / 96.0 - 0.5) * scale)
        .collect()
}

/// x 64×32×14×14, w 64×32×3×3, bias 64, padding 1, stride 1.
fn conv_spec() -> Conv2dSpec {
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

/// Conv2d forward, or its backward pass (input, weight and bias gradients).
fn conv2d<B: Backend + Clone>(backend: &B, backward: bool) -> Result<Workload> {
    let s = conv_spec();
    let b = backend.clone();
    let x = b.from_host(&values(s.batch * s.in_channels * s.in_h * s.in_w, 1, 2.0))?;
    let w = b.from_host(&values(s.out_channels * s.in_channels * 9, 2, 0.1))?;
    let bias = b.from_host(&values(s.out_channels, 3, 1.0))?;
    let dy = b.from_host(&values(s.batch * s.out_channels * s.in_h * s.in_w, 4, 2.0))?;
    let (name, step): (&'static str, Box<dyn FnMut() -> Result<()>>) = if backward {
        (
            "micro_conv2d_bwd",
            Box::new(move || {
                let dx = b.conv2d_backward_input(&dy, &w, s)?;
                let dw = b.conv2d_backward_weight(&x, &dy, s)?;
                let db = b.conv2d_backward_bias(&dy, s)?;
                b.synchronize()?;
                drop((dx, dw, db));
                Ok(())
            }),
        )
    } else {
        (
            "micro_conv2d_fwd",
            Box::new(move || {
                let y = b.conv2d(&x, &w, Some(&bias), s)?;
                b.synchronize()?;
                drop(y);
                Ok(())
            }),
        )
    };
    Ok(Workload {
        name,
        batch: s.batch,
        step,
    })
}

/// One LSTM layer (64→128), batch 32, length 80: forward, or forward + backward with the
/// gradient of the sum of the step outputs (PyTorch's `out.sum().backward()`).
fn lstm<B: Backend + Clone>(backend: &B, backward: bool) -> Result<Workload> {
    let s = RnnSpec {
        cell: RnnCell::Lstm,
        batch: 32,
        seq_len: 80,
        input_size: 64,
        hidden_size: 128,
        reverse: false,
    };
    let b = backend.clone();
    let x = b.from_host(&values(s.input_len(), 1, 2.0))?;
    let w_ih = b.from_host(&values(s.w_ih_len(), 2, 0.2))?;
    let w_hh = b.from_host(&values(s.w_hh_len(), 3, 0.2))?;
    let b_ih = b.from_host(&values(s.bias_len(), 4, 0.2))?;
    let b_hh = b.from_host(&values(s.bias_len(), 5, 0.2))?;
    let h0 = b.zeros(s.state_len())?;
    let c0 = b.zeros(s.state_len())?;
    let mut dpacked = vec![0.0f32; s.packed_len()];
    let rows = s.seq_len + s.cell.state_count();
    for n in 0..s.batch {
        dpacked[n * rows * s.hidden_size..(n * rows + s.seq_len) * s.hidden_size].fill(1.0);
    }
    let dpacked = b.from_host(&dpacked)?;
    let name = if backward {
        "micro_lstm_fwd_bwd"
    } else {
        "micro_lstm_fwd"
    };
    Ok(Workload {
        name,
        batch: s.batch,
        step: Box::new(move || {
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
            let fwd = b.rnn_forward(s, operands)?;
            if backward {
                let grads = b.rnn_backward(s, operands, &fwd.workspace, &dpacked)?;
                b.synchronize()?;
                drop(grads);
            } else {
                b.synchronize()?;
            }
            drop(fwd);
            Ok(())
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_cpu::CpuBackend;

    #[test]
    fn every_op_timing_runs_one_step_on_the_cpu() {
        let cpu = CpuBackend::new();
        for name in MICRO {
            let mut w = build(name, &cpu).expect("known name").expect("builds");
            assert_eq!(w.name, *name);
            (w.step)().expect("one step");
            assert!(default_steps(name).is_some());
        }
        assert!(build("W1_mlp_train", &cpu).is_none());
    }
}
