//! The three stages end to end, and the report they produce.

use std::time::Instant;

use crate::backend::select_backend;
use crate::data::{builder::to_u32, Dataset, Target};
use crate::error::{Result, SelectError};
use crate::options::SelectOptions;
use crate::progress::{CancelToken, Ctl, Progress, Stage};
use crate::report::{
    CandidateReport, Clamp, DatasetInfo, Detail, FinalResults, Performance, PipelineInfo, SelectedFeature,
    SelectionReport, StageReport,
};
use crate::{stage1, stage2, stage3};

/// Runs stages 1-3 on `dataset` and reports the selected features.
///
/// `progress` is called from the calling thread only. `cancel` is checked inside every stage's inner
/// loops; a cancelled run returns [`SelectError::Cancelled`] and produces no report. With the same
/// `opts.seed` the result is the same, whatever `opts.threads`.
pub fn run(
    dataset: &Dataset,
    opts: &SelectOptions,
    progress: &dyn Fn(Progress),
    cancel: &CancelToken,
) -> Result<SelectionReport> {
    opts.validate()?;
    check_dataset(dataset)?;
    let backend = select_backend(opts.backend)?;
    let pool = match opts.threads {
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n as usize)
                .build()
                .map_err(|e| SelectError::InvalidOptions { option: "threads", reason: e.to_string() })?,
        ),
        None => None,
    };
    let threads = pool.as_ref().map(|p| p.current_num_threads()).unwrap_or_else(rayon::current_num_threads);
    let ctl = Ctl { progress, cancel, pool: pool.as_ref() };
    let start = Instant::now();
    let (n, f) = (dataset.n_rows(), dataset.n_features());

    let t = Instant::now();
    let filtered = stage1::filter(dataset, &opts.filter, backend.as_ref(), &ctl)?;
    let filter_secs = t.elapsed().as_secs_f64();

    let depth = opts.search.depth.unwrap_or_else(|| opts.evaluate.size.max()) as usize;
    let t = Instant::now();
    let searched = stage2::search(dataset, &filtered, &opts.search, depth, opts.seed, &ctl)?;
    let search_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let evaluated = stage3::evaluate(dataset, &filtered, &searched, &opts.evaluate, opts.seed, &ctl)?;
    let evaluate_secs = t.elapsed().as_secs_f64();
    ctl.check()?;

    let mut clamps = Vec::new();
    let mut clamp = |option: &str, requested: usize, used: usize| {
        if used < requested {
            clamps.push(Clamp { option: option.into(), requested: to_u32(requested), used: to_u32(used) });
        }
    };
    clamp("search.folds", opts.search.folds as usize, n);
    clamp("evaluate.folds", opts.evaluate.folds as usize, evaluated.folds);
    clamp("filter.keep", filtered.requested, filtered.columns.len());
    clamp("search.keep", opts.search.keep as usize, searched.columns.len());
    clamp(
        "evaluate.size",
        evaluated.requested,
        evaluated.best.columns.len().max(evaluated.requested.min(searched.columns.len())),
    );

    let name = |c: usize| dataset.feature_names.get(c).cloned().unwrap_or_default();
    let mut selected: Vec<SelectedFeature> = evaluated
        .best
        .columns
        .iter()
        .zip(&evaluated.importance)
        .map(|(&c, &imp)| SelectedFeature {
            name: name(c),
            index: to_u32(c),
            importance: imp,
            relevance: filtered.relevance[c],
        })
        .collect();
    selected.sort_by(|a, b| b.importance.total_cmp(&a.importance).then(a.index.cmp(&b.index)));
    let metric = if dataset.problem.is_classification() { "accuracy" } else { "r2" };
    let stages = vec![
        StageReport {
            stage: Stage::Filter,
            input_features: to_u32(f),
            output_features: to_u32(filtered.columns.len()),
            seconds: filter_secs,
            details: vec![
                Detail::new("low_variance_dropped", to_u32(filtered.low_variance)),
                Detail::new("redundant_dropped", to_u32(filtered.redundant)),
                Detail::new("mi_bins", to_u32(filtered.bins)),
            ],
        },
        StageReport {
            stage: Stage::Search,
            input_features: to_u32(filtered.columns.len()),
            output_features: to_u32(searched.columns.len()),
            seconds: search_secs,
            details: vec![
                Detail::new("pool", to_u32(searched.pool)),
                Detail::new("iterations", searched.iterations),
                Detail::new("subsets_evaluated", searched.evaluations),
                Detail::new("memo_hits", searched.memo_hits),
                Detail::new("depth", to_u32(searched.depth)),
                Detail::new("best_cv_r2", searched.best_score),
            ],
        },
        StageReport {
            stage: Stage::Evaluate,
            input_features: to_u32(searched.columns.len()),
            output_features: to_u32(evaluated.best.columns.len()),
            seconds: evaluate_secs,
            details: vec![
                Detail::new("candidates", to_u32(evaluated.candidates.len())),
                Detail::new("folds", to_u32(evaluated.folds)),
            ],
        },
    ];
    Ok(SelectionReport {
        pipeline_info: PipelineInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            backend: backend.ran_on(),
            options: opts.clone(),
            threads: to_u32(threads),
        },
        dataset_info: DatasetInfo {
            name: dataset.name.clone(),
            source: dataset.source.clone(),
            rows: to_u32(n),
            features: to_u32(f),
            target: dataset.target_name.clone(),
            problem_type: dataset.problem,
            classes: match &dataset.target {
                Target::Classes { labels, .. } => labels.clone(),
                Target::Continuous(_) => Vec::new(),
            },
            preparation: dataset.prep.clone(),
        },
        stages,
        final_results: FinalResults {
            selected_features: selected,
            model: evaluated.best.family,
            metric: metric.to_string(),
            score: evaluated.best.mean,
            score_std: evaluated.best.std,
            folds: to_u32(evaluated.folds),
            candidates: evaluated
                .candidates
                .iter()
                .map(|c| CandidateReport {
                    origin: c.origin.to_string(),
                    model: c.family,
                    features: c.columns.iter().map(|&i| name(i)).collect(),
                    score: c.mean,
                    score_std: c.std,
                })
                .collect(),
        },
        performance: Performance {
            total_seconds: start.elapsed().as_secs_f64(),
            filter_cells_per_second: (n as f64 * f as f64) / filter_secs.max(1e-9),
        },
        clamps,
    })
}

/// Refuses a dataset the stages cannot work on, with the reason in the user's terms. The loaders
/// never produce one; a [`Dataset`] built in code can (its fields are public).
fn check_dataset(ds: &Dataset) -> Result<()> {
    let bad = |reason: String| Err(SelectError::invalid(&ds.source, None, reason));
    let (n, f) = (ds.n_rows(), ds.n_features());
    if ds.features.values.len() != n.saturating_mul(f) {
        return bad(format!(
            "the feature matrix holds {} values, not {n} rows x {f} columns",
            ds.features.values.len()
        ));
    }
    if ds.target.len() != n {
        return bad(format!("the target has {} values for {n} rows", ds.target.len()));
    }
    if f == 0 {
        return Err(SelectError::NoUsableFeatures {
            path: ds.source.clone(),
            reason: "the dataset has no feature column".into(),
        });
    }
    if n < 2 {
        return bad(format!("{n} row(s): cross-validation needs at least 2 rows with a target"));
    }
    match &ds.target {
        Target::Classes { codes, labels } => {
            if let Some(c) = codes.iter().find(|c| **c as usize >= labels.len()) {
                return bad(format!(
                    "class code {c} of target `{}` has no label ({} labels)",
                    ds.target_name,
                    labels.len()
                ));
            }
            let first = codes[0];
            if labels.len() < 2 || codes.iter().all(|c| *c == first) {
                let value = labels.get(first as usize).cloned().unwrap_or_default();
                return Err(SelectError::ConstantTarget { target: ds.target_name.clone(), value });
            }
        }
        Target::Continuous(y) => {
            if y.iter().any(|v| !v.is_finite()) {
                return bad(format!("target `{}` has NaN or infinite values", ds.target_name));
            }
            if y.iter().all(|v| *v == y[0]) {
                return Err(SelectError::ConstantTarget { target: ds.target_name.clone(), value: y[0].to_string() });
            }
        }
    }
    Ok(())
}
