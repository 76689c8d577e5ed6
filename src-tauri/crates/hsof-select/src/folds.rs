//! Shuffled, stratified k-fold assignment, seeded.
//!
//! Classification: the rows of each class are shuffled and dealt round-robin into the folds, the
//! deal continuing where the previous class stopped, so every fold gets each class in proportion and
//! fold sizes differ by at most one. Regression: all rows are shuffled and dealt the same way.
//!
//! When the rows have groups, whole groups are dealt instead (the largest first, each to the
//! fold with the fewest rows so far), so no group is on both sides of a split; when they have
//! times, the groups are contiguous blocks of time, so a fold is a stretch of time and rows
//! from the same moment stay together.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{RowOrder, Target};

/// The folds for these rows: by group or time block when the rows have them, else stratified.
pub fn folds(target: &Target, rows: &RowOrder, k: usize, seed: u64) -> Vec<Vec<usize>> {
    match blocks(rows, k) {
        Some(b) => group_folds(&b, k, seed),
        None => stratified_folds(target, k, seed),
    }
}

/// With groups or times, a training part can miss a class (every row of it in one group, or
/// in one stretch of time): that is refused in words, before any model meets it. `parts` are
/// (what, training rows) pairs; `source` names the data.
pub fn check_training_classes<'a>(
    target: &Target,
    rows: &RowOrder,
    parts: impl IntoIterator<Item = (String, &'a [usize])>,
    source: &str,
) -> crate::error::Result<()> {
    let Target::Classes { codes, labels } = target else { return Ok(()) };
    let by = match (&rows.groups, &rows.times) {
        (Some((g, _)), _) => format!("grouped by `{g}`"),
        (None, Some((t, _))) => format!("in time order by `{t}`"),
        (None, None) => return Ok(()),
    };
    let present: Vec<bool> = {
        let mut p = vec![false; labels.len()];
        for c in codes {
            if let Some(x) = p.get_mut(*c as usize) {
                *x = true;
            }
        }
        p
    };
    for (what, train) in parts {
        let mut seen = vec![false; labels.len()];
        for r in train {
            if let Some(x) = codes.get(*r).and_then(|c| seen.get_mut(*c as usize)) {
                *x = true;
            }
        }
        if let Some(missing) = (0..labels.len()).find(|c| present[*c] && !seen[*c]) {
            return Err(crate::error::SelectError::invalid(
                source,
                None,
                format!(
                    "validation {by}: {what} trains without class `{}` (its rows are all in the held-out part); \
                     give each class rows in several groups or stretches of time, or ask for fewer folds",
                    labels[missing]
                ),
            ));
        }
    }
    Ok(())
}

/// The training rows of each fold (all rows of the other folds), with a name for messages.
pub fn training_parts<'a>(folds: &'a [Vec<usize>], what: &'a str) -> impl Iterator<Item = (String, Vec<usize>)> + 'a {
    (0..folds.len()).map(move |f| {
        let train: Vec<usize> =
            folds.iter().enumerate().filter(|(g, _)| *g != f).flat_map(|(_, r)| r.iter().copied()).collect();
        (format!("{what} {} of {}", f + 1, folds.len()), train)
    })
}

/// Each row's block: its group, or its stretch of time (`k` stretches of about equal rows,
/// rows with equal times in one); `None` for rows with neither.
pub fn blocks(rows: &RowOrder, k: usize) -> Option<Vec<u32>> {
    if let Some((_, g)) = &rows.groups {
        return Some(g.clone());
    }
    let (_, t) = rows.times.as_ref()?;
    Some(time_blocks(t, k))
}

/// `k` contiguous stretches of time with about as many rows each; equal times share a stretch.
pub fn time_blocks(times: &[f64], k: usize) -> Vec<u32> {
    let n = times.len();
    let k = k.clamp(1, n.max(1));
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| times[*a].total_cmp(&times[*b]).then(a.cmp(b)));
    let mut out = vec![0u32; n];
    let mut prev: Option<(f64, u32)> = None;
    for (p, &r) in order.iter().enumerate() {
        let b = match prev {
            Some((t, b)) if t == times[r] => b,
            _ => ((p * k) / n.max(1)) as u32,
        };
        out[r] = b;
        prev = Some((times[r], b));
    }
    out
}

/// Row indices of at most `k` folds made of whole blocks (each sorted ascending): blocks are
/// shuffled (seeded), then dealt largest first to the fold with the fewest rows so far.
pub fn group_folds(blocks: &[u32], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let n_blocks = blocks.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_blocks];
    for (r, b) in blocks.iter().enumerate() {
        members[*b as usize].push(r);
    }
    members.retain(|m| !m.is_empty());
    let k = k.clamp(1, members.len().max(1));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    members.shuffle(&mut rng);
    // Stable: equal sizes keep the shuffled order.
    members.sort_by_key(|m| std::cmp::Reverse(m.len()));
    let mut folds: Vec<Vec<usize>> = vec![Vec::new(); k];
    for m in members {
        let smallest = (0..k).min_by_key(|f| (folds[*f].len(), *f)).unwrap_or(0);
        folds[smallest].extend(m);
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    folds.retain(|f| !f.is_empty());
    folds
}

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
    fn no_group_is_on_both_sides_and_time_blocks_are_stretches() {
        let groups: Vec<u32> = (0..97).map(|i| (i * 7 % 13) as u32).collect();
        let folds = group_folds(&groups, 5, 3);
        assert_eq!(folds.len(), 5);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..97).collect::<Vec<_>>());
        for (a, fa) in folds.iter().enumerate() {
            for fb in folds.iter().skip(a + 1) {
                assert!(fa.iter().all(|r| fb.iter().all(|q| groups[*r] != groups[*q])), "a group split across folds");
            }
        }
        let times: Vec<f64> = (0..100).map(|i| f64::from((i * 37) % 100 / 2)).collect();
        let b = time_blocks(&times, 4);
        for r in 0..100 {
            for q in 0..100 {
                if times[r] < times[q] {
                    assert!(b[r] <= b[q], "blocks follow time");
                }
                if times[r] == times[q] {
                    assert_eq!(b[r], b[q], "equal times share a block");
                }
            }
        }
        assert_eq!(group_folds(&[0, 0, 0], 5, 1).len(), 1, "one group: one fold");
    }

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
