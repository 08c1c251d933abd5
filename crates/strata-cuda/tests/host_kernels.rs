//! The nn kernels (`kernels/{conv,pool,norm,recurrent}.cu`) run on the host, no GPU needed.
//!
//! Each family has a C++ program in `tests/host_kernels/` that includes the `.cu` source
//! through a small shim (CUDA keywords as plain C++, one block of one thread, `float` as
//! `double`), drives the kernels with the same arguments and GEMM shapes as
//! `src/ops/<family>.rs`, and compares the results with plain-loop references (and the
//! recurrent gradients with finite differences). This catches index arithmetic, argument-order
//! and formula mistakes on every machine; rounding, warp-level behaviour and races need the GPU
//! (the conformance suite).
//!
//! The programs are compiled with `$CXX` (default `c++`, which nvcc needs anyway). Where no
//! compiler or no kernel sources are found (a test binary copied to another machine), each test
//! prints one `SKIP: host kernels (...)` line and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles and runs `tests/host_kernels/<family>.cpp` once per set of extra compiler flags
/// (`&[&[]]` for once without any), failing with its output when a check fails.
fn run_family(family: &str, variants: &[&[&str]]) {
    for flags in variants {
        run_variant(family, flags);
    }
}

fn run_variant(family: &str, flags: &[&str]) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = manifest
        .join("tests/host_kernels")
        .join(format!("{family}.cpp"));
    let kernels = manifest.join("kernels");
    if !source.exists() || !kernels.join(format!("{family}.cu")).exists() {
        println!("SKIP: host kernels ({} not found)", source.display());
        return;
    }
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    let exe: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("host_kernels_{family}_{}", flags.len()));
    let compiled = Command::new(&compiler)
        .args(["-std=c++17", "-O1", "-Wall", "-Werror"])
        .args(flags)
        .arg("-I")
        .arg(&kernels)
        .arg(&source)
        .arg("-o")
        .arg(&exe)
        .output();
    let compiled = match compiled {
        Ok(out) => out,
        Err(e) => {
            println!("SKIP: host kernels (no C++ compiler `{compiler}`: {e})");
            return;
        }
    };
    assert!(
        compiled.status.success(),
        "compiling {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&compiled.stderr)
    );
    let ran = Command::new(&exe)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&ran.stdout);
    print!("{stdout}");
    assert!(
        ran.status.success(),
        "{family} kernels (flags {flags:?}) disagree with their host reference:\n{stdout}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}

#[test]
fn conv_kernels_match_direct_convolution() {
    // Also with the 64-bit index path forced, which real sizes reach only beyond 2^31 elements.
    run_family("conv", &[&[], &["-DCONV_NARROW_LIMIT=0"]]);
}

#[test]
fn pool_kernels_match_window_loops() {
    run_family("pool", &[&[]]);
}

#[test]
fn norm_kernels_match_channel_loops() {
    run_family("norm", &[&[]]);
}

#[test]
fn recurrent_kernels_match_equations_and_finite_differences() {
    run_family("recurrent", &[&[]]);
}
