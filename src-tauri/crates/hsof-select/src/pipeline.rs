//! The three stages end to end, and the report they produce.

use std::time::Instant;

use crate::backend::{select_backend, Backend};
use crate::data::{builder::to_u32, Dataset, Target};
use crate::error::{Result, SelectError};
use crate::options::SelectOptions;
use crate::progress::{CancelToken, Ctl, Progress, Stage};
use crate::report::{
    CandidateReport, Clamp, DatasetInfo, Detail, FinalResults, Performance, PipelineInfo, SelectedFeature,
    SelectionReport, StageReport, Validation,
};
use crate::{canonical, outer, stage1, stage2, stage3};

/// One selection (stages 1-3) on some rows, and its stage timings.
struct Pass {
    filtered: stage1::FilterOutcome,
    searched: stage2::SearchOutcome,
    evaluated: stage3::EvaluateOutcome,
    secs: [f64; 3],
    rows: usize,
}

fn select_once(
    ds: &Dataset,
    opts: &SelectOptions,
    backend: &dyn Backend,
    ctl: &Ctl<'_>,
    facts: Option<&stage1::shard::PassFacts>,
) -> Result<Pass> {
    let t = Instant::now();
    let filtered = stage1::filter_with(ds, &opts.filter, backend, ctl, facts)?;
    let filter_secs = t.elapsed().as_secs_f64();
    let depth = opts.search.depth.unwrap_or_else(|| opts.evaluate.size.search_depth()) as usize;
    let t = Instant::now();
    let balanced = opts.evaluate.class_weight == crate::options::ClassWeight::Balanced;
    let searched = stage2::search(ds, &filtered, &opts.search, depth, opts.seed, balanced, ctl)?;
    let search_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let evaluated = stage3::evaluate(ds, &filtered, &searched, &opts.evaluate, opts.seed, ctl)?;
    let evaluate_secs = t.elapsed().as_secs_f64();
    ctl.check()?;
    Ok(Pass { filtered, searched, evaluated, secs: [filter_secs, search_secs, evaluate_secs], rows: ds.n_rows() })
}

/// The worker pool `threads` asks for (`None`: rayon's global pool, all cores).
pub(crate) fn thread_pool(threads: Option<u32>) -> Result<Option<rayon::ThreadPool>> {
    threads
        .map(|n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n as usize)
                .build()
                .map_err(|e| SelectError::InvalidOptions { option: "threads", reason: e.to_string() })
        })
        .transpose()
}

/// Progress of pass `i` of `passes`: each stage's fraction spread over the passes, the
/// message after `label`.
fn pass_progress<'a>(progress: &'a dyn Fn(Progress), i: usize, passes: usize, label: String) -> impl Fn(Progress) + 'a {
    move |p: Progress| {
        progress(Progress {
            fraction: (i as f32 + p.fraction) / passes as f32,
            message: format!("{label}{}", p.message),
            ..p
        })
    }
}

/// Runs stages 1-3 on `dataset` inside the outer validation ([`crate::OuterValidation`]) and
/// reports the selected features with an honest score.
///
/// The columns are first put in a seeded, content-defined order ([`crate::canonical`]), so the
/// same columns in another order give the same report. `progress` is called from the calling
/// thread only; with outer folds every stage runs once per fold and once more on every row, and
/// each stage's fraction covers all its passes. `cancel` is checked inside every stage's inner
/// loops; a cancelled run returns [`SelectError::Cancelled`] and produces no report. With the
/// same `opts.seed` the result is the same, whatever `opts.threads`.
pub fn run(
    dataset: &Dataset,
    opts: &SelectOptions,
    progress: &dyn Fn(Progress),
    cancel: &CancelToken,
) -> Result<SelectionReport> {
    run_with_facts(dataset, opts, None, progress, cancel)
}

/// [`run`] with stage 1's per-column part given, one [`stage1::shard::PassFacts`] per pass
/// (merged from the shards that computed it, [`stage1::shard::read_merged`]); the result
/// is the one [`run`] gives.
pub fn run_with_facts(
    dataset: &Dataset,
    opts: &SelectOptions,
    facts: Option<&[stage1::shard::PassFacts]>,
    progress: &dyn Fn(Progress),
    cancel: &CancelToken,
) -> Result<SelectionReport> {
    opts.validate()?;
    check_dataset(dataset)?;
    let backend = select_backend(opts.backend)?;
    let pool = thread_pool(opts.threads)?;
    let threads = pool.as_ref().map(|p| p.current_num_threads()).unwrap_or_else(rayon::current_num_threads);
    let start = Instant::now();
    let (n, f) = (dataset.n_rows(), dataset.n_features());
    let order = canonical::order(dataset, opts.seed);
    let ds = canonical::permuted(dataset, &order);

    let plan = outer::plan(&ds.target, &ds.rows, opts.evaluate.outer, opts.seed);
    crate::folds::check_training_classes(
        &ds.target,
        &ds.rows,
        plan.splits
            .iter()
            .enumerate()
            .map(|(i, (train, _))| (format!("outer split {} of {}", i + 1, plan.splits.len()), train.as_slice())),
        &ds.source,
    )?;
    let holdout = plan.scheme == "holdout";
    let passes = plan.splits.len() + usize::from(!holdout);
    if let Some(f) = facts {
        if f.len() != passes {
            return Err(SelectError::InvalidOptions {
                option: "stage1 shards",
                reason: format!("the shards computed {} selection passes, this run makes {passes}: were they run with the same options?", f.len()),
            });
        }
    }
    let pass_facts = |i: usize| facts.and_then(|f| f.get(i));
    let forest = stage3::models::ForestParams {
        trees: opts.evaluate.forest_trees,
        max_depth: opts.evaluate.forest_max_depth,
        balanced: opts.evaluate.class_weight == crate::options::ClassWeight::Balanced,
    };
    let mut fold_scores = Vec::new();
    let mut held_out_rows = Vec::new();
    let mut outer_choices: Vec<Vec<usize>> = Vec::new();
    let mut pooled = crate::metrics::Predictions::default();
    let mut final_pass = None;
    for (i, (train, test)) in plan.splits.iter().enumerate() {
        let label = match holdout {
            true => format!("selection on {} rows ({} held out): ", train.len(), test.len()),
            false => format!("outer fold {}/{}: ", i + 1, plan.splits.len()),
        };
        let wrapped = pass_progress(progress, i, passes, label);
        let ctl = Ctl { progress: &wrapped, cancel, pool: pool.as_ref() };
        let part = ds.take_rows(train);
        let pass = select_once(&part, opts, backend.as_ref(), &ctl, pass_facts(i))?;
        let best = &pass.evaluated.best;
        // `part`'s row r is `ds`'s row train[r]: score on the held-out rows of `ds`.
        let (score, predictions) = ctl.install(|| {
            stage3::models::holdout_predict(&ds, &best.columns, best.family, train, test, forest, opts.seed, cancel)
        })?;
        pooled.extend(predictions);
        ctl.report(Stage::Evaluate, 1.0, format!("held-out {}: {score:.4}", metric_name(&ds)));
        fold_scores.push(score);
        held_out_rows.push(to_u32(test.len()));
        outer_choices.push(best.columns.clone());
        if holdout {
            final_pass = Some(pass);
        }
    }
    let pass = match final_pass {
        Some(p) => p,
        None => {
            let label = if passes > 1 { "selection on every row: " } else { "" };
            let wrapped = pass_progress(progress, plan.splits.len(), passes, label.to_string());
            let ctl = Ctl { progress: &wrapped, cancel, pool: pool.as_ref() };
            select_once(&ds, opts, backend.as_ref(), &ctl, pass_facts(plan.splits.len()))?
        }
    };
    let Pass { filtered, searched, evaluated, secs, rows: selection_rows } = pass;
    let [filter_secs, search_secs, evaluate_secs] = secs;

    let mut clamps = Vec::new();
    let mut clamp = |option: &str, requested: usize, used: usize| {
        if used < requested {
            clamps.push(Clamp { option: option.into(), requested: to_u32(requested), used: to_u32(used) });
        }
    };
    clamp("search.folds", opts.search.folds as usize, selection_rows);
    clamp("evaluate.folds", opts.evaluate.folds as usize, evaluated.folds);
    clamp("filter.keep", filtered.requested, filtered.columns.len());
    clamp("search.keep", opts.search.keep as usize, searched.columns.len());
    // A size chosen by the data has a bound, not a request: fewer columns is the answer, not a clamp.
    if !matches!(opts.evaluate.size, crate::options::FinalSize::Auto { .. }) {
        clamp(
            "evaluate.size",
            evaluated.requested,
            evaluated.best.columns.len().max(evaluated.requested.min(searched.columns.len())),
        );
    }
    if let Some(k) = plan.requested_folds {
        clamp("evaluate.outer", k, plan.splits.len());
    }

    let name = |c: usize| ds.feature_names.get(c).cloned().unwrap_or_default();
    let stability = |c: usize| {
        (!holdout && !outer_choices.is_empty())
            .then(|| outer_choices.iter().filter(|s| s.contains(&c)).count() as f64 / outer_choices.len() as f64)
    };
    let mut selected: Vec<SelectedFeature> = evaluated
        .best
        .columns
        .iter()
        .zip(&evaluated.importance)
        .map(|(&c, &imp)| SelectedFeature {
            name: name(c),
            index: to_u32(order[c]),
            importance: imp,
            relevance: filtered.relevance[c],
            stability: stability(c),
        })
        .collect();
    selected
        .sort_by(|a, b| b.importance.total_cmp(&a.importance).then(a.name.cmp(&b.name)).then(a.index.cmp(&b.index)));
    let (score, score_std) = match fold_scores.is_empty() {
        true => (evaluated.best.mean, evaluated.best.std),
        false => stage3::mean_std(&fold_scores),
    };
    let validation = Validation {
        scheme: plan.scheme.to_string(),
        description: plan.describe(evaluated.folds),
        fold_scores,
        held_out_rows,
        inner_score: evaluated.best.mean,
        inner_score_std: evaluated.best.std,
        metrics: if pooled.rows.is_empty() { Vec::new() } else { crate::metrics::held_out(&ds.target, &pooled) },
    };
    let reward = match opts.search.reward {
        crate::options::SearchReward::Boosted => "best_cv_skill_boosted",
        crate::options::SearchReward::Ridge => "best_cv_r2",
    };
    let stages = vec![
        StageReport {
            stage: Stage::Filter,
            input_features: to_u32(f),
            output_features: to_u32(filtered.columns.len()),
            seconds: filter_secs,
            details: vec![
                Detail::new("rows", to_u32(selection_rows)),
                Detail::new("low_variance_dropped", to_u32(filtered.low_variance)),
                Detail::new("redundant_dropped", to_u32(filtered.redundant)),
                Detail::new("mi_bins", to_u32(filtered.bins)),
                Detail::new("target_bins", to_u32(filtered.target_bins)),
                Detail::new("pairs_tested", to_u32(filtered.screen.tested)),
                Detail::new("interaction_pairs", to_u32(filtered.screen.pairs.len())),
                Detail::new("interaction_columns", to_u32(filtered.interaction_columns.len())),
            ],
        },
        StageReport {
            stage: Stage::Search,
            input_features: to_u32(filtered.columns.len()),
            output_features: to_u32(searched.columns.len()),
            seconds: search_secs,
            details: vec![
                Detail::new("pool", to_u32(searched.pool)),
                Detail::new("reward_rows", to_u32(searched.reward_rows)),
                Detail::new("iterations", searched.iterations),
                Detail::new("subsets_evaluated", searched.evaluations),
                Detail::new("memo_hits", searched.memo_hits),
                Detail::new("depth", to_u32(searched.depth)),
                Detail::new(reward, searched.best_score),
                Detail::new("swaps_evaluated", searched.swaps_evaluated),
                Detail::new("swaps_accepted", searched.swaps_accepted),
                Detail::new("stopped_by_time", u32::from(searched.stopped_by_time)),
                Detail::new("converged_early", u32::from(searched.converged)),
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
                Detail::new("outer_selections", to_u32(plan.splits.len())),
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
            metric: metric_name(&ds).to_string(),
            score,
            score_std,
            folds: to_u32(evaluated.folds),
            validation,
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
            size_choice: evaluated.size_choice.clone(),
        },
        performance: Performance {
            total_seconds: start.elapsed().as_secs_f64(),
            filter_cells_per_second: (selection_rows as f64 * f as f64) / filter_secs.max(1e-9),
        },
        clamps,
    })
}

fn metric_name(ds: &Dataset) -> &'static str {
    if ds.problem.is_classification() {
        "accuracy"
    } else {
        "r2"
    }
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
