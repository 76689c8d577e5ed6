//! Stage 3, the evaluation (default 50 -> 15 columns).
//!
//! Candidate subsets, for each size asked for (one size, or every size of a range): the greedy
//! forward path ([`greedy`]), the first columns of the search's order, of stage 1's ranking
//! (where interaction pairs rank high) and of the search's prior (the boosted model's split
//! gain), and the search's best subset when its size matches. A text column's one-hot levels
//! count as one feature and enter a subset together ([`crate::groups`]). Every candidate is
//! cross-validated (stratified, shuffled k-fold) with the ridge model and the boosted trees; the
//! best [`crate::options::EvaluateOptions::forest_candidates`] of them also with the random
//! forest ([`models`]).
//!
//! Choice (one-standard-error rule): among the (subset, model) pairs whose mean score is within one
//! standard error (std / sqrt(k)) of the best mean, the smallest subset wins, then the subset with
//! the most stage-1 evidence (summed relevance: of equally good subsets, the one whose columns
//! matter on their own or in a detected pair, not one that fits fold noise a hair better), then
//! the higher mean.
//! Its per-feature importance is the permutation importance over the same folds (for the forest,
//! measured while it is cross-validated: shuffled test blocks cost predictions, not fits).

pub mod greedy;
pub mod models;

use crate::data::Dataset;
use crate::error::Result;
use crate::folds;
use crate::groups::Groups;
use crate::options::{EvaluateOptions, FinalSize};
use crate::progress::{Ctl, Stage};
use crate::stage1::FilterOutcome;
use crate::stage2::evaluator::SubsetEvaluator;
use crate::stage2::SearchOutcome;
use models::{cross_validate, ForestParams, ModelFamily};

/// One evaluated (subset, model) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Where the subset came from: `greedy`, `search_order`, `stage1_order`, `search_prior` or
    /// `search_best`.
    pub origin: &'static str,
    /// Dataset columns, sorted.
    pub columns: Vec<usize>,
    /// Model family.
    pub family: ModelFamily,
    /// Mean CV score.
    pub mean: f64,
    /// Standard deviation of the fold scores.
    pub std: f64,
}

/// What stage 3 chose.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateOutcome {
    /// The winner.
    pub best: Candidate,
    /// Permutation importance of each column of `best.columns`.
    pub importance: Vec<f64>,
    /// Every pair evaluated, in evaluation order.
    pub candidates: Vec<Candidate>,
    /// Size asked for, before clamping to the columns available.
    pub requested: usize,
    /// Folds used.
    pub folds: usize,
}

/// Runs stage 3 on the search's columns.
pub fn evaluate(
    ds: &Dataset,
    filtered: &FilterOutcome,
    searched: &SearchOutcome,
    opts: &EvaluateOptions,
    seed: u64,
    ctl: &Ctl<'_>,
) -> Result<EvaluateOutcome> {
    let cols = &searched.columns;
    // Sizes count features: a text column's one-hot levels are one ([`crate::groups`]).
    let groups = Groups::of(ds).only(|c| !filtered.relevance[c].is_nan());
    let available = groups.count_units(cols);
    let (lo, hi) = match opts.size {
        FinalSize::Fixed(s) => (s as usize, s as usize),
        FinalSize::Range { min, max } => (min as usize, max as usize),
    };
    if available == 0 {
        // Stage 1 refuses to hand on no column; this keeps a direct caller from a panic all the same.
        return Err(crate::error::SelectError::NoUsableFeatures {
            path: ds.source.clone(),
            reason: "the search kept no column to evaluate".into(),
        });
    }
    let (lo, hi) = (lo.clamp(1, available), hi.clamp(1, available));
    let folds = folds::folds(&ds.target, &ds.rows, opts.folds as usize, seed.wrapping_add(1));
    let parts: Vec<(String, Vec<usize>)> = folds::training_parts(&folds, "stage 3's inner fold").collect();
    folds::check_training_classes(
        &ds.target,
        &ds.rows,
        parts.iter().map(|(w, t)| (w.clone(), t.as_slice())),
        &ds.source,
    )?;
    ctl.report(Stage::Evaluate, 0.0, "greedy forward path");
    let cancel = ctl.cancel;
    let ev = ctl.install(|| {
        SubsetEvaluator::new(&ds.features, cols, &filtered.means, &filtered.sds, &ds.target, &folds, 1e-3, cancel)
    })?;
    let relevance: Vec<f64> = cols.iter().map(|&c| filtered.relevance[c]).collect();
    let path: Vec<usize> =
        greedy::forward_order(&ev, &relevance, hi, ctl.cancel)?.into_iter().map(|i| cols[i]).collect();
    let mut subsets: Vec<(&'static str, Vec<usize>)> = Vec::new();
    for size in lo..=hi {
        let top = |v: &[usize]| groups.take_units(v, size);
        let sources = [
            ("greedy", top(&path)),
            ("search_order", top(cols)),
            ("stage1_order", top(&filtered.columns)),
            ("search_prior", top(&searched.prior_order)),
            ("search_best", groups.close(&searched.best_subset)),
        ];
        for (origin, s) in sources {
            if groups.count_units(&s) == size && !subsets.iter().any(|(_, t)| *t == s) {
                subsets.push((origin, s));
            }
        }
    }
    let balanced = opts.class_weight == crate::options::ClassWeight::Balanced;
    let forest = ForestParams { trees: opts.forest_trees, max_depth: opts.forest_max_depth, balanced };
    let total = 2 * subsets.len() + opts.forest_candidates as usize;
    let mut candidates = Vec::new();
    // The forest's permutation importance is measured during its own folds (shuffled test blocks
    // cost predictions; its fits are what is slow), so a winning forest is not fitted again.
    let mut importances: Vec<Option<Vec<f64>>> = Vec::new();
    let mut done = 0;
    for family in [ModelFamily::Ridge, ModelFamily::BoostedTrees] {
        for (origin, s) in &subsets {
            ctl.check()?;
            let (scores, _) = ctl.install(|| cross_validate(ds, s, family, &folds, forest, seed, false, cancel))?;
            candidates.push(candidate(origin, s.clone(), family, &scores));
            importances.push(None);
            done += 1;
            ctl.report(Stage::Evaluate, done as f32 / total as f32, format!("{family:?} on {} columns", s.len()));
        }
    }
    // The forest for the best subsets by either model.
    let mut ranked: Vec<Candidate> = candidates.clone();
    ranked.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    let mut forest_sets: Vec<(&'static str, Vec<usize>)> = Vec::new();
    for c in &ranked {
        if forest_sets.len() < opts.forest_candidates as usize && !forest_sets.iter().any(|(_, s)| *s == c.columns) {
            forest_sets.push((c.origin, c.columns.clone()));
        }
    }
    for (origin, cols) in &forest_sets {
        ctl.check()?;
        let family = ModelFamily::RandomForest;
        let (scores, imp) = ctl.install(|| cross_validate(ds, cols, family, &folds, forest, seed, true, cancel))?;
        candidates.push(candidate(origin, cols.clone(), family, &scores));
        importances.push(Some(imp));
        done += 1;
        ctl.report(Stage::Evaluate, done as f32 / total as f32, format!("random forest on {} columns", cols.len()));
    }
    let k = folds.len() as f64;
    let evidence = |c: &Candidate| -> f64 {
        c.columns.iter().map(|&j| filtered.relevance[j]).filter(|r| r.is_finite()).sum::<f64>()
    };
    let top = candidates.iter().max_by(|a, b| a.mean.total_cmp(&b.mean)).cloned();
    let (best, importance) = top
        .and_then(|top| {
            candidates
                .iter()
                .zip(&importances)
                .filter(|(c, _)| c.mean >= top.mean - top.std / k.sqrt())
                .min_by(|(a, _), (b, _)| {
                    groups
                        .count_units(&a.columns)
                        .cmp(&groups.count_units(&b.columns))
                        .then(evidence(b).total_cmp(&evidence(a)))
                        .then(b.mean.total_cmp(&a.mean))
                })
                .map(|(c, imp)| (c.clone(), imp.clone()))
        })
        .ok_or_else(|| crate::error::SelectError::InvalidOptions {
            option: "evaluate.size",
            reason: "no candidate subset".into(),
        })?;
    let importance = match importance {
        Some(imp) => imp,
        None => {
            ctl.check()?;
            ctl.install(|| cross_validate(ds, &best.columns, best.family, &folds, forest, seed, true, cancel))?.1
        }
    };
    ctl.report(
        Stage::Evaluate,
        1.0,
        format!("best: {:?} on {} columns, {:.4}", best.family, best.columns.len(), best.mean),
    );
    Ok(EvaluateOutcome { best, importance, candidates, requested: opts.size.max() as usize, folds: folds.len() })
}

fn candidate(origin: &'static str, columns: Vec<usize>, family: ModelFamily, scores: &[f64]) -> Candidate {
    let (mean, std) = mean_std(scores);
    Candidate { origin, columns, family, mean, std }
}

/// Mean and (population) standard deviation of fold scores.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, (v.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt())
}
