//! End-to-end behaviour of `run` on synthetic data: recall, determinism, cancellation, clamps.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{make_classification, r_squared};
use hsof_select::{
    run, BackendChoice, CancelToken, EvaluateOptions, FilterOptions, FinalSize, KeepCount, Progress, SearchOptions,
    SelectError, SelectOptions, SelectionReport, Stage,
};

/// Options sized for debug-mode tests: fewer stage-1 columns, fewer iterations and trees.
fn quick_options(seed: u64) -> SelectOptions {
    SelectOptions {
        seed,
        filter: FilterOptions { keep: KeepCount::Count(100), ..FilterOptions::default() },
        search: SearchOptions { iterations: 150, ..SearchOptions::default() },
        evaluate: EvaluateOptions { forest_trees: 10, forest_candidates: 1, ..EvaluateOptions::default() },
        ..SelectOptions::default()
    }
}

fn selected(report: &SelectionReport) -> Vec<usize> {
    let mut v: Vec<usize> = report.final_results.selected_features.iter().map(|f| f.index as usize).collect();
    v.sort_unstable();
    v
}

#[test]
fn recovers_informative_signal_on_2000_by_500() {
    let syn = make_classification(2000, 500, 10, 10, 2, 11);
    // Default options: 500 -> 500 (all columns fit) -> 50 -> the size the data chooses (10
    // informative and 10 redundant columns: about as many as the informative ones).
    let opts = SelectOptions { seed: 3, ..SelectOptions::default() };
    let report = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    let chosen = selected(&report);
    assert!(
        (8..=25).contains(&chosen.len()),
        "{} chosen: {}",
        chosen.len(),
        report.final_results.size_choice.description
    );
    let recovered = syn
        .informative
        .iter()
        .filter(|&&j| chosen.contains(&j) || r_squared(&syn.ds.features, j, &chosen) >= 0.9)
        .count();
    let useful = chosen.iter().filter(|c| syn.informative.contains(c) || syn.redundant.contains(c)).count();
    assert!(recovered as f64 >= 0.9 * 10.0, "recovered {recovered} of 10 informative; chosen {chosen:?}");
    assert!(useful as f64 >= 0.8 * chosen.len() as f64, "{useful} of {} chosen are signal", chosen.len());
    assert_eq!(report.pipeline_info.backend, "cpu");
    assert!(report.final_results.score > 0.6, "accuracy {}", report.final_results.score);
    let counts: Vec<(u32, u32)> = report.stages.iter().map(|s| (s.input_features, s.output_features)).collect();
    assert_eq!(counts, vec![(500, 500), (500, 50), (50, chosen.len() as u32)]);
}

#[test]
fn same_seed_same_result_whatever_the_thread_count() {
    let syn = make_classification(300, 60, 5, 5, 3, 5);
    let mut opts = quick_options(9);
    opts.filter.keep = KeepCount::Count(40);
    opts.evaluate.size = FinalSize::Fixed(6);
    let mut reports = Vec::new();
    for threads in [1, 2, 3] {
        opts.threads = Some(threads);
        reports.push(run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run"));
    }
    let key =
        |r: &SelectionReport| (selected(r), r.final_results.score, r.final_results.model, r.stages[1].details.clone());
    assert_eq!(key(&reports[0]), key(&reports[1]));
    assert_eq!(key(&reports[0]), key(&reports[2]));
    opts.seed = 10;
    let other = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    // A different seed changes the folds, hence at least the scores.
    assert_ne!(key(&reports[0]).1, key(&other).1);
}

#[test]
fn the_search_stops_once_it_has_converged_and_the_stop_is_deterministic() {
    let syn = make_classification(300, 60, 5, 5, 3, 5);
    let mut opts = quick_options(4);
    opts.filter.keep = KeepCount::Count(40);
    opts.evaluate.size = FinalSize::Fixed(6);
    opts.search = SearchOptions { iterations: 2000, trees: 2, patience: 50, ..SearchOptions::default() };
    let detail = |r: &SelectionReport, name: &str| {
        r.stages[1].details.iter().find(|d| d.name == name).map(|d| d.value).expect("detail")
    };
    let a = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    assert_eq!(detail(&a, "converged_early"), 1.0);
    assert!(detail(&a, "iterations") < 2.0 * 2000.0, "{:?}", a.stages[1].details);
    opts.threads = Some(1);
    let b = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    assert_eq!(a.stages[1].details, b.stages[1].details, "the same stop on one thread");
    assert_eq!(selected(&a), selected(&b));
    // Patience 0: every iteration runs.
    opts.search = SearchOptions { iterations: 100, trees: 2, patience: 0, ..SearchOptions::default() };
    let c = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    assert_eq!((detail(&c, "converged_early"), detail(&c, "iterations")), (0.0, 200.0));
}

#[test]
fn cancelling_mid_run_returns_cancelled_within_a_second() {
    let syn = make_classification(2000, 400, 10, 10, 2, 1);
    let mut opts = quick_options(1);
    opts.evaluate.forest_trees = 500; // many forest batches: cancel must land between them
    for stage in [Stage::Filter, Stage::Search, Stage::Evaluate] {
        // A search that would run for a very long time, except when the test needs to get past it.
        opts.search.iterations = if stage == Stage::Evaluate { 200 } else { 1_000_000 };
        let token = CancelToken::new();
        let cancelled_at = Mutex::new(None::<Instant>);
        let seen = AtomicBool::new(false);
        let progress = |p: Progress| {
            if p.stage == stage && !seen.swap(true, Ordering::SeqCst) {
                token.cancel();
                if let Ok(mut at) = cancelled_at.lock() {
                    *at = Some(Instant::now());
                }
            }
        };
        let result = run(&syn.ds, &opts, &progress, &token);
        let elapsed = cancelled_at.lock().ok().and_then(|a| *a).map(|t| t.elapsed()).expect("progress was reported");
        assert!(matches!(result, Err(SelectError::Cancelled)), "{stage:?}: {result:?}");
        assert!(elapsed < Duration::from_secs(1), "{stage:?}: stopped {elapsed:?} after cancel");
    }
}

#[test]
fn progress_covers_every_stage_in_order_with_fractions_in_range() {
    let syn = make_classification(200, 30, 4, 2, 2, 2);
    let mut opts = quick_options(4);
    opts.evaluate.size = FinalSize::Fixed(4);
    let seen = Mutex::new(Vec::new());
    run(&syn.ds, &opts, &|p| seen.lock().expect("lock").push(p), &CancelToken::new()).expect("run");
    let seen = seen.into_inner().expect("lock");
    assert!(seen.iter().all(|p| (0.0..=1.0).contains(&p.fraction)));
    let stages: Vec<Stage> = seen.iter().map(|p| p.stage).collect();
    let first = |s| stages.iter().position(|x| *x == s).expect("stage reported");
    assert!(first(Stage::Filter) < first(Stage::Search) && first(Stage::Search) < first(Stage::Evaluate));
}

#[test]
fn sizes_larger_than_the_data_are_clamped_and_reported() {
    let syn = make_classification(150, 12, 3, 2, 2, 8);
    let mut opts = quick_options(2);
    opts.filter.keep = KeepCount::Count(500);
    opts.evaluate.size = FinalSize::Fixed(40);
    let report = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    assert!(report.final_results.selected_features.len() <= 12);
    let options: Vec<&str> = report.clamps.iter().map(|c| c.option.as_str()).collect();
    assert!(options.contains(&"filter.keep") && options.contains(&"evaluate.size"), "{:?}", report.clamps);
}

#[test]
fn a_size_range_picks_a_size_inside_it() {
    let syn = make_classification(400, 40, 4, 2, 2, 6);
    let mut opts = quick_options(6);
    opts.evaluate.size = FinalSize::Range { min: 3, max: 8 };
    let report = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    let n = report.final_results.selected_features.len();
    assert!((3..=8).contains(&n), "{n}");
}

#[test]
fn gpu_backend_without_a_gpu_is_a_clear_error_and_auto_runs_on_cpu() {
    if hsof_select::cuda::usable().is_ok() {
        eprintln!("skipped: a GPU is usable here (tests/cuda_parity.rs covers this machine)");
        return;
    }
    let syn = make_classification(100, 10, 3, 1, 2, 3);
    let mut opts = quick_options(1);
    opts.backend = BackendChoice::Gpu;
    let err = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect_err("gpu");
    assert!(matches!(err, SelectError::BackendUnavailable { .. }));
    assert_eq!(err.code(), "unavailable");
    // The reason names what is missing: the driver, or NVRTC, or a device.
    let msg = err.to_string();
    assert!(msg.contains("driver") || msg.contains("NVRTC") || msg.contains("device"), "{msg}");
    opts.backend = BackendChoice::Auto;
    opts.evaluate.size = FinalSize::Fixed(3);
    let report = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("auto");
    assert_eq!(report.pipeline_info.backend, "cpu");
}

#[test]
fn invalid_options_are_rejected_before_any_work() {
    let syn = make_classification(50, 5, 2, 1, 2, 3);
    let mut opts = quick_options(1);
    opts.filter.keep = KeepCount::Fraction(1.5);
    assert!(matches!(run(&syn.ds, &opts, &|_| {}, &CancelToken::new()), Err(SelectError::InvalidOptions { .. })));
}
