//! Stage 1 throughput in matrix cells per second, beside a memory-bandwidth reference (summing a
//! large f32 slice) measured on the same machine in the same run.
//! Run: `cargo bench -p hsof-select --bench stage1_throughput` (numbers go to docs/benchmarks.md).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use hsof_select::{stage1, CancelToken, CpuBackend, Ctl, FilterOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (n, f) = (10_000, 5_000);
    let threads = 2;
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("rayon pool");
    let syn = common::make_classification(n, f, 10, 10, 2, 1);
    let cells = (n * f) as f64;

    // Memory-bandwidth reference: one pass over the same number of f32 cells, two threads.
    let data = &syn.ds.features.values;
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s: f64 = {
            use rayon::prelude::*;
            data.par_chunks(1 << 16).map(|c| c.iter().map(|v| f64::from(*v)).sum::<f64>()).sum()
        };
        std::hint::black_box(s);
        times.push(t.elapsed().as_secs_f64());
    }
    let sum_secs = median(times);
    println!(
        "reference: sum of {:.0} M f32 ({:.0} MiB), {threads} threads: median {:.3} s = {:.2} G cells/s ({:.1} GB/s)",
        cells / 1e6,
        cells * 4.0 / (1 << 20) as f64,
        sum_secs,
        cells / sum_secs / 1e9,
        cells * 4.0 / sum_secs / 1e9
    );

    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    for (label, threshold) in [("variance + MI + redundancy", 0.95), ("variance + MI (no redundancy hit)", 1.0)] {
        let opts = FilterOptions { redundancy_threshold: threshold, ..FilterOptions::default() };
        let mut times = Vec::new();
        let mut kept = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let out = stage1::filter(&syn.ds, &opts, &CpuBackend, &ctl).expect("filter");
            times.push(t.elapsed().as_secs_f64());
            kept = out.columns.len();
        }
        let secs = median(times);
        println!(
            "stage 1 ({label}), {n} x {f} -> {kept}, {threads} threads: median {secs:.3} s = {:.1} M cells/s ({:.1}x the summing time)",
            cells / secs / 1e6,
            secs / sum_secs
        );
    }
}
