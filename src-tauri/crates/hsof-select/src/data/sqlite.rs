//! SQLite tables, found through HSOF's dataset YAML (`name`, `database.path`, `tables`,
//! `feature_tables`, `target_column`, `id_columns`, `problem_type`, `time_column`,
//! `group_column`).
//!
//! The YAML is read with `serde_norway`, a maintained fork of the deprecated `serde_yaml` with the
//! same API (the `serde_yml` fork was abandoned and is not trusted).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Deserialize;

use super::builder::{Cell, TableBuilder};
use super::{estimate_bytes, Dataset, LoadOptions, ProblemType};
use crate::error::{Result, SelectError};

/// The keys of an HSOF dataset YAML that selection needs; other keys are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct DatasetConfig {
    /// Dataset name.
    pub name: String,
    /// Where the database is.
    pub database: DatabaseConfig,
    /// Raw tables by role (`train`, `test`, ...).
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    /// Engineered feature tables by role (`train_features`, ...).
    #[serde(default)]
    pub feature_tables: BTreeMap<String, String>,
    /// The target column.
    pub target_column: String,
    /// Columns that identify rows and are not features.
    #[serde(default)]
    pub id_columns: Vec<String>,
    /// `binary_classification`, `multiclass_classification` or `regression`; absent detects it.
    #[serde(default)]
    pub problem_type: Option<String>,
    /// Rows in time: validation scores on later rows than it trained on.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Rows in groups: validation keeps each group on one side of a split.
    #[serde(default)]
    pub group_column: Option<String>,
}

/// The `database` block of a dataset YAML.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseConfig {
    /// Path of the SQLite file; relative paths are relative to the YAML's folder.
    pub path: String,
}

/// Loads the training table of an HSOF dataset YAML.
///
/// Table rule: `feature_tables.train_features` when that table exists in the database, otherwise
/// `tables.train`. The YAML's `problem_type` overrides [`LoadOptions::problem`] when present.
pub fn load_dataset_yaml(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SelectError::io(path, e))?;
    let config: DatasetConfig = serde_norway::from_str(&text).map_err(|e| {
        SelectError::invalid(&shown, e.location().map(|l| l.line() as u64), format!("not a dataset YAML: {e}"))
    })?;
    let db_path = resolve(path, &config.database.path);
    let mut opts = opts.clone();
    // The YAML's time / group column unless the caller named one.
    if opts.time_column.is_none() && opts.group_column.is_none() {
        opts.time_column = config.time_column.clone().filter(|c| !c.is_empty());
        opts.group_column = config.group_column.clone().filter(|c| !c.is_empty());
    }
    if let Some(p) = config.problem_type.as_deref() {
        opts.problem = Some(
            ProblemType::parse(p)
                .ok_or_else(|| SelectError::invalid(&shown, None, format!("unknown problem_type `{p}`")))?,
        );
    }
    let conn = open(&db_path)?;
    let feature_table = match config.feature_tables.get("train_features") {
        Some(t) if table_exists(&conn, &db_path, t)? => Some(t),
        _ => None,
    };
    let table = feature_table.or_else(|| config.tables.get("train")).ok_or_else(|| {
        SelectError::invalid(&shown, None, "neither feature_tables.train_features nor tables.train names a table")
    })?;
    let ids: Vec<&str> = config.id_columns.iter().map(String::as_str).collect();
    let mut ds = read_table(&conn, &db_path, table, &config.target_column, &ids, &opts)?;
    ds.name = config.name;
    Ok(ds)
}

/// Loads one table of a SQLite database.
pub fn load_sqlite_table(
    db_path: &Path,
    table: &str,
    target: &str,
    id_columns: &[&str],
    opts: &LoadOptions,
) -> Result<Dataset> {
    let conn = open(db_path)?;
    read_table(&conn, db_path, table, target, id_columns, opts)
}

fn resolve(yaml: &Path, db: &str) -> PathBuf {
    let p = PathBuf::from(db);
    if p.is_relative() {
        yaml.parent().map(|d| d.join(&p)).unwrap_or(p)
    } else {
        p
    }
}

fn open(db_path: &Path) -> Result<Connection> {
    if !db_path.exists() {
        return Err(SelectError::io(db_path, std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| SelectError::invalid(&db_path.display().to_string(), None, e.to_string()))
}

/// Whether `table` is a table or view; an error when the file is not a readable database at all.
fn table_exists(conn: &Connection, db_path: &Path, table: &str) -> Result<bool> {
    conn.query_row("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1", [table], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(|e| {
            SelectError::invalid(&db_path.display().to_string(), None, format!("not a readable SQLite database: {e}"))
        })
}

fn read_table(
    conn: &Connection,
    db_path: &Path,
    table: &str,
    target: &str,
    id_columns: &[&str],
    opts: &LoadOptions,
) -> Result<Dataset> {
    let source = format!("{}#{table}", db_path.display());
    let sql_err = |e: rusqlite::Error| SelectError::invalid(&source, None, e.to_string());
    if !table_exists(conn, db_path, table)? {
        return Err(SelectError::invalid(&source, None, format!("table `{table}` does not exist")));
    }
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    let rows: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {quoted}"), [], |r| r.get(0)).map_err(sql_err)?;
    let mut stmt = conn.prepare(&format!("SELECT * FROM {quoted}")).map_err(sql_err)?;
    let headers: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let estimated = estimate_bytes(u64::try_from(rows).unwrap_or(0), headers.len() as u64);
    if estimated > opts.memory_limit_bytes {
        return Err(SelectError::TooLarge {
            path: source,
            estimated_bytes: estimated,
            limit_bytes: opts.memory_limit_bytes,
        });
    }
    let mut builder = TableBuilder::new(&source, headers, target, id_columns, opts)?;
    let n = builder.n_columns();
    let mut result = stmt.query([]).map_err(sql_err)?;
    while let Some(row) = result.next().map_err(sql_err)? {
        for i in 0..n {
            let cell = match row.get_ref(i).map_err(sql_err)? {
                ValueRef::Null => Cell::Missing,
                ValueRef::Integer(v) => Cell::Num(v as f64),
                ValueRef::Real(v) => Cell::Num(v),
                ValueRef::Text(t) => Cell::Text(std::str::from_utf8(t).unwrap_or("")),
                ValueRef::Blob(_) => Cell::Missing,
            };
            builder.push(i, cell);
        }
        builder.end_row();
    }
    builder.finish(table, &source)
}
