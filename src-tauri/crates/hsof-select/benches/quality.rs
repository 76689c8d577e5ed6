//! Selection quality on hard synthetic data, with the default options: random labels, Madelon-like
//! data, a pure interaction pair, Friedman #1. Prints, per dataset, the honest (outer) score, the
//! inner score, the share of the final set that is useful and the time.
//! Run: `cargo bench -p hsof-select --bench quality` (numbers go to docs/benchmarks.md).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use hsof_select::stage3::models::{holdout_predict, ForestParams};
use hsof_select::{
    outer, run, stage1, stage2, CancelToken, CpuBackend, Ctl, Dataset, ModelFamily, OuterValidation, SelectOptions,
    SelectionReport,
};

/// Ablation: on a 25 % holdout, the held-out score of stage 1's top 15 against stage 2's best
/// subset and its top 15, each refitted on the other rows (boosted trees and a random forest).
fn ablation(label: &str, ds: &Dataset, useful: &[usize], opts: &SelectOptions) {
    let plan = outer::plan(&ds.target, &ds.rows, OuterValidation::Holdout(0.25), opts.seed);
    let (train, test) = &plan.splits[0];
    let part = ds.take_rows(train);
    let cancel = CancelToken::new();
    let ctl = Ctl::new(&|_| {}, &cancel);
    let filtered = stage1::filter(&part, &opts.filter, &CpuBackend, &ctl).expect("filter");
    let k = opts.evaluate.size.max() as usize;
    let searched = stage2::search(&part, &filtered, &opts.search, k, opts.seed, false, &ctl).expect("search");
    let forest = ForestParams { trees: 100, max_depth: 12, balanced: false };
    let sets = [
        ("stage-1 top 15", filtered.columns[..k.min(filtered.columns.len())].to_vec()),
        ("stage-2 best subset", searched.best_subset.clone()),
        ("stage-2 top 15", searched.columns[..k.min(searched.columns.len())].to_vec()),
    ];
    for (name, cols) in sets {
        let score = |f| holdout_predict(ds, &cols, f, train, test, forest, opts.seed, &cancel).expect("score").0;
        let hits = cols.iter().filter(|c| useful.contains(c)).count();
        println!(
            "  ablation {label}: {name}: boosted {:.3}, forest {:.3}, {hits}/{} useful",
            score(ModelFamily::BoostedTrees),
            score(ModelFamily::RandomForest),
            cols.len()
        );
    }
}

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
        ablation("madelon-like", &m.ds, &useful, &opts);
        let hard = common::madelon(2000, 500, 10, 10, 0, 4, 1.0, 0.02, 5);
        let useful: Vec<usize> = hard.informative.iter().chain(&hard.redundant).copied().collect();
        report(
            "madelon-like 2000 x 500 (10 informative, 10 redundant, 4 clusters per class)",
            &hard.ds,
            &useful,
            &opts,
        );
        ablation("madelon-like, 4 clusters", &hard.ds, &useful, &opts);
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
        let no_screen = SelectOptions {
            filter: hsof_select::FilterOptions { interactions: false, ..Default::default() },
            ..opts.clone()
        };
        ablation("xor, pair screen off", &x.ds, &x.informative, &no_screen);
    }
    if want("friedman") {
        let fr = common::friedman1(2000, 200, 1.0, 4);
        report("friedman #1, 2000 x 200", &fr.ds, &fr.informative, &opts);
    }
}
