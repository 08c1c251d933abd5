//! [`CpuBuffer`], the CPU backend's buffer, and the `BufferOps` family (allocation, transfer,
//! gradient accumulation). Nothing here computes beyond `add_assign`.

use strata_backend::{BackendError, BufferOps, Result};

use crate::CpuBackend;

/// A flat, row-major buffer of `f32` in host memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuBuffer(Vec<f32>);

impl CpuBuffer {
    /// Wraps a vector without copying.
    pub fn from_vec(data: Vec<f32>) -> Self {
        CpuBuffer(data)
    }
    /// The elements, read-only.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
    /// The elements, writable.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.0
    }
    /// Unwraps the vector without copying.
    pub fn into_vec(self) -> Vec<f32> {
        self.0
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when the buffer holds no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<f32>> for CpuBuffer {
    fn from(data: Vec<f32>) -> Self {
        CpuBuffer(data)
    }
}

impl BufferOps for CpuBackend {
    type Buffer = CpuBuffer;

    fn name(&self) -> String {
        "cpu".to_string()
    }

    fn from_host(&self, data: &[f32]) -> Result<CpuBuffer> {
        Ok(CpuBuffer(data.to_vec()))
    }

    fn from_host_vec(&self, data: Vec<f32>) -> Result<CpuBuffer> {
        Ok(CpuBuffer(data))
    }

    fn full(&self, len: usize, value: f32) -> Result<CpuBuffer> {
        Ok(CpuBuffer(vec![value; len]))
    }

    fn to_host(&self, buf: &CpuBuffer) -> Result<Vec<f32>> {
        Ok(buf.0.clone())
    }

    fn len(&self, buf: &CpuBuffer) -> usize {
        buf.0.len()
    }

    fn copy(&self, buf: &CpuBuffer) -> Result<CpuBuffer> {
        Ok(buf.clone())
    }

    fn add_assign(&self, dst: &mut CpuBuffer, src: &CpuBuffer) -> Result<()> {
        BackendError::check_len("add_assign", dst.len(), src.len())?;
        for (d, &s) in dst.0.iter_mut().zip(&src.0) {
            *d += s;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_round_trips_through_host() {
        let cpu = CpuBackend::new();
        let b = cpu.from_host(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(cpu.to_host(&b).unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(cpu.len(&b), 3);
        assert_eq!(b.as_slice(), &[1.0, 2.0, 3.0]);
        assert_eq!(b.into_vec(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn full_and_zeros_fill_every_element() {
        let cpu = CpuBackend::new();
        assert_eq!(cpu.full(3, 2.5).unwrap().as_slice(), &[2.5; 3]);
        assert_eq!(cpu.zeros(2).unwrap().as_slice(), &[0.0; 2]);
        assert!(cpu.zeros(0).unwrap().is_empty());
    }

    #[test]
    fn add_assign_accumulates_in_place() {
        let cpu = CpuBackend::new();
        let mut d = CpuBuffer::from_vec(vec![1.0, 2.0]);
        cpu.add_assign(&mut d, &CpuBuffer::from_vec(vec![0.5, -2.0]))
            .unwrap();
        assert_eq!(d.as_slice(), &[1.5, 0.0]);
    }

    #[test]
    fn add_assign_rejects_unequal_lengths() {
        let cpu = CpuBackend::new();
        let mut d = CpuBuffer::from_vec(vec![1.0, 2.0]);
        let err = cpu.add_assign(&mut d, &CpuBuffer::from_vec(vec![1.0]));
        assert!(matches!(err, Err(BackendError::LengthMismatch { .. })));
    }
}
