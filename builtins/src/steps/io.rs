//! std.io: reading and writing tables, from and to local paths or `s3://` URLs (downloaded to a
//! scratch file before reading, uploaded after writing, with the credentials and endpoint of
//! the environment: `flowc_runtime::store::s3`).

use std::path::{Path, PathBuf};

use flowc_runtime::builtin::BuiltinError;
use flowc_runtime::store::s3::{S3Url, S3};
use flowc_runtime::RunError;

use super::{emit_table, input_table_with, output_decl};
use crate::call::Call;
use crate::error::{err, INVALID_VALUE};
use crate::files;
use crate::schema::{conform_with, Side, Strings};

/// A file format of `table_from_file` and `file_from_table`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

fn format(call: &Call<'_>) -> Result<Format, BuiltinError> {
    match call.opt_str("format")?.unwrap_or("csv") {
        "csv" => Ok(Format::Csv),
        "parquet" => Ok(Format::Parquet),
        other => Err(err(
            INVALID_VALUE,
            format!(
                "{}: `format` must be \"csv\" or \"parquet\", got {other:?}",
                call.step
            ),
        )),
    }
}

/// Reads a file of `format` into the declared columns of the output `table` and writes it.
fn file_to_table(
    call: &Call<'_>,
    path: &Path,
    format: Format,
    delimiter: u8,
) -> Result<(), BuiltinError> {
    let decl = output_decl(call, "table")?;
    let df = match format {
        Format::Csv => files::read_csv(path, delimiter, &decl)?,
        Format::Parquet => {
            // `Enum` columns stay `Enum`s, as in every table a step writes: one code a row, and
            // the labels written once as the column's dictionary.
            let df = files::read_parquet(path)?;
            let what = format!("Parquet file `{}`", path.display());
            conform_with(&df, &decl, Side::Input(&what), &[], Strings::Enums)?
        }
    };
    emit_table(call, "table", df, &[])
}

/// A file the step reads: a local path, or an `s3://` URL's object downloaded to a scratch file,
/// removed when this is dropped.
struct Readable {
    path: PathBuf,
    scratch: bool,
}

impl Drop for Readable {
    fn drop(&mut self) {
        if self.scratch {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// An object storage error as the step's error (its code is the store's, `R02x`).
fn storage_err(e: RunError) -> BuiltinError {
    let mut message = e.message;
    if let Some(h) = e.hint {
        message.push_str(&format!(" ({h})"));
    }
    err(e.code.as_str(), message)
}

/// The file named by parameter `name`: a path (relative ones from the project folder), or an
/// `s3://` URL downloaded first.
fn readable(call: &Call<'_>, name: &str) -> Result<Readable, BuiltinError> {
    let text = call.str(name)?;
    if !S3Url::is_url(text) {
        return Ok(Readable {
            path: call.path(name)?,
            scratch: false,
        });
    }
    let path = call
        .call
        .scratch
        .join(format!(".download-{}", flowc_runtime::util::unique()));
    let file = Readable {
        path,
        scratch: true,
    };
    let s3 = S3::connect(text).map_err(storage_err)?;
    if !s3.get_file("", &file.path).map_err(storage_err)? {
        return Err(err(
            crate::error::READ_FAILED,
            format!("{}: `{text}` does not exist", call.step),
        ));
    }
    Ok(file)
}

/// Puts the written file `written` where parameter `name` says: a path, or an `s3://` URL.
fn deliver(call: &Call<'_>, name: &str, written: &Path) -> Result<(), BuiltinError> {
    let text = call.str(name)?;
    if !S3Url::is_url(text) {
        return files::copy_to(written, &call.path(name)?);
    }
    S3::connect(text)
        .and_then(|s3| s3.put_file("", written))
        .map_err(storage_err)
}

/// `read_csv<S>(path: Str, delimiter: Str = ",") -> (table: Table<S>)`
pub fn read_csv(call: &Call<'_>) -> Result<(), BuiltinError> {
    let file = readable(call, "path")?;
    let path = &file.path;
    let delimiter = files::delimiter_byte(&call.step, call.opt_str("delimiter")?.unwrap_or(","))?;
    file_to_table(call, path, Format::Csv, delimiter)
}

/// `read_parquet<S>(path: Str) -> (table: Table<S>)`
pub fn read_parquet(call: &Call<'_>) -> Result<(), BuiltinError> {
    let file = readable(call, "path")?;
    file_to_table(call, &file.path, Format::Parquet, b',')
}

/// `table_from_file<S>(file: File, format: Str = "csv") -> (table: Table<S>)`
pub fn table_from_file(call: &Call<'_>) -> Result<(), BuiltinError> {
    let format = format(call)?;
    let (path, _) = call.input("file")?;
    file_to_table(call, path, format, b',')
}

/// Writes the input `table` as the output `file` in `format`.
fn table_to_file<'a>(
    call: &Call<'a>,
    format: Format,
    delimiter: u8,
) -> Result<&'a Path, BuiltinError> {
    // A Parquet file is the stored table itself (`Enum` columns stay dictionary-encoded); CSV
    // is text.
    let strings = match format {
        Format::Csv => Strings::Text,
        Format::Parquet => Strings::Enums,
    };
    let df = input_table_with(call, "table", strings)?;
    let out = call.output("file")?;
    match format {
        Format::Csv => files::write_csv(&df, &out.path, delimiter)?,
        Format::Parquet => {
            let (input, _) = call.input("table")?;
            files::write_parquet_as(&df, input, &out.path)?
        }
    }
    Ok(&out.path)
}

/// `write_csv<T>(table: Table<T>, path: Str, delimiter: Str = ",") -> (file: File)`
pub fn write_csv(call: &Call<'_>) -> Result<(), BuiltinError> {
    let delimiter = files::delimiter_byte(&call.step, call.opt_str("delimiter")?.unwrap_or(","))?;
    let written = table_to_file(call, Format::Csv, delimiter)?;
    deliver(call, "path", written)
}

/// `write_parquet<T>(table: Table<T>, path: Str) -> (file: File)`
pub fn write_parquet(call: &Call<'_>) -> Result<(), BuiltinError> {
    let written = table_to_file(call, Format::Parquet, b',')?;
    deliver(call, "path", written)
}

/// `file_from_table<T>(table: Table<T>, format: Str = "csv") -> (file: File)`
pub fn file_from_table(call: &Call<'_>) -> Result<(), BuiltinError> {
    let format = format(call)?;
    table_to_file(call, format, b',').map(|_| ())
}
