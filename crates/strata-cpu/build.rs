//! Links the system OpenBLAS, which provides `cblas_sgemm` and `openblas_set_num_threads`.
//!
//! We link it directly instead of through `blas-src`/`openblas-src`: with the `system` feature
//! those only emit this same link line, but `openblas-build` still compiles an HTTP client
//! with TLS (ureq, rustls, ring) into every clean build. `OPENBLAS_LIB_DIR` points at a
//! non-standard install; Homebrew's keg-only prefixes are searched on macOS.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=OPENBLAS_LIB_DIR");
    if let Ok(dir) = std::env::var("OPENBLAS_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
    }
    for dir in [
        "/opt/homebrew/opt/openblas/lib",
        "/usr/local/opt/openblas/lib",
    ] {
        if Path::new(dir).exists() {
            println!("cargo:rustc-link-search=native={dir}");
        }
    }
    println!("cargo:rustc-link-lib=dylib=openblas");
}
