//! Property tests: no table, however degenerate, and no file, however broken, makes the loaders or
//! the three-stage pipeline panic. Each input gives a report or one of the data errors a user can act
//! on (never a model failure, an option error or a panic).
//!
//! Case counts are sized for a debug build on two cores; `PROPTEST_CASES=5000 cargo test -p
//! hsof-select --test fuzz` searches harder. Every crash these found has a named test in
//! `degenerate.rs`.

use std::path::Path;
use std::sync::Arc;

use hsof_select::{
    load_csv, load_dataset_yaml, load_parquet, load_sqlite_table, preview_columns, run, BackendChoice, CancelToken,
    ClassWeight, Dataset, EvaluateOptions, FilterOptions, FinalSize, KeepCount, LoadOptions, OuterValidation,
    SearchOptions, SearchReward, SelectError, SelectOptions, SelectionReport,
};
use proptest::prelude::*;

/// `default` cases unless `PROPTEST_CASES` says otherwise; no regression files (crashes become named
/// tests instead).
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// One cell as a user's spreadsheet might hold it.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (-50i32..50).prop_map(|v| v.to_string()),
        4 => (-1e3f64..1e3).prop_map(|v| format!("{v}")),
        2 => any::<f64>().prop_map(|v| format!("{v}")),
        1 => any::<f32>().prop_map(|v| format!("{v:e}")),
        3 => prop::sample::select(vec![
            "", " ", "NaN", "nan", "-nan", "inf", "-inf", "+Inf", "Infinity", "-Infinity", "1e39", "-3.5e38",
            "1e-46", "1e400", "NA", "N/A", "null", "None", "?", "±Inf", "∞", "#DIV/0!", "0x10", "1,5", "\"",
            "a\nb", "0", "1", "-0",
        ])
        .prop_map(str::to_string),
        2 => prop::sample::select(vec!["a", "b", "c", "é", "日本", "😀"]).prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ]
}

/// A column: every cell from one palette, so a column is often all-NaN, constant, text, ...
fn column(rows: usize) -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        // Mixed: any cell anywhere.
        3 => prop::collection::vec(cell(), rows),
        // Clean numbers with some holes.
        3 => prop::collection::vec(
            prop_oneof![6 => (-1e3f64..1e3).prop_map(|v| format!("{v}")), 1 => Just(String::new())],
            rows
        ),
        // One value repeated (constant, all-NaN, all-Inf, all-empty, one text level...).
        2 => cell().prop_map(move |c| vec![c; rows]),
        // Few text levels.
        1 => prop::collection::vec(prop::sample::select(vec!["x", "y", "z", ""]).prop_map(str::to_string), rows),
    ]
}

/// The target column: binary, one class, all empty, continuous, text labels, many classes, anything.
fn target(rows: usize) -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(vec!["0", "1"]).prop_map(str::to_string), rows),
        2 => prop::collection::vec(prop::sample::select(vec!["0", "1", "2", ""]).prop_map(str::to_string), rows),
        2 => prop::collection::vec((-1e3f64..1e3).prop_map(|v| format!("{v}")), rows),
        1 => prop::collection::vec(prop::sample::select(vec!["cat", "dog", "ñu"]).prop_map(str::to_string), rows),
        1 => cell().prop_map(move |c| vec![c; rows]),
        1 => Just(vec![String::new(); rows]),
        1 => prop::collection::vec((0u32..1000).prop_map(|v| v.to_string()), rows),
        1 => prop::collection::vec(cell(), rows),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,6}",
        2 => "f[0-3]", // duplicates are likely
        1 => prop::sample::select(vec!["", " ", "y", "id", "température", "列", "😀x", "a,b", "\"q\"", " y "])
            .prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

/// A table: (header, columns); the target (when present) is named `y`.
#[derive(Debug, Clone)]
struct Table {
    header: Vec<String>,
    columns: Vec<Vec<String>>,
}

fn table() -> impl Strategy<Value = Table> {
    let rows = prop_oneof![3 => 0usize..8, 2 => 8usize..60, 1 => 60usize..300];
    let features = prop_oneof![1 => 0usize..4, 4 => 4usize..31];
    (rows, features)
        .prop_flat_map(|(rows, features)| {
            (
                prop::collection::vec((name(), column(rows)), features),
                target(rows),
                0..=features,
                // 1 in 8 tables have no target column at all.
                prop::bool::weighted(0.875),
                // 1 in 5 keep the raw names (duplicates likely); the others make them distinct.
                prop::bool::weighted(0.8),
            )
        })
        .prop_map(|(mut cols, y, at, with_target, distinct)| {
            if distinct {
                for (i, (n, _)) in cols.iter_mut().enumerate() {
                    n.push_str(&format!("·{i}"));
                }
            }
            if with_target {
                cols.insert(at, ("y".to_string(), y));
            }
            let (header, columns) = cols.into_iter().unzip();
            Table { header, columns }
        })
}

fn write_csv(path: &Path, t: &Table) {
    let mut w = csv::WriterBuilder::new().flexible(true).from_path(path).expect("csv writer");
    w.write_record(&t.header).expect("header");
    let rows = t.columns.first().map(Vec::len).unwrap_or(0);
    for r in 0..rows {
        w.write_record(t.columns.iter().map(|c| c[r].as_str())).expect("row");
    }
    w.flush().expect("flush");
}

/// Small, fast options: every stage runs, forests are tiny.
fn quick(folds: u32, size: FinalSize, seed: u64) -> SelectOptions {
    SelectOptions {
        seed,
        backend: BackendChoice::Cpu,
        threads: None,
        filter: FilterOptions { keep: KeepCount::Count(12), ..FilterOptions::default() },
        search: SearchOptions { trees: 2, iterations: 8, pool: 10, keep: 6, folds, ..SearchOptions::default() },
        evaluate: EvaluateOptions {
            size,
            folds,
            forest_trees: 2,
            forest_max_depth: 3,
            forest_candidates: 1,
            ..EvaluateOptions::default()
        },
    }
}

fn size() -> impl Strategy<Value = FinalSize> {
    prop_oneof![
        (1u32..5).prop_map(FinalSize::Fixed),
        (1u32..3, 0u32..3).prop_map(|(a, b)| FinalSize::Range { min: a, max: a + b }),
        (1u32..6).prop_map(|max| FinalSize::Auto { max })
    ]
}

/// A loader error must be one a user can act on, with a message that says something.
fn assert_clear_load_error(e: &SelectError) -> Result<(), TestCaseError> {
    let ok = matches!(
        e,
        SelectError::InvalidDataset { .. }
            | SelectError::TargetMissing { .. }
            | SelectError::ConstantTarget { .. }
            | SelectError::NoUsableFeatures { .. }
            | SelectError::Io { .. }
    );
    prop_assert!(ok, "unexpected loader error kind: {e:?}");
    prop_assert!(e.to_string().len() > 20, "terse message: {e}");
    Ok(())
}

fn assert_sane_dataset(ds: &Dataset) -> Result<(), TestCaseError> {
    prop_assert!(ds.n_rows() >= 1 && ds.n_features() >= 1);
    prop_assert_eq!(ds.features.values.len(), ds.n_rows() * ds.n_features());
    prop_assert_eq!(ds.feature_names.len(), ds.n_features());
    prop_assert_eq!(ds.target.len(), ds.n_rows());
    prop_assert!(ds.features.values.iter().all(|v| v.is_finite()), "non-finite feature value after loading");
    Ok(())
}

fn assert_sane_report(r: &SelectionReport) -> Result<(), TestCaseError> {
    let f = &r.final_results;
    prop_assert!(!f.selected_features.is_empty());
    prop_assert!(f.score.is_finite() && f.score_std.is_finite(), "score {} ± {}", f.score, f.score_std);
    for s in &f.selected_features {
        prop_assert!(s.importance.is_finite() && s.relevance.is_finite(), "{s:?}");
    }
    for c in &f.candidates {
        prop_assert!(c.score.is_finite() && c.score_std.is_finite(), "{c:?}");
    }
    // Every number survives JSON (a NaN or infinity would come back as null and fail here).
    let json = serde_json::to_value(r).expect("serialise");
    prop_assert!(serde_json::from_value::<SelectionReport>(json).is_ok(), "report does not round-trip through JSON");
    Ok(())
}

/// Loads the CSV and, when it loads, runs the pipeline: a report or a clear error.
fn load_and_run(path: &Path, opts: &SelectOptions) -> Result<(), TestCaseError> {
    let ds = match load_csv(path, "y", &["id"], &LoadOptions::default()) {
        Ok(ds) => ds,
        Err(e) => return assert_clear_load_error(&e),
    };
    assert_sane_dataset(&ds)?;
    match run(&ds, opts, &|_| {}, &CancelToken::new()) {
        Ok(report) => assert_sane_report(&report),
        Err(e) => {
            let ok = matches!(e, SelectError::NoUsableFeatures { .. } | SelectError::ConstantTarget { .. });
            prop_assert!(ok, "unexpected pipeline error: {e:?}");
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_tables_load_and_select_or_fail_clearly(t in table(), folds in 2u32..7, size in size(), seed in 0u64..4) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        write_csv(&path, &t);
        load_and_run(&path, &quick(folds, size, seed))?;
        // The preview reads the same file and must not panic either.
        if let Err(e) = preview_columns(&path) {
            prop_assert!(matches!(e, SelectError::InvalidDataset { .. }), "{e:?}");
        }
    }

    #[test]
    fn damaged_csv_text_fails_clearly(t in table(), cuts in prop::collection::vec((any::<prop::sample::Index>(), cell()), 1..4)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        write_csv(&path, &t);
        // Splice random cells (quotes, newlines, commas...) into the text at random byte offsets.
        let mut bytes = std::fs::read(&path).expect("read");
        for (at, text) in cuts {
            let i = if bytes.is_empty() { 0 } else { at.index(bytes.len() + 1) };
            bytes.splice(i..i, text.into_bytes());
        }
        std::fs::write(&path, &bytes).expect("write");
        load_and_run(&path, &quick(3, FinalSize::Fixed(2), 1))?;
    }
}

/// Random bytes, as every kind of file.
fn check_random_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = LoadOptions::default();
    for ext in ["csv", "parquet", "yaml", "sqlite"] {
        let path = dir.path().join(format!("r.{ext}"));
        std::fs::write(&path, bytes).expect("write");
        let loaded = match ext {
            "csv" => load_csv(&path, "y", &[], &opts),
            "parquet" => load_parquet(&path, "y", &[], &opts),
            "yaml" => load_dataset_yaml(&path, &opts),
            _ => load_sqlite_table(&path, "train", "y", &[], &opts),
        };
        match loaded {
            Ok(ds) => assert_sane_dataset(&ds)?,
            Err(e) => assert_clear_load_error(&e)?,
        }
        if ext == "csv" || ext == "parquet" {
            if let Err(e) = preview_columns(&path) {
                prop_assert!(matches!(e, SelectError::InvalidDataset { .. } | SelectError::Io { .. }), "{e:?}");
            }
        }
    }
    Ok(())
}

/// A small valid Parquet file (numbers with nulls, text, a binary target).
fn parquet_bytes() -> Vec<u8> {
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = parse_message_type(
        "message d { REQUIRED DOUBLE a; OPTIONAL INT64 b; OPTIONAL BINARY c (UTF8); REQUIRED BINARY y (UTF8); }",
    )
    .expect("schema");
    let mut out = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut out, Arc::new(schema), Arc::new(WriterProperties::builder().build()))
            .expect("writer");
    let mut rg = writer.next_row_group().expect("row group");
    let mut i = 0;
    let text = |v: &[&str]| v.iter().map(|s| ByteArray::from(*s)).collect::<Vec<_>>();
    while let Some(mut col) = rg.next_column().expect("column") {
        match i {
            0 => col.typed::<DoubleType>().write_batch(&[1.0, 2.5, f64::NAN, 4.0, 5.0, 6.0], None, None),
            1 => col.typed::<Int64Type>().write_batch(&[7, 9, 11, 13], Some(&[1, 0, 1, 1, 0, 1]), None),
            2 => col.typed::<ByteArrayType>().write_batch(&text(&["u", "v", "u"]), Some(&[1, 1, 0, 1, 0, 0]), None),
            _ => col.typed::<ByteArrayType>().write_batch(&text(&["no", "yes", "no", "yes", "no", "yes"]), None, None),
        }
        .expect("write");
        col.close().expect("close column");
        i += 1;
    }
    rg.close().expect("close row group");
    writer.close().expect("close");
    out
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_bytes_are_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        check_random_bytes(&bytes)?;
    }

    #[test]
    fn random_bytes_behind_file_magic_are_never_a_panic(
        magic in prop::sample::select(vec![&b"PAR1"[..], b"SQLite format 3\0", b"name: x\ndatabase:\n  path: "]),
        body in prop::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend(&body);
        bytes.extend_from_slice(b"PAR1");
        check_random_bytes(&bytes)?;
    }

    #[test]
    fn damaged_parquet_files_fail_clearly(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut bytes = parquet_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        // Sometimes also truncate (keeping the trailing magic so the footer is parsed).
        if cut.index(4) == 0 {
            let keep = cut.index(bytes.len());
            bytes.drain(keep..bytes.len().saturating_sub(8).max(keep));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.parquet");
        std::fs::write(&path, &bytes).expect("write");
        match load_parquet(&path, "y", &[], &LoadOptions::default()) {
            Ok(ds) => {
                assert_sane_dataset(&ds)?;
                if let Err(e) = run(&ds, &quick(2, FinalSize::Fixed(2), 0), &|_| {}, &CancelToken::new()) {
                    prop_assert!(matches!(e, SelectError::NoUsableFeatures { .. } | SelectError::ConstantTarget { .. }), "{e:?}");
                }
            }
            Err(e) => assert_clear_load_error(&e)?,
        }
        if let Err(e) = preview_columns(&path) {
            prop_assert!(matches!(e, SelectError::InvalidDataset { .. }), "{e:?}");
        }
    }

    #[test]
    fn random_dataset_yaml_fails_clearly(
        parts in prop::collection::vec(prop_oneof![
            prop::sample::select(vec![
                "name", "database", "path", "target_column", "tables", "train", "feature_tables",
                "train_features", "id_columns", "problem_type", "regression", "binary", "d.sqlite", "y",
                ":", ": ", " ", "  ", "\n", "- ", "[", "]", "{", "}", ",", "'", "\"", "&a ", "*a", "!!int ",
                "!!binary ", "~", "null", "0x1F", "1e999", "---", "...", "#", "|", ">", "\t", "? ",
            ]).prop_map(str::to_string),
            "\\PC{0,4}",
        ], 0..60),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        // A real database next to the YAML, so a well-formed document gets as far as the table.
        let conn = rusqlite::Connection::open(dir.path().join("d.sqlite")).expect("db");
        conn.execute_batch(
            "CREATE TABLE train (a REAL, y TEXT); INSERT INTO train VALUES (1, 'p'), (2, 'q'), (NULL, 'p'), (4, NULL);",
        )
        .expect("schema");
        drop(conn);
        let path = dir.path().join("d.yaml");
        std::fs::write(&path, parts.concat()).expect("write");
        match load_dataset_yaml(&path, &LoadOptions::default()) {
            Ok(ds) => assert_sane_dataset(&ds)?,
            Err(e) => assert_clear_load_error(&e)?,
        }
    }
}

/// Any option value, mostly in range (so runs happen) with out-of-range and extreme values mixed in.
fn options() -> impl Strategy<Value = SelectOptions> {
    // Mostly lo..hi; sometimes 0, u32::MAX or anything.
    let count = |lo: u32, hi: u32| prop_oneof![20 => lo..hi, 1 => Just(0), 1 => Just(u32::MAX), 1 => any::<u32>()];
    let real = |lo: f64, hi: f64| prop_oneof![20 => lo..hi, 1 => any::<f64>(), 1 => Just(f64::NAN), 1 => Just(f64::INFINITY), 1 => Just(0.0)];
    let filter = (
        prop_oneof![count(1, 40).prop_map(KeepCount::Count), real(0.01, 1.0).prop_map(KeepCount::Fraction)],
        prop_oneof![4 => Just(0.0), 1 => real(0.0, 2.0)],
        real(0.5, 1.0),
        prop::option::of(count(0, 64)),
        any::<bool>(),
        count(0, 40),
    )
        .prop_map(|(keep, min_variance, redundancy_threshold, mi_bins, interactions, pair_candidates)| {
            FilterOptions { keep, min_variance, redundancy_threshold, mi_bins, interactions, pair_candidates }
        });
    let search = (
        (
            count(1, 20),
            count(1, 4),
            prop_oneof![1 => Just(0u32), 8 => 1u32..40],
            real(0.0, 2.0),
            count(1, 30),
            count(1, 30),
            prop::option::of(count(1, 8)),
            count(2, 8),
            real(1e-6, 10.0),
            prop_oneof![Just(SearchReward::Boosted), Just(SearchReward::Ridge)],
            count(20, 200),
            real(0.5, 60.0),
        ),
        count(0, 100),
    )
        .prop_map(
            |(
                (keep, trees, iterations, exploration, width, pool, depth, folds, ridge, reward, rows, max_seconds),
                patience,
            )| {
                SearchOptions {
                    patience,
                    keep,
                    trees,
                    iterations,
                    exploration,
                    width,
                    pool,
                    reward,
                    rows,
                    max_seconds,
                    depth,
                    folds,
                    ridge,
                }
            },
        );
    let size = prop_oneof![
        count(1, 8).prop_map(FinalSize::Fixed),
        (count(1, 4), count(1, 6)).prop_map(|(min, max)| FinalSize::Range { min, max }),
        count(1, 12).prop_map(|max| FinalSize::Auto { max })
    ];
    let outer = prop_oneof![
        Just(OuterValidation::Auto),
        count(2, 6).prop_map(OuterValidation::Folds),
        real(0.05, 0.5).prop_map(OuterValidation::Holdout)
    ];
    let weight = prop_oneof![Just(ClassWeight::None), Just(ClassWeight::Balanced)];
    let evaluate = (size, count(2, 8), count(0, 4), count(0, 6), count(0, 4), outer, weight, real(0.0, 2.0)).prop_map(
        |(size, folds, forest_trees, forest_max_depth, forest_candidates, outer, class_weight, size_tolerance)| {
            EvaluateOptions {
                size,
                folds,
                forest_trees,
                forest_max_depth,
                forest_candidates,
                outer,
                class_weight,
                size_tolerance,
            }
        },
    );
    (any::<u64>(), prop::option::of(count(1, 3)), filter, search, evaluate).prop_map(
        |(seed, threads, filter, search, evaluate)| SelectOptions {
            seed,
            backend: BackendChoice::Cpu,
            threads,
            filter,
            search,
            evaluate,
        },
    )
}

fn small_dataset() -> Dataset {
    let mut text = String::from("id,a,b,c,d,e,y\n");
    for i in 0..30u32 {
        let y = u32::from(i % 3 == 0);
        text.push_str(&format!(
            "{i},{},{},7,{},{},{y}\n",
            i % 5,
            (i * 7) % 11,
            ["u", "v", ""][i as usize % 3],
            y * 2 + i % 2
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.csv");
    std::fs::write(&path, text).expect("write");
    load_csv(&path, "y", &["id"], &LoadOptions::default()).expect("load")
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_options_give_a_report_or_an_option_error(opts in options()) {
        let ds = small_dataset();
        match run(&ds, &opts, &|_| {}, &CancelToken::new()) {
            Ok(report) => assert_sane_report(&report)?,
            Err(SelectError::InvalidOptions { .. }) => {}
            Err(SelectError::NoUsableFeatures { .. }) if opts.filter.min_variance > 0.0 => {}
            Err(e) => prop_assert!(false, "unexpected error for {opts:?}: {e:?}"),
        }
    }
}
