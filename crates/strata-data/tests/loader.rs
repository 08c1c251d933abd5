//! The DataLoader: batch counts, seeded per-epoch shuffles, and complete epochs.

use strata_data::{Batch, DataLoader, Dataset, InMemoryDataset};

/// `n` samples of shape [2] holding (i, 10·i), target i.
fn numbered(n: usize) -> InMemoryDataset {
    let features = (0..n).flat_map(|i| [i as f32, 10.0 * i as f32]).collect();
    InMemoryDataset::new(
        features,
        vec![2],
        (0..n).map(|i| i as f32).collect(),
        vec![],
    )
    .unwrap()
}

/// The sample ids (targets) of every batch of `epoch`.
fn epoch_ids(loader: &DataLoader<'_, InMemoryDataset>, epoch: u64) -> Vec<Vec<usize>> {
    loader
        .epoch(epoch)
        .map(|b| b.unwrap().targets.iter().map(|&t| t as usize).collect())
        .collect()
}

#[test]
fn batch_counts_with_and_without_drop_last() {
    let data = numbered(10);
    let keep = DataLoader::new(&data, 4).unwrap();
    let drop = DataLoader::new(&data, 4).unwrap().drop_last(true);
    assert_eq!((keep.num_batches(), drop.num_batches()), (3, 2));
    let sizes = |l: &DataLoader<'_, InMemoryDataset>| {
        l.epoch(0).map(|b| b.unwrap().len()).collect::<Vec<_>>()
    };
    assert_eq!(sizes(&keep), vec![4, 4, 2]);
    assert_eq!(sizes(&drop), vec![4, 4]);
    assert_eq!(keep.epoch(0).len(), 3);
    let exact = DataLoader::new(&data, 5).unwrap().drop_last(true);
    assert_eq!(sizes(&exact), vec![5, 5]);
}

#[test]
fn batches_stack_samples_along_a_leading_dimension() {
    let data = numbered(3);
    let batch = DataLoader::new(&data, 2)
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(batch.feature_shape, vec![2, 2]);
    assert_eq!(batch.features, vec![0.0, 0.0, 1.0, 10.0]);
    assert_eq!(batch.target_shape, vec![2]);
    assert_eq!(batch.targets, vec![0.0, 1.0]);
}

#[test]
fn without_shuffle_batches_follow_dataset_order() {
    let data = numbered(5);
    let loader = DataLoader::new(&data, 2).unwrap();
    assert_eq!(epoch_ids(&loader, 0), vec![vec![0, 1], vec![2, 3], vec![4]]);
    assert_eq!(epoch_ids(&loader, 7), epoch_ids(&loader, 0));
}

#[test]
fn shuffle_is_reproducible_by_seed() {
    let data = numbered(50);
    let a = DataLoader::new(&data, 8).unwrap().shuffle(1234);
    let b = DataLoader::new(&data, 8).unwrap().shuffle(1234);
    let other = DataLoader::new(&data, 8).unwrap().shuffle(1235);
    for epoch in 0..3 {
        assert_eq!(epoch_ids(&a, epoch), epoch_ids(&b, epoch));
        assert_ne!(epoch_ids(&a, epoch), epoch_ids(&other, epoch));
    }
}

#[test]
fn shuffle_differs_across_epochs() {
    let data = numbered(50);
    let loader = DataLoader::new(&data, 8).unwrap().shuffle(99);
    let orders: Vec<Vec<usize>> = (0..4).map(|e| loader.order(e)).collect();
    for i in 0..orders.len() {
        for j in i + 1..orders.len() {
            assert_ne!(orders[i], orders[j], "epochs {i} and {j}");
        }
    }
    assert_ne!(orders[0], (0..50).collect::<Vec<_>>());
}

#[test]
fn every_sample_appears_once_per_epoch() {
    let data = numbered(37);
    let loader = DataLoader::new(&data, 5).unwrap().shuffle(7);
    for epoch in 0..3 {
        let mut ids: Vec<usize> = epoch_ids(&loader, epoch).concat();
        ids.sort_unstable();
        assert_eq!(ids, (0..37).collect::<Vec<_>>(), "epoch {epoch}");
    }
}

#[test]
fn drop_last_with_shuffle_leaves_out_distinct_samples_only() {
    let data = numbered(37);
    let loader = DataLoader::new(&data, 5)
        .unwrap()
        .shuffle(7)
        .drop_last(true);
    let mut ids: Vec<usize> = epoch_ids(&loader, 0).concat();
    assert_eq!(ids.len(), 35);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 35);
}

#[test]
fn next_into_refills_a_batch_in_place() {
    let data = numbered(5);
    let loader = DataLoader::new(&data, 2).unwrap();
    let mut batches = loader.epoch(0);
    let mut batch = Batch::default();
    let mut seen = Vec::new();
    while batches.next_into(&mut batch).unwrap() {
        seen.push(batch.targets.clone());
    }
    assert_eq!(seen, vec![vec![0.0, 1.0], vec![2.0, 3.0], vec![4.0]]);
    assert_eq!(batch.feature_shape, vec![1, 2]);
}

#[test]
fn zero_batch_size_is_refused() {
    let data = numbered(3);
    assert!(DataLoader::new(&data, 0).is_err());
}

#[test]
fn works_over_a_trait_object() {
    let data = numbered(4);
    let dynamic: &dyn Dataset = &data;
    let loader = DataLoader::new(dynamic, 3).unwrap();
    assert_eq!(loader.epoch(0).count(), 2);
}

#[cfg(feature = "tensor")]
#[test]
fn batches_become_tensors_of_the_batch_shapes() {
    let data = numbered(3);
    let batch = DataLoader::new(&data, 2)
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    let device = strata_core::Device::cpu();
    let (x, y) = batch.to_tensors(&device).unwrap();
    assert_eq!((x.dims(), y.dims()), (&[2, 2][..], &[2][..]));
    assert_eq!(x.to_vec().unwrap(), vec![0.0, 0.0, 1.0, 10.0]);
    let (x2, _) = batch.into_tensors(&device).unwrap();
    assert_eq!(x2.to_vec().unwrap(), x.to_vec().unwrap());
}
