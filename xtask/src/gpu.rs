//! `cargo xtask gpu [OUTDIR]`: prepares the GPU run on a machine without a GPU.
//!
//! Builds, in release with debug info stripped (and the copies' symbol tables too, with
//! `strip`, to stay under the transfer limit):
//! - the test binaries that need a GPU: every test target of `strata-cuda` (unit tests,
//!   conformance, skip guard, ...) except the offline source checks of `HOST_ONLY_TESTS`,
//!   `strata-core`'s `cuda_device` and `strata`'s `cuda_training`, with the `cuda` feature;
//! - the `workloads` bench binary with the `cuda` feature (W1–W5 and the conv/LSTM op timings);
//! - every example of `strata` with the `cuda` feature;
//!
//! and copies them into `OUTDIR` (default `gpu-bundle/`, git-ignored) with `run-gpu.sh`, the
//! PyTorch twins (`../shared/bench/torch/*.py`, `summarize.py`) and their CUDA wrapper
//! `torch_cuda.py` from `scripts/gpu/`, and the data sets (`../shared/data` when present and
//! the bundle still fits, else the committed subsets). It refuses a bundle over 64 MiB. On the GPU machine:
//! `OUTDIR/run-gpu.sh LOGDIR` (see `docs/cuda.md`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The most the bundle may weigh (what the GPU machine's transfer takes).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Test targets of `strata-cuda` that check the sources offline (they read the `.cu`/`.ptx`
/// files or compile them on the host) and need no GPU: CI runs them; the bundle leaves them out,
/// since the sources are not next to the binaries on the GPU machine.
const HOST_ONLY_TESTS: &[&str] = &["ptx_entries", "host_foundation", "host_kernels"];

/// Examples that are not training runs (they time the loader), left out of the bundle.
const SKIPPED_EXAMPLES: &[&str] = &["loader_prefetch_bench"];

/// The committed subsets, under the set names the examples look up in `STRATA_DATA`.
const SUBSETS: &[(&str, &str)] = &[
    ("mnist-subset", "mnist"),
    ("sms-spam-subset", "sms_spam"),
    ("fsdd-mfcc-subset", "fsdd_mfcc"),
    ("timeseries-subset", "timeseries"),
];

/// Runs the `gpu` command.
pub(crate) fn gpu(rest: &[String]) -> Result<(), String> {
    let out = match rest {
        [] => workspace_root().join("gpu-bundle"),
        [dir] if !dir.starts_with('-') => PathBuf::from(dir),
        _ => return Err("usage: cargo xtask gpu [OUTDIR]".into()),
    };
    let root = workspace_root();
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| format!("clearing {}: {e}", out.display()))?;
    }
    for sub in ["tests", "bin", "examples", "torch"] {
        mkdir(&out.join(sub))?;
    }

    let mut tests = test_binaries("strata-cuda", &[])?;
    tests.extend(test_binaries(
        "strata-core",
        &["--features", "cuda", "--test", "cuda_device"],
    )?);
    tests.extend(test_binaries(
        "strata",
        &["--features", "cuda", "--test", "cuda_training"],
    )?);
    for (name, exe) in &tests {
        copy_binary(exe, &out.join("tests").join(name))?;
    }

    let mut bench = release_cargo("build");
    bench.args([
        "-p",
        "strata-benches",
        "--features",
        "cuda",
        "--bin",
        "workloads",
    ]);
    crate::run(bench)?;
    let release = target_dir().join("release");
    copy_binary(&release.join("workloads"), &out.join("bin/workloads"))?;

    let mut examples = release_cargo("build");
    examples.args(["-p", "strata", "--features", "cuda", "--examples"]);
    crate::run(examples)?;
    for name in example_names(&root.join("crates/strata/examples"))? {
        copy_binary(
            &release.join("examples").join(&name),
            &out.join("examples").join(&name),
        )?;
    }

    let scripts = root.join("scripts/gpu");
    copy(&scripts.join("run-gpu.sh"), &out.join("run-gpu.sh"))?;
    copy(
        &scripts.join("torch_cuda.py"),
        &out.join("torch/torch_cuda.py"),
    )?;
    let shared = root.join("../shared");
    let torch = shared.join("bench/torch");
    if torch.is_dir() {
        for entry in read_dir(&torch)? {
            if entry.extension().is_some_and(|e| e == "py") {
                copy(&entry, &out.join("torch").join(file_name(&entry)?))?;
            }
        }
        copy(
            &shared.join("bench/summarize.py"),
            &out.join("torch/summarize.py"),
        )?;
    } else {
        eprintln!(
            "xtask gpu: {} not found; the bundle has no PyTorch twins",
            torch.display()
        );
    }
    let data = out.join("data");
    let mut full_data = copy_data(&root, &shared.join("data"), &data)?;
    if full_data && du(&out)? > MAX_BYTES {
        eprintln!("xtask gpu: the full data sets do not fit; bundling the committed subsets");
        fs::remove_dir_all(&data).map_err(|e| format!("clearing {}: {e}", data.display()))?;
        full_data = copy_data(&root, Path::new("/nonexistent"), &data)?;
    }

    let bytes = du(&out)?;
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if bytes > MAX_BYTES {
        return Err(format!(
            "the bundle {} is {mib:.1} MiB, over the 64 MiB the GPU machine takes",
            out.display()
        ));
    }
    println!(
        "xtask gpu: {} test binaries, the workloads bench, {} examples and the {} in {} \
         ({mib:.1} MiB)\non the GPU machine: {}/run-gpu.sh LOGDIR",
        tests.len(),
        read_dir(&out.join("examples"))?.len(),
        if full_data {
            "full data sets"
        } else {
            "committed data subsets"
        },
        out.display(),
        out.display()
    );
    Ok(())
}

/// `cargo --quiet <subcommand> --release`, debug info stripped, in the workspace.
fn release_cargo(subcommand: &str) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(workspace_root());
    c.env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    c.env("CARGO_TERM_COLOR", "never");
    c.args(["--quiet", subcommand, "--release"]);
    c
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds the release test binaries of `package` (with `extra` cargo flags) and returns
/// `(bundle name, path)` for each: `<package>.<target>` (`<package>.unit` for the library's
/// unit tests).
fn test_binaries(package: &str, extra: &[&str]) -> Result<Vec<(String, PathBuf)>, String> {
    let mut c = release_cargo("test");
    c.args(["--no-run", "--message-format=json", "-p", package]);
    c.args(extra);
    let shown = format!("{c:?}");
    let output = c
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{shown} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if !line.contains("\"reason\":\"compiler-artifact\"") || !is_test_profile(line) {
            continue;
        }
        let (Some(exe), Some(target)) = (
            json_string(line, "\"executable\":"),
            json_string(line, "\"name\":"),
        ) else {
            continue;
        };
        if HOST_ONLY_TESTS.contains(&target.as_str()) {
            continue;
        }
        let crate_name = package.replace('-', "_");
        let name = if target == crate_name {
            format!("{package}.unit")
        } else {
            format!("{package}.{target}")
        };
        found.push((name, PathBuf::from(exe)));
    }
    if found.is_empty() {
        return Err(format!("{shown} built no test binary"));
    }
    Ok(found)
}

/// Whether a compiler-artifact line is a test harness build (`"profile":{..."test":true}`;
/// the target has a `"test"` field of its own, so only the profile's counts).
fn is_test_profile(line: &str) -> bool {
    line.split_once("\"profile\":{")
        .and_then(|(_, rest)| rest.split_once('}'))
        .is_some_and(|(profile, _)| profile.contains("\"test\":true"))
}

/// The string value that follows the first `key` in a line of cargo's JSON (the target's
/// `"name"` comes before any other `"name"` in a compiler-artifact message). `None` when the
/// value is not a plain string (`null`).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let rest = line[start..].strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// The example names (`examples/<name>.rs`) that go into the bundle.
fn example_names(dir: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|n| !SKIPPED_EXAMPLES.contains(&n.as_str()))
        .collect();
    names.sort();
    Ok(names)
}

/// Copies the full data sets when `shared` exists, else the committed subsets under their
/// set names; returns whether the full sets were copied.
fn copy_data(root: &Path, shared: &Path, out: &Path) -> Result<bool, String> {
    if shared.is_dir() {
        return copy_tree(shared, out).map(|()| true);
    }
    eprintln!(
        "xtask gpu: {} not found; bundling the committed subsets",
        shared.display()
    );
    for (subset, set) in SUBSETS {
        copy_tree(
            &root.join("crates/strata-data/data").join(subset),
            &out.join(set),
        )?;
    }
    Ok(false)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    mkdir(to)?;
    for entry in read_dir(from)? {
        let target = to.join(file_name(&entry)?);
        if entry.is_dir() {
            copy_tree(&entry, &target)?;
        } else {
            copy(&entry, &target)?;
        }
    }
    Ok(())
}

fn du(path: &Path) -> Result<u64, String> {
    if path.is_file() {
        return fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", path.display()));
    }
    read_dir(path)?.iter().map(|p| du(p)).sum()
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    entries
        .map(|e| {
            e.map(|e| e.path())
                .map_err(|e| format!("reading {}: {e}", dir.display()))
        })
        .collect()
}

fn file_name(path: &Path) -> Result<&std::ffi::OsStr, String> {
    path.file_name()
        .ok_or_else(|| format!("{} has no file name", path.display()))
}

fn mkdir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

/// Copies a binary and strips its symbol table with `strip` when there is one (a third of the
/// size; panic messages keep their file and line).
fn copy_binary(from: &Path, to: &Path) -> Result<(), String> {
    copy(from, to)?;
    let stripped = Command::new("strip")
        .arg("--strip-all")
        .arg(to)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        eprintln!(
            "xtask gpu: could not strip {}; bundling it as built",
            to.display()
        );
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_string_reads_the_first_value_and_unescapes() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"conformance","kind":["test"]},"profile":{"test":true},"executable":"/t/a \"b\"/conformance-1f"}"#;
        assert_eq!(
            json_string(line, "\"name\":").as_deref(),
            Some("conformance")
        );
        assert_eq!(
            json_string(line, "\"executable\":").as_deref(),
            Some("/t/a \"b\"/conformance-1f")
        );
        assert_eq!(
            json_string(r#"{"executable":null}"#, "\"executable\":"),
            None
        );
        assert!(is_test_profile(line));
        let bin =
            r#"{"target":{"name":"strata","test":true},"profile":{"opt_level":"3","test":false}}"#;
        assert!(!is_test_profile(bin));
    }

    #[test]
    fn every_bundled_example_is_a_training_run() {
        let names = example_names(&workspace_root().join("crates/strata/examples")).unwrap();
        assert!(names.contains(&"mnist_mlp".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| SKIPPED_EXAMPLES.contains(&n.as_str())));
    }
}
