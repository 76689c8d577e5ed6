//! The CUDA backend against the CPU backend on the engine's synthetic problems. These tests run
//! only where a GPU is usable (driver, device, NVRTC); elsewhere each prints `skipped: no GPU`
//! and passes (unless `HSOF_REQUIRE_GPU=1`). `scripts/gpu-check.sh` runs them on a GPU machine.
//!
//! Tolerances: stage 1 must keep the same columns in the same order. Means and variances are
//! reduced in f64 on both sides, in different orders: relative 1e-9. Mutual information comes
//! from the same integer histograms (bin edges placed on the host by one function): 1e-12. The
//! F statistic comes from Pearson r reduced in f64: relative 1e-7. Stages 2 and 3 run on the CPU
//! for both backends, so from the same stage-1 columns the whole run selects the same features;
//! its CV score may differ only by the means' rounding (relative 1e-9).

mod common;

use common::make_classification;
use hsof_select::cuda::CudaBackend;
use hsof_select::{
    run, stage1, BackendChoice, CancelToken, ColumnMatrix, CpuBackend, Ctl, Dataset, EvaluateOptions, FilterOptions,
    KeepCount, PrepSummary, ProblemType, SearchOptions, SelectOptions, Target,
};

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
    Dataset {
        name: "regression".into(),
        source: "memory".into(),
        feature_names: (0..f).map(|j| format!("f{j}")).collect(),
        features: ColumnMatrix::from_columns(n, cols),
        target_name: "y".into(),
        target: Target::Continuous(y),
        problem: ProblemType::Regression,
        prep: PrepSummary::default(),
        rows: Default::default(),
    }
}

fn compare_stage1(ds: &Dataset, gpu: &CudaBackend, keep: u32) {
    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    let opts = FilterOptions { keep: KeepCount::Count(keep), ..FilterOptions::default() };
    let cpu = stage1::filter(ds, &opts, &CpuBackend, &ctl).expect("cpu stage 1");
    let gpu_out = stage1::filter(ds, &opts, gpu, &ctl).expect("gpu stage 1");
    assert!(gpu.fallbacks().is_empty(), "GPU steps fell back: {:?}", gpu.fallbacks());
    assert_eq!(cpu.columns, gpu_out.columns, "{}: different columns kept", ds.name);
    assert_eq!((cpu.low_variance, cpu.redundant, cpu.bins), (gpu_out.low_variance, gpu_out.redundant, gpu_out.bins));
    let rel = if ds.problem.is_classification() { 1e-12 } else { 1e-7 };
    for j in 0..cpu.means.len() {
        assert!(close(cpu.means[j], gpu_out.means[j], 1e-9), "mean {j}: {} vs {}", cpu.means[j], gpu_out.means[j]);
        assert!(close(cpu.sds[j], gpu_out.sds[j], 1e-9), "sd {j}: {} vs {}", cpu.sds[j], gpu_out.sds[j]);
        assert!(
            close(cpu.relevance[j], gpu_out.relevance[j], rel),
            "relevance {j}: {} vs {}",
            cpu.relevance[j],
            gpu_out.relevance[j]
        );
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
    let cpu = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("cpu run");
    opts.backend = BackendChoice::Gpu;
    let gpu = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("gpu run");
    assert!(gpu.pipeline_info.backend.starts_with("gpu ("), "{}", gpu.pipeline_info.backend);
    assert!(!gpu.pipeline_info.backend.contains("fallback"), "{}", gpu.pipeline_info.backend);
    let names = |r: &hsof_select::SelectionReport| {
        r.final_results.selected_features.iter().map(|f| f.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&cpu), names(&gpu));
    assert!(
        close(cpu.final_results.score, gpu.final_results.score, 1e-9),
        "{} vs {}",
        cpu.final_results.score,
        gpu.final_results.score
    );
    // Auto picks the GPU where it is usable.
    opts.backend = BackendChoice::Auto;
    let auto = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("auto run");
    assert!(auto.pipeline_info.backend.starts_with("gpu"), "{}", auto.pipeline_info.backend);
}

#[test]
fn many_short_columns_give_the_same_statistics() {
    let Some(gpu) = gpu() else { return };
    // Many short columns: exercises grids with thousands of blocks and odd tile edges.
    let syn = make_classification(333, 5000, 10, 10, 3, 5);
    compare_stage1(&syn.ds, &gpu, 517);
}
