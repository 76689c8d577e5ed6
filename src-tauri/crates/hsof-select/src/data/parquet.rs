//! Parquet loading, column-wise through Arrow: the `parquet` crate's Arrow reader decodes
//! record batches (Snappy, zstd, LZ4 and gzip pages; dictionary-encoded columns as pandas and
//! polars write categoricals and strings), and `arrow-cast` turns each column into numbers or
//! text once per batch. Only flat files are supported (nested structs, lists and maps are
//! refused, naming the column).

use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::builder::{Cell, TableBuilder};
use super::{estimate_bytes, Dataset, LoadOptions};
use crate::error::{Result, SelectError};

/// Rows decoded at a time.
const BATCH_ROWS: usize = 8192;

/// One column of a batch, ready to hand out cell by cell.
enum Col {
    Num(arrow_array::Float64Array),
    Text(arrow_array::StringArray),
}

fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Struct(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..)
            | DataType::Union(..)
    )
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// Seconds per tick of a temporal type: times, dates and durations become seconds (since the
/// epoch, or of the day), whatever unit the writer chose (pandas nanoseconds, polars
/// microseconds, Spark's dates in days), so the same data reads the same.
fn seconds_per_tick(t: &DataType) -> Option<f64> {
    use arrow_schema::TimeUnit;
    let unit = |u: &TimeUnit| match u {
        TimeUnit::Second => 1.0,
        TimeUnit::Millisecond => 1e-3,
        TimeUnit::Microsecond => 1e-6,
        TimeUnit::Nanosecond => 1e-9,
    };
    match t {
        DataType::Date32 => Some(86_400.0),
        DataType::Date64 => Some(1e-3),
        DataType::Timestamp(u, _) | DataType::Time32(u) | DataType::Time64(u) | DataType::Duration(u) => Some(unit(u)),
        _ => None,
    }
}

/// The column as numbers (numeric, boolean, decimal; temporal ones in seconds) or as text
/// (strings, dictionary-encoded strings, anything else arrow can print).
fn prepare(shown: &str, name: &str, a: &ArrayRef) -> Result<Col> {
    let cast_err = |e: arrow_schema::ArrowError| {
        SelectError::invalid(shown, None, format!("column `{name}` ({}) cannot be read: {e}", a.data_type()))
    };
    if is_text(a.data_type()) {
        let t = arrow_cast::cast(a, &DataType::Utf8).map_err(cast_err)?;
        return Ok(Col::Text(t.as_string::<i32>().clone()));
    }
    if let Some(scale) = seconds_per_tick(a.data_type()) {
        let ticks = match a.data_type() {
            DataType::Date32 | DataType::Time32(_) => arrow_cast::cast(a, &DataType::Int32),
            _ => arrow_cast::cast(a, &DataType::Int64),
        }
        .and_then(|x| arrow_cast::cast(&x, &DataType::Float64))
        .map_err(cast_err)?;
        let secs: arrow_array::Float64Array =
            ticks.as_primitive::<arrow_array::types::Float64Type>().unary(|v| v * scale);
        return Ok(Col::Num(secs));
    }
    match arrow_cast::cast(a, &DataType::Float64) {
        Ok(n) => Ok(Col::Num(n.as_primitive::<arrow_array::types::Float64Type>().clone())),
        Err(_) => {
            let t = arrow_cast::cast(a, &DataType::Utf8).map_err(cast_err)?;
            Ok(Col::Text(t.as_string::<i32>().clone()))
        }
    }
}

/// Loads a flat Parquet file; see [`crate::load_csv`] for `target`, `id_columns` and the memory check
/// (here rows and columns come from the file's metadata).
pub fn load_parquet(path: &Path, target: &str, id_columns: &[&str], opts: &LoadOptions) -> Result<Dataset> {
    let shown = path.display().to_string();
    // The footer is checked first: the decoder trusts offsets a damaged file may get wrong.
    let rows = {
        let reader = open_reader(path, &shown)?;
        u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0)
    };
    let file = File::open(path).map_err(|e| SelectError::io(path, e))?;
    let builder =
        guard(&shown, || ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(&shown, None, e)))?;
    let schema = builder.schema().clone();
    if let Some(f) = schema.fields().iter().find(|f| is_nested(f.data_type())) {
        return Err(SelectError::invalid(
            &shown,
            Some(1),
            format!("column `{}` is nested ({}); only flat tables are supported", f.name(), f.data_type()),
        ));
    }
    let mut headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut builder = builder;
    if let Some(features) = &opts.features {
        // Column-wise: a shard reads its own columns (and the target, ids, group and time).
        let wanted = |h: &String| {
            h == target
                || id_columns.contains(&h.as_str())
                || opts.group_column.as_ref() == Some(h)
                || opts.time_column.as_ref() == Some(h)
                || features.contains(h)
        };
        let keep: Vec<usize> = (0..headers.len()).filter(|i| wanted(&headers[*i])).collect();
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), keep.iter().copied());
        builder = builder.with_projection(mask);
        headers = keep.iter().map(|i| headers[*i].clone()).collect();
    }
    let estimated = estimate_bytes(rows, headers.len() as u64);
    if estimated > opts.memory_limit_bytes {
        return Err(SelectError::TooLarge {
            path: shown,
            estimated_bytes: estimated,
            limit_bytes: opts.memory_limit_bytes,
        });
    }
    let mut table = TableBuilder::new(&shown, headers.clone(), target, id_columns, opts)?;
    let reader =
        guard(&shown, || builder.with_batch_size(BATCH_ROWS).build().map_err(|e| parquet_error(&shown, None, e)))?;
    let mut row = 0u64;
    let mut batches = reader.into_iter();
    loop {
        let Some(batch) = guard(&shown, || Ok(batches.next()))? else { break };
        let batch = batch
            .map_err(|e| SelectError::invalid(&shown, Some(row + 1), format!("not a readable Parquet file: {e}")))?;
        let n = table.n_columns().min(batch.num_columns());
        let cols: Vec<Col> = (0..n).map(|i| prepare(&shown, &headers[i], batch.column(i))).collect::<Result<_>>()?;
        for r in 0..batch.num_rows() {
            for (i, c) in cols.iter().enumerate() {
                let cell = match c {
                    Col::Num(a) if a.is_null(r) => Cell::Missing,
                    Col::Num(a) => Cell::Num(a.value(r)),
                    Col::Text(a) if a.is_null(r) => Cell::Missing,
                    Col::Text(a) => Cell::Text(a.value(r)),
                };
                table.push(i, cell);
            }
            table.end_row();
        }
        row += batch.num_rows() as u64;
    }
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    table.finish(&name, &shown)
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
