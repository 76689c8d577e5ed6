//! Stage 2, the search (default 500 -> 50 columns): Monte Carlo tree search ([`mcts`]) with the fast
//! cross-validated evaluator ([`evaluator`]).
//!
//! Output order (the 50 kept columns): the features of the best subset found, then the other features
//! the rollouts used, by contribution (mean score of rollouts containing the feature minus the mean
//! of those without it), then the remaining stage-1 columns by relevance.

pub mod evaluator;
pub mod mcts;

use rayon::prelude::*;

use crate::data::Dataset;
use crate::error::{Result, SelectError};
use crate::folds::stratified_folds;
use crate::options::SearchOptions;
use crate::progress::{Ctl, Stage};
use crate::stage1::FilterOutcome;
use evaluator::SubsetEvaluator;
use mcts::{Params, Tree};

/// Iterations each tree runs between two progress reports and cancel checks.
const ROUND: u32 = 25;

/// What stage 2 found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// Kept dataset columns, best first.
    pub columns: Vec<usize>,
    /// The best subset found (dataset columns) and its cross-validated R².
    pub best_subset: Vec<usize>,
    /// Its score (0 when no subset was evaluated, with `iterations` = 0).
    pub best_score: f64,
    /// Columns the search considered (its pool).
    pub pool: usize,
    /// Rollout size.
    pub depth: usize,
    /// Iterations over all trees.
    pub iterations: u32,
    /// Distinct subsets evaluated over all trees.
    pub evaluations: u32,
    /// Rollouts answered from the memo.
    pub memo_hits: u32,
}

/// Runs the search over the stage-1 columns of `ds`.
pub fn search(
    ds: &Dataset,
    filtered: &FilterOutcome,
    opts: &SearchOptions,
    depth: usize,
    seed: u64,
    ctl: &Ctl<'_>,
) -> Result<SearchOutcome> {
    let pool_cols: Vec<usize> =
        filtered.columns.iter().copied().take((opts.pool as usize).min(usize::from(u16::MAX))).collect();
    let pool = pool_cols.len();
    let depth = depth.min(pool).max(1);
    ctl.report(Stage::Search, 0.0, format!("fold statistics of {pool} columns"));
    let folds = stratified_folds(&ds.target, opts.folds as usize, seed);
    let cancel = ctl.cancel;
    let ev = ctl.install(|| {
        SubsetEvaluator::new(
            &ds.features,
            &pool_cols,
            &filtered.means,
            &filtered.sds,
            &ds.target,
            &folds,
            opts.ridge,
            cancel,
        )
    })?;
    let params = Params { depth, width: opts.width as usize, exploration: opts.exploration };
    let mut trees: Vec<Tree> = (0..opts.trees).map(|t| Tree::new(pool, seed, u64::from(t))).collect();
    let mut done = 0;
    while done < opts.iterations {
        ctl.check()?;
        let step = ROUND.min(opts.iterations - done);
        let ev = &ev;
        let trees = &mut trees;
        ctl.install(move || {
            trees.par_iter_mut().for_each(|t| {
                for _ in 0..step {
                    if cancel.is_cancelled() {
                        return;
                    }
                    t.iterate(ev, params);
                }
            })
        });
        done += step;
        ctl.report(Stage::Search, done as f32 / opts.iterations as f32, format!("{done} iterations per tree"));
    }
    ctl.check()?;
    let best = trees
        .iter()
        .map(|t| &t.best)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .cloned()
        .ok_or_else(|| SelectError::InvalidOptions { option: "search.trees", reason: "no tree ran".into() })?;
    let mut sum = vec![0.0; pool];
    let mut count = vec![0u32; pool];
    let (mut total_sum, mut total_n) = (0.0, 0u32);
    for t in &trees {
        for f in 0..pool {
            sum[f] += t.feature_sum[f];
            count[f] += t.feature_n[f];
        }
        total_sum += t.total.0;
        total_n += t.total.1;
    }
    let contribution = |f: usize| {
        let mean_in = sum[f] / f64::from(count[f].max(1));
        let out_n = total_n.saturating_sub(count[f]);
        let mean_out = if out_n == 0 { mean_in } else { (total_sum - sum[f]) / f64::from(out_n) };
        mean_in - mean_out
    };
    let by_contribution = |mut v: Vec<usize>| {
        v.sort_by(|a, b| contribution(*b).total_cmp(&contribution(*a)).then(a.cmp(b)));
        v
    };
    let best_set: Vec<usize> = best.1.iter().map(|&f| usize::from(f)).collect();
    let mut order = by_contribution(best_set.clone());
    order.extend(by_contribution((0..pool).filter(|f| count[*f] > 0 && !best_set.contains(f)).collect()));
    order.extend((0..pool).filter(|f| count[*f] == 0));
    let mut columns: Vec<usize> = order.iter().map(|&f| pool_cols[f]).collect();
    columns.extend(filtered.columns.iter().skip(pool));
    columns.truncate((opts.keep as usize).min(filtered.columns.len()));
    ctl.report(Stage::Search, 1.0, format!("best subset of {} scores R² {:.4}", best_set.len(), best.0));
    Ok(SearchOutcome {
        columns,
        best_subset: best_set.iter().map(|&f| pool_cols[f]).collect(),
        best_score: if best.0.is_finite() { best.0 } else { 0.0 },
        pool,
        depth,
        iterations: trees.iter().map(|t| t.iterations).sum(),
        evaluations: trees.iter().map(|t| t.evaluations).sum(),
        memo_hits: trees.iter().map(|t| t.memo_hits).sum(),
    })
}
