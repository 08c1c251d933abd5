//! Shared fixtures: a small synthetic classification problem and a model with dropout.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;

use strata_core::{Device, Tensor};
use strata_data::{Dataset, InMemoryDataset};
use strata_layers::{Dense, Dropout, Module, Relu, Sequential};

/// `n` points in three Gaussian-ish blobs around (0, 2), (-2, -1), (2, -1), spread 0.5,
/// drawn from a fixed linear congruential generator; labels 0, 1, 2.
pub fn blobs(n: usize, seed: u64) -> InMemoryDataset {
    let centres = [(0.0, 2.0), (-2.0, -1.0), (2.0, -1.0)];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32) / ((1u64 << 24) as f32) - 0.5
    };
    let mut features = Vec::with_capacity(2 * n);
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 3;
        let (cx, cy) = centres[class];
        // Sum of two uniforms: a triangular spread of ±1.
        features.push(cx + uniform() + uniform());
        features.push(cy + uniform() + uniform());
        targets.push(class as f32);
    }
    InMemoryDataset::new(features, vec![2], targets, vec![]).unwrap()
}

/// Dense(16) → ReLU → Dropout(0.3) → Dense(3), built from `seed`.
pub fn mlp(seed: u64) -> Sequential {
    Sequential::new()
        .add(Dense::new(16))
        .add(Relu)
        .add(Dropout::new(0.3))
        .add(Dense::new(3))
        .build(&[2], &Device::cpu(), seed)
        .unwrap()
}

/// Every parameter and buffer's values as bit patterns, by name.
pub fn weight_bits(model: &dyn Module) -> Vec<(String, Vec<u32>)> {
    let mut all = model.parameters();
    all.extend(model.buffers());
    all.iter()
        .map(|p| {
            (
                p.name().to_string(),
                p.tensor()
                    .to_vec()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect(),
            )
        })
        .collect()
}

/// The bits of named tensors, sorted by name.
pub fn tensor_bits(tensors: &[(String, Tensor)]) -> Vec<(String, Vec<u32>)> {
    let mut out: Vec<_> = tensors
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                t.to_vec().unwrap().iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A fresh temporary directory for one test.
pub fn temp_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-train-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A dataset that counts the samples copied on the thread that built it (the test's) and on
/// any other thread (a loader's prefetch worker).
pub struct ThreadCounting {
    inner: InMemoryDataset,
    home: ThreadId,
    here: AtomicUsize,
    elsewhere: AtomicUsize,
}

impl ThreadCounting {
    pub fn new(inner: InMemoryDataset) -> Self {
        ThreadCounting {
            inner,
            home: std::thread::current().id(),
            here: AtomicUsize::new(0),
            elsewhere: AtomicUsize::new(0),
        }
    }

    /// Samples copied on the test's thread.
    pub fn here(&self) -> usize {
        self.here.load(Ordering::SeqCst)
    }

    /// Samples copied on another thread.
    pub fn elsewhere(&self) -> usize {
        self.elsewhere.load(Ordering::SeqCst)
    }
}

impl Dataset for ThreadCounting {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn sample_shape(&self) -> &[usize] {
        self.inner.sample_shape()
    }
    fn target_shape(&self) -> &[usize] {
        self.inner.target_shape()
    }
    fn copy_sample(&self, i: usize, x: &mut [f32], y: &mut [f32]) -> strata_data::Result<()> {
        let counter = if std::thread::current().id() == self.home {
            &self.here
        } else {
            &self.elsewhere
        };
        counter.fetch_add(1, Ordering::SeqCst);
        self.inner.copy_sample(i, x, y)
    }
}

/// The bits of every value of a history series.
pub fn series_bits(history: &strata_train::History, name: &str) -> Vec<u64> {
    history.series(name).iter().map(|v| v.to_bits()).collect()
}
