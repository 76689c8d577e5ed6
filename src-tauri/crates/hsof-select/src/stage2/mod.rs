//! Stage 2, the search (default 500 -> 50 columns): Monte Carlo tree search ([`mcts`]) over the
//! whole stage-1 pool.
//!
//! 1. **Prior**: one boosted-tree model ([`crate::gbt`]) on every pool column over the reward's
//!    row sample; each column's prior weight mixes its share of that model's split gain with its
//!    stage-1 rank (half each, plus a floor so that every column can be drawn).
//! 2. **Search**: trees draw candidates and rollouts from the whole pool by the prior; the reward
//!    of a subset is its cross-validated skill with [`SearchReward::Boosted`] (depth-3 boosted
//!    trees on at most `search.rows` sampled rows: R², or for classes the log-loss gain over the
//!    prior; trees see interactions) or [`SearchReward::Ridge`] ([`evaluator`], linear R²).
//!    Memoised per tree; deterministic for a seed; stopped early once `search.patience`
//!    iterations found no better subset (converged), or at `search.max_seconds`.
//!
//! Output order (the 50 kept columns): the features of the best subset found, then the other
//! features the rollouts used, by contribution (mean reward of rollouts containing the feature
//! minus the mean of those without it), then the rest of the pool by prior weight.

pub mod evaluator;
pub mod mcts;

use rayon::prelude::*;

use crate::data::{ColumnMatrix, Dataset, Target};
use crate::error::{Result, SelectError};
use crate::folds;
use crate::gbt::{self, Binned};
use crate::options::{SearchOptions, SearchReward};
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
    /// The pool by prior weight, strongest first (dataset columns).
    pub prior_order: Vec<usize>,
    /// Rows the reward was computed on.
    pub reward_rows: usize,
    /// True when `search.max_seconds` stopped the search before its iterations.
    pub stopped_by_time: bool,
    /// True when `search.patience` iterations without a better subset stopped it early.
    pub converged: bool,
    /// Subsets the swap refinement scored.
    pub swaps_evaluated: u32,
    /// Swaps it kept.
    pub swaps_accepted: u32,
}

/// A swap must raise the reward by this much to be kept (the reward's own noise on a 1,000-row
/// sample is about this size; smaller gains are fitting that noise).
pub const MIN_SWAP_GAIN: f64 = 0.005;

struct Refined {
    score: f64,
    subset: Vec<usize>,
    evaluated: u32,
    accepted: u32,
}

/// Starts from the best of the tree search's best subset, stage 1's top `depth` and the prior's
/// top `depth`, then swaps members out (least prior first) for features drawn by the prior,
/// keeping a swap that raises the reward by [`MIN_SWAP_GAIN`]; stops after a pass without a kept
/// swap or 8·depth evaluations. Seeded and memoised.
#[allow(clippy::too_many_arguments)]
fn refine(
    reward_of: &(dyn Fn(&[usize]) -> f64 + Sync),
    mcts: (f64, Vec<usize>),
    prior_rank: &[usize],
    prior: &[f64],
    cdf: &[f64],
    depth: usize,
    seed: u64,
    cancel: &crate::progress::CancelToken,
) -> Refined {
    use rand::{Rng, SeedableRng};
    let pool = prior.len();
    let mut evaluated = 0u32;
    let sorted = |mut v: Vec<usize>| {
        v.sort_unstable();
        v
    };
    let mut memo: std::collections::HashMap<Vec<usize>, f64> = std::collections::HashMap::new();
    let mut starts = vec![sorted((0..depth.min(pool)).collect()), sorted(prior_rank[..depth.min(pool)].to_vec())];
    if mcts.1.len() == depth.min(pool) {
        memo.insert(mcts.1.clone(), mcts.0);
        starts.insert(0, mcts.1);
    }
    let mut score = |s: &[usize], evaluated: &mut u32| -> f64 {
        *memo.entry(s.to_vec()).or_insert_with(|| {
            *evaluated += 1;
            reward_of(s)
        })
    };
    let (mut best, mut subset) = (f64::NEG_INFINITY, Vec::new());
    for s in starts {
        let r = score(&s, &mut evaluated);
        if r > best {
            (best, subset) = (r, s);
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5_7A95);
    let budget = 8 * depth as u32 + evaluated;
    let mut accepted = 0;
    loop {
        let mut improved = false;
        let mut members = subset.clone();
        members.sort_by(|a, b| prior[*a].total_cmp(&prior[*b]).then(a.cmp(b)));
        for m in members {
            if evaluated >= budget || cancel.is_cancelled() {
                return Refined { score: best, subset, evaluated, accepted };
            }
            for _ in 0..2 {
                let total = cdf.last().copied().unwrap_or(0.0);
                let f = cdf.partition_point(|c| *c <= rng.gen::<f64>() * total).min(pool - 1);
                if subset.contains(&f) {
                    continue;
                }
                let mut trial: Vec<usize> = subset.iter().map(|&x| if x == m { f } else { x }).collect();
                trial.sort_unstable();
                let r = score(&trial, &mut evaluated);
                if r > best + MIN_SWAP_GAIN {
                    (best, subset) = (r, trial);
                    accepted += 1;
                    improved = true;
                    break;
                }
            }
        }
        if !improved {
            return Refined { score: best, subset, evaluated, accepted };
        }
    }
}

/// Runs the search over the stage-1 columns of `ds`.
pub fn search(
    ds: &Dataset,
    filtered: &FilterOutcome,
    opts: &SearchOptions,
    depth: usize,
    seed: u64,
    balanced: bool,
    ctl: &Ctl<'_>,
) -> Result<SearchOutcome> {
    let start = std::time::Instant::now();
    let pool_cols: Vec<usize> =
        filtered.columns.iter().copied().take((opts.pool as usize).min(usize::from(u16::MAX))).collect();
    let pool = pool_cols.len();
    if pool == 0 {
        return Err(SelectError::NoUsableFeatures {
            path: ds.source.clone(),
            reason: "the filter kept no column to search".into(),
        });
    }
    let depth = depth.min(pool).max(1);
    let cancel = ctl.cancel;
    // The reward's rows: a stratified sample, split into the search's folds.
    let sample = sample_rows(&ds.target, opts.rows as usize, seed);
    let sub_target = ds.target.take(&sample);
    let sub_rows = ds.rows.take(&sample);
    let folds: Vec<Vec<usize>> = folds::folds(&sub_target, &sub_rows, opts.folds as usize, seed);
    let parts: Vec<(String, Vec<usize>)> = folds::training_parts(&folds, "stage 2's search fold").collect();
    folds::check_training_classes(
        &sub_target,
        &sub_rows,
        parts.iter().map(|(w, t)| (w.clone(), t.as_slice())),
        &ds.source,
    )?;
    ctl.report(Stage::Search, 0.0, format!("prior over {pool} columns on {} rows", sample.len()));
    let sample_x = gather(&ds.features, &pool_cols, &sample);
    let binned = ctl.install(|| Binned::new(&sample_x, &(0..pool).collect::<Vec<_>>()));
    let params = gbt::Params { balanced, ..gbt::Params::default() };
    let all: Vec<usize> = (0..pool).collect();
    let train_of = |f: usize| -> Vec<usize> {
        folds.iter().enumerate().filter(|(g, _)| *g != f).flat_map(|(_, r)| r.iter().copied()).collect()
    };
    // Prior: split gain of one model on the whole pool, fitted on the first training part.
    let mut gain = vec![0.0; pool];
    ctl.check()?;
    let train0 = train_of(0);
    ctl.install(|| {
        let p = gbt::Params { rounds: 30, ..params };
        gbt::fit_predict(&binned, &all, &sub_target, &train0, &[], p, &mut gain)
    });
    ctl.check()?;
    let gain_total: f64 = gain.iter().sum();
    let rank_w: Vec<f64> = (0..pool).map(|i| 1.0 / (i as f64 + 5.0)).collect();
    let rank_total: f64 = rank_w.iter().sum();
    let prior: Vec<f64> = (0..pool)
        .map(|i| {
            let g = if gain_total > 0.0 { gain[i] / gain_total } else { rank_w[i] / rank_total };
            0.5 * g + 0.5 * rank_w[i] / rank_total + 0.05 / pool as f64
        })
        .collect();
    let cdf = mcts::cdf(&prior);
    let mut prior_rank: Vec<usize> = (0..pool).collect();
    prior_rank.sort_by(|a, b| prior[*b].total_cmp(&prior[*a]).then(a.cmp(b)));

    let ridge_ev = match opts.reward {
        SearchReward::Ridge => {
            ctl.report(Stage::Search, 0.05, format!("fold statistics of {pool} columns"));
            let folds = folds::folds(&ds.target, &ds.rows, opts.folds as usize, seed);
            Some(ctl.install(|| {
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
            })?)
        }
        SearchReward::Boosted => None,
    };
    let trains: Vec<Vec<usize>> = (0..folds.len()).map(train_of).collect();
    let boosted = |subset: &[usize]| -> f64 {
        let mut scratch = vec![0.0; subset.len()];
        let total: f64 = folds
            .iter()
            .zip(&trains)
            .map(|(test, train)| {
                let pred = gbt::fit_predict(&binned, subset, &sub_target, train, test, params, &mut scratch);
                gbt::skill(&sub_target, train, test, &pred)
            })
            .sum();
        total / folds.len().max(1) as f64
    };
    let reward_of = |subset: &[usize]| -> f64 {
        match &ridge_ev {
            Some(ev) => ev.score(subset),
            None => boosted(subset),
        }
    };
    let params = Params { depth, width: opts.width as usize, exploration: opts.exploration, prior: &prior, cdf: &cdf };
    let mut trees: Vec<Tree> = (0..opts.trees).map(|t| Tree::new(pool, seed, u64::from(t))).collect();
    let mut done = 0;
    let mut stopped_by_time = false;
    let (mut best_yet, mut since_better, mut converged) = (f64::NEG_INFINITY, 0, false);
    while done < opts.iterations {
        ctl.check()?;
        if start.elapsed().as_secs_f64() > opts.max_seconds {
            stopped_by_time = true;
            break;
        }
        let step = ROUND.min(opts.iterations - done);
        let round = &mut trees;
        let reward_of = &reward_of;
        ctl.install(move || {
            round.par_iter_mut().for_each(|t| {
                for _ in 0..step {
                    if cancel.is_cancelled() {
                        return;
                    }
                    t.iterate(reward_of, params);
                }
            })
        });
        done += step;
        ctl.report(Stage::Search, done as f32 / opts.iterations as f32, format!("{done} iterations per tree"));
        let now = trees.iter().map(|t| t.best.0).fold(f64::NEG_INFINITY, f64::max);
        if now > best_yet {
            (best_yet, since_better) = (now, 0);
        } else {
            since_better += step;
        }
        if opts.patience > 0 && since_better >= opts.patience && done < opts.iterations {
            converged = true;
            break;
        }
    }
    ctl.check()?;
    let best = trees
        .iter()
        .map(|t| &t.best)
        .filter(|b| b.0.is_finite())
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .cloned()
        .unwrap_or((0.0, Vec::new()));
    let mcts_best: Vec<usize> = best.1.iter().map(|&f| usize::from(f)).collect();
    ctl.report(Stage::Search, 1.0, "improving the best subset by swaps");
    let refined =
        ctl.install(|| refine(&reward_of, (best.0, mcts_best), &prior_rank, &prior, &cdf, depth, seed, cancel));
    ctl.check()?;
    let best: (f64, Vec<u16>) = (refined.score, refined.subset.iter().map(|&f| f as u16).collect());
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
    // Features that helped the rollouts they were in, then the rest of the pool by prior.
    order.extend(by_contribution(
        (0..pool).filter(|f| count[*f] > 0 && !best_set.contains(f) && contribution(*f) > 0.0).collect(),
    ));
    for &f in &prior_rank {
        if !order.contains(&f) {
            order.push(f);
        }
    }
    let mut columns: Vec<usize> = order.iter().map(|&f| pool_cols[f]).collect();
    columns.extend(filtered.columns.iter().skip(pool));
    columns.truncate((opts.keep as usize).min(filtered.columns.len()));
    ctl.report(Stage::Search, 1.0, format!("best subset of {} scores {:.4}", best_set.len(), best.0));
    Ok(SearchOutcome {
        columns,
        best_subset: best_set.iter().map(|&f| pool_cols[f]).collect(),
        best_score: best.0,
        pool,
        depth,
        iterations: trees.iter().map(|t| t.iterations).sum(),
        evaluations: trees.iter().map(|t| t.evaluations).sum(),
        memo_hits: trees.iter().map(|t| t.memo_hits).sum(),
        prior_order: prior_rank.iter().map(|&f| pool_cols[f]).collect(),
        swaps_evaluated: refined.evaluated,
        swaps_accepted: refined.accepted,
        reward_rows: sample.len(),
        stopped_by_time,
        converged,
    })
}

/// A stratified sample of at most `m` rows (sorted), the same for a seed: each class gives its
/// share of `m` (at least one row), drawn at random.
pub fn sample_rows(target: &Target, m: usize, seed: u64) -> Vec<usize> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let n = target.len();
    if n <= m {
        return (0..n).collect();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5EED);
    let groups = crate::folds::class_groups(target);
    let mut rows = Vec::with_capacity(m);
    for mut g in groups.into_iter().filter(|g| !g.is_empty()) {
        let take = ((g.len() * m) as f64 / n as f64).round().max(1.0) as usize;
        g.shuffle(&mut rng);
        rows.extend(g.into_iter().take(take));
    }
    rows.sort_unstable();
    rows
}

/// Columns `cols` of `x` at `rows`, as a new matrix.
pub fn gather(x: &ColumnMatrix, cols: &[usize], rows: &[usize]) -> ColumnMatrix {
    let mut values = Vec::with_capacity(cols.len() * rows.len());
    for &c in cols {
        let col = x.column(c);
        values.extend(rows.iter().map(|&r| col[r]));
    }
    ColumnMatrix { n_rows: rows.len(), n_cols: cols.len(), values }
}
