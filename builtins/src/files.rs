//! Reading and writing CSV and Parquet files.
//!
//! Parquet files are written deterministically: the table is first made one contiguous chunk
//! (so the row groups depend on the row count alone, not on how the table was computed), with
//! fixed settings (zstd at its default level, row groups of [`ROW_GROUP_SIZE`] rows, data pages of 1 MiB,
//! default statistics) and no key-value metadata, so the same table always gives the same
//! bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flowc_runtime::builtin::BuiltinError;
use polars::prelude::*;
use polars_io::csv::read::CsvReadOptions;
use polars_io::csv::write::CsvWriter;
use polars_io::parquet::read::ParquetReader;
use polars_io::parquet::write::{ParquetCompression, ParquetWriter, StatisticsOptions};
use polars_io::{SerReader, SerWriter};

use crate::dates;
use crate::error::{err, READ_FAILED, UNPARSABLE_VALUE, WRITE_FAILED};
use crate::schema::{conform, ColType, Declared, Side};

/// Rows per Parquet row group.
pub const ROW_GROUP_SIZE: usize = 262_144;
/// Bytes per Parquet data page (before compression).
const DATA_PAGE_SIZE: usize = 1 << 20;

/// Reads a Parquet file as it is.
pub fn read_parquet(path: &Path) -> Result<DataFrame, BuiltinError> {
    let file = File::open(path).map_err(|e| {
        err(
            READ_FAILED,
            format!("cannot open Parquet file `{}`: {e}", path.display()),
        )
    })?;
    ParquetReader::new(file).finish().map_err(|e| {
        err(
            READ_FAILED,
            format!("cannot read Parquet file `{}`: {e}", path.display()),
        )
    })
}

/// Reads a table input (a Parquet file) and conforms it to its declared columns.
pub fn read_table(
    path: &Path,
    decl: Option<&Declared>,
    what: &str,
) -> Result<DataFrame, BuiltinError> {
    let df = read_parquet(path)?;
    match decl {
        Some(d) => conform(&df, d, Side::Input(what), &[]),
        None => Ok(df),
    }
}

/// The one-byte delimiter of a `delimiter` parameter.
pub fn delimiter_byte(step: &str, delimiter: &str) -> Result<u8, BuiltinError> {
    match delimiter.as_bytes() {
        [b] if *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
        _ => Err(err(
            crate::error::INVALID_VALUE,
            format!(
                "{step}: `delimiter` must be one ASCII character other than a quote or a line \
                 break, got {delimiter:?}"
            ),
        )),
    }
}

/// Reads a CSV file with a header line into the declared columns: every field is read as
/// text, then parsed as the column's declared type; empty fields are nulls.
pub fn read_csv(path: &Path, delimiter: u8, decl: &Declared) -> Result<DataFrame, BuiltinError> {
    let what = format!("CSV file `{}`", path.display());
    if !path.is_file() {
        return Err(err(
            READ_FAILED,
            format!("cannot open {what}: no such file"),
        ));
    }
    let raw = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .map_parse_options(|p| p.with_separator(delimiter).with_missing_is_null(true))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| err(READ_FAILED, format!("cannot read {what}: {e}")))?;
    let mut cols = Vec::with_capacity(decl.columns.len());
    for c in &decl.columns {
        // A missing column is reported by `conform` below, with the file's columns.
        let Ok(col) = raw.column(&c.name) else {
            continue;
        };
        let text = col
            .str()
            .map_err(|e| err(READ_FAILED, format!("cannot read {what}: {e}")))?;
        cols.push(parse_text(text, c.ty, &c.name, &what)?);
    }
    let parsed = DataFrame::new(raw.height(), cols)
        .map_err(|e| err(READ_FAILED, format!("cannot read {what}: {e}")))?;
    conform(&parsed, decl, Side::Input(&what), &[])
}

/// Parses a text column as `ty`.
fn parse_text(
    text: &StringChunked,
    ty: ColType,
    name: &str,
    what: &str,
) -> Result<Column, BuiltinError> {
    let bad = |row: usize, v: &str| {
        err(
            UNPARSABLE_VALUE,
            format!(
                "{what}: column `{name}` is declared as {}, but line {} holds {v:?}",
                ty.name(),
                row + 2
            ),
        )
    };
    fn field(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|s| !s.is_empty())
    }
    let name = PlSmallStr::from(name);
    Ok(match ty {
        ColType::Str => {
            let v: Vec<Option<&str>> = text.iter().map(|v| v.filter(|s| !s.is_empty())).collect();
            Column::new(name, v)
        }
        ColType::Int => {
            let mut v = Vec::with_capacity(text.len());
            for (row, s) in text.iter().enumerate() {
                v.push(match field(s) {
                    None => None,
                    Some(s) => Some(s.parse::<i64>().map_err(|_| bad(row, s))?),
                });
            }
            Column::new(name, v)
        }
        ColType::Float => {
            let mut v = Vec::with_capacity(text.len());
            for (row, s) in text.iter().enumerate() {
                v.push(match field(s) {
                    None => None,
                    Some(s) => Some(s.parse::<f64>().map_err(|_| bad(row, s))?),
                });
            }
            Column::new(name, v)
        }
        ColType::Bool => {
            let mut v = Vec::with_capacity(text.len());
            for (row, s) in text.iter().enumerate() {
                v.push(match field(s) {
                    None => None,
                    Some(s) => Some(match s.to_ascii_lowercase().as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(bad(row, s)),
                    }),
                });
            }
            Column::new(name, v)
        }
        ColType::Date => {
            let mut v = Vec::with_capacity(text.len());
            for (row, s) in text.iter().enumerate() {
                v.push(match field(s) {
                    None => None,
                    Some(s) => Some(dates::parse(s).ok_or_else(|| bad(row, s))?),
                });
            }
            Column::new(name, v)
                .cast(&DataType::Date)
                .map_err(|e| err(UNPARSABLE_VALUE, format!("{what}: {e}")))?
        }
    })
}

fn create(path: &Path) -> Result<BufWriter<File>, BuiltinError> {
    File::create(path).map(BufWriter::new).map_err(|e| {
        err(
            WRITE_FAILED,
            format!("cannot create `{}`: {e}", path.display()),
        )
    })
}

fn finish_file(mut w: BufWriter<File>, path: &Path) -> Result<(), BuiltinError> {
    w.flush().and_then(|_| w.get_ref().sync_all()).map_err(|e| {
        err(
            WRITE_FAILED,
            format!("cannot write `{}`: {e}", path.display()),
        )
    })
}

/// Writes a table as a Parquet file, deterministically (see the module documentation).
pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<(), BuiltinError> {
    let mut df = df.clone();
    df.rechunk_mut();
    let mut w = create(path)?;
    ParquetWriter::new(&mut w)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::default())
        .with_row_group_size(Some(ROW_GROUP_SIZE))
        .with_data_page_size(Some(DATA_PAGE_SIZE))
        .with_key_value_metadata(None)
        .finish(&mut df)
        .map_err(|e| {
            err(
                WRITE_FAILED,
                format!("cannot write `{}`: {e}", path.display()),
            )
        })?;
    finish_file(w, path)
}

/// Writes a table as a CSV file with a header line; nulls are empty fields, dates
/// `YYYY-MM-DD`.
pub fn write_csv(df: &DataFrame, path: &Path, delimiter: u8) -> Result<(), BuiltinError> {
    let mut df = df.clone();
    let mut w = create(path)?;
    CsvWriter::new(&mut w)
        .include_header(true)
        .with_separator(delimiter)
        .finish(&mut df)
        .map_err(|e| {
            err(
                WRITE_FAILED,
                format!("cannot write `{}`: {e}", path.display()),
            )
        })?;
    finish_file(w, path)
}

/// Copies a written file to a path named by the user, creating its folder.
pub fn copy_to(from: &Path, to: &Path) -> Result<(), BuiltinError> {
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            err(
                WRITE_FAILED,
                format!("cannot create the folder `{}`: {e}", dir.display()),
            )
        })?;
    }
    std::fs::copy(from, to).map(|_| ()).map_err(|e| {
        err(
            WRITE_FAILED,
            format!("cannot write `{}`: {e}", to.display()),
        )
    })
}
