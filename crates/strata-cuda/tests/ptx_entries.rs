//! Offline checks of the kernel registry against the committed PTX, no GPU needed: every kernel
//! name the host code launches exists as an `.entry` of its family's PTX (a typo fails here, not
//! on the GPU), every entry is launched by some host code, every `kernels/*.cu` has a registered
//! module, and every embedded PTX targets an ISA driver 580 can load.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use strata_cuda::KernelModule;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every string literal made of `[a-z0-9_]` in `text`.
fn identifier_literals(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let lit = &after[..end];
        if !lit.is_empty()
            && lit
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            found.push(lit.to_string());
        }
        rest = &after[end + 1..];
    }
    found
}

/// The `.entry` names of a PTX text.
fn entries(ptx: &str) -> BTreeSet<String> {
    ptx.lines()
        .filter_map(|l| {
            let l = l.trim();
            let at = l.find(".entry ")?;
            let name = &l[at + ".entry ".len()..];
            Some(name.trim_end_matches('(').trim().to_string())
        })
        .collect()
}

/// Kernel names the host code uses: literals `<family>_...` for a registered family.
fn launched_names() -> BTreeSet<(KernelModule, String)> {
    let mut files = Vec::new();
    rust_sources(&crate_dir().join("src"), &mut files);
    let mut names = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("reading a source file");
        for lit in identifier_literals(&text) {
            for &module in KernelModule::ALL {
                if lit.starts_with(&format!("{}_", module.name())) {
                    names.insert((module, lit.clone()));
                }
            }
        }
    }
    names
}

#[test]
fn every_launched_kernel_is_an_entry_of_its_ptx() {
    let launched = launched_names();
    assert!(
        launched.len() > 20,
        "found only {} kernel names in src/: the scan is broken",
        launched.len()
    );
    let mut missing = Vec::new();
    for (module, name) in &launched {
        if !entries(module.ptx()).contains(name) {
            missing.push(format!("{name} (module {})", module.name()));
        }
    }
    assert!(
        missing.is_empty(),
        "host code names kernels the PTX does not define: {missing:?}"
    );
}

#[test]
fn every_entry_is_launched_by_the_host_code() {
    let launched: BTreeSet<String> = launched_names().into_iter().map(|(_, n)| n).collect();
    let mut unused = Vec::new();
    for &module in KernelModule::ALL {
        for entry in entries(module.ptx()) {
            if !launched.contains(&entry) {
                unused.push(entry);
            }
        }
    }
    assert!(
        unused.is_empty(),
        "PTX entries no host code launches: {unused:?}"
    );
}

#[test]
fn every_kernel_source_has_a_registered_module_and_vice_versa() {
    let mut sources = BTreeSet::new();
    for entry in std::fs::read_dir(crate_dir().join("kernels")).expect("reading kernels/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "cu") {
            let stem = path.file_stem().expect("a file name").to_string_lossy();
            sources.insert(stem.into_owned());
        }
    }
    let registered: BTreeSet<String> = KernelModule::ALL
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    assert_eq!(
        sources, registered,
        "kernels/*.cu and the registry disagree"
    );
    for family in [
        "buffer",
        "elementwise",
        "layout",
        "reduce",
        "linalg",
        "softmax",
        "random",
        "optimizer",
        "conv",
        "pool",
        "norm",
        "recurrent",
    ] {
        assert!(registered.contains(family), "no kernel module for {family}");
    }
}

#[test]
fn every_ptx_is_compute_75_and_loadable_by_driver_580() {
    for &module in KernelModule::ALL {
        let ptx = module.ptx();
        let version = ptx
            .lines()
            .find_map(|l| l.trim().strip_prefix(".version "))
            .unwrap_or_else(|| panic!("{}: no .version", module.name()));
        let (major, minor) = version
            .trim()
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            .unwrap_or_else(|| panic!("{}: bad .version {version}", module.name()));
        assert!(
            (major, minor) <= (9, 0),
            "{}: PTX ISA {major}.{minor} is newer than driver 580 loads",
            module.name()
        );
        assert!(
            ptx.contains(".target sm_75"),
            "{}: not built for compute_75",
            module.name()
        );
        let line_info = ptx.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(".loc\t") || l.starts_with(".loc ") || l.starts_with(".file")
        });
        assert!(
            !line_info,
            "{}: has line info (built with -lineinfo, not reproducible)",
            module.name()
        );
    }
}

#[test]
fn literal_scan_finds_names() {
    let lits = identifier_literals(r#"launch!(self, Reduce, "reduce_axes", cfg) "Not this" "x""#);
    assert_eq!(lits, vec!["reduce_axes".to_string(), "x".to_string()]);
    let e = entries(".visible .entry reduce_axes(\n.param .u64 p\n)");
    assert!(e.contains("reduce_axes"));
}
