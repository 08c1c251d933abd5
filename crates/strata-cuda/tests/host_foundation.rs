//! The foundation kernels (`kernels/{elementwise,reduce,softmax,layout,random,optimizer}.cu`)
//! run on the host, no GPU needed.
//!
//! Each family has a C++ program in `tests/host_foundation/` that includes the `.cu` source
//! through `shim.h` (CUDA keywords as plain C++, one thread per block, block reductions of one
//! value) and checks the kernels against f64 transcriptions of the CPU definitions. The random
//! program prints the port's draws and this file compares them with `strata_backend::random`
//! bit for bit, so CPU and GPU dropout masks are proven equal offline. Warp shuffles, shared
//! memory, launch shapes and races need the GPU (the conformance suite under `REQUIRE_GPU=1`).
//!
//! The programs are compiled with `$CXX` (default `c++`, which nvcc needs anyway). Where no
//! compiler or no kernel sources are found (a test binary copied to another machine), each test
//! prints one `SKIP: host kernels (...)` line and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use strata_backend::random::{hash_at, normal_at, uniform_at};

/// Compiles and runs `tests/host_foundation/<family>.cpp`; `None` (after a skip line) when it
/// cannot be built here. Panics when compilation or a check fails.
fn run_family(family: &str) -> Option<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("tests/host_foundation");
    let source = dir.join(format!("{family}.cpp"));
    let kernels = manifest.join("kernels");
    if !source.exists() || !kernels.join(format!("{family}.cu")).exists() {
        println!("SKIP: host kernels ({} not found)", source.display());
        return None;
    }
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    // Unique per process: two runs of this test binary may share a target directory.
    let exe: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("host_foundation_{family}_{}", std::process::id()));
    let compiled = match Command::new(&compiler)
        .args(["-std=c++17", "-O1", "-Wall", "-Werror", "-I"])
        .arg(&kernels)
        .arg("-I")
        .arg(&dir)
        .arg(&source)
        .arg("-o")
        .arg(&exe)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("SKIP: host kernels (no C++ compiler `{compiler}`: {e})");
            return None;
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
    let _ = std::fs::remove_file(&exe);
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    assert!(
        ran.status.success(),
        "{family} kernels disagree with their host reference:\n{stdout}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    Some(stdout)
}

fn checked_family(family: &str) {
    if let Some(out) = run_family(family) {
        print!("{out}");
        assert!(
            out.contains(&format!("{family}: 0 failure(s)")),
            "unexpected output:\n{out}"
        );
    }
}

#[test]
fn elementwise_kernels_match_the_cpu_definitions() {
    checked_family("elementwise");
}

#[test]
fn reduce_kernels_match_loops() {
    checked_family("reduce");
}

#[test]
fn softmax_kernels_match_the_formulas() {
    checked_family("softmax");
}

#[test]
fn layout_kernels_match_index_loops() {
    checked_family("layout");
}

#[test]
fn optimizer_kernels_match_torch_steps() {
    checked_family("optimizer");
}

fn field<'a>(parts: &[&'a str], i: usize, line: &str) -> &'a str {
    parts
        .get(i)
        .copied()
        .unwrap_or_else(|| panic!("short line: {line}"))
}

fn int(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("not an integer: {s}"))
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("not hex: {s}"))
}

#[test]
fn random_port_is_bit_identical_to_the_cpu_generator() {
    let Some(out) = run_family("random") else {
        return;
    };
    let mut counts = [0usize; 4];
    for line in out.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let kind = field(&parts, 0, line);
        let seed = int(field(&parts, 1, line));
        let i = int(field(&parts, 2, line));
        match kind {
            "hash" => {
                assert_eq!(hex(field(&parts, 3, line)), hash_at(seed, i), "{line}");
                counts[0] += 1;
            }
            "uniform" => {
                let bits = hex(field(&parts, 3, line)) as u32;
                assert_eq!(bits, uniform_at(seed, i).to_bits(), "{line}");
                counts[1] += 1;
            }
            "normal" => {
                let z: f32 = field(&parts, 3, line).parse().expect("a float");
                let want = normal_at(seed, i);
                assert!(
                    (z - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{line}: want {want}"
                );
                counts[2] += 1;
            }
            "dropout" => {
                let p: f32 = field(&parts, 3, line).parse().expect("a float");
                let keep = 1.0 / (1.0 - p);
                let mask = if uniform_at(seed, i) >= p { keep } else { 0.0 };
                let x = 0.25 + i as f32;
                assert_eq!(hex(field(&parts, 4, line)) as u32, mask.to_bits(), "{line}");
                assert_eq!(
                    hex(field(&parts, 5, line)) as u32,
                    (x * mask).to_bits(),
                    "{line}"
                );
                counts[3] += 1;
            }
            other => panic!("unexpected line kind {other}: {line}"),
        }
    }
    assert!(
        counts.iter().all(|&c| c == 1500),
        "expected 1500 lines of each kind, got {counts:?}"
    );
}
