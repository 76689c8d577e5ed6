//! Degenerate inputs, one test each: every one gives a report or a clear, typed error, never a panic.
//! Several were crashes found by hand or by the property tests in `fuzz.rs` (named in each test).

use std::path::{Path, PathBuf};

use hsof_select::{
    load_csv, load_dataset_yaml, load_parquet, load_sqlite_table, preview_columns, run, BackendChoice, CancelToken,
    ColumnMatrix, Dataset, EvaluateOptions, FilterOptions, FinalSize, KeepCount, LoadOptions, PrepSummary, ProblemType,
    SearchOptions, SelectError, SelectOptions, SelectionReport, Target,
};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write fixture");
    p
}

fn load(text: &str) -> Result<Dataset, SelectError> {
    let dir = tempfile::tempdir().expect("tempdir");
    load_csv(&write(dir.path(), "d.csv", text), "y", &["id"], &LoadOptions::default())
}

fn quick() -> SelectOptions {
    SelectOptions {
        backend: BackendChoice::Cpu,
        filter: FilterOptions { keep: KeepCount::Count(10), ..FilterOptions::default() },
        search: SearchOptions { trees: 1, iterations: 10, pool: 8, keep: 6, ..SearchOptions::default() },
        evaluate: EvaluateOptions {
            size: FinalSize::Range { min: 1, max: 3 },
            forest_trees: 2,
            forest_max_depth: 3,
            forest_candidates: 1,
            ..EvaluateOptions::default()
        },
        ..SelectOptions::default()
    }
}

/// Loads the CSV text and runs the pipeline.
fn select(text: &str) -> Result<SelectionReport, SelectError> {
    run(&load(text)?, &quick(), &|_| {}, &CancelToken::new())
}

fn no_usable_features(r: Result<SelectionReport, SelectError>) -> String {
    match r {
        Err(e @ SelectError::NoUsableFeatures { .. }) => e.to_string(),
        other => panic!("expected NoUsableFeatures, got {other:?}"),
    }
}

fn invalid_dataset(r: Result<impl std::fmt::Debug, SelectError>) -> String {
    match r {
        Err(e @ SelectError::InvalidDataset { .. }) => e.to_string(),
        other => panic!("expected InvalidDataset, got {other:?}"),
    }
}

#[test]
fn all_nan_columns_are_a_clear_error() {
    let msg = no_usable_features(select("a,b,y\nNaN,inf,0\n,-inf,1\nnan,Infinity,0\nNA,-Inf,1\n"));
    assert!(msg.contains("column `a` has no finite values"), "{msg}");
    assert!(msg.contains("column `b` has no finite values"), "{msg}");
}

/// Was a panic: stage 3's `clamp(1, 0)` (stage3/mod.rs:71) when stage 1 kept no column. A column of
/// NaN/±Inf with a single finite value is constant once imputed.
#[test]
fn a_column_constant_once_imputed_is_a_clear_error() {
    let msg = no_usable_features(select("a,y\nNaN,0\ninf,1\n5,0\n-inf,1\n"));
    assert!(msg.contains("the only feature column, `a`, is constant"), "{msg}");
    assert!(msg.contains("imputed"), "{msg}");
}

/// Was the same panic, through constant columns and text that is not a number (`±Inf` becomes a
/// single one-hot level, a column of ones).
#[test]
fn constant_and_single_level_columns_are_a_clear_error() {
    let msg = no_usable_features(select("a,b,c,y\n1,±Inf,x,0\n1,±Inf,x,1\n1,±Inf,x,0\n1,±Inf,x,1\n"));
    assert!(msg.contains("all 3 feature columns are constant"), "{msg}");
    assert!(msg.contains("`a`, `b=±Inf`, `c=x`"), "{msg}");
    let opts = SelectOptions { filter: FilterOptions { min_variance: 100.0, ..quick().filter }, ..quick() };
    let ds = load("a,y\n1,0\n2,1\n3,0\n4,1\n").expect("load");
    let msg = no_usable_features(run(&ds, &opts, &|_| {}, &CancelToken::new()));
    assert!(msg.contains("variance at most filter.min_variance = 100"), "{msg}");
}

/// Was a panic (same place): 1e39 is a finite f64 but infinite as the f32 the matrix holds, so the
/// column's statistics were NaN and it was dropped as "constant".
#[test]
fn numbers_beyond_f32_range_count_as_non_finite() {
    let ds = load("a,b,y\n1e39,1,0\n2,-3.5e38,1\n3,2,0\n4,1,1\n5,3,0\n").expect("load");
    assert_eq!(ds.prep.non_finite_values, 2);
    assert!(ds.features.values.iter().all(|v| v.is_finite()));
    assert_eq!(ds.features.column(0)[0], 4.0, "median of 2, 3, 4, 5 imputed");
    select("a,b,y\n1e39,1,0\n2,-3.5e38,1\n3,2,0\n4,1,1\n5,3,0\n").expect("select");
}

/// Was a model failure ("Training data must contain at least one sample"): a regression target
/// beyond f32's range became infinite.
#[test]
fn a_target_beyond_f32_range_is_missing() {
    let ds = load("a,y\n1,1e39\n2,1\n3,0\n4,1.5\n5,0.25\n").expect("load");
    assert_eq!(ds.n_rows(), 4);
    assert_eq!(ds.prep.rows_dropped_missing_target, 1);
    select("a,y\n1,1e39\n2,1\n3,0\n4,1.5\n5,0.25\n").expect("select");
    // Values that differ only beyond f32 precision are one value: a constant target.
    assert!(matches!(load("a,y\n1,1.00000000001\n2,1.00000000002\n"), Err(SelectError::ConstantTarget { .. })));
}

/// Was a model failure ("Incorrect number of classes: 1"): with fewer rows than folds some training
/// folds held one class. Now the folds are clamped to the rows and the report says so.
#[test]
fn fewer_rows_than_folds_clamps_the_folds() {
    let report = select("a,y\n1,0\n2,1\n3,0\n").expect("select");
    assert_eq!(report.final_results.folds, 3);
    let clamps: Vec<(&str, u32, u32)> =
        report.clamps.iter().map(|c| (c.option.as_str(), c.requested, c.used)).collect();
    assert!(clamps.contains(&("evaluate.folds", 5, 3)), "{clamps:?}");
    assert!(clamps.iter().all(|c| c.0 != "search.folds"), "3 search folds fit 3 rows: {clamps:?}");
    let report = select("a,y\n1,0.5\n2,1.5\n").expect("two rows of regression");
    assert_eq!(report.final_results.folds, 2);
    assert!(report.clamps.iter().any(|c| (c.option.as_str(), c.used) == ("evaluate.folds", 2)), "{:?}", report.clamps);
    // Too few rows to hold any out: the report says the outer split was dropped.
    assert_eq!(report.final_results.validation.scheme, "none");
    assert!(report.clamps.iter().any(|c| (c.option.as_str(), c.used) == ("evaluate.outer", 0)), "{:?}", report.clamps);
}

/// Was the same model failure with enough rows: a class with one row leaves a training fold with a
/// single class, which smartcore's forest refuses; that fold's forest predicts the one class.
#[test]
fn a_training_fold_with_one_class_does_not_fail_the_forest() {
    let mut text = String::from("a,b,y\n");
    for i in 0..9 {
        text.push_str(&format!("{i},{},{}\n", i * i % 7, u8::from(i == 4)));
    }
    let opts = SelectOptions { evaluate: EvaluateOptions { forest_candidates: 3, ..quick().evaluate }, ..quick() };
    let report = run(&load(&text).expect("load"), &opts, &|_| {}, &CancelToken::new()).expect("select");
    assert!(report.final_results.candidates.iter().any(|c| c.model == hsof_select::ModelFamily::RandomForest));
}

#[test]
fn zero_rows_is_a_clear_error() {
    assert!(invalid_dataset(load("a,b,y\n")).contains("no data rows"));
}

#[test]
fn one_row_is_a_clear_error() {
    // A single row has a single target value.
    assert!(matches!(load("a,y\n1,0\n"), Err(SelectError::ConstantTarget { .. })));
    assert!(matches!(load("a,y\n1,0.5\n"), Err(SelectError::ConstantTarget { .. })));
}

#[test]
fn one_class_only_is_a_clear_error() {
    match load("a,y\n1,yes\n2,yes\n3,\n4,yes\n") {
        Err(e @ SelectError::ConstantTarget { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("`y`") && msg.contains("yes") && msg.contains("nothing to select"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_or_empty_target_is_a_clear_error() {
    assert!(matches!(load("a,b\n1,2\n"), Err(SelectError::TargetMissing { .. })));
    assert!(invalid_dataset(load("a,y\n1,\n2, \n3,NA\n")).contains("target `y` is missing on every row"));
}

#[test]
fn empty_and_duplicate_column_names_say_which_columns() {
    let msg = invalid_dataset(load(",,y\n1,2,0\n"));
    assert!(msg.contains("columns 1 and 2 both have an empty name"), "{msg}");
    let msg = invalid_dataset(load("a,b,a,y\n1,2,3,0\n"));
    assert!(msg.contains("duplicate column name `a` (columns 1 and 3)"), "{msg}");
    // One empty name is just a name.
    select(",b,y\n1,2,0\n2,1,1\n3,3,0\n4,0,1\n").expect("select");
}

#[test]
fn unicode_column_names_and_levels_load_and_select() {
    let report = select(
        "\u{feff}température,列,😀,y\n1,é,x,chat\n2,日本,y,chien\n3,é,x,chat\n4,日本,y,chien\n5,é,x,chat\n6,日本,x,chien\n",
    )
    .expect("select");
    assert!(report.final_results.selected_features.iter().all(|f| !f.name.is_empty()));
    let ds = load("\u{feff}température,y\n1,0\n2,1\n").expect("load");
    assert_eq!(ds.feature_names, vec!["température"], "the byte-order mark is not part of the name");
}

#[test]
fn random_bytes_are_a_clear_error_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let opts = LoadOptions::default();
    let csv = write(dir.path(), "j.csv", &junk);
    assert!(load_csv(&csv, "y", &[], &opts).is_err());
    assert!(preview_columns(&csv).is_err());
    let pq = write(dir.path(), "j.parquet", &junk);
    assert!(invalid_dataset(load_parquet(&pq, "y", &[], &opts)).contains("Parquet"));
    assert!(preview_columns(&pq).is_err());
    let yaml = write(dir.path(), "j.yaml", &junk);
    assert!(load_dataset_yaml(&yaml, &opts).is_err());
}

/// Was misleading: a file that is not a database said "table `train` does not exist".
#[test]
fn a_corrupt_sqlite_file_says_it_is_not_a_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..4000u32).map(|i| (i * 7 % 251) as u8));
    let db = write(dir.path(), "d.sqlite", &bytes);
    let msg = invalid_dataset(load_sqlite_table(&db, "train", "y", &[], &LoadOptions::default()));
    assert!(msg.contains("not a readable SQLite database"), "{msg}");
    let yaml =
        write(dir.path(), "d.yaml", "name: d\ndatabase: {path: d.sqlite}\ntarget_column: y\ntables: {train: t}\n");
    let msg = invalid_dataset(load_dataset_yaml(&yaml, &LoadOptions::default()));
    assert!(msg.contains("not a readable SQLite database"), "{msg}");
}

/// Was a panic found by `fuzz.rs` (`damaged_parquet_files_fail_clearly`): one changed byte in the
/// footer gave a negative column offset, and the parquet crate asserts on it ("column start and
/// length should not be negative"). Every single-byte change of a small file's footer is tried.
#[test]
fn damaged_parquet_metadata_is_a_clear_error() {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type("message d { OPTIONAL DOUBLE a; REQUIRED BINARY y (UTF8); }").expect("schema");
    let mut good = Vec::new();
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(&mut good, Arc::new(schema), props).expect("writer");
    let mut rg = writer.next_row_group().expect("row group");
    let mut i = 0;
    while let Some(mut col) = rg.next_column().expect("column") {
        if i == 0 {
            col.typed::<DoubleType>().write_batch(&[1.0, 2.0, 4.0], Some(&[1, 1, 0, 1]), None).expect("a");
        } else {
            let y: Vec<ByteArray> = ["p", "q", "p", "q"].iter().map(|s| ByteArray::from(*s)).collect();
            col.typed::<ByteArrayType>().write_batch(&y, None, None).expect("y");
        }
        col.close().expect("close column");
        i += 1;
    }
    rg.close().expect("close row group");
    writer.close().expect("close");

    let dir = tempfile::tempdir().expect("tempdir");
    let footer_len = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().expect("4 bytes")) as usize;
    let footer = good.len() - 8 - footer_len..good.len() - 8;
    let mut clear_errors = 0;
    for at in footer {
        for value in [0x00, 0x15, 0x7f, 0x80, 0xb3, 0xff] {
            let mut bytes = good.clone();
            bytes[at] = value;
            let p = write(dir.path(), "d.parquet", &bytes);
            match load_parquet(&p, "y", &[], &LoadOptions::default()) {
                Ok(ds) => assert!(ds.features.values.iter().all(|v| v.is_finite())),
                Err(e) => {
                    assert!(
                        matches!(
                            e,
                            SelectError::InvalidDataset { .. }
                                | SelectError::TargetMissing { .. }
                                | SelectError::ConstantTarget { .. }
                                | SelectError::NoUsableFeatures { .. }
                        ),
                        "{e:?}"
                    );
                    clear_errors += 1;
                }
            }
            let _ = preview_columns(&p);
        }
    }
    assert!(clear_errors > 0);
    let p = write(dir.path(), "d.parquet", &good);
    assert_eq!(load_parquet(&p, "y", &[], &LoadOptions::default()).expect("the intact file loads").n_rows(), 4);
}

fn dataset(n: usize, columns: Vec<Vec<f32>>, target: Target) -> Dataset {
    let f = columns.len();
    let problem = match &target {
        Target::Continuous(_) => ProblemType::Regression,
        _ => ProblemType::BinaryClassification,
    };
    Dataset {
        name: "code".into(),
        source: "memory".into(),
        feature_names: (0..f).map(|j| format!("x{j}")).collect(),
        features: ColumnMatrix::from_columns(n, columns),
        target_name: "y".into(),
        target,
        problem,
        prep: PrepSummary::default(),
        rows: Default::default(),
    }
}

fn classes(codes: Vec<u32>) -> Target {
    Target::Classes { codes, labels: vec!["a".into(), "b".into()] }
}

/// A `Dataset` built in code skips the loaders' checks; `run` makes its own instead of panicking on
/// an index out of bounds deep in a stage.
#[test]
fn a_dataset_built_in_code_is_checked() {
    let go = |ds: &Dataset| run(ds, &quick(), &|_| {}, &CancelToken::new());
    let col = || vec![1.0, 2.0, 3.0, 4.0];
    assert!(go(&dataset(4, vec![col()], classes(vec![0, 1, 0, 1]))).is_ok());
    assert!(invalid_dataset(go(&dataset(0, vec![vec![]], classes(vec![])))).contains("0 row(s)"));
    assert!(matches!(go(&dataset(4, vec![], classes(vec![0, 1, 0, 1]))), Err(SelectError::NoUsableFeatures { .. })));
    assert!(invalid_dataset(go(&dataset(4, vec![col()], classes(vec![0, 1, 0])))).contains("3 values for 4 rows"));
    assert!(invalid_dataset(go(&dataset(4, vec![col()], classes(vec![0, 1, 7, 1])))).contains("class code 7"));
    assert!(matches!(go(&dataset(4, vec![col()], classes(vec![1, 1, 1, 1]))), Err(SelectError::ConstantTarget { .. })));
    let nan = vec![1.0, f32::NAN, 3.0, 4.0];
    assert!(invalid_dataset(go(&dataset(4, vec![col(), nan], classes(vec![0, 1, 0, 1])))).contains("`x1` has NaN"));
    let inf_target = Target::Continuous(vec![1.0, f32::INFINITY, 3.0, 4.0]);
    assert!(invalid_dataset(go(&dataset(4, vec![col()], inf_target))).contains("NaN or infinite"));
    let mut ragged = dataset(4, vec![col()], classes(vec![0, 1, 0, 1]));
    ragged.features.values.pop();
    assert!(invalid_dataset(go(&ragged)).contains("3 values"));
}

#[test]
fn absurd_option_values_are_refused_before_allocating() {
    let ds = load("a,y\n1,0\n2,1\n3,0\n4,1\n").expect("load");
    let mut opts = quick();
    opts.search.trees = u32::MAX;
    assert!(matches!(
        run(&ds, &opts, &|_| {}, &CancelToken::new()),
        Err(SelectError::InvalidOptions { option: "search.trees", .. })
    ));
    let mut opts = quick();
    opts.threads = Some(u32::MAX);
    assert!(matches!(
        run(&ds, &opts, &|_| {}, &CancelToken::new()),
        Err(SelectError::InvalidOptions { option: "threads", .. })
    ));
    let mut opts = quick();
    opts.evaluate.forest_trees = u32::MAX;
    assert!(matches!(run(&ds, &opts, &|_| {}, &CancelToken::new()), Err(SelectError::InvalidOptions { .. })));
    let mut opts = quick();
    opts.filter.mi_bins = Some(u32::MAX);
    assert!(matches!(run(&ds, &opts, &|_| {}, &CancelToken::new()), Err(SelectError::InvalidOptions { .. })));
    // Found by `fuzz.rs` (`any_options_give_a_report_or_an_option_error`): a non-finite option was
    // accepted, echoed in the report, and the report's JSON (null for inf) could not be read back.
    let mut opts = quick();
    opts.search.ridge = f64::INFINITY;
    assert!(matches!(run(&ds, &opts, &|_| {}, &CancelToken::new()), Err(SelectError::InvalidOptions { .. })));
    let mut opts = quick();
    opts.filter.min_variance = f64::NAN;
    assert!(matches!(run(&ds, &opts, &|_| {}, &CancelToken::new()), Err(SelectError::InvalidOptions { .. })));
    // No search iterations: nothing evaluated, and the report still reads back (no -inf score).
    let mut opts = quick();
    opts.search.iterations = 0;
    let report = run(&ds, &opts, &|_| {}, &CancelToken::new()).expect("run without search iterations");
    let json = serde_json::to_string(&report).expect("json");
    serde_json::from_str::<SelectionReport>(&json).expect("the report reads back");
    // Legal extremes run.
    let mut opts = quick();
    opts.evaluate.forest_max_depth = 0;
    opts.evaluate.forest_trees = 0;
    opts.evaluate.size = FinalSize::Fixed(u32::MAX);
    opts.search.depth = Some(u32::MAX);
    opts.filter.mi_bins = Some(0);
    run(&ds, &opts, &|_| {}, &CancelToken::new()).expect("extremes within range run");
}

/// Was a report that could not be read back, found by `fuzz.rs`
/// (`random_tables_load_and_select_or_fail_clearly`, 8110 cases in): in a training fold `a2` spread
/// only over 0 and a subnormal -1.4e-45, the ridge model divided a test value by that deviation,
/// predicted beyond f32's range, and the candidate's score was NaN (null in the JSON).
#[test]
fn a_near_zero_spread_in_a_training_fold_gives_finite_scores() {
    let text = "y,a0,a1,a2,a3,a4,a5,a6,a7,a8,a9,a10\n\
                -296.416163277772,0,0,0,0,0,0,0,0,0,0,0\n\
                0,0,0,-0.0000000000000000000000000000000000000000000013733384554345316,0,0,1,-1,0,-1,0,0\n\
                346.0295422674495,,0,1,0,0,0,0,-33,0,0,13\n\
                0,0,0,0,0,0,0,0,-11,5,0,0\n";
    let ds = load(text).expect("load");
    let opts = SelectOptions {
        seed: 0,
        filter: FilterOptions { keep: KeepCount::Count(12), ..FilterOptions::default() },
        search: SearchOptions { trees: 2, iterations: 8, pool: 10, keep: 6, folds: 3, ..SearchOptions::default() },
        evaluate: EvaluateOptions {
            size: FinalSize::Range { min: 2, max: 2 },
            folds: 3,
            forest_trees: 2,
            forest_max_depth: 3,
            forest_candidates: 1,
            ..EvaluateOptions::default()
        },
        ..quick()
    };
    let report = run(&ds, &opts, &|_| {}, &CancelToken::new()).expect("select");
    assert!(report.final_results.candidates.iter().all(|c| c.score.is_finite() && c.score_std.is_finite()));
    let json = serde_json::to_string(&report).expect("json");
    serde_json::from_str::<SelectionReport>(&json).expect("the report reads back");
}

/// Round 3's bad inputs, with the default options (the size chosen by the data): each gives a
/// report with finite scores or a clear error, never a panic.
fn default_run(ds: &Dataset) -> Result<SelectionReport, SelectError> {
    let opts = SelectOptions { backend: BackendChoice::Cpu, threads: Some(2), ..SelectOptions::default() };
    run(ds, &opts, &|_| {}, &CancelToken::new())
}

fn finite(r: &SelectionReport) {
    assert!(r.final_results.score.is_finite(), "score {}", r.final_results.score);
    assert!(r.final_results.candidates.iter().all(|c| c.score.is_finite() && c.score_std.is_finite()));
    assert!(r.final_results.size_choice.curve.iter().all(|p| p.score.is_finite()));
    assert!(!r.final_results.selected_features.is_empty());
    serde_json::from_str::<SelectionReport>(&serde_json::to_string(r).expect("json")).expect("reads back");
}

fn lcg(seed: &mut u64) -> f32 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*seed >> 40) as f32 / (1u64 << 24) as f32
}

/// `k` columns of `n` uniform values in 0..1, drawn from `seed`.
fn uniform_columns(k: usize, n: usize, seed: &mut u64) -> Vec<Vec<f32>> {
    (0..k).map(|_| (0..n).map(|_| lcg(seed)).collect()).collect()
}

#[test]
fn a_table_with_a_hundred_times_more_columns_than_rows_selects() {
    let mut s = 3u64;
    let n = 30;
    let cols = uniform_columns(3000, n, &mut s);
    let codes: Vec<u32> = (0..n).map(|i| u32::from(cols[7][i] + cols[11][i] > 1.0)).collect();
    let r = default_run(&dataset(n, cols, classes(codes))).expect("30 x 3000 selects");
    finite(&r);
    assert!(r.final_results.selected_features.len() <= 30);
}

#[test]
fn a_class_with_three_members_is_selected_or_refused_clearly() {
    let mut s = 5u64;
    let n = 120;
    let cols = uniform_columns(40, n, &mut s);
    let mut codes: Vec<u32> = (0..n).map(|i| u32::from(cols[0][i] > 0.5)).collect();
    for c in codes.iter_mut().take(3) {
        *c = 2;
    }
    let target = Target::Classes { codes, labels: vec!["a".into(), "b".into(), "rare".into()] };
    let mut ds = dataset(n, cols, target);
    ds.problem = ProblemType::MulticlassClassification;
    match default_run(&ds) {
        Ok(r) => finite(&r),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("rare") || msg.contains("class"), "the error names the class: {msg}");
        }
    }
}

#[test]
fn a_regression_target_tied_on_most_rows_selects() {
    // 80 % of the rows share one value (an assay's detection limit), the rest spread.
    let mut s = 9u64;
    let n = 300;
    let cols = uniform_columns(60, n, &mut s);
    let y: Vec<f32> = (0..n).map(|i| if i % 5 == 0 { 3.0 * cols[2][i] + cols[5][i] } else { -3.0 }).collect();
    let r = default_run(&dataset(n, cols, Target::Continuous(y))).expect("tied target selects");
    finite(&r);
}

#[test]
fn binary_fingerprints_constant_within_folds_select() {
    // 400 bit columns, most set on one or two rows only: constant in most training folds.
    let mut s = 11u64;
    let n = 160;
    let cols: Vec<Vec<f32>> = (0..400)
        .map(|j| {
            let p = if j < 20 { 0.4 } else { 0.01 };
            (0..n).map(|_| f32::from(u8::from(lcg(&mut s) < p))).collect()
        })
        .collect();
    let y: Vec<f32> = (0..n).map(|i| cols[0][i] + 0.5 * cols[1][i] - cols[2][i] + 0.1 * lcg(&mut s)).collect();
    let r = default_run(&dataset(n, cols, Target::Continuous(y))).expect("fingerprints select");
    finite(&r);
}

#[test]
fn a_spectrum_whose_columns_all_correlate_keeps_enough_of_them() {
    // 80 "wavelengths": one smooth curve per row plus a small per-column wiggle; every column
    // correlates above 0.95 with its neighbours, and the target lives in the wiggles.
    let mut s = 13u64;
    let n = 150;
    let base: Vec<f32> = (0..n).map(|_| lcg(&mut s) * 4.0).collect();
    let cols: Vec<Vec<f32>> =
        (0..80).map(|j| (0..n).map(|i| base[i] * (1.0 + j as f32 / 200.0) + 0.05 * lcg(&mut s)).collect()).collect();
    let y: Vec<f32> = (0..n).map(|i| (cols[40][i] - cols[39][i]) * 10.0 + 0.01 * lcg(&mut s)).collect();
    let r = default_run(&dataset(n, cols, Target::Continuous(y))).expect("spectrum selects");
    finite(&r);
    let filter = &r.stages[0];
    assert_eq!(filter.output_features, 50, "the redundancy walk keeps at least 50: {:?}", filter.details);
    let dropped = filter.details.iter().find(|d| d.name == "redundant_dropped").map(|d| d.value);
    assert_eq!(dropped, Some(30.0), "30 of 80 still dropped as redundant");
}
