//! The kernel registry: the committed PTX of every kernel family, embedded in the binary and
//! loaded into the context once, on first use; and the launch helpers.
//!
//! # How to add a kernel
//!
//! 1. Write it in `crates/strata-cuda/kernels/<family>.cu` as an `extern "C" __global__`
//!    function named `<family>_<op>` (plain C types across the boundary: `float*`,
//!    `const float*`, `float`, `unsigned long long` for element counts and indices, `int` for
//!    op codes). Loop with a grid stride so that any grid size is correct: `GRID_STRIDE(i, n)`
//!    from `kernels/common.cuh`, which also has the N-d strided walk (`Strided`, mirrored by
//!    `StridedArgs` in `src/strided.rs`) and the warp-shuffle block reductions.
//! 2. Run `cargo xtask ptx` to regenerate `kernels/ptx/<family>.ptx` (pinned nvcc,
//!    `-arch=compute_75`), and commit both files. `cargo xtask ptx --check` (CI) fails when
//!    they disagree and runs ptxas for sm_80 and sm_90.
//! 3. A new family only: add one line `Family => "family",` to the `kernel_modules!` list below.
//! 4. Launch it from `src/ops/<family>.rs` with
//!    `launch!(self, Family, "family_op", launch_config(n), arg1, arg2, ...)`: arguments are
//!    `&CudaSlice` / `&mut CudaSlice` (from `buf.slice()` / `buf.slice_mut()`) or references to
//!    scalars (`&n` with `n: u64`, `&value` with `value: f32`), in the kernel's order. The name
//!    must be a string literal: `tests/ptx_entries.rs` checks every such literal against the
//!    `.entry` lines of the PTX, so a typo fails offline.
//! 5. Check the kernel on the host too: `tests/host_foundation/<family>.cpp` (or C2's
//!    `tests/host_kernels/`) includes the `.cu` through a shim and compares it with plain loops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{CudaContext, CudaFunction, CudaModule, DriverError, LaunchConfig};
use cudarc::nvrtc::Ptx;

/// Threads per block of the elementwise (grid-stride) kernels.
pub(crate) const BLOCK: u32 = 256;
/// The most blocks an elementwise launch uses; the grid-stride loop covers the rest (an H100
/// holds 132 SMs × 2048 threads, far fewer than `MAX_BLOCKS × BLOCK`).
pub(crate) const MAX_BLOCKS: usize = 8192;

/// A launch of `BLOCK`-thread blocks covering `n` elements with a grid-stride loop (at least one
/// block, at most `MAX_BLOCKS`).
pub(crate) fn launch_config(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).clamp(1, MAX_BLOCKS) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// One block of `threads` threads per row, `rows` blocks in a (grid-stride capped) grid: the
/// shape of the row-wise reduction kernels (softmax, reductions), which loop over rows with a
/// block stride. `threads` must be a multiple of 32.
pub(crate) fn rows_config(rows: usize, threads: u32) -> LaunchConfig {
    let blocks = rows.clamp(1, 65_535) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Threads for a row-wise kernel over rows of `cols` elements: a warp for short rows, up to
/// 256 for long ones (always a multiple of 32).
pub(crate) fn row_threads(cols: usize) -> u32 {
    match cols {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 256,
    }
}

/// Launches kernel `$name` of module `$module` on the backend's stream with `$cfg` and the
/// arguments in order, mapping a driver failure to a `BackendError::Device` naming the kernel.
/// Evaluates to `Result<(), BackendError>`.
macro_rules! launch {
    ($backend:expr, $module:ident, $name:literal, $cfg:expr, $($arg:expr),+ $(,)?) => {{
        let backend: &$crate::CudaBackend = $backend;
        let cfg: ::cudarc::driver::LaunchConfig = $cfg;
        match backend.function($crate::kernels::KernelModule::$module, $name) {
            Err(e) => Err(e),
            Ok(f) => {
                #[allow(unused_imports)]
                use ::cudarc::driver::PushKernelArg as _;
                let mut builder = backend.stream().launch_builder(&f);
                $( builder.arg($arg); )+
                // SAFETY: every call site passes the arguments in the order and with the types
                // of the kernel's C signature, and sizes its buffers for the counts it passes.
                let launched = unsafe { builder.launch(cfg) };
                launched.map(|_| ()).map_err(|e| backend.err($name, e))
            }
        }
    }};
}
pub(crate) use launch;

macro_rules! kernel_modules {
    ($($variant:ident => $file:literal),+ $(,)?) => {
        /// A kernel family: one `.cu` file, one embedded PTX module.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KernelModule {
            $(
                #[doc = concat!("`kernels/", $file, ".cu`")]
                $variant,
            )+
        }

        impl KernelModule {
            /// Every module, in declaration order.
            pub const ALL: &'static [KernelModule] = &[$(KernelModule::$variant),+];

            /// The family name: the `.cu` file stem and the prefix of every entry point.
            pub fn name(self) -> &'static str {
                match self {
                    $(KernelModule::$variant => $file,)+
                }
            }

            /// The embedded PTX text.
            pub fn ptx(self) -> &'static str {
                match self {
                    $(KernelModule::$variant => include_str!(concat!("../kernels/ptx/", $file, ".ptx")),)+
                }
            }

            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

kernel_modules! {
    Buffer => "buffer",
    Elementwise => "elementwise",
    Linalg => "linalg",
    Layout => "layout",
    Reduce => "reduce",
    Softmax => "softmax",
    Random => "random",
    Optimizer => "optimizer",
    Conv => "conv",
    Pool => "pool",
    Norm => "norm",
    Recurrent => "recurrent",
}

/// The modules and functions loaded into one context, each loaded at most once.
pub(crate) struct Kernels {
    ctx: Arc<CudaContext>,
    modules: Vec<OnceLock<Arc<CudaModule>>>,
    functions: Mutex<HashMap<&'static str, CudaFunction>>,
}

impl Kernels {
    pub(crate) fn new(ctx: Arc<CudaContext>) -> Self {
        Kernels {
            ctx,
            modules: KernelModule::ALL.iter().map(|_| OnceLock::new()).collect(),
            functions: Mutex::new(HashMap::new()),
        }
    }

    /// The loaded module, loading its PTX on first use.
    pub(crate) fn module(&self, module: KernelModule) -> Result<Arc<CudaModule>, DriverError> {
        let cell = &self.modules[module.index()];
        if let Some(m) = cell.get() {
            return Ok(m.clone());
        }
        let loaded = self.ctx.load_module(Ptx::from_src(module.ptx()))?;
        // Two threads may race to load; the loser's module is dropped, both get the winner's.
        Ok(cell.get_or_init(|| loaded).clone())
    }

    /// The function `name` of `module` (entry names are unique across modules: they start
    /// with the family name).
    pub(crate) fn function(
        &self,
        module: KernelModule,
        name: &'static str,
    ) -> Result<CudaFunction, DriverError> {
        let mut functions = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = functions.get(name) {
            return Ok(f.clone());
        }
        let f = self.module(module)?.load_function(name)?;
        functions.insert(name, f.clone());
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_config_covers_small_and_caps_large() {
        assert_eq!(launch_config(0).grid_dim.0, 1);
        assert_eq!(launch_config(1).grid_dim.0, 1);
        assert_eq!(launch_config(257).grid_dim.0, 2);
        assert_eq!(launch_config(usize::MAX / 2).grid_dim.0, MAX_BLOCKS as u32);
    }

    #[test]
    fn every_module_embeds_ptx_with_its_entries() {
        for &m in KernelModule::ALL {
            let ptx = m.ptx();
            assert!(ptx.contains(".version"), "{} PTX has no .version", m.name());
            assert!(
                ptx.contains(&format!(".entry {}_", m.name())),
                "{} PTX has no entry starting with {}_",
                m.name(),
                m.name()
            );
        }
    }
}
