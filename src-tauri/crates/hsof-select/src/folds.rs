//! Shuffled, stratified k-fold assignment, seeded.
//!
//! Classification: the rows of each class are shuffled and dealt round-robin into the folds, the
//! deal continuing where the previous class stopped, so every fold gets each class in proportion and
//! fold sizes differ by at most one. Regression: all rows are shuffled and dealt the same way.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::Target;

/// Row indices of each of `k` folds (each sorted ascending). With fewer rows than `k`, there is one
/// fold per row (never an empty fold), so the result may have fewer than `k` folds.
pub fn stratified_folds(target: &Target, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let groups = class_groups(target);
    let k = k.clamp(1, target.len().max(1));
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for mut g in groups {
        g.shuffle(&mut rng);
        for row in g {
            folds[next % k].push(row);
            next += 1;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    folds
}

/// Rows of each class (codes beyond the labels are left out); all rows as one group for a
/// continuous target.
pub fn class_groups(target: &Target) -> Vec<Vec<usize>> {
    match target {
        Target::Classes { codes, labels } => {
            let mut g = vec![Vec::new(); labels.len()];
            for (i, c) in codes.iter().enumerate() {
                if let Some(v) = g.get_mut(*c as usize) {
                    v.push(i);
                }
            }
            g
        }
        Target::Continuous(y) => vec![(0..y.len()).collect()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_rows_and_keep_class_balance() {
        let codes: Vec<u32> = (0..100).map(|i| u32::from(i % 4 == 0)).collect();
        let t = Target::Classes { codes: codes.clone(), labels: vec!["a".into(), "b".into()] };
        let folds = stratified_folds(&t, 5, 7);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for f in &folds {
            assert_eq!(f.len(), 20);
            assert_eq!(f.iter().filter(|r| codes[**r] == 1).count(), 5);
        }
        assert_eq!(folds, stratified_folds(&t, 5, 7));
        assert_ne!(folds, stratified_folds(&t, 5, 8));
    }

    #[test]
    fn fewer_rows_than_folds_gives_one_fold_per_row() {
        let t = Target::Continuous(vec![1.0, 2.0, 3.0]);
        let folds = stratified_folds(&t, 5, 1);
        assert_eq!(folds.len(), 3);
        assert!(folds.iter().all(|f| f.len() == 1));
    }
}
