//! Stage 1, the filter: variance, relevance, redundancy (default 5000 -> 500 columns).
//!
//! 1. **Variance**: columns with variance <= `min_variance` (relative tolerance 1e-12 · (1 + mean²)
//!    for float rounding) are dropped.
//! 2. **Relevance**: [`mi`], mutual information with the class, or with the continuous target cut
//!    into quantile bins (so a purely quadratic or other nonlinear dependence counts, which a
//!    linear F statistic misses), in parallel over columns.
//! 3. **Interactions**: [`pairs`], a G-test screen of column pairs that matter together and
//!    not alone; their columns are ranked by the pair's joint information.
//! 4. **Categorical groups**: the one-hot levels of a text column ([`crate::groups`]) get the
//!    mutual information of the whole level code and are ranked, kept or dropped together.
//! 5. **Redundancy**: [`redundancy`], greedy over the ranked list until `keep` columns (a group
//!    counting as one) are kept; then the most relevant dropped columns come back until
//!    [`MIN_KEPT`] are kept.
//!
//! Ranking is by relevance, ties by column position; the pipeline hands stage 1 the columns in a
//! seeded content-defined order ([`crate::canonical`]), so the input's column order never matters.
//!
//! When no column passes the variance step the stage fails with [`SelectError::NoUsableFeatures`]
//! naming the columns: there is nothing to select from.

pub mod mi;
pub mod pairs;
pub mod redundancy;
pub mod shard;

use crate::backend::Backend;
use crate::data::{Dataset, Target};
use crate::error::{Result, SelectError};
use crate::groups::{group_mutual_information, Groups};
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
    /// Mutual-information bins used for the columns.
    pub bins: usize,
    /// Bins the continuous target was cut into (0 for classes).
    pub target_bins: usize,
    /// The interaction screen's result.
    pub screen: pairs::Screen,
    /// Columns whose relevance the screen raised.
    pub interaction_columns: Vec<usize>,
}

/// Runs stage 1 on every column of `ds`.
pub fn filter(ds: &Dataset, opts: &FilterOptions, backend: &dyn Backend, ctl: &Ctl<'_>) -> Result<FilterOutcome> {
    filter_with(ds, opts, backend, ctl, None)
}

/// The per-column part of stage 1 — each column's statistics and its relevance to the
/// target (`NaN` for columns without enough variance) — which shards compute on their own
/// column blocks ([`shard`]). The same code serves a whole run, so the two agree exactly.
pub fn column_facts(
    ds: &Dataset,
    opts: &FilterOptions,
    backend: &dyn Backend,
    ctl: &Ctl<'_>,
) -> Result<(Vec<crate::backend::ColumnStats>, Vec<f64>)> {
    let x = &ds.features;
    let cancel = ctl.cancel;
    let stats = ctl.install(|| backend.column_stats(x, cancel))?;
    ctl.check()?;
    let varied = varied_columns(&stats, opts);
    if varied.is_empty() || stats.iter().any(|s| !(s.mean.is_finite() && s.variance.is_finite())) {
        return Ok((stats, vec![f64::NAN; x.n_cols]));
    }
    let bins = bins_of(ds, opts);
    let classes = binned_target(ds, bins);
    let target = classes.as_ref().map_or(&ds.target, |(t, _)| t);
    let scores = ctl.install(|| backend.relevance(x, &varied, &stats, target, bins, cancel))?;
    let mut relevance = vec![f64::NAN; x.n_cols];
    for (&j, s) in varied.iter().zip(&scores) {
        relevance[j] = *s;
    }
    Ok((stats, relevance))
}

fn varied_columns(stats: &[crate::backend::ColumnStats], opts: &FilterOptions) -> Vec<usize> {
    (0..stats.len())
        .filter(|&j| stats[j].variance > opts.min_variance.max(1e-12 * (1.0 + stats[j].mean.powi(2))))
        .collect()
}

fn bins_of(ds: &Dataset, opts: &FilterOptions) -> usize {
    opts.mi_bins.map(|b| b as usize).unwrap_or_else(|| mi::default_bins(ds.features.n_rows)).max(2)
}

/// A continuous target cut into quantile bins (mutual information then sees any dependence,
/// not only a linear one), with the number of bins; `None` for classes.
fn binned_target(ds: &Dataset, bins: usize) -> Option<(Target, usize)> {
    match &ds.target {
        Target::Classes { .. } => None,
        Target::Continuous(y) => {
            let edges = mi::quantile_edges(y, bins);
            let codes: Vec<u32> = y.iter().map(|v| edges.partition_point(|e| e <= v) as u32).collect();
            let labels = (0..=edges.len()).map(|b| b.to_string()).collect();
            Some((Target::Classes { codes, labels }, edges.len() + 1))
        }
    }
}

/// Stage 1 with the per-column part given (`facts`, from [`shard`]s) or computed here.
pub fn filter_with(
    ds: &Dataset,
    opts: &FilterOptions,
    backend: &dyn Backend,
    ctl: &Ctl<'_>,
    facts: Option<&shard::PassFacts>,
) -> Result<FilterOutcome> {
    let x = &ds.features;
    ctl.report(Stage::Filter, 0.0, format!("column statistics of {} columns", x.n_cols));
    let (stats, given) = match facts {
        Some(f) => {
            let (stats, relevance) = f.for_columns(&ds.feature_names, &ds.source)?;
            (stats, Some(relevance))
        }
        None => {
            let cancel = ctl.cancel;
            let stats = ctl.install(|| backend.column_stats(x, cancel))?;
            (stats, None)
        }
    };
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
    let varied = varied_columns(&stats, opts);
    let low_variance = x.n_cols - varied.len();
    if varied.is_empty() {
        // By name: the pipeline hands stage 1 the columns in its own canonical order.
        let mut names: Vec<String> = (0..x.n_cols).map(|j| format!("`{}`", column_name(ds, j))).collect();
        names.sort();
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
    let bins = bins_of(ds, opts);
    let classes = binned_target(ds, bins);
    let target_bins = classes.as_ref().map_or(0, |(_, k)| *k);
    let mut relevance = match given {
        Some(r) => r,
        None => {
            let target = classes.as_ref().map_or(&ds.target, |(t, _)| t);
            let cancel = ctl.cancel;
            let scores = ctl.install(|| backend.relevance(x, &varied, &stats, target, bins, cancel))?;
            let mut relevance = vec![f64::NAN; x.n_cols];
            for (&j, s) in varied.iter().zip(&scores) {
                relevance[j] = *s;
            }
            relevance
        }
    };
    if let Some(j) = varied.iter().copied().find(|&j| relevance[j].is_nan()) {
        return Err(SelectError::invalid(
            &ds.source,
            None,
            format!("the stage-1 shard statistics give column `{}` no relevance", column_name(ds, j)),
        ));
    }
    let cancel = ctl.cancel;
    let mut screen = pairs::Screen::default();
    let mut interaction_columns = Vec::new();
    if opts.interactions {
        // The screen's power falls with the number of classes: a continuous target is cut
        // into quartiles for it.
        let quartiles = match &ds.target {
            Target::Continuous(y) => {
                let edges = mi::quantile_edges(y, 4);
                Some((y.iter().map(|v| edges.partition_point(|e| e <= v) as u32).collect::<Vec<_>>(), edges.len() + 1))
            }
            Target::Classes { .. } => None,
        };
        let (codes, k) = match (&quartiles, &ds.target) {
            (Some((codes, k)), _) => (codes.as_slice(), *k),
            (None, Target::Classes { codes, labels }) => (codes.as_slice(), labels.len()),
            (None, Target::Continuous(_)) => unreachable!("quartiles are cut for a continuous target"),
        };
        let mut candidates = varied.clone();
        let limit = opts.pair_candidates as usize;
        if candidates.len() > limit {
            candidates.sort_by(|a, b| relevance[*b].total_cmp(&relevance[*a]).then(a.cmp(b)));
            candidates.truncate(limit);
            candidates.sort_unstable();
        }
        ctl.report(Stage::Filter, 0.3, format!("interaction screen over {} columns", candidates.len()));
        screen = ctl.install(|| pairs::screen(x, &candidates, codes, k, cancel))?;
        for p in &screen.pairs {
            for c in [p.a, p.b] {
                if p.joint_mi > relevance[c] {
                    relevance[c] = p.joint_mi;
                    if !interaction_columns.contains(&c) {
                        interaction_columns.push(c);
                    }
                }
            }
        }
        interaction_columns.sort_unstable();
    }
    // A text column's one-hot levels are one feature: scored by the information of the whole
    // level code (at least that of its best level alone or in a detected pair), ranked together.
    let groups = Groups::of(ds);
    // Stage 1's class codes: the classes, or the continuous target's bins.
    if let Target::Classes { codes, labels } = classes.as_ref().map_or(&ds.target, |(t, _)| t) {
        for members in groups.multi() {
            let best = members.iter().map(|&c| relevance[c]).filter(|r| !r.is_nan()).fold(f64::NAN, f64::max);
            if best.is_nan() {
                continue;
            }
            let joint = group_mutual_information(ds, members, codes, labels.len()).max(best);
            for &c in members {
                if !relevance[c].is_nan() {
                    relevance[c] = joint;
                }
            }
        }
    }
    let mut ranked = varied;
    ranked.sort_by(|a, b| relevance[*b].total_cmp(&relevance[*a]).then(a.cmp(b)));
    ctl.report(Stage::Filter, 0.5, "removing redundant columns");
    let requested = opts.keep.requested(x.n_cols);
    // The redundancy walk sees one column per group (its levels are correlated with each other
    // by construction) and `keep` counts groups; the kept groups come back whole.
    let ranked = groups.representatives(&ranked);
    let keep = opts.keep.resolve(ranked.len());
    let t = opts.redundancy_threshold;
    let mut kept = match backend.remove_redundant(x, &ranked, &means, &sds, keep, t, ctl) {
        Some(kept) => kept?,
        None => redundancy::remove_redundant(backend, x, &ranked, &means, &sds, keep, t, ctl)?,
    };
    refill(&mut kept, &ranked, keep.min(MIN_KEPT));
    kept.columns = groups.expand_in_order(&kept.columns);
    kept.columns.retain(|&c| !relevance[c].is_nan());
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
        target_bins,
        screen,
        interaction_columns,
    })
}

/// The redundancy walk never leaves fewer columns than this (or than `keep`): a spectrum, a
/// descriptor family or any table whose columns all correlate above the threshold with a
/// neighbour would otherwise reach stage 2 as one or two columns (a 100-wavelength absorbance
/// table kept one), where the small differences between correlated columns are the signal.
pub const MIN_KEPT: usize = 50;

/// Brings back the most relevant columns the walk dropped until `floor` are kept, in relevance
/// order (`ranked`, most relevant first).
fn refill(kept: &mut redundancy::Kept, ranked: &[usize], floor: usize) {
    if kept.columns.len() >= floor || kept.dropped == 0 {
        return;
    }
    let chosen: std::collections::HashSet<usize> = kept.columns.iter().copied().collect();
    let mut missing = floor - kept.columns.len();
    let mut back = std::collections::HashSet::new();
    for &c in ranked {
        if missing == 0 {
            break;
        }
        if !chosen.contains(&c) {
            back.insert(c);
            missing -= 1;
        }
    }
    kept.dropped -= back.len().min(kept.dropped);
    kept.columns = ranked.iter().copied().filter(|c| chosen.contains(c) || back.contains(c)).collect();
}

fn column_name(ds: &Dataset, j: usize) -> String {
    ds.feature_names.get(j).cloned().unwrap_or_else(|| format!("#{j}"))
}
