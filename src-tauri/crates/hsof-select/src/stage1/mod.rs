//! Stage 1, the filter: variance, relevance, redundancy (default 5000 -> 500 columns).
//!
//! 1. **Variance**: columns with variance <= `min_variance` (relative tolerance 1e-12 · (1 + mean²)
//!    for float rounding) are dropped.
//! 2. **Relevance**: [`mi`] (mutual information for classes, F statistic for regression), in parallel
//!    over columns. Ranking is by relevance, ties by column index, so it is deterministic.
//! 3. **Redundancy**: [`redundancy`], greedy over the ranked list until `keep` columns are kept.
//!
//! When no column passes the variance step the stage fails with [`SelectError::NoUsableFeatures`]
//! naming the columns: there is nothing to select from.

pub mod mi;
pub mod redundancy;

use crate::backend::Backend;
use crate::data::Dataset;
use crate::error::{Result, SelectError};
use crate::options::FilterOptions;
use crate::progress::{Ctl, Stage};

/// What stage 1 kept and why the rest went.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterOutcome {
    /// Kept dataset columns, most relevant first.
    pub columns: Vec<usize>,
    /// Relevance of every dataset column (`NaN` for low-variance ones).
    pub relevance: Vec<f64>,
    /// Mean of every dataset column.
    pub means: Vec<f64>,
    /// Standard deviation of every dataset column.
    pub sds: Vec<f64>,
    /// Columns dropped for low variance.
    pub low_variance: usize,
    /// Columns dropped as redundant.
    pub redundant: usize,
    /// `keep` as asked, before clamping to the available columns.
    pub requested: usize,
    /// Mutual-information bins used (0 for regression).
    pub bins: usize,
}

/// Runs stage 1 on every column of `ds`.
pub fn filter(ds: &Dataset, opts: &FilterOptions, backend: &dyn Backend, ctl: &Ctl<'_>) -> Result<FilterOutcome> {
    let x = &ds.features;
    ctl.report(Stage::Filter, 0.0, format!("column statistics of {} columns", x.n_cols));
    let cancel = ctl.cancel;
    let stats = ctl.install(|| backend.column_stats(x, cancel))?;
    ctl.check()?;
    if let Some(j) = (0..x.n_cols).find(|&j| !(stats[j].mean.is_finite() && stats[j].variance.is_finite())) {
        // The loaders impute these; only a dataset built in code can get here with them.
        return Err(SelectError::invalid(
            &ds.source,
            None,
            format!("feature column `{}` has NaN or infinite values; impute them first", column_name(ds, j)),
        ));
    }
    let means: Vec<f64> = stats.iter().map(|s| s.mean).collect();
    let sds: Vec<f64> = stats.iter().map(|s| s.variance.sqrt()).collect();
    let varied: Vec<usize> = (0..x.n_cols)
        .filter(|&j| stats[j].variance > opts.min_variance.max(1e-12 * (1.0 + stats[j].mean.powi(2))))
        .collect();
    let low_variance = x.n_cols - varied.len();
    if varied.is_empty() {
        let names: Vec<String> = (0..x.n_cols).map(|j| format!("`{}`", column_name(ds, j))).collect();
        let names = crate::data::builder::name_list(&names, ", ");
        let (one, many) = match opts.min_variance > 0.0 {
            true => {
                let v = opts.min_variance;
                (format!("has variance at most filter.min_variance = {v}"), format!("have variance at most {v}"))
            }
            false => ("is constant".to_string(), "are constant".to_string()),
        };
        let imputed = "once missing and non-finite cells are imputed with the column median";
        let reason = if x.n_cols == 1 {
            format!("the only feature column, {names}, {one} {imputed}: nothing varies to select from")
        } else {
            format!("all {} feature columns {many} {imputed} ({names}): nothing varies to select from", x.n_cols)
        };
        return Err(SelectError::NoUsableFeatures { path: ds.source.clone(), reason });
    }
    ctl.report(Stage::Filter, 0.1, format!("relevance of {} columns", varied.len()));
    let bins = match ds.problem.is_classification() {
        true => opts.mi_bins.map(|b| b as usize).unwrap_or_else(|| mi::default_bins(x.n_rows)).max(2),
        false => 0,
    };
    let scores = ctl.install(|| backend.relevance(x, &varied, &stats, &ds.target, bins, cancel))?;
    let mut relevance = vec![f64::NAN; x.n_cols];
    for (&j, s) in varied.iter().zip(&scores) {
        relevance[j] = *s;
    }
    let mut ranked = varied;
    ranked.sort_by(|a, b| relevance[*b].total_cmp(&relevance[*a]).then(a.cmp(b)));
    ctl.report(Stage::Filter, 0.5, "removing redundant columns");
    let requested = opts.keep.requested(x.n_cols);
    let keep = opts.keep.resolve(ranked.len());
    let t = opts.redundancy_threshold;
    let kept = match backend.remove_redundant(x, &ranked, &means, &sds, keep, t, ctl) {
        Some(kept) => kept?,
        None => redundancy::remove_redundant(backend, x, &ranked, &means, &sds, keep, t, ctl)?,
    };
    ctl.report(Stage::Filter, 1.0, format!("kept {} of {} columns", kept.columns.len(), x.n_cols));
    Ok(FilterOutcome {
        columns: kept.columns,
        relevance,
        means,
        sds,
        low_variance,
        redundant: kept.dropped,
        requested,
        bins,
    })
}

fn column_name(ds: &Dataset, j: usize) -> String {
    ds.feature_names.get(j).cloned().unwrap_or_else(|| format!("#{j}"))
}
