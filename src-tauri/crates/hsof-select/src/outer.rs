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

use crate::data::Target;
use crate::folds::stratified_folds;
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
}

impl Plan {
    /// The scheme in words.
    pub fn describe(&self, inner_folds: usize) -> String {
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

/// The outer splits for `target` under `scheme`, seeded.
pub fn plan(target: &Target, scheme: OuterValidation, seed: u64) -> Plan {
    let n = target.len();
    let scheme = match scheme {
        OuterValidation::Auto if n < AUTO_HOLDOUT_ROWS => OuterValidation::Folds(3),
        OuterValidation::Auto => OuterValidation::Holdout(0.25),
        s => s,
    };
    // Every outer training part must keep two rows of each class for the inner folds, and every
    // held-out part one; rows of the smallest class bound the folds.
    let smallest = smallest_class(target);
    let none = |requested| Plan { scheme: "none", splits: Vec::new(), requested_folds: requested };
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
            Plan { scheme: "nested_folds", splits, requested_folds: Some(k) }
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
            Plan { scheme: "holdout", splits: vec![(train, test)], requested_folds: None }
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
        let p = plan(&small, OuterValidation::Auto, 1);
        assert_eq!((p.scheme, p.splits.len()), ("nested_folds", 3));
        let mut seen: Vec<usize> = p.splits.iter().flat_map(|s| s.1.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..300).collect::<Vec<_>>(), "every row held out exactly once");
        for (train, test) in &p.splits {
            assert!(test.iter().all(|r| train.binary_search(r).is_err()), "no row both sides");
        }
        let large = Target::Continuous((0..4000).map(|i| i as f32).collect());
        let p = plan(&large, OuterValidation::Auto, 1);
        assert_eq!((p.scheme, p.splits[0].1.len(), p.splits[0].0.len()), ("holdout", 1000, 3000));
    }

    #[test]
    fn a_rare_class_clamps_or_drops_the_outer_split() {
        let mut codes = vec![0u32; 200];
        for c in codes.iter_mut().take(5) {
            *c = 1;
        }
        let t = Target::Classes { codes, labels: vec!["a".into(), "b".into()] };
        let p = plan(&t, OuterValidation::Folds(5), 3);
        assert_eq!((p.scheme, p.splits.len()), ("nested_folds", 2));
        let mut codes = vec![0u32; 200];
        codes[0] = 1;
        codes[1] = 1;
        codes[2] = 1;
        let t = Target::Classes { codes, labels: vec!["a".into(), "b".into()] };
        assert_eq!(plan(&t, OuterValidation::Folds(3), 3).scheme, "none");
    }
}
