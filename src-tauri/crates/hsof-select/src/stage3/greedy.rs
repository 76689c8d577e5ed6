//! Greedy forward selection with the fast evaluator, one of stage 3's candidate generators.
//!
//! Each step adds the column with the best cross-validated R². Parsimony rule: among the columns
//! whose score is within [`TIE_TOLERANCE`] of the best, the one with the highest stage-1 relevance is
//! taken, so a column that only fits noise never beats a relevant column by a hair.

use crate::error::{Result, SelectError};
use crate::progress::CancelToken;
use crate::stage2::evaluator::SubsetEvaluator;

/// Scores closer than this (R²) count as a tie.
pub const TIE_TOLERANCE: f64 = 1e-3;

/// Order in which columns `0..ev.n_columns()` are added, up to `max` columns. `relevance[i]` is the
/// stage-1 relevance of evaluator column `i`.
pub fn forward_order(ev: &SubsetEvaluator, relevance: &[f64], max: usize, cancel: &CancelToken) -> Result<Vec<usize>> {
    let p = ev.n_columns();
    let mut chosen: Vec<usize> = Vec::with_capacity(max);
    let mut trial = Vec::with_capacity(max);
    while chosen.len() < max.min(p) {
        if cancel.is_cancelled() {
            return Err(SelectError::Cancelled);
        }
        let scores: Vec<(usize, f64)> = (0..p)
            .filter(|c| !chosen.contains(c))
            .map(|c| {
                trial.clear();
                trial.extend_from_slice(&chosen);
                trial.push(c);
                (c, ev.score(&trial))
            })
            .collect();
        let best = scores.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
        let pick = scores
            .iter()
            .filter(|s| s.1 >= best - TIE_TOLERANCE)
            .max_by(|a, b| relevance[a.0].total_cmp(&relevance[b.0]).then(b.0.cmp(&a.0)))
            .map(|s| s.0);
        match pick {
            Some(c) => chosen.push(c),
            None => break,
        }
    }
    Ok(chosen)
}
