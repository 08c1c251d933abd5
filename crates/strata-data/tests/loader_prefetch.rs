//! Prefetching on a worker thread and augmentation hooks: the same batches as assembling on
//! the caller's thread, reproducible augmentations, early stops.

use std::ops::ControlFlow;

use strata_data::augment::{GaussianNoise, HorizontalFlip};
use strata_data::{Batch, DataError, DataLoader, InMemoryDataset};

/// `n` 2×2 "images" holding 4i..4i+4, target i.
fn images(n: usize) -> InMemoryDataset {
    InMemoryDataset::new(
        (0..4 * n).map(|v| v as f32).collect(),
        vec![2, 2],
        (0..n).map(|i| i as f32).collect(),
        vec![],
    )
    .unwrap()
}

fn collect(loader: &DataLoader<'_, InMemoryDataset>, epoch: u64) -> Vec<Batch> {
    let mut out = Vec::new();
    loader
        .for_each_batch(epoch, |b| {
            out.push(b);
            Ok::<_, DataError>(())
        })
        .unwrap();
    out
}

#[test]
fn prefetched_batches_equal_batches_assembled_in_place() {
    let data = images(37);
    let plain = DataLoader::new(&data, 8).unwrap().shuffle(3);
    let ahead = plain.clone().prefetch(3);
    for epoch in 0..3 {
        let expected: Vec<Batch> = plain.epoch(epoch).map(|b| b.unwrap()).collect();
        assert_eq!(collect(&ahead, epoch), expected);
        assert_eq!(collect(&plain, epoch), expected);
    }
}

#[test]
fn augmentations_are_reproducible_with_or_without_prefetch_and_differ_by_epoch() {
    let data = images(20);
    let loader = DataLoader::new(&data, 5)
        .unwrap()
        .shuffle(1)
        .augment(HorizontalFlip { probability: 0.5 })
        .augment(GaussianNoise { std: 0.1 });
    let a = collect(&loader, 0);
    assert_eq!(a, collect(&loader.clone().prefetch(2), 0));
    assert_ne!(a, collect(&loader, 1));
    let clean: Vec<Batch> = DataLoader::new(&data, 5)
        .unwrap()
        .shuffle(1)
        .epoch(0)
        .map(|b| b.unwrap())
        .collect();
    assert_eq!(a.len(), clean.len());
    for (aug, raw) in a.iter().zip(&clean) {
        assert_eq!(aug.targets, raw.targets);
        assert_ne!(aug.features, raw.features);
        // Noise of 0.1 around a possibly flipped image: each value within 1 of some original
        // value of the same row.
        for (x, y) in aug.features.chunks(2).zip(raw.features.chunks(2)) {
            for v in x {
                assert!(y.iter().any(|o| (v - o).abs() < 1.0), "{x:?} vs {y:?}");
            }
        }
    }
}

#[test]
fn an_error_from_the_caller_stops_the_epoch_and_is_returned() {
    let data = images(100);
    let loader = DataLoader::new(&data, 4).unwrap().prefetch(2);
    let mut calls = 0;
    let e = loader
        .for_each_batch(0, |_| {
            calls += 1;
            if calls == 3 {
                Err(DataError::invalid("training", "a finite loss", "NaN"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(calls, 3);
    assert_eq!(e.to_string(), "training: expected a finite loss, found NaN");
}

/// The batches `for_each_batch_from(epoch, first, ..)` hands over, until `limit` of them.
fn collect_from(
    loader: &DataLoader<'_, InMemoryDataset>,
    epoch: u64,
    first: usize,
    limit: usize,
) -> Vec<Batch> {
    let mut out = Vec::new();
    loader
        .for_each_batch_from(epoch, first, |b| {
            out.push(b);
            Ok::<_, DataError>(if out.len() == limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })
        .unwrap();
    out
}

#[test]
fn starting_mid_epoch_gives_the_batches_at_those_positions_with_or_without_prefetch() {
    let data = images(37);
    let plain = DataLoader::new(&data, 8)
        .unwrap()
        .shuffle(5)
        .augment(GaussianNoise { std: 0.1 });
    let expected: Vec<Batch> = plain.epoch(2).map(|b| b.unwrap()).collect();
    for loader in [plain.clone(), plain.clone().prefetch(2)] {
        assert_eq!(collect_from(&loader, 2, 3, usize::MAX), expected[3..]);
        assert_eq!(collect_from(&loader, 2, 0, usize::MAX), expected);
        assert!(collect_from(&loader, 2, 5, usize::MAX).is_empty());
        assert!(collect_from(&loader, 2, 99, usize::MAX).is_empty());
    }
}

#[test]
fn a_break_stops_the_epoch_early_without_an_error() {
    let data = images(400);
    for loader in [
        DataLoader::new(&data, 4).unwrap(),
        DataLoader::new(&data, 4).unwrap().prefetch(3),
    ] {
        let got = collect_from(&loader, 0, 1, 2);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].targets, [4.0, 5.0, 6.0, 7.0]);
    }
}
