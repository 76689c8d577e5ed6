//! Loading CSV, Parquet and SQLite (through a dataset YAML), preparation rules, and every kind of bad
//! input giving a typed error rather than a panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hsof_select::{
    load_csv, load_dataset_yaml, load_parquet, preview_columns, ColumnKind, Dataset, LoadOptions, ProblemType,
    SelectError, Target,
};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p
}

fn csv(text: &str) -> Result<Dataset, SelectError> {
    let dir = tempfile::tempdir().expect("tempdir");
    load_csv(&write(dir.path(), "d.csv", text), "y", &["id"], &LoadOptions::default())
}

fn invalid_reason(r: Result<Dataset, SelectError>) -> (Option<u64>, String) {
    match r {
        Err(SelectError::InvalidDataset { line, reason, .. }) => (line, reason),
        other => panic!("expected InvalidDataset, got {other:?}"),
    }
}

#[test]
fn empty_file_is_invalid() {
    let (_, reason) = invalid_reason(csv(""));
    assert!(reason.contains("empty"), "{reason}");
}

#[test]
fn header_without_rows_is_invalid() {
    let (line, reason) = invalid_reason(csv("a,b,y\n"));
    assert_eq!(line, Some(2));
    assert!(reason.contains("no data rows"), "{reason}");
}

#[test]
fn a_single_column_is_invalid() {
    let (_, reason) = invalid_reason(csv("y\n1\n0\n"));
    assert!(reason.contains("only one column"), "{reason}");
}

#[test]
fn missing_target_names_the_columns_found() {
    match csv("a,b\n1,2\n") {
        Err(e @ SelectError::TargetMissing { .. }) => assert!(e.to_string().contains("a, b"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn constant_target_is_refused() {
    assert!(matches!(csv("a,y\n1,x\n2,x\n3,\n"), Err(SelectError::ConstantTarget { .. })));
    assert!(matches!(csv("a,y\n1,2.5\n2,2.5\n"), Err(SelectError::ConstantTarget { .. })));
}

#[test]
fn duplicate_column_names_are_refused_on_line_1() {
    let (line, reason) = invalid_reason(csv("a,a,y\n1,2,0\n"));
    assert_eq!(line, Some(1));
    assert!(reason.contains("duplicate column name `a`"), "{reason}");
}

#[test]
fn ragged_rows_name_their_line() {
    let (line, reason) = invalid_reason(csv("a,b,y\n1,2,0\n1,2\n"));
    assert_eq!(line, Some(3));
    assert!(reason.contains("2 fields"), "{reason}");
}

#[test]
fn all_missing_and_infinite_columns_are_dropped_or_imputed_and_counted() {
    let ds = csv("a,allnan,inf,y\n1,NaN,inf,0\n2,,1,1\n3,NA,-inf,0\n10,nan,3,1\n").expect("load");
    assert_eq!(ds.feature_names, vec!["a", "inf"]);
    assert_eq!(ds.prep.all_missing_columns, vec!["allnan"]);
    assert_eq!(ds.prep.non_finite_values, 2);
    assert_eq!(ds.prep.missing_values, 2);
    // Median of the finite values {1, 3} is imputed (upper median of two).
    assert_eq!(ds.features.column(1), &[3.0, 1.0, 3.0, 3.0]);
    assert!(ds.features.values.iter().all(|v| v.is_finite()));
    assert!(matches!(csv("a,y\nNaN,0\ninf,1\n"), Err(SelectError::NoUsableFeatures { .. })));
}

#[test]
fn rows_without_a_target_are_dropped_and_counted() {
    let ds = csv("a,y\n1,0\n2,\n3,1\n4,0\n").expect("load");
    assert_eq!(ds.n_rows(), 3);
    assert_eq!(ds.prep.rows_read, 4);
    assert_eq!(ds.prep.rows_dropped_missing_target, 1);
}

#[test]
fn text_features_are_one_hot_encoded_or_skipped_by_cardinality() {
    let mut text = String::from("id,colour,name,y\n");
    for i in 0..40 {
        text.push_str(&format!("{i},{},person{i},{}\n", ["red", "green", ""][i % 3], i % 2));
    }
    let ds = csv(&text).expect("load");
    assert_eq!(ds.feature_names, vec!["colour=red", "colour=green"]);
    assert_eq!(ds.prep.encoded_columns[0].levels, 2);
    let skipped: Vec<&str> = ds.prep.skipped_columns.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(skipped, vec!["id", "name"]);
    assert_eq!(ds.prep.missing_values, 13);
    assert_eq!(&ds.features.column(0)[..3], &[1.0, 0.0, 0.0]);
}

#[test]
fn problem_type_is_detected_from_the_target() {
    let text_target = csv("a,y\n1,cat\n2,dog\n3,cat\n").expect("load");
    assert_eq!(text_target.problem, ProblemType::BinaryClassification);
    assert_eq!(text_target.target, Target::Classes { codes: vec![0, 1, 0], labels: vec!["cat".into(), "dog".into()] });
    let three = csv("a,y\n1,1\n2,2\n3,3\n").expect("load");
    assert_eq!(three.problem, ProblemType::MulticlassClassification);
    let continuous = csv("a,y\n1,0.5\n2,1.5\n3,2.25\n").expect("load");
    assert_eq!(continuous.problem, ProblemType::Regression);
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "r.csv", "a,y\n1,1\n2,2\n3,3\n");
    let opts = LoadOptions { problem: Some(ProblemType::Regression), ..LoadOptions::default() };
    assert_eq!(load_csv(&p, "y", &[], &opts).expect("load").problem, ProblemType::Regression);
    let p = write(dir.path(), "bad.csv", "a,y\n1,x\n2,z\n");
    assert!(matches!(load_csv(&p, "y", &[], &opts), Err(SelectError::InvalidDataset { .. })));
}

#[test]
fn a_file_larger_than_allowed_memory_is_refused_with_an_estimate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("a,b,c,y\n");
    for i in 0..5000 {
        text.push_str(&format!("{i},{},{},{}\n", i * 2, i * 3, i % 2));
    }
    let p = write(dir.path(), "big.csv", &text);
    let opts = LoadOptions { memory_limit_bytes: 64 * 1024, ..LoadOptions::default() };
    match load_csv(&p, "y", &[], &opts) {
        Err(e @ SelectError::TooLarge { .. }) => {
            let SelectError::TooLarge { estimated_bytes, limit_bytes, .. } = &e else { unreachable!() };
            // 5000 rows x 4 columns x 8 bytes, estimated from the first lines.
            assert!((120_000..=200_000).contains(estimated_bytes), "{estimated_bytes}");
            assert_eq!(*limit_bytes, 64 * 1024);
            assert!(e.to_string().contains("MiB"), "{e}");
            assert_eq!(e.code(), "too_large");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let r = load_csv(Path::new("/nonexistent/x.csv"), "y", &[], &LoadOptions::default());
    assert!(matches!(r, Err(SelectError::Io { .. })));
}

#[test]
fn parquet_loads_like_the_same_csv() {
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("d.parquet");
    let schema = parse_message_type("message d { REQUIRED DOUBLE a; OPTIONAL DOUBLE b; REQUIRED BINARY y (UTF8); }")
        .expect("schema");
    let file = std::fs::File::create(&path).expect("create");
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(WriterProperties::builder().build()))
        .expect("writer");
    let mut rg = writer.next_row_group().expect("row group");
    let mut i = 0;
    while let Some(mut col) = rg.next_column().expect("column") {
        match i {
            0 => col.typed::<DoubleType>().write_batch(&[1.0, 2.0, 3.0, 4.0], None, None).map(|_| ()),
            1 => col.typed::<DoubleType>().write_batch(&[5.0, 7.0, 9.0], Some(&[1, 0, 1, 1]), None).map(|_| ()),
            _ => {
                let labels: Vec<ByteArray> = ["no", "yes", "no", "yes"].iter().map(|s| ByteArray::from(*s)).collect();
                col.typed::<ByteArrayType>().write_batch(&labels, None, None).map(|_| ())
            }
        }
        .expect("write");
        col.close().expect("close column");
        i += 1;
    }
    rg.close().expect("close row group");
    writer.close().expect("close");

    let ds = load_parquet(&path, "y", &[], &LoadOptions::default()).expect("load parquet");
    let same = csv("a,b,y\n1,5,no\n2,,yes\n3,7,no\n4,9,yes\n").expect("load csv");
    assert_eq!(ds.features, same.features);
    assert_eq!(ds.target, same.target);
    assert_eq!(ds.prep.missing_values, 1);
    let preview = preview_columns(&path).expect("preview");
    assert_eq!(preview[1].missing, 1);
    assert_eq!(preview[2].kind, ColumnKind::Text);
}

/// Files pandas (through pyarrow) and polars wrote, with each codec they offer
/// (`tests/fixtures/make_parquet.py`): the same table reads the same from all of them —
/// dictionary-encoded categoricals, nullable floats, booleans, and timestamps in seconds
/// whatever unit the writer stored.
#[test]
fn parquet_written_by_pandas_and_polars_loads_with_every_codec() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut first: Option<Dataset> = None;
    for writer in ["pandas", "polars"] {
        for codec in ["snappy", "gzip", "zstd", "lz4"] {
            let path = dir.join(format!("{writer}-{codec}.parquet"));
            let ds = load_parquet(&path, "y", &[], &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(ds.n_rows(), 48, "{writer} {codec}");
            assert_eq!(ds.prep.missing_values, 7, "{writer} {codec}: the nulls of `temperature`");
            for name in ["temperature", "restarts", "degraded", "seen"] {
                assert!(ds.feature_names.iter().any(|f| f == name), "{writer} {codec}: {:?}", ds.feature_names);
            }
            assert!(
                ds.feature_names.iter().any(|f| f.contains("zone")),
                "the categorical is encoded: {:?}",
                ds.feature_names
            );
            let seen = ds.feature_names.iter().position(|f| f == "seen").expect("seen");
            // Features are f32: seconds since 1970 are kept to about two minutes.
            let t0 = f64::from(ds.features.column(seen)[0]);
            assert!((t0 - 1_793_491_200.0).abs() <= 256.0, "{writer} {codec}: 2026-11-01 in seconds, read {t0}");
            match &first {
                None => first = Some(ds),
                Some(f) => {
                    assert_eq!(ds.feature_names, f.feature_names, "{writer} {codec}");
                    assert_eq!(ds.features, f.features, "{writer} {codec}: the same values");
                    assert_eq!(ds.target, f.target, "{writer} {codec}");
                }
            }
        }
    }
}

#[test]
fn dataset_yaml_loads_the_feature_table_from_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("shop.sqlite");
    let conn = rusqlite::Connection::open(&db).expect("db");
    conn.execute_batch(
        "CREATE TABLE train (customer_id INTEGER, visits INTEGER, spend REAL, churned TEXT);
         CREATE TABLE train_features (customer_id INTEGER, visits INTEGER, spend REAL, region TEXT, churned TEXT);
         INSERT INTO train_features VALUES (1, 3, 10.5, 'north', 'no'), (2, 1, NULL, 'south', 'yes'),
                                           (3, 7, 99.0, 'north', 'no'), (4, 0, 1.0, NULL, 'yes');",
    )
    .expect("schema");
    drop(conn);
    let yaml = write(
        dir.path(),
        "shop.yaml",
        "name: shop\ndescription: ''\ndatabase:\n  backend: sqlite\n  path: shop.sqlite\ntables:\n  train: train\n\
         feature_tables:\n  train_features: train_features\nproblem_type: binary_classification\n\
         target_column: churned\nid_columns:\n- customer_id\ntags: []\n",
    );
    let ds = load_dataset_yaml(&yaml, &LoadOptions::default()).expect("load yaml");
    assert_eq!(ds.name, "shop");
    assert!(ds.source.ends_with("shop.sqlite#train_features"), "{}", ds.source);
    assert_eq!(ds.feature_names, vec!["visits", "spend", "region=north", "region=south"]);
    assert_eq!(ds.problem, ProblemType::BinaryClassification);
    assert_eq!(ds.prep.missing_values, 2);

    let bad = write(dir.path(), "bad.yaml", "name: x\ndatabase: {path: nope.sqlite}\ntarget_column: y\n");
    assert!(matches!(load_dataset_yaml(&bad, &LoadOptions::default()), Err(SelectError::Io { .. })));
    let not_yaml = write(dir.path(), "junk.yaml", "name: [unclosed\n");
    assert!(matches!(load_dataset_yaml(&not_yaml, &LoadOptions::default()), Err(SelectError::InvalidDataset { .. })));
}

#[test]
fn preview_reports_types_missing_and_first_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "p.csv", "a,b,c\n1,x,\n2,,\n3.5,y,\n");
    let cols = preview_columns(&p).expect("preview");
    assert_eq!(
        cols.iter().map(|c| c.kind).collect::<Vec<_>>(),
        vec![ColumnKind::Numeric, ColumnKind::Text, ColumnKind::Empty]
    );
    assert_eq!(cols[1].missing, 1);
    assert_eq!(cols[0].first_values, vec!["1", "2", "3.5"]);
    assert_eq!(cols[0].rows_scanned, 3);
}
