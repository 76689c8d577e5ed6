//! CSV loading (comma separated, first row is the header), through the `csv` crate.

use std::io::Read;
use std::path::Path;

use super::builder::{Cell, TableBuilder};
use super::{estimate_bytes, Dataset, LoadOptions};
use crate::error::{Result, SelectError};

/// Loads a CSV file whose first row names the columns.
///
/// `target` names the target column; `id_columns` are left out of the features. Rows must all have
/// the header's number of fields. Before parsing, the memory need is estimated from the file size and
/// the length of the first lines; more than [`LoadOptions::memory_limit_bytes`] gives
/// [`SelectError::TooLarge`].
pub fn load_csv(path: &Path, target: &str, id_columns: &[&str], opts: &LoadOptions) -> Result<Dataset> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| SelectError::io(path, e))?;
    let size = file.metadata().map_err(|e| SelectError::io(path, e))?.len();
    if size == 0 {
        return Err(SelectError::invalid(&shown, None, "the file is empty"));
    }
    check_memory(path, size, opts)?;
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(file);
    let headers: Vec<String> =
        reader.headers().map_err(|e| csv_error(&shown, e))?.iter().map(|h| h.trim().to_string()).collect();
    let mut builder = TableBuilder::new(&shown, headers, target, id_columns, opts)?;
    let mut record = ::csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| csv_error(&shown, e))? {
        for (i, field) in record.iter().enumerate() {
            builder.push(i, Cell::Text(field));
        }
        builder.end_row();
    }
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    builder.finish(&name, &shown)
}

/// Estimates rows from the average length of the first lines (up to 64 KiB) and refuses files whose
/// matrix would not fit in the allowed memory.
fn check_memory(path: &Path, size: u64, opts: &LoadOptions) -> Result<()> {
    let mut head = Vec::with_capacity(1 << 16);
    std::fs::File::open(path)
        .and_then(|f| f.take(1 << 16).read_to_end(&mut head))
        .map_err(|e| SelectError::io(path, e))?;
    let lines = head.iter().filter(|b| **b == b'\n').count().max(1) as u64;
    let cols = head.split(|b| *b == b'\n').next().map(|h| h.iter().filter(|b| **b == b',').count() + 1).unwrap_or(1);
    let avg_line = (head.len() as u64 / lines).max(1);
    let rows = size / avg_line;
    // A shard keeps only its columns (and the target, ids, group and time).
    let cols = opts.features.as_ref().map_or(cols, |f| (f.len() + 4).min(cols));
    let estimated = estimate_bytes(rows, cols as u64);
    if estimated > opts.memory_limit_bytes {
        return Err(SelectError::TooLarge {
            path: path.display().to_string(),
            estimated_bytes: estimated,
            limit_bytes: opts.memory_limit_bytes,
        });
    }
    Ok(())
}

fn csv_error(path: &str, e: ::csv::Error) -> SelectError {
    let line = e.position().map(|p| p.line());
    let reason = match e.kind() {
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("row has {len} fields but the header has {expected_len}")
        }
        ::csv::ErrorKind::Utf8 { .. } => "text is not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    SelectError::invalid(path, line, reason)
}
