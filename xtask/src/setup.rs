//! System set-up: OpenBLAS is the one native library Strata links. On a fresh Debian or
//! Ubuntu machine `cargo xtask` installs it when it can (root with apt-get), and otherwise says
//! exactly what to install.

use std::path::Path;
use std::process::Command;

const LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/homebrew/opt/openblas/lib",
];

fn openblas_present() -> bool {
    LIB_DIRS.iter().any(|d| {
        Path::new(d).join("libopenblas.so").exists()
            || Path::new(d).join("libopenblas.dylib").exists()
            || Path::new(d).join("libopenblas.a").exists()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Makes sure the OpenBLAS development library is installed.
pub(crate) fn ensure_openblas() -> Result<(), String> {
    if openblas_present() {
        return Ok(());
    }
    let has_apt = Path::new("/usr/bin/apt-get").exists();
    if has_apt && is_root() {
        eprintln!("xtask: OpenBLAS not found; installing libopenblas-dev with apt-get");
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        crate::run(update)?;
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "-qq", "libopenblas-dev", "pkg-config"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        crate::run(install)?;
        if openblas_present() {
            return Ok(());
        }
    }
    Err("OpenBLAS is missing. Install it and rerun:\n  Debian/Ubuntu: sudo apt-get install libopenblas-dev\n  \
         Fedora: sudo dnf install openblas-devel\n  macOS: brew install openblas"
        .into())
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Makes sure `python3 -m pip` and a host C compiler work: `cargo xtask ptx` installs the
/// pinned CUDA wheels with pip, and nvcc needs `gcc` on `PATH` even for `-ptx`.
pub(crate) fn ensure_cuda_prerequisites() -> Result<(), String> {
    let pip = || succeeds("python3", &["-m", "pip", "--version"]);
    let gcc = || succeeds("gcc", &["--version"]);
    if pip() && gcc() {
        return Ok(());
    }
    if Path::new("/usr/bin/apt-get").exists() && is_root() {
        eprintln!("xtask: python3-pip or gcc not found; installing them with apt-get");
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        crate::run(update)?;
        let mut install = Command::new("apt-get");
        install
            .args([
                "install",
                "-y",
                "-qq",
                "python3",
                "python3-pip",
                "gcc",
                "g++",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive");
        crate::run(install)?;
        if pip() && gcc() {
            return Ok(());
        }
    }
    Err(
        "the CUDA kernel tools need `python3 -m pip` and gcc. Install them and rerun:\n  \
         Debian/Ubuntu: sudo apt-get install python3 python3-pip gcc g++"
            .into(),
    )
}
