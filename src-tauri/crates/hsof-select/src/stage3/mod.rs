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
//! Choice (one-standard-error rule): among the (subset, model) pairs within one standard error of
//! the best pair, fold by fold (the mean of the per-fold differences at most their standard error,
//! [`Candidate::within_se_of`], [`EvaluateOptions::size_tolerance`]), the smallest subset wins, then the subset with
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
use crate::report::{SizeChoice, SizePoint};
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
    /// The score on each fold (the same folds for every candidate).
    pub fold_scores: Vec<f64>,
}

impl Candidate {
    /// The standard error of the per-fold differences between `top` and this candidate (every
    /// candidate is scored on the same folds, so a fold that is hard for all of them cancels
    /// out); `None` with fewer than two folds to compare.
    pub fn paired_se(&self, top: &Candidate) -> Option<f64> {
        let d: Vec<f64> = top.fold_scores.iter().zip(&self.fold_scores).map(|(t, c)| t - c).collect();
        if d.len() < 2 || d.len() != top.fold_scores.len() {
            return None;
        }
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        Some((d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt())
    }

    /// Whether this candidate is within `tolerance` standard errors of `top`, fold by fold: the
    /// mean of the per-fold differences is at most `tolerance` times their standard error
    /// ([`Candidate::paired_se`]). The spread of the plain fold scores (what differs between
    /// folds, not between candidates) would let much smaller subsets through on a few hundred rows.
    pub fn within_se_of(&self, top: &Candidate, tolerance: f64) -> bool {
        match self.paired_se(top) {
            // Same folds: the mean of the differences is the difference of the means.
            Some(se) => top.mean - self.mean <= tolerance * se + 1e-12,
            None => self.mean >= top.mean,
        }
    }
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
    /// How the size was chosen.
    pub size_choice: SizeChoice,
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
    if available == 0 {
        // Stage 1 refuses to hand on no column; this keeps a direct caller from a panic all the same.
        return Err(crate::error::SelectError::NoUsableFeatures {
            path: ds.source.clone(),
            reason: "the search kept no column to evaluate".into(),
        });
    }
    let auto = matches!(opts.size, FinalSize::Auto { .. });
    let mut sizes = opts.size.sizes(available);
    // The search's best subset is a candidate at its own size, which a grid may skip.
    let best_size = groups.count_units(&groups.close(&searched.best_subset));
    let bound = available.min(opts.size.max() as usize);
    if auto && best_size >= 1 && best_size <= bound && !sizes.contains(&best_size) {
        sizes.push(best_size);
        sizes.sort_unstable();
    }
    let hi = sizes.last().copied().unwrap_or(1);
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
    // The greedy path is built on folds of another seed than the ones that score the candidates:
    // a path chosen step by step to maximise these folds' score would carry that choice into its
    // prefixes' scores and win the comparison by fitting fold noise (with many sizes tried, a
    // greedy prefix with a few noise columns came out on top).
    let path_folds = folds::folds(&ds.target, &ds.rows, opts.folds as usize, seed.wrapping_add(2));
    let ev = ctl.install(|| {
        SubsetEvaluator::new(&ds.features, cols, &filtered.means, &filtered.sds, &ds.target, &path_folds, 1e-3, cancel)
    })?;
    let relevance: Vec<f64> = cols.iter().map(|&c| filtered.relevance[c]).collect();
    let path: Vec<usize> =
        greedy::forward_order(&ev, &relevance, hi, ctl.cancel)?.into_iter().map(|i| cols[i]).collect();
    let subsets_of = |sizes: &[usize], known: &[(&'static str, Vec<usize>)]| {
        let mut subsets: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for &size in sizes {
            let top = |v: &[usize]| groups.take_units(v, size);
            let sources = [
                ("greedy", top(&path)),
                ("search_order", top(cols)),
                ("stage1_order", top(&filtered.columns)),
                ("search_prior", top(&searched.prior_order)),
                ("search_best", groups.close(&searched.best_subset)),
            ];
            for (origin, s) in sources {
                if groups.count_units(&s) == size
                    && !subsets.iter().chain(known).any(|(_, t): &(&'static str, Vec<usize>)| *t == s)
                {
                    subsets.push((origin, s));
                }
            }
        }
        subsets
    };
    let balanced = opts.class_weight == crate::options::ClassWeight::Balanced;
    let forest = ForestParams { trees: opts.forest_trees, max_depth: opts.forest_max_depth, balanced };
    // With a grid of sizes the boosted trees (what costs) score the prefixes of the greedy path
    // and the search's order, which carry the size curve, and the search's best subset; the
    // ridge model scores every subset.
    let boosted = |origin: &str| !auto || matches!(origin, "greedy" | "search_order" | "search_best");
    let evidence = |c: &Candidate| -> f64 {
        c.columns.iter().map(|&j| filtered.relevance[j]).filter(|r| r.is_finite()).sum::<f64>()
    };
    // The smallest (subset, model) within the tolerance of the best, fold by fold; its index.
    let choose = |candidates: &[Candidate]| -> Option<usize> {
        let top = candidates.iter().max_by(|a, b| a.mean.total_cmp(&b.mean))?;
        candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.within_se_of(top, opts.size_tolerance))
            .min_by(|(_, a), (_, b)| {
                groups
                    .count_units(&a.columns)
                    .cmp(&groups.count_units(&b.columns))
                    .then(evidence(b).total_cmp(&evidence(a)))
                    .then(b.mean.total_cmp(&a.mean))
            })
            .map(|(i, _)| i)
    };
    let mut subsets = subsets_of(&sizes, &[]);
    let mut candidates = Vec::new();
    // The forest's permutation importance is measured during its own folds (shuffled test blocks
    // cost predictions; its fits are what is slow), so a winning forest is not fitted again.
    let mut importances: Vec<Option<Vec<f64>>> = Vec::new();
    let mut done = 0;
    // Cross-validations a batch of subsets costs: ridge on each, the boosted trees on some.
    let fits = |batch: &[(&'static str, Vec<usize>)]| batch.len() + batch.iter().filter(|(o, _)| boosted(o)).count();
    let mut total = fits(&subsets) + opts.forest_candidates as usize;
    let mut score_all = |batch: &[(&'static str, Vec<usize>)],
                         candidates: &mut Vec<Candidate>,
                         importances: &mut Vec<Option<Vec<f64>>>,
                         total: usize|
     -> Result<()> {
        for family in [ModelFamily::Ridge, ModelFamily::BoostedTrees] {
            for (origin, s) in batch {
                if family == ModelFamily::BoostedTrees && !boosted(origin) {
                    continue;
                }
                ctl.check()?;
                let (scores, _) = ctl.install(|| cross_validate(ds, s, family, &folds, forest, seed, false, cancel))?;
                candidates.push(candidate(origin, s.clone(), family, &scores));
                importances.push(None);
                done += 1;
                ctl.report(Stage::Evaluate, done as f32 / total as f32, format!("{family:?} on {} columns", s.len()));
            }
        }
        Ok(())
    };
    score_all(&subsets, &mut candidates, &mut importances, total)?;
    // A grid skips sizes: once a size is chosen, the sizes between its neighbours on the grid
    // are tried too (at most four of them), and the choice is made again over all.
    if auto {
        if let Some(i) = choose(&candidates) {
            let chosen = groups.count_units(&candidates[i].columns);
            let at = sizes.iter().position(|&s| s == chosen).unwrap_or(0);
            let lo = if at > 0 { sizes[at - 1] } else { chosen };
            let hi = sizes.get(at + 1).copied().unwrap_or(chosen);
            let between: Vec<usize> = (lo + 1..hi).filter(|s| *s != chosen).collect();
            let extra: Vec<usize> = match between.len() {
                0..=4 => between,
                n => (0..4).map(|j| between[j * (n - 1) / 3]).collect(),
            };
            if !extra.is_empty() {
                let more = subsets_of(&extra, &subsets);
                total += fits(&more);
                score_all(&more, &mut candidates, &mut importances, total)?;
                subsets.extend(more);
                sizes.extend(extra);
                sizes.sort_unstable();
                sizes.dedup();
            }
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
    let top = candidates.iter().max_by(|a, b| a.mean.total_cmp(&b.mean)).cloned();
    let (best, importance) =
        choose(&candidates).map(|i| (candidates[i].clone(), importances[i].clone())).ok_or_else(|| {
            crate::error::SelectError::InvalidOptions { option: "evaluate.size", reason: "no candidate subset".into() }
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
    let size_choice =
        size_choice(opts, &sizes, &candidates, &groups, top.as_ref().unwrap_or(&best), &best, folds.len());
    Ok(EvaluateOutcome {
        best,
        importance,
        candidates,
        requested: opts.size.max() as usize,
        folds: folds.len(),
        size_choice,
    })
}

/// The size curve (each size's best candidate) and the rule that chose among the sizes.
fn size_choice(
    opts: &EvaluateOptions,
    sizes: &[usize],
    candidates: &[Candidate],
    groups: &Groups,
    top: &Candidate,
    best: &Candidate,
    folds: usize,
) -> SizeChoice {
    let (rule, tolerance) = (opts.size, opts.size_tolerance);
    // The bar the chosen subset cleared, as a score: the best mean less `tolerance` standard
    // errors of the chosen subset's fold-by-fold difference from it.
    let threshold = top.mean - tolerance * best.paired_se(top).unwrap_or(0.0);
    let curve: Vec<SizePoint> = sizes
        .iter()
        .filter_map(|&size| {
            candidates
                .iter()
                .filter(|c| groups.count_units(&c.columns) == size)
                .max_by(|a, b| a.mean.total_cmp(&b.mean))
                .map(|c| SizePoint {
                    size: crate::data::builder::to_u32(size),
                    score: c.mean,
                    score_std: c.std,
                    model: c.family,
                    origin: c.origin.to_string(),
                })
        })
        .collect();
    let chosen = groups.count_units(&best.columns);
    let best_score = curve.iter().map(|p| p.score).fold(f64::NEG_INFINITY, f64::max);
    let best_size = curve.iter().find(|p| p.score == best_score).map(|p| p.size as usize).unwrap_or(chosen);
    let tried = match sizes {
        [only] => format!("{only}"),
        [first, .., last] => format!("{} sizes from {first} to {last}", sizes.len()),
        [] => "no size".into(),
    };
    let within = if tolerance == 1.0 {
        "one standard error".to_string()
    } else if tolerance == 0.5 {
        "half a standard error".to_string()
    } else if tolerance == 0.0 {
        "any margin (the best score wins)".to_string()
    } else {
        format!("{tolerance} standard errors")
    };
    let (name, description) = match rule {
        FinalSize::Fixed(n) if n as usize == chosen => ("fixed", format!("fixed at {n} (--k3)")),
        FinalSize::Fixed(n) => ("fixed", format!("fixed at {n} (--k3), {chosen} columns available")),
        FinalSize::Range { .. } | FinalSize::Auto { .. } => (
            if matches!(rule, FinalSize::Auto { .. }) { "auto" } else { "range" },
            match chosen == best_size {
                true => format!(
                    "{tried} tried in stage 3's {folds}-fold CV; {chosen} scored best ({best_score:.4}) and no smaller size came within {within} of it"
                ),
                false => format!(
                    "{tried} tried in stage 3's {folds}-fold CV; {best_size} scored best ({best_score:.4}), and {chosen} is the smallest within {within} of it, fold by fold ({:.4})", best.mean
                ),
            },
        ),
    };
    SizeChoice {
        rule: name.to_string(),
        description,
        curve,
        best_score: if best_score.is_finite() { best_score } else { best.mean },
        threshold: if threshold.is_finite() { threshold } else { best.mean },
        chosen: crate::data::builder::to_u32(chosen),
    }
}

fn candidate(origin: &'static str, columns: Vec<usize>, family: ModelFamily, scores: &[f64]) -> Candidate {
    let (mean, std) = mean_std(scores);
    Candidate { origin, columns, family, mean, std, fold_scores: scores.to_vec() }
}

/// Mean and (population) standard deviation of fold scores.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, (v.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt())
}
