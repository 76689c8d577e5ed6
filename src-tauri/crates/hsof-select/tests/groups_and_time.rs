//! Validation that respects how rows relate: rows of one group (a patient, a machine) never
//! on both sides of a split, rows in time scored only on later rows; the loaders read the
//! group / time column (not a feature) and refuse one that cannot split; missingness that
//! carries signal reaches the final set through its indicator column.

use std::path::{Path, PathBuf};

use hsof_select::{
    load_csv, run, CancelToken, ColumnMatrix, Dataset, LoadOptions, OuterValidation, PrepSummary, ProblemType,
    RowOrder, SelectError, SelectOptions, Target,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// 30 groups of 10 rows; each group has one label and a fingerprint (three columns constant
/// within it) beside row noise: a model can memorise groups, and only that.
fn grouped_noise(seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (groups, per) = (30usize, 10usize);
    let n = groups * per;
    let mut labels: Vec<u32> = (0..groups).map(|g| (g % 2) as u32).collect();
    rand::seq::SliceRandom::shuffle(labels.as_mut_slice(), &mut rng);
    let prints: Vec<[f32; 3]> = (0..groups).map(|_| [rng.gen(), rng.gen(), rng.gen()]).collect();
    let mut cols: Vec<Vec<f32>> = (0..3).map(|j| (0..n).map(|r| prints[r / per][j]).collect()).collect();
    cols.extend((0..40).map(|_| (0..n).map(|_| rng.gen::<f32>()).collect::<Vec<_>>()));
    Dataset {
        name: "grouped".into(),
        source: "memory".into(),
        feature_names: (0..cols.len()).map(|j| format!("f{j}")).collect(),
        features: ColumnMatrix::from_columns(n, cols),
        target_name: "y".into(),
        target: Target::Classes {
            codes: (0..n).map(|r| labels[r / per]).collect(),
            labels: vec!["a".into(), "b".into()],
        },
        problem: ProblemType::BinaryClassification,
        prep: PrepSummary::default(),
        rows: RowOrder::default(),
    }
}

fn quick() -> SelectOptions {
    let mut o = SelectOptions { seed: 7, ..SelectOptions::default() };
    o.evaluate.outer = OuterValidation::Folds(3);
    o.search.max_seconds = 5.0;
    o
}

#[test]
fn groups_are_never_split_so_memorising_them_scores_chance() {
    let plain = grouped_noise(3);
    let leaky = run(&plain, &quick(), &|_| {}, &CancelToken::new()).expect("run");
    assert!(
        leaky.final_results.score >= 0.8,
        "rows of a group on both sides: the fingerprint leaks the label ({})",
        leaky.final_results.score
    );
    let mut grouped = plain.clone();
    grouped.rows.groups = Some(("machine".into(), (0..300).map(|r| (r / 10) as u32).collect()));
    let honest = run(&grouped, &quick(), &|_| {}, &CancelToken::new()).expect("run");
    let v = &honest.final_results.validation;
    assert!(
        honest.final_results.score <= 0.65,
        "grouped: chance, got {} ({:?})",
        honest.final_results.score,
        v.fold_scores
    );
    assert!(v.description.contains("grouped by `machine`"), "{}", v.description);
}

#[test]
fn rows_in_time_are_scored_on_later_rows_only() {
    let mut ds = grouped_noise(5);
    ds.rows.times = Some(("ts".into(), (0..300).map(|r| f64::from(r as u32) * 60.0).collect()));
    let r = run(&ds, &quick(), &|_| {}, &CancelToken::new()).expect("run");
    let v = &r.final_results.validation;
    assert_eq!(v.scheme, "nested_folds");
    assert_eq!(v.fold_scores.len(), 3, "forward chaining: 4 stretches, 3 scored");
    assert!(v.description.contains("in time order by `ts`"), "{}", v.description);
    assert!(v.held_out_rows.iter().sum::<u32>() < 300, "the first stretch is never held out");
}

#[test]
fn the_loaders_read_the_group_and_time_columns_and_refuse_what_cannot_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("site,ts,x,y\n");
    for i in 0..40 {
        text.push_str(&format!("s{},2026-11-{:02}T{:02}:00:00Z,{},{}\n", i % 4, 1 + i / 24, i % 24, i * 3 % 7, i % 2));
    }
    let p = write(dir.path(), "d.csv", &text);
    let opts = LoadOptions { group_column: Some("site".into()), ..LoadOptions::default() };
    let ds = load_csv(&p, "y", &["ts"], &opts).expect("grouped");
    assert_eq!(ds.feature_names, ["x"], "the group column is not a feature");
    let (name, g) = ds.rows.groups.as_ref().expect("groups");
    assert_eq!((name.as_str(), g[0], g[1], g[4]), ("site", 0, 1, 0));
    let opts = LoadOptions { time_column: Some("ts".into()), ..LoadOptions::default() };
    let ds = load_csv(&p, "y", &["site"], &opts).expect("timed");
    let (_, t) = ds.rows.times.as_ref().expect("times");
    assert_eq!(t[1] - t[0], 3600.0, "RFC 3339 times in seconds");

    let one = write(dir.path(), "one.csv", "g,x,y\na,1,0\na,2,1\na,3,0\na,4,1\n");
    let opts = LoadOptions { group_column: Some("g".into()), ..LoadOptions::default() };
    let e = load_csv(&one, "y", &[], &opts).expect_err("one group");
    assert!(matches!(&e, SelectError::InvalidDataset { reason, .. } if reason.contains("has one group (`a`)")), "{e}");
    let bad = write(dir.path(), "bad.csv", "t,x,y\n2026-11-01,1,0\nlater,2,1\n2026-11-03,3,0\n");
    let opts = LoadOptions { time_column: Some("t".into()), ..LoadOptions::default() };
    let e = load_csv(&bad, "y", &[], &opts).expect_err("not a time");
    assert!(
        matches!(&e, SelectError::InvalidDataset { line: Some(3), reason, .. } if reason.contains("not a time")),
        "{e}"
    );
    let opts = LoadOptions { group_column: Some("nope".into()), ..LoadOptions::default() };
    assert!(load_csv(&one, "y", &[], &opts).expect_err("absent").to_string().contains("`nope` is not in the file"));
}

#[test]
fn missingness_that_carries_signal_is_selected_through_its_indicator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut text = String::from("temp,a,b,c,d,y\n");
    for i in 0..400 {
        let y = i % 2;
        // The sensor drops out on most failing machines; its readings themselves are noise.
        let temp = if y == 1 && rng.gen::<f32>() < 0.8 { String::new() } else { format!("{:.3}", rng.gen::<f32>()) };
        let noise: Vec<String> = (0..4).map(|_| format!("{:.3}", rng.gen::<f32>())).collect();
        text.push_str(&format!("{temp},{},{y}\n", noise.join(",")));
    }
    let p = write(dir.path(), "sensor.csv", &text);
    let ds = load_csv(&p, "y", &[], &LoadOptions::default()).expect("load");
    assert_eq!(ds.prep.missing_indicators, ["temp"]);
    let r = run(&ds, &quick(), &|_| {}, &CancelToken::new()).expect("run");
    let names: Vec<&str> = r.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"temp=missing"), "{names:?}");
    assert!(r.final_results.score >= 0.8, "{}", r.final_results.score);
}

#[test]
fn groups_that_each_hold_one_class_never_panic() {
    // Every group is one class: some training parts and inner folds see a single class.
    for (groups, seed) in [(2u32, 1u64), (3, 2), (4, 3), (5, 4)] {
        let mut ds = grouped_noise(seed);
        let codes: Vec<u32> = match &ds.target {
            Target::Classes { codes, .. } => codes.clone(),
            Target::Continuous(_) => unreachable!(),
        };
        // Group = class, split further into `groups` groups in all.
        ds.rows.groups =
            Some(("g".into(), (0..300).map(|r| codes[r] + 2 * ((r as u32 * 7) % (groups / 2).max(1))).collect()));
        match run(&ds, &quick(), &|_| {}, &CancelToken::new()) {
            Ok(r) => assert!(r.final_results.score.is_finite()),
            Err(e) => assert!(
                matches!(&e, SelectError::InvalidDataset { reason, .. } if reason.contains("trains without class")),
                "a clear error, got {e:?}"
            ),
        }
    }
}
