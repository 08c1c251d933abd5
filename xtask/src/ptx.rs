//! `cargo xtask ptx [--check]`: the CUDA kernels' PTX, built with the pinned nvcc.
//!
//! - `ptx` regenerates `crates/strata-cuda/kernels/ptx/<family>.ptx` from every
//!   `crates/strata-cuda/kernels/<family>.cu` (`nvcc -ptx -arch=compute_75`, no `-lineinfo`, so
//!   the output is byte-for-byte reproducible).
//! - `ptx --check` (CI) regenerates into a temporary folder and fails, listing them, when a
//!   committed PTX is stale, missing or has no source; then runs `ptxas` for sm_80 and sm_90
//!   on every committed PTX and checks that its `.version` is one driver 580 (CUDA 13.0, PTX ISA
//!   9.0) can load.
//!
//! The toolchain is the five CUDA 13.0 wheels pinned in
//! `crates/strata-cuda/cuda-requirements.txt`, installed on first use with
//! `python3 -m pip install --target .cuda-tools` (git-ignored, about 190 MB). nvcc needs the
//! host gcc on `PATH`, even for `-ptx`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The virtual architecture of the committed PTX: the driver JITs it forward to the GPU's.
const ARCH: &str = "compute_75";
/// Real architectures every PTX must assemble for (A100 and H100).
const PTXAS_ARCHS: &[&str] = &["sm_80", "sm_90"];
/// The newest PTX ISA driver 580 (CUDA 13.0) loads, as (major, minor).
const MAX_PTX_VERSION: (u32, u32) = (9, 0);
/// The nvcc release the pins give (checked against `nvcc --version`).
const NVCC_RELEASE: &str = "V13.0.88";

fn kernels_dir() -> PathBuf {
    workspace_root().join("crates/strata-cuda/kernels")
}

fn tools_bin() -> PathBuf {
    workspace_root().join(".cuda-tools/nvidia/cu13/bin")
}

/// Runs the `ptx` command with its arguments (`--check` or nothing).
pub(crate) fn ptx(rest: &[String]) -> Result<(), String> {
    let check = match rest {
        [] => false,
        [flag] if flag == "--check" => true,
        other => return Err(format!("ptx takes no argument or `--check`; got {other:?}")),
    };
    ensure_tools()?;
    let sources = sources()?;
    if check {
        check_ptx(&sources)
    } else {
        let out = kernels_dir().join("ptx");
        std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
        for cu in &sources {
            compile(cu, &out)?;
        }
        remove_orphans(&sources)?;
        eprintln!(
            "xtask: wrote {} PTX files to {}",
            sources.len(),
            out.display()
        );
        Ok(())
    }
}

/// Every `kernels/*.cu`, sorted.
fn sources() -> Result<Vec<PathBuf>, String> {
    let dir = kernels_dir();
    let mut cus: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cu"))
        .collect();
    cus.sort();
    if cus.is_empty() {
        return Err(format!("no .cu files in {}", dir.display()));
    }
    Ok(cus)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Installs the pinned wheels when nvcc is absent, then checks nvcc's release and gcc.
fn ensure_tools() -> Result<(), String> {
    let nvcc = tools_bin().join("nvcc");
    if !nvcc.exists() {
        let req = workspace_root().join("crates/strata-cuda/cuda-requirements.txt");
        eprintln!(
            "xtask: installing the pinned CUDA toolchain into .cuda-tools/ ({})",
            req.display()
        );
        let mut pip = Command::new("python3");
        pip.current_dir(workspace_root()).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            ".cuda-tools",
            "-r",
        ]);
        pip.arg(&req);
        crate::run(pip)?;
        if !nvcc.exists() {
            return Err(format!(
                "pip finished but {} is missing; delete .cuda-tools/ and retry",
                nvcc.display()
            ));
        }
    }
    let version = Command::new(&nvcc)
        .arg("--version")
        .output()
        .map_err(|e| format!("could not run {}: {e}", nvcc.display()))?;
    let text = String::from_utf8_lossy(&version.stdout);
    if !text.contains(NVCC_RELEASE) {
        return Err(format!(
            "{} is not the pinned release {NVCC_RELEASE} (found: {}); delete .cuda-tools/ and rerun",
            nvcc.display(),
            text.lines().last().unwrap_or("nothing")
        ));
    }
    let gcc = Command::new("gcc").arg("--version").output();
    if !gcc.is_ok_and(|o| o.status.success()) {
        return Err(
            "nvcc needs the host C compiler: install gcc (e.g. `apt-get install gcc`) and put it on PATH"
                .into(),
        );
    }
    Ok(())
}

/// `nvcc -ptx` of one source into `out_dir/<stem>.ptx`.
fn compile(cu: &Path, out_dir: &Path) -> Result<(), String> {
    let out = out_dir.join(format!("{}.ptx", stem(cu)));
    let mut c = Command::new(tools_bin().join("nvcc"));
    c.arg("-ptx")
        .arg(format!("-arch={ARCH}"))
        .arg("-I")
        .arg(kernels_dir())
        .arg("-o")
        .arg(&out)
        .arg(cu);
    crate::run(c)
}

/// Deletes committed PTX files whose source is gone.
fn remove_orphans(sources: &[PathBuf]) -> Result<(), String> {
    for ptx in committed_ptx()? {
        if !sources.iter().any(|cu| stem(cu) == stem(&ptx)) {
            std::fs::remove_file(&ptx).map_err(|e| format!("removing {}: {e}", ptx.display()))?;
            eprintln!("xtask: removed {} (no source)", ptx.display());
        }
    }
    Ok(())
}

fn committed_ptx() -> Result<Vec<PathBuf>, String> {
    let dir = kernels_dir().join("ptx");
    let mut ptx: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ptx"))
            .collect(),
        Err(_) => Vec::new(),
    };
    ptx.sort();
    Ok(ptx)
}

/// Parses the `.version X.Y` line of a PTX file.
fn ptx_version(text: &str) -> Option<(u32, u32)> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(".version"))?;
    let v = line.split_whitespace().nth(1)?;
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn check_ptx(sources: &[PathBuf]) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("strata-ptx-check-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    let result = check_in(sources, &tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn check_in(sources: &[PathBuf], tmp: &Path) -> Result<(), String> {
    let committed_dir = kernels_dir().join("ptx");
    let mut problems = Vec::new();
    for cu in sources {
        compile(cu, tmp)?;
        let name = format!("{}.ptx", stem(cu));
        let fresh = std::fs::read(tmp.join(&name)).map_err(|e| format!("reading {name}: {e}"))?;
        match std::fs::read(committed_dir.join(&name)) {
            Ok(old) if old == fresh => {}
            Ok(_) => problems.push(format!(
                "stale: kernels/ptx/{name} differs from {}",
                cu.display()
            )),
            Err(_) => problems.push(format!(
                "missing: kernels/ptx/{name} (run `cargo xtask ptx`)"
            )),
        }
    }
    let committed = committed_ptx()?;
    for ptx in &committed {
        if !sources.iter().any(|cu| stem(cu) == stem(ptx)) {
            problems.push(format!("orphan: {} has no .cu source", ptx.display()));
        }
        let text =
            std::fs::read_to_string(ptx).map_err(|e| format!("reading {}: {e}", ptx.display()))?;
        match ptx_version(&text) {
            Some(v) if v <= MAX_PTX_VERSION => {}
            Some((a, b)) => problems.push(format!(
                "{}: PTX ISA {a}.{b} is newer than {}.{} (driver 580 cannot load it; check the pins)",
                ptx.display(),
                MAX_PTX_VERSION.0,
                MAX_PTX_VERSION.1
            )),
            None => problems.push(format!("{}: no .version line", ptx.display())),
        }
        for arch in PTXAS_ARCHS {
            let mut c = Command::new(tools_bin().join("ptxas"));
            c.arg(format!("-arch={arch}"))
                .arg("-o")
                .arg(tmp.join(format!("{}.{arch}.cubin", stem(ptx))))
                .arg(ptx);
            if let Err(e) = crate::run(c) {
                problems.push(format!("ptxas {arch}: {e}"));
            }
        }
    }
    if problems.is_empty() {
        eprintln!(
            "xtask: {} PTX files up to date; ptxas {} clean",
            committed.len(),
            PTXAS_ARCHS.join(", ")
        );
        Ok(())
    } else {
        Err(format!(
            "PTX check failed ({} problems):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::ptx_version;

    #[test]
    fn reads_the_ptx_version_line() {
        assert_eq!(
            ptx_version("//\n.version 9.0\n.target sm_75\n"),
            Some((9, 0))
        );
        assert_eq!(ptx_version(".version 9.5"), Some((9, 5)));
        assert_eq!(ptx_version(".target sm_75"), None);
        assert!(Some((9, 5)) > Some((9, 0)));
    }
}
