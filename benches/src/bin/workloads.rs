//! `workloads [--threads N] [--warmup N] [--steps N] [--reps N] [--device cpu|cuda[:N]]
//! [WORKLOAD ...]`: times the reference workloads (and, by name, the op timings
//! `micro_conv2d_fwd`, `micro_conv2d_bwd`, `micro_lstm_fwd_bwd`, `micro_lstm_fwd`) and prints
//! one JSON line each, with the fields of `../shared/bench/README.md` plus `device`. Run
//! through `cargo xtask bench`, which sets `STRATA_NUM_THREADS` to match `--threads`. The
//! device defaults to `Device::best()`; `--device cuda` needs the `cuda` feature.

use strata::Device;
use strata_benches::micro;
use strata_benches::workloads::{WORKLOADS, Workload, build, default_steps, time};

fn main() {
    if let Err(e) = run() {
        eprintln!("workloads: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut threads: usize = std::env::var("STRATA_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let (mut warmup, mut steps, mut reps) = (None, None, 5usize);
    let mut names: Vec<String> = Vec::new();
    let mut device = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |flag: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{flag} needs a number"))
        };
        match a.as_str() {
            "--threads" => threads = num("--threads")?,
            "--warmup" => warmup = Some(num("--warmup")?),
            "--steps" => steps = Some(num("--steps")?),
            "--reps" => reps = num("--reps")?,
            "--device" => {
                let name = it.next().ok_or("--device needs cpu or cuda[:N]")?;
                device = Some(Device::parse(name).map_err(|e| e.to_string())?);
            }
            w => names.push(w.to_string()),
        }
    }
    if names.is_empty() {
        names = WORKLOADS.iter().map(|s| s.to_string()).collect();
    }
    let device = device.unwrap_or_else(Device::best);
    for name in &names {
        let mut w = build_any(name, &device).map_err(|e| e.to_string())?;
        let (default_warmup, default_steps) =
            micro::default_steps(name).unwrap_or_else(|| default_steps(name));
        let (warmup, steps) = (
            warmup.unwrap_or(default_warmup),
            steps.unwrap_or(default_steps),
        );
        let t = time(&mut w, warmup, steps, reps).map_err(|e| e.to_string())?;
        let ms = t.median_ms();
        let line = serde_json::json!({
            "impl": concat!("strata-", env!("CARGO_PKG_VERSION")),
            "workload": w.name,
            "threads": threads,
            "batch": w.batch,
            "ms_per_step": (ms * 1e4).round() / 1e4,
            "samples_per_sec": (w.batch as f64 * 1000.0 / ms * 10.0).round() / 10.0,
            "reps_ms": t.reps_ms.iter().map(|r| (r * 1e4).round() / 1e4).collect::<Vec<_>>(),
            "steps_per_rep": steps,
            "warmup": warmup,
            "device": device.to_string(),
        });
        println!("{line}");
    }
    Ok(())
}

/// A training workload, or an op timing on the backend of `device`.
fn build_any(name: &str, device: &Device) -> strata::Result<Workload> {
    if !micro::MICRO.contains(&name) {
        return build(name, device);
    }
    let unknown = || strata::Error::invalid("bench", format!("unknown op timing `{name}`"));
    match device {
        #[cfg(feature = "cuda")]
        Device::Cuda(n) => {
            let gpu = strata_cuda::CudaBackend::shared(*n)?;
            micro::build(name, &gpu).ok_or_else(unknown)?
        }
        _ => micro::build(name, &strata_cpu::CpuBackend::new()).ok_or_else(unknown)?,
    }
}
