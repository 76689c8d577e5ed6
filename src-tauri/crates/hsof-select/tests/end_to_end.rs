//! A small real public dataset end to end, regression, the report file, and the k property.

mod common;

use std::path::Path;

use hsof_select::{
    load_csv, run, write_report_json, CancelToken, ColumnMatrix, Dataset, FilterOptions, FinalSize, KeepCount,
    LoadOptions, PrepSummary, ProblemType, SearchOptions, SelectOptions, SelectionReport, Target,
};
use proptest::prelude::*;

fn iris() -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iris.csv");
    load_csv(&path, "species", &[], &LoadOptions::default()).expect("iris loads")
}

#[test]
fn iris_end_to_end_picks_petal_measurements() {
    let ds = iris();
    assert_eq!((ds.n_rows(), ds.n_features()), (150, 4));
    assert_eq!(ds.problem, ProblemType::MulticlassClassification);
    let opts = SelectOptions {
        evaluate: hsof_select::EvaluateOptions { size: FinalSize::Fixed(2), ..Default::default() },
        ..SelectOptions::default()
    };
    let report = run(&ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    let names: Vec<&str> = report.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
    assert!(names.iter().any(|n| n.starts_with("petal")), "{names:?}");
    assert!(report.final_results.score > 0.9, "accuracy {}", report.final_results.score);
    assert_eq!(report.dataset_info.classes, vec!["setosa", "versicolor", "virginica"]);
    assert_eq!(report.final_results.metric, "accuracy");
}

#[test]
fn regression_target_selects_the_driving_columns() {
    let n = 400;
    let cols: Vec<Vec<f32>> =
        (0..8).map(|j| (0..n).map(|i| (((i * (7 + 2 * j) + j * 13) % 97) as f32) / 97.0).collect()).collect();
    let y: Vec<f32> = (0..n).map(|i| 3.0 * cols[2][i] - 2.0 * cols[5][i] + 0.05 * cols[0][i]).collect();
    let ds = Dataset {
        name: "reg".into(),
        source: "memory".into(),
        feature_names: (0..8).map(|j| format!("x{j}")).collect(),
        features: ColumnMatrix::from_columns(n, cols),
        target_name: "y".into(),
        target: Target::Continuous(y),
        problem: ProblemType::Regression,
        prep: PrepSummary::default(),
        rows: Default::default(),
    };
    let opts = SelectOptions {
        evaluate: hsof_select::EvaluateOptions { size: FinalSize::Fixed(2), forest_trees: 10, ..Default::default() },
        ..SelectOptions::default()
    };
    let report = run(&ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
    let mut names: Vec<&str> = report.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["x2", "x5"]);
    assert_eq!(report.final_results.metric, "r2");
    assert!(report.final_results.score > 0.95);
}

#[test]
fn report_json_is_written_atomically_and_round_trips() {
    let ds = iris();
    let report = run(&ds, &SelectOptions::default(), &|_| {}, &CancelToken::new()).expect("run");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("results.json");
    std::fs::write(&path, "old").expect("old file");
    write_report_json(&path, &report).expect("write");
    let text = std::fs::read_to_string(&path).expect("read");
    let back: SelectionReport = serde_json::from_str(&text).expect("parse");
    // Floats may differ in the last bit after a text round trip; compare what a reader uses.
    let key = |r: &SelectionReport| {
        let names: Vec<String> = r.final_results.selected_features.iter().map(|f| f.name.clone()).collect();
        (names, r.stages.iter().map(|s| (s.input_features, s.output_features)).collect::<Vec<_>>(), r.clamps.clone())
    };
    assert_eq!(key(&back), key(&report));
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["pipeline_info"]["backend"], "cpu");
    assert!(value["stages"][0]["seconds"].is_number());
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").map(|e| e.map(|e| e.file_name())).collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    let missing_dir = dir.path().join("nope/results.json");
    assert!(write_report_json(&missing_dir, &report).is_err());
    assert!(!missing_dir.exists());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// A selected subset never exceeds the k asked for, nor the columns available, at every stage.
    #[test]
    fn selected_subset_never_exceeds_k(features in 2usize..30, k1 in 1u32..40, k2 in 1u32..20, k3 in 1u32..12, seed in 0u64..1000) {
        let syn = common::make_classification(120, features, 2.min(features), 0, 2, seed);
        let opts = SelectOptions {
            seed,
            filter: FilterOptions { keep: KeepCount::Count(k1), ..FilterOptions::default() },
            search: SearchOptions { keep: k2, iterations: 20, trees: 2, ..SearchOptions::default() },
            evaluate: hsof_select::EvaluateOptions { size: FinalSize::Fixed(k3), forest_trees: 3, ..Default::default() },
            ..SelectOptions::default()
        };
        let report = run(&syn.ds, &opts, &|_| {}, &CancelToken::new()).expect("run");
        let sizes: Vec<u32> = report.stages.iter().map(|s| s.output_features).collect();
        prop_assert!(sizes[0] <= k1 && sizes[0] as usize <= features);
        prop_assert!(sizes[1] <= k2 && sizes[1] <= sizes[0]);
        prop_assert!(sizes[2] <= k3 && sizes[2] <= sizes[1]);
        prop_assert_eq!(report.final_results.selected_features.len() as u32, sizes[2]);
    }
}
