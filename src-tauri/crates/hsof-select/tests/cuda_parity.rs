//! The CUDA backend against the CPU backend on the engine's synthetic problems and on loaded
//! files. These tests run only where a GPU is usable (driver, device, NVRTC); elsewhere each
//! prints `skipped: no GPU` and passes (unless `HSOF_REQUIRE_GPU=1`). `scripts/gpu-check.sh`
//! runs them on a GPU machine. One test needs no GPU: it checks, on the CPU, that the loaded
//! fixtures reach the stage-1 paths the GPU tests compare, so none of them passes vacuously.
//!
//! The backend computes three things in stage 1: column statistics, relevance (mutual
//! information histograms; the Pearson kernel behind a continuous target) and the redundancy
//! walk. The rest of stage 1 runs on the CPU whichever backend is chosen but takes the
//! backend's answers as input, so each path is compared by its output:
//!
//! - classes (binary, multiclass) and regression: stage 1 cuts a continuous target into
//!   quantile bins and scores it as classes (`target_bins`), from 2 bins up to 100 (the
//!   largest histogram of 100 target classes the kernel's shared memory holds) and 1024
//!   bins for two classes;
//! - the interaction screen (`stage1::pairs`): the backend's relevance picks its candidates
//!   when there are more than `pair_candidates`, and the pairs it keeps raise relevance;
//! - text columns' one-hot groups (`crate::groups`): scored as one code, ranked whole, one
//!   representative in the redundancy walk, `keep` counting a group once;
//! - imputed columns and their `=missing` indicators, 0/1 and integer columns (values tied
//!   on bin edges), a column with no interior bin edge, a large offset, a constant column,
//!   `min_variance` dropping every 0/1 column, a lower redundancy threshold, `keep` reached
//!   early, the screen off;
//! - sharded stage 1: `stage1::shard::facts` per block of a file's columns on each backend,
//!   merged and given to `run_with_facts`;
//! - whole runs with every outer scheme: a holdout, plain, grouped and time-ordered outer
//!   folds (stage 1 once per fold on a new matrix, then on every row);
//! - a step the device cannot do (a histogram over its shared memory) redone on the CPU and
//!   named in the report; errors (nothing varies, a NaN cell) and cancellation.
//!
//! Tolerances: stage 1 must keep the same columns in the same order and the interaction
//! screen the same pairs with the same figures (it runs on the CPU, from the same candidates
//! and relevance). Means and variances are reduced in f64 on both sides, in different orders:
//! relative 1e-9. Every stage-1 relevance is mutual information from the same integer
//! histograms (bin edges placed on the host by one function; a regression target's bins
//! too): 1e-12. The Pearson kernel (a continuous target handed to `Backend::relevance`, which
//! stage 1 no longer does) gives the F statistic from r reduced in f64: relative 1e-7. Stages
//! 2 and 3 run on the CPU for both backends, so from the same stage-1 columns the whole run
//! selects the same features with the same stability and candidates; its scores and
//! importances may differ only by the means' rounding (relative 1e-9).

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{make_classification, normal64};
use hsof_select::cuda::CudaBackend;
use hsof_select::groups::Groups;
use hsof_select::stage1::shard::{self, PassFacts, ShardFacts};
use hsof_select::{
    load_csv, run, run_with_facts, stage1, Backend, BackendChoice, CancelToken, ColumnMatrix, CpuBackend, Ctl, Dataset,
    EvaluateOptions, FilterOptions, KeepCount, LoadOptions, OuterValidation, PrepSummary, ProblemType, SearchOptions,
    SelectError, SelectOptions, SelectionReport, Target,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The GPU, or `None` (skip) with the reason printed. `HSOF_REQUIRE_GPU=1` (set by
/// scripts/gpu-check.sh) turns a missing GPU into a failure, so a GPU machine without NVRTC
/// cannot pass by skipping.
fn gpu() -> Option<CudaBackend> {
    match CudaBackend::open() {
        Ok(g) => Some(g),
        Err(why) if std::env::var("HSOF_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
            panic!("HSOF_REQUIRE_GPU=1 but the CUDA backend cannot start: {why}")
        }
        Err(why) => {
            eprintln!("skipped: no GPU ({why})");
            None
        }
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-12
}

fn dataset(name: &str, cols: Vec<Vec<f32>>, target: Target, problem: ProblemType) -> Dataset {
    let n = cols.first().map_or(0, Vec::len);
    Dataset {
        name: name.into(),
        source: "memory".into(),
        feature_names: (0..cols.len()).map(|j| format!("f{j}")).collect(),
        features: ColumnMatrix::from_columns(n, cols),
        target_name: "y".into(),
        target,
        problem,
        prep: PrepSummary::default(),
        rows: Default::default(),
    }
}

/// A regression problem: y = sum of 5 columns with weights + noise; 5 near-copies of them.
fn make_regression(n: usize, f: usize) -> Dataset {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut cols: Vec<Vec<f32>> = (0..f).map(|_| (0..n).map(|_| next() as f32).collect()).collect();
    for k in 0..5 {
        let copy: Vec<f32> = cols[k].iter().map(|v| v * 2.0 + 0.001 * next() as f32).collect();
        cols[f - 1 - k] = copy;
    }
    let y: Vec<f32> =
        (0..n).map(|i| (0..5).map(|k| (k + 1) as f32 * cols[k][i]).sum::<f32>() + 0.1 * next() as f32).collect();
    dataset("regression", cols, Target::Continuous(y), ProblemType::Regression)
}

/// A file as users load them today, as CSV text: `n` rows of
/// - `site` (24 runs of consecutive rows) and `ts` (a row a minute): a group and a time
///   column, loaded as row roles or left out as ids;
/// - `city`: 8 levels, three with a higher target, 2 % of cells empty (no level set);
/// - `flag`: yes/no (two levels, perfectly anti-correlated); `color`: 5 levels of noise;
/// - `temp`: noise readings, missing on 20 % of rows and with a higher target there (an
///   imputed column beside its `temp=missing` indicator);
/// - `m1` informative, `m1x2` its near copy (redundant), `m2` correlated with it (r about 0.7);
/// - `count`: integers 0..=5 with a small effect (values tied on the bin edges);
/// - `xa`, `xb`: an interaction: the target follows sign(xa) · sign(xb), each alone says nothing;
/// - `const` (one value), `spike` (0 but for one row in 211: no interior bin edge), `big`
///   (10⁴ plus noise);
/// - `noise` columns of noise;
/// - `y`: 1 where the score is positive, or with `regression` the score itself.
fn mixed_csv(n: usize, noise: usize, regression: bool, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = String::from("site,ts,city,flag,color,temp,m1,m1x2,m2,count,xa,xb,const,spike,big");
    for j in 0..noise {
        write!(out, ",n{j}").expect("write");
    }
    out.push_str(",y\n");
    let cities = ["ams", "ber", "cph", "dub", "edi", "fra", "gva", "hel"];
    let colors = ["red", "green", "blue", "grey", "teal"];
    for r in 0..n {
        let city = rng.gen_range(0..cities.len());
        let flag = rng.gen_bool(0.5);
        let missing = rng.gen_bool(0.2);
        let m1 = normal64(&mut rng);
        let count = rng.gen_range(0..=5u32);
        let (xa, xb): (f64, f64) = (rng.gen_range(-2.0..2.0), rng.gen_range(-2.0..2.0));
        let interaction = if (xa > 0.0) == (xb > 0.0) { 1.0 } else { -1.0 };
        let score = 0.8 * m1
            + if city < 3 { 0.7 } else { -0.3 }
            + if flag { 0.5 } else { -0.5 }
            + if missing { 0.8 } else { -0.2 }
            + 0.25 * (f64::from(count) - 2.5)
            + 1.2 * interaction
            + 0.5 * normal64(&mut rng);
        let city = if rng.gen_bool(0.02) { "" } else { cities[city] };
        let temp = if missing { String::new() } else { format!("{:.4}", normal64(&mut rng)) };
        write!(
            out,
            "s{:02},{},{city},{},{},{temp},{m1:.5},{:.6},{:.5},{count},{xa:.5},{xb:.5},3.7,{},{:.3}",
            r * 24 / n,
            r * 60,
            if flag { "yes" } else { "no" },
            colors[rng.gen_range(0..colors.len())],
            2.0 * m1 + 0.001 * normal64(&mut rng),
            0.7 * m1 + 0.7 * normal64(&mut rng),
            u8::from(r % 211 == 5),
            1e4 + normal64(&mut rng),
        )
        .expect("write");
        for _ in 0..noise {
            write!(out, ",{:.4}", normal64(&mut rng)).expect("write");
        }
        match regression {
            true => writeln!(out, ",{score:.5}"),
            false => writeln!(out, ",{}", u8::from(score > 0.0)),
        }
        .expect("write");
    }
    out
}

/// The columns of [`mixed_csv`] that are neither the target nor a row role.
fn mixed_features(text: &str) -> Vec<String> {
    let header = text.lines().next().unwrap_or_default();
    header.split(',').filter(|c| !["site", "ts", "y"].contains(c)).map(str::to_string).collect()
}

fn write_csv(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write csv");
    path
}

/// How a [`mixed_csv`] file is loaded: its `site` and `ts` columns as ids, a group or a time.
#[derive(Debug, Clone, Copy)]
enum Rows {
    Plain,
    Grouped,
    Timed,
}

fn load(path: &Path, rows: Rows) -> Dataset {
    let (opts, ids): (LoadOptions, &[&str]) = match rows {
        Rows::Plain => (LoadOptions::default(), &["site", "ts"]),
        Rows::Grouped => (LoadOptions { group_column: Some("site".into()), ..LoadOptions::default() }, &["ts"]),
        Rows::Timed => (LoadOptions { time_column: Some("ts".into()), ..LoadOptions::default() }, &["site"]),
    };
    load_csv(path, "y", ids, &opts).expect("load")
}

/// The stage-1 option sets the loaded files are compared under.
fn variants(regression: bool) -> Vec<(&'static str, FilterOptions)> {
    let base = FilterOptions { keep: KeepCount::Count(40), ..FilterOptions::default() };
    vec![
        ("defaults", base.clone()),
        ("keep reached early", FilterOptions { keep: KeepCount::Count(8), ..base.clone() }),
        ("screen candidates by relevance", FilterOptions { pair_candidates: 12, ..base.clone() }),
        ("screen off", FilterOptions { interactions: false, ..base.clone() }),
        ("0/1 columns below min_variance", FilterOptions { min_variance: 0.5, ..base.clone() }),
        ("redundancy threshold 0.8", FilterOptions { redundancy_threshold: 0.8, ..base.clone() }),
        ("2 bins", FilterOptions { mi_bins: Some(2), ..base.clone() }),
        // The largest histograms the kernel takes: 100 bins x 100 target bins for a
        // regression, 1024 bins x 2 classes.
        ("most bins", FilterOptions { mi_bins: Some(if regression { 100 } else { 1024 }), ..base }),
    ]
}

/// Stage 1 with `opts` on both backends, compared; the GPU's steps must not fall back.
/// Returns the CPU's outcome.
fn compare_stage1_with(label: &str, ds: &Dataset, gpu: &CudaBackend, opts: &FilterOptions) -> stage1::FilterOutcome {
    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    let cpu = stage1::filter(ds, opts, &CpuBackend, &ctl).expect("cpu stage 1");
    let gpu_out = stage1::filter(ds, opts, gpu, &ctl).expect("gpu stage 1");
    assert!(gpu.fallbacks().is_empty(), "{label}: GPU steps fell back: {:?}", gpu.fallbacks());
    same_outcome(label, &cpu, &gpu_out);
    cpu
}

fn compare_stage1(ds: &Dataset, gpu: &CudaBackend, keep: u32) {
    let opts = FilterOptions { keep: KeepCount::Count(keep), ..FilterOptions::default() };
    compare_stage1_with(&ds.name, ds, gpu, &opts);
}

/// Two stage-1 outcomes within the module's tolerances.
fn same_outcome(label: &str, cpu: &stage1::FilterOutcome, gpu: &stage1::FilterOutcome) {
    assert_eq!(cpu.columns, gpu.columns, "{label}: different columns kept");
    assert_eq!(
        (cpu.low_variance, cpu.redundant, cpu.requested, cpu.bins, cpu.target_bins),
        (gpu.low_variance, gpu.redundant, gpu.requested, gpu.bins, gpu.target_bins),
        "{label}: low variance, redundant, requested, bins, target bins"
    );
    assert_eq!(cpu.screen, gpu.screen, "{label}: different interaction screens");
    assert_eq!(cpu.interaction_columns, gpu.interaction_columns, "{label}: different interaction columns");
    for j in 0..cpu.means.len() {
        assert!(close(cpu.means[j], gpu.means[j], 1e-9), "{label}: mean {j}: {} vs {}", cpu.means[j], gpu.means[j]);
        assert!(close(cpu.sds[j], gpu.sds[j], 1e-9), "{label}: sd {j}: {} vs {}", cpu.sds[j], gpu.sds[j]);
        assert!(
            close(cpu.relevance[j], gpu.relevance[j], 1e-12),
            "{label}: relevance {j}: {} vs {}",
            cpu.relevance[j],
            gpu.relevance[j]
        );
    }
}

/// Small whole runs: the stage-1 choices are what is compared, stages 2 and 3 are kept short.
fn quick(seed: u64, outer: OuterValidation) -> SelectOptions {
    SelectOptions {
        seed,
        filter: FilterOptions { keep: KeepCount::Count(40), ..FilterOptions::default() },
        search: SearchOptions { iterations: 100, ..SearchOptions::default() },
        evaluate: EvaluateOptions { forest_trees: 10, forest_candidates: 1, outer, ..EvaluateOptions::default() },
        backend: BackendChoice::Cpu,
        ..SelectOptions::default()
    }
}

/// The report of a run on the GPU with no step fallen back to the CPU.
fn assert_gpu_only(label: &str, r: &SelectionReport) {
    let backend = &r.pipeline_info.backend;
    assert!(backend.starts_with("gpu (") && !backend.contains("fallback"), "{label}: {backend}");
}

/// `opts` on both backends (the CPU's, then the GPU's report).
fn run_both(ds: &Dataset, opts: &SelectOptions) -> (SelectionReport, SelectionReport) {
    let cpu = run(ds, &SelectOptions { backend: BackendChoice::Cpu, ..opts.clone() }, &|_| {}, &CancelToken::new());
    let gpu = run(ds, &SelectOptions { backend: BackendChoice::Gpu, ..opts.clone() }, &|_| {}, &CancelToken::new());
    (cpu.expect("cpu run"), gpu.expect("gpu run"))
}

/// Two reports of one run within the module's tolerances (timings and the backend aside).
fn same_report(label: &str, cpu: &SelectionReport, gpu: &SelectionReport) {
    let (c, g) = (&cpu.final_results, &gpu.final_results);
    let names =
        |r: &hsof_select::report::FinalResults| r.selected_features.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(c), names(g), "{label}: different features");
    for (a, b) in c.selected_features.iter().zip(&g.selected_features) {
        assert_eq!((a.index, a.stability), (b.index, b.stability), "{label}: feature {}", a.name);
        assert!(close(a.relevance, b.relevance, 1e-12), "{label}: relevance of {}", a.name);
        assert!(close(a.importance, b.importance, 1e-9), "{label}: importance of {}", a.name);
    }
    assert_eq!((c.model, &c.metric, c.folds), (g.model, &g.metric, g.folds), "{label}");
    assert!(close(c.score, g.score, 1e-9), "{label}: score {} vs {}", c.score, g.score);
    assert!(close(c.score_std, g.score_std, 1e-9), "{label}: score sd {} vs {}", c.score_std, g.score_std);
    let (cv, gv) = (&c.validation, &g.validation);
    assert_eq!((&cv.scheme, &cv.description, &cv.held_out_rows), (&gv.scheme, &gv.description, &gv.held_out_rows));
    assert_eq!(cv.fold_scores.len(), gv.fold_scores.len(), "{label}");
    for (a, b) in cv.fold_scores.iter().zip(&gv.fold_scores) {
        assert!(close(*a, *b, 1e-9), "{label}: fold scores {:?} vs {:?}", cv.fold_scores, gv.fold_scores);
    }
    assert!(close(cv.inner_score, gv.inner_score, 1e-9) && close(cv.inner_score_std, gv.inner_score_std, 1e-9));
    let details = |what: &str, a: &[hsof_select::report::Detail], b: &[hsof_select::report::Detail]| {
        let (na, nb): (Vec<&str>, Vec<&str>) =
            (a.iter().map(|d| d.name.as_str()).collect(), b.iter().map(|d| d.name.as_str()).collect());
        assert_eq!(na, nb, "{label}: {what}");
        for (x, y) in a.iter().zip(b) {
            assert!(close(x.value, y.value, 1e-9), "{label}: {what} {}: {} vs {}", x.name, x.value, y.value);
        }
    };
    details("held-out metrics", &cv.metrics, &gv.metrics);
    assert_eq!(c.candidates.len(), g.candidates.len(), "{label}: candidates");
    for (a, b) in c.candidates.iter().zip(&g.candidates) {
        assert_eq!((&a.origin, a.model, &a.features), (&b.origin, b.model, &b.features), "{label}: candidate");
        assert!(close(a.score, b.score, 1e-9) && close(a.score_std, b.score_std, 1e-9), "{label}: candidate score");
    }
    assert_eq!(cpu.stages.len(), gpu.stages.len());
    for (a, b) in cpu.stages.iter().zip(&gpu.stages) {
        assert_eq!((a.stage, a.input_features, a.output_features), (b.stage, b.input_features, b.output_features));
        details(&format!("{:?} details", a.stage), &a.details, &b.details);
    }
    assert_eq!(cpu.clamps, gpu.clamps, "{label}: clamps");
}

/// One shard's facts from both backends, pass by pass.
fn same_facts(label: &str, cpu: &[PassFacts], gpu: &[PassFacts]) {
    assert_eq!(cpu.len(), gpu.len(), "{label}: passes");
    for (p, (c, g)) in cpu.iter().zip(gpu).enumerate() {
        assert_eq!(c.rows, g.rows, "{label}: pass {p} rows");
        assert!(c.columns.keys().eq(g.columns.keys()), "{label}: pass {p} columns");
        for ((name, a), b) in c.columns.iter().zip(g.columns.values()) {
            assert!(close(a.mean, b.mean, 1e-9) && close(a.variance, b.variance, 1e-9), "{label}: pass {p} {name}");
            match (a.relevance, b.relevance) {
                (None, None) => {}
                (Some(x), Some(y)) => assert!(close(x, y, 1e-12), "{label}: pass {p} {name}: {x} vs {y}"),
                (x, y) => panic!("{label}: pass {p} {name}: relevance {x:?} vs {y:?}"),
            }
        }
    }
}

#[test]
fn stage1_matches_the_cpu_on_binary_multiclass_and_regression_problems() {
    let Some(gpu) = gpu() else { return };
    compare_stage1(&make_classification(2000, 500, 10, 10, 2, 11).ds, &gpu, 100);
    compare_stage1(&make_classification(3000, 300, 8, 8, 5, 7).ds, &gpu, 60);
    compare_stage1(&make_classification(50_000, 200, 10, 20, 2, 3).ds, &gpu, 150);
    compare_stage1(&make_regression(4000, 400), &gpu, 80);
}

#[test]
fn stage1_matches_the_cpu_on_loaded_files_with_text_columns_missing_cells_and_an_interaction() {
    let Some(gpu) = gpu() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    for regression in [false, true] {
        let ds = load(&write_csv(dir.path(), "mixed.csv", &mixed_csv(3000, 60, regression, 5)), Rows::Plain);
        for (what, opts) in variants(regression) {
            compare_stage1_with(&format!("regression {regression}, {what}"), &ds, &gpu, &opts);
        }
    }
}

#[test]
fn the_loaded_fixtures_reach_the_stage1_paths_they_compare() {
    // No GPU needed: this holds the fixtures above to what they are meant to exercise.
    let dir = tempfile::tempdir().expect("tempdir");
    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    let filter = |ds: &Dataset, opts: &FilterOptions| stage1::filter(ds, opts, &CpuBackend, &ctl).expect("stage 1");
    for regression in [false, true] {
        let text = mixed_csv(3000, 60, regression, 5);
        let ds = load(&write_csv(dir.path(), "mixed.csv", &text), Rows::Plain);
        let col = |name: &str| ds.feature_names.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name}"));
        let levels = |prefix: &str| {
            (0..ds.n_features()).filter(|&j| ds.feature_names[j].starts_with(prefix)).collect::<Vec<_>>()
        };
        assert_eq!(ds.problem == ProblemType::Regression, regression);
        assert_eq!(ds.prep.missing_indicators, ["temp"]);
        assert_eq!(Groups::of(&ds).multi().count(), 3, "city, flag and color are groups");
        let binary = (0..ds.n_features()).filter(|&j| ds.feature_names[j].contains('=')).count();
        assert_eq!(binary, 8 + 2 + 5 + 1);
        let v = variants(regression);
        let out = filter(&ds, &v[0].1);
        let (xa, xb) = (col("xa"), col("xb"));
        assert!(
            out.screen.pairs.iter().any(|p| (p.a.min(p.b), p.a.max(p.b)) == (xa.min(xb), xa.max(xb))),
            "regression {regression}: the screen finds xa · xb: {:?}",
            out.screen.pairs
        );
        assert!(out.interaction_columns.contains(&xa) && out.interaction_columns.contains(&xb));
        assert!(out.relevance[col("const")].is_nan() && out.low_variance == 1);
        assert!(out.redundant >= 1, "m1x2 is redundant");
        let city = levels("city=");
        assert_eq!(city.len(), 8);
        assert!(city.iter().all(|c| out.columns.contains(c)), "city is kept whole: {:?}", out.columns);
        assert!(out.relevance[col("temp=missing")] > 0.01, "the indicator carries the signal");
        assert_eq!(out.target_bins > 0, regression);
        let early = filter(&ds, &v[1].1);
        assert!(early.columns.len() > 8 && Groups::of(&ds).count_units(&early.columns) == 8, "keep counts groups");
        assert_eq!(filter(&ds, &v[2].1).screen.tested, 12 * 11 / 2, "candidates cut to the most relevant");
        let strict = filter(&ds, &v[4].1);
        assert_eq!(strict.low_variance, binary + 2, "every 0/1 column, const and spike");
        let most = filter(&ds, &v[7].1);
        if regression {
            // Within the histogram kernel's 48 KiB of shared memory: 100 x 100 u32 counts and
            // 99 f32 edges, 40,396 bytes.
            assert_eq!(most.target_bins, 100);
            // Over it: the test of the CPU fallback below relies on this.
            assert_eq!(filter(&ds, &FilterOptions { mi_bins: Some(128), ..v[0].1.clone() }).target_bins, 128);
        }
    }
    let text = mixed_csv(900, 30, false, 9);
    let path = write_csv(dir.path(), "roles.csv", &text);
    assert!(load(&path, Rows::Grouped).rows.groups.is_some() && load(&path, Rows::Timed).rows.times.is_some());
    let features = mixed_features(&text);
    assert!((0..3).all(|i| !shard::blocks(&features, i, 3).is_empty()));
}

#[test]
fn the_pearson_kernel_matches_the_cpu_for_a_continuous_target() {
    // Stage 1 bins a continuous target before asking for relevance, so only a direct caller of
    // `Backend::relevance` reaches this kernel.
    let Some(gpu) = gpu() else { return };
    let ds = make_regression(4000, 400);
    let cancel = CancelToken::new();
    let x = &ds.features;
    let stats = CpuBackend.column_stats(x, &cancel).expect("cpu stats");
    let gpu_stats = gpu.column_stats(x, &cancel).expect("gpu stats");
    for (j, (a, b)) in stats.iter().zip(&gpu_stats).enumerate() {
        assert!(close(a.mean, b.mean, 1e-9) && close(a.variance, b.variance, 1e-9), "column {j}: {a:?} vs {b:?}");
    }
    let cols: Vec<usize> = (0..x.n_cols).step_by(3).collect();
    let cpu = CpuBackend.relevance(x, &cols, &stats, &ds.target, 16, &cancel).expect("cpu relevance");
    let on_gpu = gpu.relevance(x, &cols, &stats, &ds.target, 16, &cancel).expect("gpu relevance");
    assert_eq!(cpu.len(), on_gpu.len());
    for (k, (a, b)) in cpu.iter().zip(&on_gpu).enumerate() {
        assert!(close(*a, *b, 1e-7), "column {}: F {a} vs {b}", cols[k]);
    }
    assert!(gpu.fallbacks().is_empty(), "{:?}", gpu.fallbacks());
}

#[test]
fn whole_runs_select_the_same_features_with_the_same_scores() {
    let Some(_) = gpu() else { return };
    let syn = make_classification(2000, 500, 10, 10, 2, 11);
    let mut opts = SelectOptions {
        seed: 7,
        filter: FilterOptions { keep: KeepCount::Count(100), ..FilterOptions::default() },
        search: SearchOptions { iterations: 150, ..SearchOptions::default() },
        evaluate: EvaluateOptions { forest_trees: 10, forest_candidates: 1, ..EvaluateOptions::default() },
        backend: BackendChoice::Cpu,
        ..SelectOptions::default()
    };
    let (cpu, gpu) = run_both(&syn.ds, &opts);
    assert_gpu_only("holdout", &gpu);
    same_report("holdout", &cpu, &gpu);
    // Auto picks the GPU where it is usable.
    opts.backend = BackendChoice::Auto;
    let auto = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("auto run");
    assert!(auto.pipeline_info.backend.starts_with("gpu"), "{}", auto.pipeline_info.backend);
}

#[test]
fn whole_runs_on_loaded_files_match_with_plain_grouped_and_timed_outer_folds() {
    let Some(_) = gpu() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    for regression in [false, true] {
        let path = write_csv(dir.path(), "runs.csv", &mixed_csv(900, 30, regression, 13));
        for (rows, says) in [(Rows::Plain, "outer"), (Rows::Grouped, "grouped by `site`"), (Rows::Timed, "by `ts`")] {
            let label = format!("regression {regression}, {rows:?}");
            let ds = load(&path, rows);
            let (cpu, gpu) = run_both(&ds, &quick(7, OuterValidation::Folds(3)));
            let v = &cpu.final_results.validation;
            assert!(v.scheme == "nested_folds" && v.description.contains(says), "{label}: {}", v.description);
            assert_gpu_only(&label, &gpu);
            same_report(&label, &cpu, &gpu);
        }
    }
}

#[test]
fn sharded_stage1_facts_match_the_cpu_and_merge_into_the_same_run() {
    let Some(_) = gpu() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let text = mixed_csv(900, 30, false, 9);
    let path = write_csv(dir.path(), "sharded.csv", &text);
    let features = mixed_features(&text);
    // 900 rows: three outer folds (training parts of equal size) and every row, four passes.
    let mut opts = quick(7, OuterValidation::Auto);
    let facts_dir = dir.path().join("shards");
    std::fs::create_dir_all(&facts_dir).expect("shards dir");
    let shards = 3;
    let cancel = CancelToken::new();
    for i in 0..shards {
        let block = shard::blocks(&features, i, shards);
        let load = LoadOptions { features: Some(block.clone()), ..LoadOptions::default() };
        let part = load_csv(&path, "y", &["site", "ts"], &load).expect("load a shard's columns");
        opts.backend = BackendChoice::Cpu;
        let cpu = shard::facts(&part, &opts, &|_| {}, &cancel).expect("cpu facts");
        opts.backend = BackendChoice::Gpu;
        let gpu = shard::facts(&part, &opts, &|_| {}, &cancel).expect("gpu facts");
        same_facts(&format!("shard {i}"), &cpu, &gpu);
        let written = ShardFacts { shard: i, shards, seed: opts.seed, source_columns: block, passes: gpu };
        let json = serde_json::to_vec(&written).expect("json");
        std::fs::write(facts_dir.join(shard::file_name(i, shards)), json).expect("write shard");
    }
    let merged = shard::read_merged(&facts_dir, shards, opts.seed).expect("merge");
    assert_eq!(merged.len(), 4, "passes");
    let full = load(&path, Rows::Plain);
    opts.backend = BackendChoice::Cpu;
    let cpu = run(&full, &opts, &|_| {}, &CancelToken::new()).expect("cpu run");
    // The merged facts replace stage 1's statistics and relevance; the walk is the GPU's.
    opts.backend = BackendChoice::Gpu;
    let sharded = run_with_facts(&full, &opts, Some(&merged), &|_| {}, &CancelToken::new()).expect("sharded run");
    assert_gpu_only("sharded", &sharded);
    same_report("sharded on the GPU", &cpu, &sharded);
}

#[test]
fn a_histogram_too_large_for_the_device_runs_on_the_cpu_and_the_report_says_so() {
    let Some(_) = gpu() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = load(&write_csv(dir.path(), "wide-bins.csv", &mixed_csv(3000, 60, true, 5)), Rows::Plain);
    // 128 bins of a regression target: 128 x 128 counts, 64 KiB, over the kernel's 48 KiB.
    let opts = FilterOptions { keep: KeepCount::Count(40), mi_bins: Some(128), ..FilterOptions::default() };
    let gpu = CudaBackend::open().expect("gpu"); // a fresh one: its fallbacks are this test's
    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    let cpu = stage1::filter(&ds, &opts, &CpuBackend, &ctl).expect("cpu stage 1");
    let on_gpu = stage1::filter(&ds, &opts, &gpu, &ctl).expect("gpu stage 1 with a fallback");
    let fallbacks = gpu.fallbacks();
    assert!(fallbacks.len() == 1 && fallbacks[0].starts_with("relevance: "), "{fallbacks:?}");
    assert!(gpu.ran_on().contains("CPU fallback for relevance"), "{}", gpu.ran_on());
    same_outcome("fallback", &cpu, &on_gpu);
    let sel = SelectOptions { filter: opts, ..quick(7, OuterValidation::Auto) };
    let (cpu, on_gpu) = run_both(&ds, &sel);
    let backend = &on_gpu.pipeline_info.backend;
    assert!(backend.starts_with("gpu (") && backend.contains("CPU fallback for relevance"), "{backend}");
    same_report("fallback", &cpu, &on_gpu);
}

#[test]
fn errors_and_cancellation_are_the_same_on_both_backends() {
    let Some(gpu) = gpu() else { return };
    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    let opts = FilterOptions::default();
    let classes = Target::Classes { codes: (0..500).map(|r| r % 2).collect(), labels: vec!["a".into(), "b".into()] };
    let both = |ds: &Dataset| {
        let c = stage1::filter(ds, &opts, &CpuBackend, &ctl).expect_err("cpu");
        let g = stage1::filter(ds, &opts, &gpu, &ctl).expect_err("gpu");
        (c.to_string(), g.to_string())
    };
    let flat =
        dataset("flat", vec![vec![3.7; 500], vec![0.0; 500]], classes.clone(), ProblemType::BinaryClassification);
    let (c, g) = both(&flat);
    assert!(c == g && c.contains("nothing varies"), "{c} / {g}");
    let mut cols: Vec<Vec<f32>> = (0..3).map(|k| (0..500).map(|r| ((r * (k + 7)) % 13) as f32).collect()).collect();
    cols[1][17] = f32::NAN;
    let (c, g) = both(&dataset("nan", cols, classes, ProblemType::BinaryClassification));
    assert!(c == g && c.contains("`f1` has NaN or infinite values"), "{c} / {g}");
    let cancelled = CancelToken::new();
    cancelled.cancel();
    let ctl = Ctl::new(&|_| {}, &cancelled);
    let ds = make_classification(2000, 100, 5, 5, 2, 3).ds;
    assert!(matches!(stage1::filter(&ds, &opts, &CpuBackend, &ctl), Err(SelectError::Cancelled)));
    assert!(matches!(stage1::filter(&ds, &opts, &gpu, &ctl), Err(SelectError::Cancelled)));
    assert!(gpu.fallbacks().is_empty(), "{:?}", gpu.fallbacks());
}

#[test]
fn many_short_columns_give_the_same_statistics() {
    let Some(gpu) = gpu() else { return };
    // Many short columns: exercises grids with thousands of blocks and odd tile edges; 5000
    // columns are more than the screen's 2000 candidates, so the GPU's relevance picks them.
    let syn = make_classification(333, 5000, 10, 10, 3, 5);
    compare_stage1(&syn.ds, &gpu, 517);
}
