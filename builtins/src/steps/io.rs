//! std.io: reading and writing tables.

use std::path::Path;

use flowc_runtime::builtin::BuiltinError;

use super::{emit_table, input_table_with, output_decl};
use crate::call::Call;
use crate::error::{err, INVALID_VALUE};
use crate::files;
use crate::schema::{conform, Side, Strings};

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
            let df = files::read_parquet(path)?;
            let what = format!("Parquet file `{}`", path.display());
            conform(&df, &decl, Side::Input(&what), &[])?
        }
    };
    emit_table(call, "table", df, &[])
}

/// `read_csv<S>(path: Str, delimiter: Str = ",") -> (table: Table<S>)`
pub fn read_csv(call: &Call<'_>) -> Result<(), BuiltinError> {
    let path = call.path("path")?;
    let delimiter = files::delimiter_byte(&call.step, call.opt_str("delimiter")?.unwrap_or(","))?;
    file_to_table(call, &path, Format::Csv, delimiter)
}

/// `read_parquet<S>(path: Str) -> (table: Table<S>)`
pub fn read_parquet(call: &Call<'_>) -> Result<(), BuiltinError> {
    let path = call.path("path")?;
    file_to_table(call, &path, Format::Parquet, b',')
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
        Format::Parquet => files::write_parquet(&df, &out.path)?,
    }
    Ok(&out.path)
}

/// `write_csv<T>(table: Table<T>, path: Str, delimiter: Str = ",") -> (file: File)`
pub fn write_csv(call: &Call<'_>) -> Result<(), BuiltinError> {
    let path = call.path("path")?;
    let delimiter = files::delimiter_byte(&call.step, call.opt_str("delimiter")?.unwrap_or(","))?;
    let written = table_to_file(call, Format::Csv, delimiter)?;
    files::copy_to(written, &path)
}

/// `write_parquet<T>(table: Table<T>, path: Str) -> (file: File)`
pub fn write_parquet(call: &Call<'_>) -> Result<(), BuiltinError> {
    let path = call.path("path")?;
    let written = table_to_file(call, Format::Parquet, b',')?;
    files::copy_to(written, &path)
}

/// `file_from_table<T>(table: Table<T>, format: Str = "csv") -> (file: File)`
pub fn file_from_table(call: &Call<'_>) -> Result<(), BuiltinError> {
    let format = format(call)?;
    table_to_file(call, format, b',').map(|_| ())
}
