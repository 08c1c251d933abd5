//! Splitting sample indices: train/validation/test (optionally stratified by class) and
//! k-fold cross-validation, all seeded and reproducible (the crate's SplitMix64 shuffle).

use std::collections::BTreeMap;

use crate::error::{DataError, Result};
use crate::rng::SplitMix64;

/// Sample indices of a train/validation/test split.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices (empty when no validation fraction was asked).
    pub validation: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

fn check_fractions(validation: f64, test: f64) -> Result<()> {
    let ok = |f: f64| (0.0..1.0).contains(&f);
    if !ok(validation) || !ok(test) || validation + test >= 1.0 {
        return Err(DataError::invalid(
            "train_val_test_split",
            "validation and test fractions in [0, 1) adding up to less than 1",
            format!("validation {validation}, test {test}"),
        ));
    }
    Ok(())
}

/// Splits `0..n` at random (seeded): `round(n · test)` test indices, `round(n · validation)`
/// validation indices, the rest for training.
///
/// ```
/// let s = strata_data::split::train_val_test_split(10, 0.2, 0.3, 7).unwrap();
/// assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (5, 2, 3));
/// ```
pub fn train_val_test_split(n: usize, validation: f64, test: f64, seed: u64) -> Result<Split> {
    check_fractions(validation, test)?;
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    Ok(cut(&order, validation, test))
}

/// Like [`train_val_test_split`] but each class (the distinct values of `labels`, one per
/// sample) is split in the same proportions, so every part keeps the class balance.
///
/// ```
/// let labels = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
/// let s = strata_data::split::stratified_split(&labels, 0.0, 0.25, 1).unwrap();
/// assert_eq!(s.test.iter().filter(|&&i| labels[i] == 0).count(), 1);
/// assert_eq!(s.test.iter().filter(|&&i| labels[i] == 1).count(), 2);
/// ```
pub fn stratified_split<L: Ord + Clone>(
    labels: &[L],
    validation: f64,
    test: f64,
    seed: u64,
) -> Result<Split> {
    check_fractions(validation, test)?;
    let mut groups: BTreeMap<L, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        groups.entry(l.clone()).or_default().push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let mut split = Split::default();
    for (_, mut members) in groups {
        rng.shuffle(&mut members);
        let part = cut(&members, validation, test);
        split.train.extend(part.train);
        split.validation.extend(part.validation);
        split.test.extend(part.test);
    }
    for part in [&mut split.train, &mut split.validation, &mut split.test] {
        rng.shuffle(part);
    }
    Ok(split)
}

fn cut(order: &[usize], validation: f64, test: f64) -> Split {
    let n = order.len() as f64;
    let n_test = (n * test).round() as usize;
    let n_val = ((n * validation).round() as usize).min(order.len() - n_test);
    Split {
        test: order[..n_test].to_vec(),
        validation: order[n_test..n_test + n_val].to_vec(),
        train: order[n_test + n_val..].to_vec(),
    }
}

/// `k` folds of `0..n` (seeded shuffle): fold `i` is `(train, validation)` with the
/// validation parts disjoint and covering every index once; sizes differ by at most one.
///
/// ```
/// let folds = strata_data::split::k_fold(10, 3, 0).unwrap();
/// assert_eq!(folds.iter().map(|(_, v)| v.len()).collect::<Vec<_>>(), vec![4, 3, 3]);
/// ```
pub fn k_fold(n: usize, k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    if k < 2 || k > n {
        return Err(DataError::invalid(
            "k_fold",
            format!("2 <= k <= the number of samples ({n})"),
            format!("k = {k}"),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let mut start = 0;
    Ok((0..k)
        .map(|i| {
            let size = n / k + usize::from(i < n % k);
            let validation = order[start..start + size].to_vec();
            let train = order[..start]
                .iter()
                .chain(&order[start + size..])
                .copied()
                .collect();
            start += size;
            (train, validation)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<usize>) -> Vec<usize> {
        v.sort();
        v
    }

    #[test]
    fn split_parts_partition_the_indices_and_are_reproducible() {
        let s = train_val_test_split(20, 0.25, 0.25, 3).unwrap();
        let all = sorted([s.train.clone(), s.validation.clone(), s.test.clone()].concat());
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        assert_eq!(
            (s.train.len(), s.validation.len(), s.test.len()),
            (10, 5, 5)
        );
        assert_eq!(train_val_test_split(20, 0.25, 0.25, 3).unwrap(), s);
        assert_ne!(train_val_test_split(20, 0.25, 0.25, 4).unwrap(), s);
    }

    #[test]
    fn stratified_keeps_class_proportions() {
        let labels: Vec<&str> = [vec!["a"; 10], vec!["b"; 30]].concat();
        let s = stratified_split(&labels, 0.1, 0.2, 9).unwrap();
        let count = |part: &[usize], l: &str| part.iter().filter(|&&i| labels[i] == l).count();
        assert_eq!((count(&s.test, "a"), count(&s.test, "b")), (2, 6));
        assert_eq!(
            (count(&s.validation, "a"), count(&s.validation, "b")),
            (1, 3)
        );
        assert_eq!(
            sorted([s.train, s.validation, s.test].concat()),
            (0..40).collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_fractions_and_fold_counts_are_errors() {
        assert!(train_val_test_split(10, 0.5, 0.5, 0).is_err());
        assert!(train_val_test_split(10, -0.1, 0.2, 0).is_err());
        assert!(k_fold(3, 4, 0).is_err());
        assert!(k_fold(3, 1, 0).is_err());
    }

    #[test]
    fn k_fold_validation_parts_cover_every_index_once() {
        let folds = k_fold(11, 4, 5).unwrap();
        let all = sorted(folds.iter().flat_map(|(_, v)| v.clone()).collect());
        assert_eq!(all, (0..11).collect::<Vec<_>>());
        for (train, val) in &folds {
            assert_eq!(train.len() + val.len(), 11);
            assert!(val.iter().all(|i| !train.contains(i)));
        }
    }
}
