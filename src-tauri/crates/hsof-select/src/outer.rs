//! The outer validation around the whole selection: which rows each selection may see and
//! which rows score it.
//!
//! Stage 3 picks its subset on the same folds that give its score, after stages 1 and 2 saw
//! every row, so that score is optimistic (on random labels it reads well above chance). The
//! honest score comes from rows no selection decision saw:
//!
//! - **nested folds** (k outer stratified folds): stages 1-3 run on each outer training part,
//!   and the chosen (subset, model) is refitted on that part and scored on its held-out fold;
//!   the reported features come from one more selection on every row, and each one's
//!   stability is the share of outer selections that chose it too;
//! - **holdout** (a stratified fraction): one selection on the other rows, scored on it; the
//!   reported features are that selection's.
//!
//! [`OuterValidation::Auto`] takes three folds below [`AUTO_HOLDOUT_ROWS`] rows (where a
//! holdout would be small and its score noisy) and a 25 % holdout from there on (where one
//! selection is what costs, and a quarter of the rows scores it to about ±1/√n).

use crate::data::{RowOrder, Target};
use crate::folds::{group_folds, stratified_folds, time_blocks};
use crate::options::OuterValidation;

/// From this many rows on, [`OuterValidation::Auto`] holds out 25 % instead of three folds.
pub const AUTO_HOLDOUT_ROWS: usize = 1000;

/// The outer splits.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `nested_folds`, `holdout` or `none`.
    pub scheme: &'static str,
    /// (training rows, held-out rows) of each split, rows sorted.
    pub splits: Vec<(Vec<usize>, Vec<usize>)>,
    /// Outer folds asked for (`None` for a holdout or no outer split), before clamping.
    pub requested_folds: Option<usize>,
    /// How rows were kept apart, in words, when not by class (`grouped by `g``).
    pub by: Option<String>,
}

impl Plan {
    /// The scheme in words.
    pub fn describe(&self, inner_folds: usize) -> String {
        let text = self.describe_scheme(inner_folds);
        match &self.by {
            Some(by) => format!("{text}; {by}"),
            None => text,
        }
    }

    fn describe_scheme(&self, inner_folds: usize) -> String {
        match self.scheme {
            "nested_folds" => format!(
                "{} outer stratified folds around stages 1-3: each fold's selection ran on the other rows and \
                 was scored on that fold; the features come from a last selection on every row \
                 (stage 3's inner CV: {inner_folds} folds)",
                self.splits.len()
            ),
            "holdout" => format!(
                "a stratified holdout of {} rows: stages 1-3 ran on the other {} rows and the chosen subset \
                 and model were scored on the holdout (stage 3's inner CV: {inner_folds} folds)",
                self.splits[0].1.len(),
                self.splits[0].0.len()
            ),
            _ => format!(
                "no outer split (too few rows or too few of one class to hold any out): the score is stage 3's \
                 own {inner_folds}-fold CV of the subset it chose, which is optimistic"
            ),
        }
    }
}

/// Rows of the smallest class (all rows for a continuous target).
fn smallest_class(target: &Target) -> usize {
    match target {
        Target::Classes { codes, labels } => {
            let mut counts = vec![0usize; labels.len()];
            for c in codes {
                if let Some(n) = counts.get_mut(*c as usize) {
                    *n += 1;
                }
            }
            counts.into_iter().filter(|n| *n > 0).min().unwrap_or(0)
        }
        Target::Continuous(y) => y.len(),
    }
}

/// The outer splits for `target` under `scheme`, seeded. Rows with groups are split by whole
/// groups; rows with times are split in time: nested folds train on the stretches before the
/// one they score (forward chaining), a holdout is the latest rows.
pub fn plan(target: &Target, rows: &RowOrder, scheme: OuterValidation, seed: u64) -> Plan {
    let n = target.len();
    let resolved = match scheme {
        OuterValidation::Auto if n < AUTO_HOLDOUT_ROWS => OuterValidation::Folds(3),
        OuterValidation::Auto => OuterValidation::Holdout(0.25),
        s => s,
    };
    let outer_seed = seed ^ 0x0075_7465_725F_6376;
    let split = |test: &[usize]| {
        let mut train: Vec<usize> = (0..n).filter(|r| test.binary_search(r).is_err()).collect();
        train.sort_unstable();
        (train, test.to_vec())
    };
    if let Some((name, g)) = &rows.groups {
        let by = Some(format!(
            "grouped by `{name}`: no group is on both sides of a split, and stage 3's inner folds are whole groups too"
        ));
        let (k, scheme_name, requested) = match resolved {
            OuterValidation::Folds(k) => (k as usize, "nested_folds", Some(k as usize)),
            OuterValidation::Holdout(frac) => ((1.0 / frac).round().max(2.0) as usize, "holdout", None),
            OuterValidation::Auto => unreachable!("resolved above"),
        };
        let folds = group_folds(g, k, outer_seed);
        if folds.len() < 2 || n < 8 {
            return Plan { scheme: "none", splits: Vec::new(), requested_folds: requested, by };
        }
        let splits = match scheme_name {
            "holdout" => vec![split(&folds[0])],
            _ => folds.iter().map(|f| split(f)).collect(),
        };
        return Plan { scheme: scheme_name, splits, requested_folds: requested, by };
    }
    if let Some((name, t)) = &rows.times {
        let by = Some(format!(
            "in time order by `{name}`: every held-out row is later than every row its selection saw \
             (stage 3's inner folds are stretches of time)"
        ));
        let (parts, scheme_name, requested) = match resolved {
            OuterValidation::Folds(k) => (k as usize + 1, "nested_folds", Some(k as usize)),
            OuterValidation::Holdout(frac) => ((1.0 / frac).round().max(2.0) as usize, "holdout", None),
            OuterValidation::Auto => unreachable!("resolved above"),
        };
        let blocks = time_blocks(t, parts);
        let used = blocks.iter().copied().max().map_or(0, |m| m as usize + 1);
        let members = |b: u32| -> Vec<usize> { (0..n).filter(|r| blocks[*r] == b).collect() };
        if used < 2 || n < 8 {
            return Plan { scheme: "none", splits: Vec::new(), requested_folds: requested, by };
        }
        let splits: Vec<(Vec<usize>, Vec<usize>)> = match scheme_name {
            // The latest stretch is held out; everything before it is seen.
            "holdout" => {
                let test = members(used as u32 - 1);
                vec![((0..n).filter(|r| blocks[*r] < used as u32 - 1).collect(), test)]
            }
            // Forward chaining: stretch i+1 is scored by a selection on stretches 0..=i.
            _ => (1..used as u32).map(|b| ((0..n).filter(|r| blocks[*r] < b).collect(), members(b))).collect(),
        };
        return Plan { scheme: scheme_name, splits, requested_folds: requested, by };
    }
    plan_stratified(target, scheme, seed)
}

fn plan_stratified(target: &Target, scheme: OuterValidation, seed: u64) -> Plan {
    let n = target.len();
    let scheme = match scheme {
        OuterValidation::Auto if n < AUTO_HOLDOUT_ROWS => OuterValidation::Folds(3),
        OuterValidation::Auto => OuterValidation::Holdout(0.25),
        s => s,
    };
    // Every outer training part must keep two rows of each class for the inner folds, and every
    // held-out part one; rows of the smallest class bound the folds.
    let smallest = smallest_class(target);
    let none = |requested| Plan { scheme: "none", splits: Vec::new(), requested_folds: requested, by: None };
    let outer_seed = seed ^ 0x0075_7465_725F_6376;
    match scheme {
        OuterValidation::Folds(k) => {
            let k = k as usize;
            let used = k.min(smallest / 2).min(n / 4);
            if used < 2 {
                return none(Some(k));
            }
            let folds = stratified_folds(target, used, outer_seed);
            let splits = (0..folds.len())
                .map(|f| {
                    let mut train: Vec<usize> =
                        folds.iter().enumerate().filter(|(g, _)| *g != f).flat_map(|(_, r)| r.clone()).collect();
                    train.sort_unstable();
                    (train, folds[f].clone())
                })
                .collect();
            Plan { scheme: "nested_folds", splits, requested_folds: Some(k), by: None }
        }
        OuterValidation::Holdout(frac) => {
            // Deal the rows into 1/frac folds and hold out the first: stratified, seeded.
            let parts = (1.0 / frac).round().max(2.0) as usize;
            if n < 8 || smallest < parts.max(3) {
                return none(None);
            }
            let folds = stratified_folds(target, parts, outer_seed);
            let test = folds[0].clone();
            let mut train: Vec<usize> = folds[1..].concat();
            train.sort_unstable();
            Plan { scheme: "holdout", splits: vec![(train, test)], requested_folds: None, by: None }
        }
        OuterValidation::Auto => unreachable!("resolved above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_folds_on_small_data_and_a_holdout_on_large() {
        let small = Target::Continuous((0..300).map(|i| i as f32).collect());
        let p = plan(&small, &RowOrder::default(), OuterValidation::Auto, 1);
        assert_eq!((p.scheme, p.splits.len()), ("nested_folds", 3));
        let mut seen: Vec<usize> = p.splits.iter().flat_map(|s| s.1.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..300).collect::<Vec<_>>(), "every row held out exactly once");
        for (train, test) in &p.splits {
            assert!(test.iter().all(|r| train.binary_search(r).is_err()), "no row both sides");
        }
        let large = Target::Continuous((0..4000).map(|i| i as f32).collect());
        let p = plan(&large, &RowOrder::default(), OuterValidation::Auto, 1);
        assert_eq!((p.scheme, p.splits[0].1.len(), p.splits[0].0.len()), ("holdout", 1000, 3000));
    }

    #[test]
    fn time_ordered_splits_score_only_later_rows_and_grouped_ones_never_share_a_group() {
        let n = 120;
        let y = Target::Continuous((0..n).map(|i| i as f32).collect());
        let times: Vec<f64> = (0..n).map(|i| f64::from(((i * 53) % n) as u32 / 3)).collect();
        let rows = RowOrder { groups: None, times: Some(("t".into(), times.clone())) };
        for scheme in [OuterValidation::Folds(4), OuterValidation::Holdout(0.25)] {
            let p = plan(&y, &rows, scheme, 9);
            assert!(!p.splits.is_empty() && p.by.is_some(), "{p:?}");
            for (train, test) in &p.splits {
                let latest_seen = train.iter().map(|r| times[*r]).fold(f64::MIN, f64::max);
                assert!(test.iter().all(|r| times[*r] > latest_seen), "{scheme:?}: a held-out row is not later");
            }
        }
        let groups: Vec<u32> = (0..n).map(|i| (i % 17) as u32).collect();
        let rows = RowOrder { groups: Some(("g".into(), groups.clone())), times: None };
        let p = plan(&y, &rows, OuterValidation::Folds(5), 9);
        assert_eq!(p.splits.len(), 5);
        for (train, test) in &p.splits {
            assert!(test.iter().all(|r| train.iter().all(|q| groups[*q] != groups[*r])));
        }
        assert!(p.describe(3).contains("grouped by `g`"));
    }

    #[test]
    fn a_rare_class_clamps_or_drops_the_outer_split() {
        let mut codes = vec![0u32; 200];
        for c in codes.iter_mut().take(5) {
            *c = 1;
        }
        let t = Target::Classes { codes, labels: vec!["a".into(), "b".into()] };
        let p = plan(&t, &RowOrder::default(), OuterValidation::Folds(5), 3);
        assert_eq!((p.scheme, p.splits.len()), ("nested_folds", 2));
        let mut codes = vec![0u32; 200];
        codes[0] = 1;
        codes[1] = 1;
        codes[2] = 1;
        let t = Target::Classes { codes, labels: vec!["a".into(), "b".into()] };
        assert_eq!(plan(&t, &RowOrder::default(), OuterValidation::Folds(3), 3).scheme, "none");
    }
}
