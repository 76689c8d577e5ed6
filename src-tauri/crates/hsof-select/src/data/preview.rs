//! A cheap look at a file's columns for the UI: name, inferred type, missing count and first values,
//! from the first [`PREVIEW_ROWS`] rows only.

use std::path::Path;

use parquet::file::reader::FileReader;
use serde::{Deserialize, Serialize};

use super::is_missing_token;
use super::parquet::{guard, open_reader, parquet_error};
use crate::error::{Result, SelectError};

/// Rows read by [`preview_columns`].
pub const PREVIEW_ROWS: usize = 1000;
/// First values kept per column.
const FIRST_VALUES: usize = 5;

/// What a column looks like in the preview rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Every present value parses as a number.
    Numeric,
    /// Some value is not a number.
    Text,
    /// No value present in the preview rows.
    Empty,
}

/// One column of the preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ColumnPreview {
    /// Column name.
    pub name: String,
    /// Inferred kind.
    pub kind: ColumnKind,
    /// Missing cells among the rows scanned.
    pub missing: u32,
    /// Distinct present values among the rows scanned.
    pub distinct: u32,
    /// The first few values, as text (missing as "").
    pub first_values: Vec<String>,
    /// Rows scanned.
    pub rows_scanned: u32,
}

/// Previews a `.csv` or `.parquet` file (chosen by extension).
pub fn preview_columns(path: &Path) -> Result<Vec<ColumnPreview>> {
    let shown = path.display().to_string();
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let (headers, rows) = match ext.as_str() {
        "parquet" | "pq" => read_parquet(path, &shown)?,
        _ => read_csv(path, &shown)?,
    };
    Ok(headers
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let cells: Vec<&str> = rows.iter().map(|r| r.get(i).map(String::as_str).unwrap_or("")).collect();
            let present: Vec<&str> = cells.iter().copied().filter(|c| !is_missing_token(c)).collect();
            let mut distinct: Vec<&str> = present.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let kind = if present.is_empty() {
                ColumnKind::Empty
            } else if present.iter().all(|c| c.trim().parse::<f64>().is_ok()) {
                ColumnKind::Numeric
            } else {
                ColumnKind::Text
            };
            ColumnPreview {
                name,
                kind,
                missing: (cells.len() - present.len()) as u32,
                distinct: distinct.len() as u32,
                first_values: cells.iter().take(FIRST_VALUES).map(|c| c.to_string()).collect(),
                rows_scanned: cells.len() as u32,
            }
        })
        .collect())
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn read_csv(path: &Path, shown: &str) -> Result<Table> {
    let file = std::fs::File::open(path).map_err(|e| SelectError::io(path, e))?;
    let mut reader = ::csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| SelectError::invalid(shown, Some(1), e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.is_empty() {
        return Err(SelectError::invalid(shown, None, "the file is empty"));
    }
    let mut rows = Vec::new();
    for rec in reader.records().take(PREVIEW_ROWS) {
        let rec = rec.map_err(|e| SelectError::invalid(shown, e.position().map(|p| p.line()), e.to_string()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((headers, rows))
}

fn read_parquet(path: &Path, shown: &str) -> Result<Table> {
    let reader = open_reader(path, shown)?;
    let schema = reader.metadata().file_metadata().schema_descr().root_schema().get_fields().to_vec();
    let headers = schema.iter().map(|f| f.name().to_string()).collect();
    let mut rows = Vec::new();
    let mut iter = guard(shown, || reader.get_row_iter(None).map_err(|e| parquet_error(shown, None, e)))?;
    while rows.len() < PREVIEW_ROWS {
        let Some(row) = guard(shown, || Ok(iter.next()))? else { break };
        let row = row.map_err(|e| parquet_error(shown, None, e))?;
        rows.push(
            row.get_column_iter()
                .map(|(_, f)| match f {
                    parquet::record::Field::Null => String::new(),
                    parquet::record::Field::Str(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        );
    }
    Ok((headers, rows))
}
