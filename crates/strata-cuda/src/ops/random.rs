//! Seeded random buffers on the GPU (`kernels/random.cu`): the counter-based generator of
//! `strata_backend::random` ported to a device function, so uniform draws and dropout masks
//! are bit-identical to the CPU's for the same seed, and normal draws agree to the precision of
//! `logf`/`cosf`.

use strata_backend::{RandomOps, Result};

use crate::check::invalid;
use crate::kernels::{launch, launch_config};
use crate::{CudaBackend, CudaBuffer};

impl RandomOps for CudaBackend {
    fn random_uniform(&self, len: usize, low: f32, high: f32, seed: u64) -> Result<CudaBuffer> {
        let mut out = self.alloc(len)?;
        if len > 0 {
            let span = high - low;
            let n = len as u64;
            launch!(
                self,
                Random,
                "random_uniform",
                launch_config(len),
                out.slice_mut(),
                &n,
                &low,
                &span,
                &seed
            )?;
        }
        Ok(out)
    }

    fn random_normal(&self, len: usize, mean: f32, std: f32, seed: u64) -> Result<CudaBuffer> {
        let mut out = self.alloc(len)?;
        if len > 0 {
            let n = len as u64;
            launch!(
                self,
                Random,
                "random_normal",
                launch_config(len),
                out.slice_mut(),
                &n,
                &mean,
                &std,
                &seed
            )?;
        }
        Ok(out)
    }

    fn dropout(&self, x: &CudaBuffer, p: f32, seed: u64) -> Result<(CudaBuffer, CudaBuffer)> {
        if !(0.0..1.0).contains(&p) {
            return Err(invalid(
                "dropout",
                format!("probability {p} is outside [0, 1)"),
            ));
        }
        let len = x.len();
        let mut y = self.alloc(len)?;
        let mut mask = self.alloc(len)?;
        if len > 0 {
            // The same f32 expression as the CPU, so the kept value is bit-identical.
            let keep = 1.0 / (1.0 - p);
            let n = len as u64;
            launch!(
                self,
                Random,
                "random_dropout",
                launch_config(len),
                y.slice_mut(),
                mask.slice_mut(),
                x.slice(),
                &n,
                &p,
                &keep,
                &seed
            )?;
        }
        Ok((y, mask))
    }
}

impl CudaBackend {
    /// The raw 64-bit hashes `hash_at(seed, i)` for `i < len`, computed on the device (for the
    /// test that the port is bit-exact).
    #[doc(hidden)]
    pub fn random_hashes(&self, len: usize, seed: u64) -> Result<Vec<u64>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        // Two u32 words per hash, carried in an f32 buffer's bytes.
        let mut out = self.alloc(2 * len)?;
        let n = len as u64;
        launch!(
            self,
            Random,
            "random_hash",
            launch_config(len),
            out.slice_mut(),
            &n,
            &seed
        )?;
        let words = strata_backend::BufferOps::to_host(self, &out)?;
        Ok(words
            .chunks_exact(2)
            .map(|w| u64::from(w[0].to_bits()) | (u64::from(w[1].to_bits()) << 32))
            .collect())
    }
}
