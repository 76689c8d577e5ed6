//! The full pipeline on 10,000 x 5,000 with 2 threads (target: under 30 s on a 2-core machine), and a
//! Titanic-sized table (891 x 11 with text, ids and missing values) from CSV to report (target: under
//! 2 s). Run: `cargo bench -p hsof-select --bench pipeline` (numbers go to docs/benchmarks.md).

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::Instant;

use hsof_select::{load_csv, run, CancelToken, LoadOptions, SelectOptions, SelectionReport};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn print(label: &str, total: f64, r: &SelectionReport) {
    let stages: Vec<String> = r
        .stages
        .iter()
        .map(|s| format!("{:?} {} -> {} in {:.2} s", s.stage, s.input_features, s.output_features, s.seconds))
        .collect();
    println!(
        "{label}: {total:.2} s total; {}; best {:?} {} {:.3} ± {:.3}",
        stages.join("; "),
        r.final_results.model,
        r.final_results.metric,
        r.final_results.score,
        r.final_results.score_std
    );
}

fn main() {
    let opts = SelectOptions { threads: Some(2), ..SelectOptions::default() };
    let cancel = CancelToken::new();

    let syn = common::make_classification(10_000, 5_000, 10, 10, 2, 7);
    let t = Instant::now();
    let report = run(&syn.ds, &opts, &|_| {}, &cancel).expect("run");
    let secs = t.elapsed().as_secs_f64();
    print("10,000 x 5,000 (10 informative, 10 redundant), 2 threads", secs, &report);
    let chosen: Vec<usize> = report.final_results.selected_features.iter().map(|f| f.index as usize).collect();
    let signal = chosen.iter().filter(|c| syn.informative.contains(c) || syn.redundant.contains(c)).count();
    println!("  selected {} columns, {signal} informative or redundant", chosen.len());

    // Titanic-shaped synthetic table: id, class, sex, age (20% missing), sibsp, parch, fare, cabin
    // (high cardinality, mostly missing), embarked (3 levels), name (unique), target.
    let mut rng = ChaCha8Rng::seed_from_u64(1912);
    let mut csv = String::from("PassengerId,Pclass,Name,Sex,Age,SibSp,Parch,Fare,Cabin,Embarked,Survived\n");
    for id in 1..=891 {
        let class = rng.gen_range(1..=3);
        let female = rng.gen_bool(0.35);
        let age = if rng.gen_bool(0.2) { String::new() } else { format!("{:.0}", rng.gen_range(1.0..70.0)) };
        let fare = 80.0 / f64::from(class) * rng.gen_range(0.5..1.5);
        let cabin = if rng.gen_bool(0.77) { String::new() } else { format!("C{}", rng.gen_range(1..200)) };
        let p: f64 = 0.2 + if female { 0.5 } else { 0.0 } + if class == 1 { 0.2 } else { 0.0 };
        let survived = u8::from(rng.gen_bool(p.min(0.95)));
        let _ = writeln!(
            csv,
            "{id},{class},\"Person {id}\",{},{age},{},{},{fare:.2},{cabin},{},{survived}",
            if female { "female" } else { "male" },
            rng.gen_range(0..4),
            rng.gen_range(0..3),
            ["S", "C", "Q"][rng.gen_range(0..3)]
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("titanic_like.csv");
    std::fs::write(&path, csv).expect("write csv");
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let ds = load_csv(&path, "Survived", &["PassengerId"], &LoadOptions::default()).expect("load");
        let r = run(&ds, &opts, &|_| {}, &cancel).expect("run");
        times.push(t.elapsed().as_secs_f64());
        last = Some(r);
    }
    times.sort_by(f64::total_cmp);
    if let Some(r) = last {
        print("Titanic-sized 891 x 11 CSV, load + run (median of 5)", times[2], &r);
        let names: Vec<&str> = r.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
        println!("  features after preparation {}, selected {names:?}", r.dataset_info.features);
    }
}
