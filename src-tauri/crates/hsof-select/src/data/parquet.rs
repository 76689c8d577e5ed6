//! Parquet loading through the `parquet` crate's row API. Only flat files are supported (nested
//! groups, lists and maps are refused); the crate is built without Arrow and with Snappy as the only
//! codec, which covers the files pandas and polars write by default.

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
    let file = std::fs::File::open(path).map_err(|e| SelectError::io(path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| SelectError::invalid(&shown, None, e.to_string()))?;
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
    let iter = reader.get_row_iter(None).map_err(|e| SelectError::invalid(&shown, None, e.to_string()))?;
    for (r, row) in iter.enumerate() {
        let row = row.map_err(|e| SelectError::invalid(&shown, Some(r as u64 + 1), e.to_string()))?;
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
                        Some(r as u64 + 1),
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
