//! Stage 1 on the GPU against the CPU on the same machine, and the GPU's throughput as a fraction
//! of its memory bandwidth. Without a usable GPU it prints `skipped: no GPU (<why>)` and exits 0.
//! Run: `cargo bench -p hsof-select --bench gpu_stage1` (scripts/gpu-check.sh runs it and keeps
//! the output; the figures go to docs/benchmarks.md).
//! Size: `HSOF_BENCH_ROWS` x `HSOF_BENCH_COLS` (default 100 000 x 2 000 = 800 MB of f32).
//! The same matrix is measured with two classes and then with a continuous target, which stage 1
//! cuts into quantile bins and scores as that many classes (a wider histogram per column).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use hsof_select::cuda::CudaBackend;
use hsof_select::{stage1, Backend, CancelToken, CpuBackend, Ctl, FilterOptions, ProblemType, Target};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64());
    }
    (median(times), last.expect("at least one run"))
}

fn main() {
    let gpu = match CudaBackend::open() {
        Ok(g) => g,
        Err(why) => {
            println!("skipped: no GPU ({why})");
            return;
        }
    };
    let (n, f) = (env_usize("HSOF_BENCH_ROWS", 100_000), env_usize("HSOF_BENCH_COLS", 2_000));
    let syn = common::make_classification(n, f, 10, 10, 2, 1);
    let x = &syn.ds.features;
    let cells = (n * f) as f64;
    let bytes = cells * 4.0;
    let peak = gpu.peak_bandwidth().unwrap_or(f64::NAN);
    println!("device: {}  peak memory bandwidth {:.0} GB/s", gpu.device_name(), peak / 1e9);
    println!(
        "matrix: {n} rows x {f} columns = {:.0} M cells ({:.0} MB f32); CPU threads: {}",
        cells / 1e6,
        bytes / 1e6,
        rayon::current_num_threads()
    );

    let cancel = CancelToken::new();
    // Kernel throughput with the matrix resident: the first call uploads, the timed ones only read it.
    gpu.column_stats(x, &cancel).expect("column stats");
    let (stats_secs, stats) = time(10, || gpu.column_stats(x, &cancel).expect("column stats"));
    println!(
        "gpu column statistics (2 passes over each column): {:.3} ms = {:.0} GB/s of the matrix = {:.1} % of peak bandwidth",
        stats_secs * 1e3,
        bytes / stats_secs / 1e9,
        100.0 * bytes / stats_secs / peak
    );
    let cols: Vec<usize> = (0..f).collect();
    let bins = hsof_select::stage1::mi::default_bins(n);
    let (mi_secs, _) = time(5, || gpu.relevance(x, &cols, &stats, &syn.ds.target, bins, &cancel).expect("relevance"));
    println!(
        "gpu mutual information ({bins} bins, edges on the host): {:.3} ms = {:.0} GB/s = {:.1} % of peak bandwidth",
        mi_secs * 1e3,
        bytes / mi_secs / 1e9,
        100.0 * bytes / mi_secs / peak
    );

    // Whole stage 1, as a run does it (upload included), against the CPU backend.
    let ctl = Ctl::new(&|_| {}, &cancel);
    let opts = FilterOptions::default();
    let (cpu_secs, cpu_out) = time(3, || stage1::filter(&syn.ds, &opts, &CpuBackend, &ctl).expect("cpu filter"));
    let (gpu_secs, gpu_out) = time(3, || stage1::filter(&syn.ds, &opts, &gpu, &ctl).expect("gpu filter"));
    println!(
        "stage 1 end to end: cpu {cpu_secs:.3} s, gpu {gpu_secs:.3} s (upload included) = {:.1}x speed-up; {:.0} M cells/s on the gpu",
        cpu_secs / gpu_secs,
        cells / gpu_secs / 1e6
    );
    println!(
        "same columns kept: {} ({} on the cpu, {} on the gpu); backend {}",
        cpu_out.columns == gpu_out.columns,
        cpu_out.columns.len(),
        gpu_out.columns.len(),
        gpu.ran_on()
    );

    // A regression target on the same matrix: stage 1 cuts it into `bins` quantile bins and
    // scores those as classes, so each column's histogram is bins x bins instead of bins x 2.
    let informative = syn.informative.clone();
    let mut ds = syn.ds;
    let y: Vec<f32> = (0..n)
        .map(|i| {
            let v = |k: usize| ds.features.column(informative[k % informative.len()])[i];
            v(0) + v(1) * v(2) + 0.5 * v(3).abs()
        })
        .collect();
    let edges = stage1::mi::quantile_edges(&y, bins);
    let codes: Vec<u32> = y.iter().map(|v| edges.partition_point(|e| e <= v) as u32).collect();
    let binned = Target::Classes { codes, labels: (0..=edges.len()).map(|b| b.to_string()).collect() };
    ds.target = Target::Continuous(y);
    ds.problem = ProblemType::Regression;
    let x = &ds.features;
    gpu.relevance(x, &cols, &stats, &binned, bins, &cancel).expect("relevance");
    let (mi_secs, _) = time(5, || gpu.relevance(x, &cols, &stats, &binned, bins, &cancel).expect("relevance"));
    println!(
        "gpu mutual information, regression target in {} bins: {:.3} ms = {:.0} GB/s = {:.1} % of peak bandwidth",
        edges.len() + 1,
        mi_secs * 1e3,
        bytes / mi_secs / 1e9,
        100.0 * bytes / mi_secs / peak
    );
    let (cpu_secs, cpu_out) = time(3, || stage1::filter(&ds, &opts, &CpuBackend, &ctl).expect("cpu filter"));
    let (gpu_secs, gpu_out) = time(3, || stage1::filter(&ds, &opts, &gpu, &ctl).expect("gpu filter"));
    println!(
        "stage 1 end to end, regression: cpu {cpu_secs:.3} s, gpu {gpu_secs:.3} s (upload included) = {:.1}x speed-up",
        cpu_secs / gpu_secs
    );
    println!(
        "same columns kept: {} ({} on the cpu, {} on the gpu); target bins {}; backend {}",
        cpu_out.columns == gpu_out.columns,
        cpu_out.columns.len(),
        gpu_out.columns.len(),
        gpu_out.target_bins,
        gpu.ran_on()
    );
}
