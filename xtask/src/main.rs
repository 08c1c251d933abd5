//! `cargo xtask <command>`: every repeated chore of the project, so nobody keeps a command in
//! their head.
//!
//! - `demo [ARGS]`: set up, then train the MNIST example and print its test accuracy.
//! - `test`: set up, then run every test of the workspace (conformance properties, gradient
//!   checks, golden comparisons, end-to-end runs).
//! - `bench [--threads N]... [WORKLOAD...]`: the reference workloads, one JSON line each.
//! - `golden`: regenerate the PyTorch golden files (needs `TORCH_PYTHON`, never run in CI).
//! - `setup`: only install/check the system libraries and tools (OpenBLAS; python3-pip and
//!   gcc for the CUDA kernel tools).
//! - `gpu [OUTDIR]`: build the release GPU test/bench/example binaries into one folder with
//!   `run-gpu.sh`, for a GPU machine without a toolchain (see `docs/cuda.md`).
//! - `ptx [--check]`: regenerate the CUDA kernels' PTX with the pinned nvcc, or (CI) check that
//!   the committed PTX is current and assembles with ptxas for sm_80 and sm_90.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod gpu;
mod ptx;
mod setup;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{}", USAGE);
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "setup" => setup::ensure_openblas().and_then(|_| setup::ensure_cuda_prerequisites()),
        "demo" => setup::ensure_openblas().and_then(|_| demo(rest)),
        "test" => setup::ensure_openblas().and_then(|_| test(rest)),
        "bench" => setup::ensure_openblas().and_then(|_| bench(rest)),
        "golden" => golden(rest),
        "ptx" => setup::ensure_cuda_prerequisites().and_then(|_| ptx::ptx(rest)),
        "gpu" => setup::ensure_openblas().and_then(|_| gpu::gpu(rest)),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <command>
  demo [EXAMPLE ARGS]           train the MNIST example (release) and print test accuracy
  test                          run every test of the workspace
  bench [--threads N] [--device cpu|cuda] [W...]
                                reference workloads (W1_mlp_train ...), one JSON line each
  golden                        regenerate PyTorch golden files (TORCH_PYTHON=path/to/python)
  setup                         install or check OpenBLAS, python3-pip and gcc
  ptx [--check]                 regenerate CUDA PTX (pinned nvcc); --check: stale PTX + ptxas sm_80/sm_90
  gpu [OUTDIR]                  build the GPU test/bench/example bundle (default gpu-bundle/) + run-gpu.sh";

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(workspace_root());
    c
}

pub(crate) fn run(mut c: Command) -> Result<(), String> {
    let shown = format!("{c:?}");
    let status = c
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn demo(rest: &[String]) -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "run",
        "--release",
        "-p",
        "strata",
        "--example",
        "mnist_mlp",
        "--",
    ]);
    c.args(rest);
    run(c)
}

fn test(rest: &[String]) -> Result<(), String> {
    let mut c = cargo();
    c.args(["test", "--workspace"]);
    c.args(rest);
    run(c)
}

fn bench(rest: &[String]) -> Result<(), String> {
    let mut threads: Vec<String> = Vec::new();
    let mut workloads: Vec<String> = Vec::new();
    let mut extra: Vec<String> = Vec::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => threads.push(it.next().ok_or("--threads needs a value")?.clone()),
            "--steps" | "--reps" | "--warmup" | "--device" => {
                extra.push(a.clone());
                extra.push(it.next().ok_or("flag needs a value")?.clone());
            }
            w => workloads.push(w.to_string()),
        }
    }
    if threads.is_empty() {
        threads.push(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .to_string(),
        );
    }
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "strata-benches",
        "--bin",
        "workloads",
    ]);
    // `--device cuda[:N]` needs the CUDA backend compiled in.
    if extra.iter().any(|a| a.starts_with("cuda")) {
        build.args(["--features", "cuda"]);
    }
    run(build)?;
    let exe = workspace_root().join("target/release/workloads");
    for t in &threads {
        let mut c = Command::new(&exe);
        c.env("STRATA_NUM_THREADS", t);
        c.env("OPENBLAS_NUM_THREADS", t);
        c.args(["--threads", t]);
        c.args(&extra);
        c.args(&workloads);
        run(c)?;
    }
    Ok(())
}

fn golden(rest: &[String]) -> Result<(), String> {
    let py = std::env::var("TORCH_PYTHON").map_err(|_| {
        "set TORCH_PYTHON to a python with torch installed, e.g. \
         `python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch numpy`"
            .to_string()
    })?;
    let mut c = Command::new(py);
    c.current_dir(workspace_root());
    c.arg("scripts/golden/generate.py");
    c.args(rest);
    run(c)
}
