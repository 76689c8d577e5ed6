//! Selection quality on hard synthetic data, with the default options: random labels, Madelon-like
//! data, a pure interaction pair, Friedman #1. Prints, per dataset, the honest (outer) score, the
//! inner score, the share of the final set that is useful and the time.
//! Run: `cargo bench -p hsof-select --bench quality` (numbers go to docs/benchmarks.md).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use hsof_select::{run, CancelToken, Dataset, SelectOptions, SelectionReport};

fn report(label: &str, ds: &Dataset, useful: &[usize], opts: &SelectOptions) -> SelectionReport {
    let t = Instant::now();
    let r = run(ds, opts, &|_| {}, &CancelToken::new()).expect("run");
    let secs = t.elapsed().as_secs_f64();
    let f = &r.final_results;
    let chosen: Vec<usize> = f.selected_features.iter().map(|s| s.index as usize).collect();
    let hits = chosen.iter().filter(|c| useful.contains(c)).count();
    let found = useful.iter().filter(|u| chosen.contains(u)).count();
    println!(
        "{label}: {} {:.3} ± {:.3} ({}; inner {:.3}), {:?}, useful {hits}/{} selected, {found}/{} useful found, {secs:.2} s",
        f.metric,
        f.score,
        f.score_std,
        f.validation.scheme,
        f.validation.inner_score,
        f.model,
        chosen.len(),
        useful.len(),
    );
    for s in &r.stages {
        let d: Vec<String> = s.details.iter().map(|d| format!("{}={}", d.name, d.value)).collect();
        println!(
            "    {:?} {} -> {} in {:.2} s: {}",
            s.stage,
            s.input_features,
            s.output_features,
            s.seconds,
            d.join(" ")
        );
    }
    r
}

fn main() {
    let opts = SelectOptions { threads: Some(2), ..SelectOptions::default() };
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let want = |k: &str| only.as_deref().is_none_or(|o| o == k);
    if want("random") {
        let ds = common::random_labels(300, 2000, 5);
        report("random labels 300 x 2000", &ds, &[], &opts);
    }
    if want("madelon") {
        let m = common::madelon(2000, 500, 5, 15, 0, 2, 1.0, 0.01, 3);
        let useful: Vec<usize> = m.informative.iter().chain(&m.redundant).copied().collect();
        report("madelon-like 2000 x 500 (5 informative, 15 redundant)", &m.ds, &useful, &opts);
    }
    if want("linear") {
        let m = common::make_classification(2000, 500, 10, 10, 2, 11);
        let useful: Vec<usize> = m.informative.iter().chain(&m.redundant).copied().collect();
        let r = report("linear 2000 x 500 (10 informative, 10 redundant)", &m.ds, &useful, &opts);
        for c in &r.final_results.candidates {
            let hits = c.features.iter().filter(|n| useful.iter().any(|u| m.ds.feature_names[*u] == **n)).count();
            println!(
                "    candidate {} {:?}: {:.3} ± {:.3}, {hits}/{} useful",
                c.origin,
                c.model,
                c.score,
                c.score_std,
                c.features.len()
            );
        }
    }
    if want("xor") {
        let x = common::xor_pair(2000, 300, 0.05, 9);
        report("xor pair among 300 noise columns, 2000 rows", &x.ds, &x.informative, &opts);
    }
    if want("friedman") {
        let fr = common::friedman1(2000, 200, 1.0, 4);
        report("friedman #1, 2000 x 200", &fr.ds, &fr.informative, &opts);
    }
}
