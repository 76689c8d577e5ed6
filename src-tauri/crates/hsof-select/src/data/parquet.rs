//! Parquet loading through the `parquet` crate's row API. Only flat files are supported (nested
//! groups, lists and maps are refused); the crate is built without Arrow and with Snappy as the only
//! codec, which covers the files pandas and polars write by default.

use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use super::builder::{Cell, TableBuilder};
use super::{estimate_bytes, Dataset, LoadOptions};
use crate::error::{Result, SelectError};

/// Loads a flat Parquet file; see [`crate::load_csv`] for `target`, `id_columns` and the memory check
/// (here rows and columns come from the file's metadata).
pub fn load_parquet(path: &Path, target: &str, id_columns: &[&str], opts: &LoadOptions) -> Result<Dataset> {
    let shown = path.display().to_string();
    let reader = open_reader(path, &shown)?;
    let meta = reader.metadata().file_metadata();
    let headers: Vec<String> =
        meta.schema_descr().root_schema().get_fields().iter().map(|f| f.name().to_string()).collect();
    let rows = u64::try_from(meta.num_rows()).unwrap_or(0);
    let estimated = estimate_bytes(rows, headers.len() as u64);
    if estimated > opts.memory_limit_bytes {
        return Err(SelectError::TooLarge {
            path: shown,
            estimated_bytes: estimated,
            limit_bytes: opts.memory_limit_bytes,
        });
    }
    let mut builder = TableBuilder::new(&shown, headers, target, id_columns, opts)?;
    let mut iter = guard(&shown, || reader.get_row_iter(None).map_err(|e| parquet_error(&shown, None, e)))?;
    for r in 0u64.. {
        let Some(row) = guard(&shown, || Ok(iter.next()))? else { break };
        let row = row.map_err(|e| parquet_error(&shown, Some(r + 1), e))?;
        let mut text;
        for (i, (name, field)) in row.get_column_iter().enumerate() {
            if i >= builder.n_columns() {
                break;
            }
            let cell = match field {
                Field::Null => Cell::Missing,
                Field::Bool(b) => Cell::Num(f64::from(u8::from(*b))),
                Field::Byte(v) => Cell::Num(f64::from(*v)),
                Field::Short(v) => Cell::Num(f64::from(*v)),
                Field::Int(v) => Cell::Num(f64::from(*v)),
                Field::Long(v) => Cell::Num(*v as f64),
                Field::UByte(v) => Cell::Num(f64::from(*v)),
                Field::UShort(v) => Cell::Num(f64::from(*v)),
                Field::UInt(v) => Cell::Num(f64::from(*v)),
                Field::ULong(v) => Cell::Num(*v as f64),
                Field::Float16(v) => Cell::Num(f64::from(*v)),
                Field::Float(v) => Cell::Num(f64::from(*v)),
                Field::Double(v) => Cell::Num(*v),
                Field::Date(v) => Cell::Num(f64::from(*v)),
                Field::TimestampMillis(v) | Field::TimestampMicros(v) | Field::TimeMicros(v) => Cell::Num(*v as f64),
                Field::TimeMillis(v) => Cell::Num(f64::from(*v)),
                Field::Str(s) => Cell::Text(s),
                Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => {
                    return Err(SelectError::invalid(
                        &shown,
                        Some(r + 1),
                        format!("column `{name}` is nested; only flat tables are supported"),
                    ));
                }
                other => {
                    text = other.to_string();
                    Cell::Text(&text)
                }
            };
            builder.push(i, cell);
        }
        builder.end_row();
    }
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    builder.finish(&name, &shown)
}

/// Opens a Parquet file and checks the parts of its metadata that the `parquet` crate's row reader
/// trusts (it asserts on a negative column offset, for one), so a damaged file is an error.
pub(crate) fn open_reader(path: &Path, shown: &str) -> Result<SerializedFileReader<File>> {
    let file = File::open(path).map_err(|e| SelectError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| SelectError::io(path, e))?.len();
    let reader = guard(shown, || SerializedFileReader::new(file).map_err(|e| parquet_error(shown, None, e)))?;
    let meta = reader.metadata();
    let damaged = |what: String| SelectError::invalid(shown, None, format!("damaged Parquet file: {what}"));
    if meta.file_metadata().num_rows() < 0 {
        return Err(damaged(format!("the footer says {} rows", meta.file_metadata().num_rows())));
    }
    for (g, rg) in meta.row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(damaged(format!("row group {g} says {} rows", rg.num_rows())));
        }
        for c in rg.columns() {
            let start = c.dictionary_page_offset().unwrap_or_else(|| c.data_page_offset());
            let len = c.compressed_size();
            let inside = start >= 0 && len >= 0 && (start as u64).saturating_add(len as u64) <= file_len;
            if !inside {
                return Err(damaged(format!(
                    "column `{}` of row group {g} points outside the file (offset {start}, {len} bytes)",
                    c.column_path()
                )));
            }
        }
    }
    Ok(reader)
}

/// Runs a call into the `parquet` crate, turning a panic on a damaged file (an assertion deep in
/// its decoder) into an error naming the file.
pub(crate) fn guard<T>(shown: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no detail".into());
        Err(SelectError::invalid(shown, None, format!("damaged Parquet file: the reader gave up ({detail})")))
    })
}

pub(crate) fn parquet_error(shown: &str, row: Option<u64>, e: parquet::errors::ParquetError) -> SelectError {
    SelectError::invalid(shown, row, format!("not a readable Parquet file: {e}"))
}
