//! Reading and writing CSV and Parquet files.
//!
//! Parquet files are written deterministically: row group `k` holds rows
//! `k × ROW_GROUP_SIZE ..` (each made one contiguous chunk, so the bytes depend on the table
//! alone, not on how it was computed), with fixed settings and no key-value metadata but the
//! Arrow schema, so the same table always gives the same bytes. Each column is encoded and
//! compressed as its type suits ([`column_plan`]), the columns of a row group in parallel:
//!
//! | column | encoding | compression |
//! |---|---|---|
//! | `Float` | dictionary up to 4,096 distinct values (raked weights), else plain | none: random mantissas gain little (10–30 %) for most of the time |
//! | `Int` | delta (ids and counts shrink to a few bits) | zstd |
//! | `Str` as `Enum` | dictionary of the labels, bit-packed codes | zstd |
//! | `Str`, `Bool`, `Date` | polars' choice (dictionary when few distinct values) | zstd |
//!
//! with data pages of 1 MiB and min/max/null-count statistics. `Enum` columns are written
//! dictionary-encoded, their labels being the dictionary, and read back as `Enum`s from their
//! codes (polars' reader would look every row's label up again).

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufWriter, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowc_runtime::builtin::BuiltinError;
use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, DictionaryKey, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, ArrowSchema, Field as ArrowField, IntegerType};
use polars_buffer::Buffer;
use polars_io::csv::read::CsvReadOptions;
use polars_io::csv::write::CsvWriter;
use polars_io::parquet::read::_internal::to_deserializer;
use polars_io::parquet::read::{infer_schema, ParquetReader};
use polars_io::{SerReader, SerWriter};
use polars_parquet::read::{read_metadata, FileMetadata};
use polars_parquet::write::{
    array_to_columns, compress, fallible_streaming_iterator, get_dtype_encoding, to_parquet_schema,
    CompressedPage, CompressionOptions, DynIter, DynStreamingIterator, Encoding, FileWriter,
    ParquetType, StatisticsOptions, Version, WriteOptions,
};

use crate::error::{err, READ_FAILED, UNPARSABLE_VALUE, WRITE_FAILED};
use crate::schema::{conform, conform_with, ColType, Declared, Side, Strings};
use crate::{dates, handoff};

/// Rows per Parquet row group.
pub const ROW_GROUP_SIZE: usize = 262_144;

/// Bytes per Parquet data page (before compression).
const DATA_PAGE_SIZE: usize = 1 << 20;

/// Reads a Parquet file as it is, one chunk per column; a file a step of this process wrote is
/// not decoded again ([`handoff`]).
pub fn read_parquet(path: &Path) -> Result<DataFrame, BuiltinError> {
    if let Some(table) = handoff::recall(path) {
        return Ok(table);
    }
    let fail = |e: &dyn std::fmt::Display| {
        err(
            READ_FAILED,
            format!("cannot read Parquet file `{}`: {e}", path.display()),
        )
    };
    let mut file = File::open(path).map_err(|e| {
        err(
            READ_FAILED,
            format!("cannot open Parquet file `{}`: {e}", path.display()),
        )
    })?;
    let metadata = read_metadata(&mut file).map_err(|e| fail(&e))?;
    let schema = infer_schema(&metadata).map_err(|e| fail(&e))?;
    let enums: Vec<bool> = schema
        .iter_values()
        .map(|f| matches!(DataType::from_arrow_field(f), DataType::Enum(_, _)))
        .collect();
    let table = if enums.contains(&true) {
        parquet_by_column(path, &metadata, &schema, &enums)
    } else {
        let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
        ParquetReader::new(Cursor::new(bytes)).finish()
    };
    table.map(handoff::canonical).map_err(|e| fail(&e))
}

/// A Parquet file's table decoded column by column, each column chunk read from the file as it
/// is decoded (the file is never held whole beside its table): `Enum` columns made from their
/// codes, columns of fixed-width numbers gathered into one buffer of the column's length as
/// their row groups are decoded (no second copy to make one chunk), others by polars' reader.
fn parquet_by_column(
    path: &Path,
    metadata: &FileMetadata,
    schema: &ArrowSchema,
    enums: &[bool],
) -> PolarsResult<DataFrame> {
    let fields: Vec<&ArrowField> = schema.iter_values().collect();
    let rows = total_rows(metadata);
    let columns = in_parallel(fields.len(), |i| {
        let field = fields[i];
        let gather = match EnumCodes::new(field, rows).filter(|_| enums[i]) {
            Some(codes) => Gather::Enum(codes),
            None => Gather::new(field, rows),
        };
        match decode_column(path, metadata, field, gather)? {
            Some(column) => Ok(column),
            // An `Enum` column with nulls or unknown labels: polars' own import.
            None => decode_column(path, metadata, field, Gather::Arrays(Vec::new()))?
                .ok_or_else(|| polars_err!(ComputeError: "column `{}` unreadable", field.name)),
        }
    })
    .into_iter()
    .collect::<PolarsResult<Vec<Column>>>()?;
    let height = columns.first().map_or(rows, Column::len);
    DataFrame::new(height, columns)
}

/// One column of the file at `path`, its row groups read and decoded one at a time into
/// `gather`; `None` when `gather` cannot take them (an `Enum` column with nulls).
fn decode_column(
    path: &Path,
    metadata: &FileMetadata,
    field: &ArrowField,
    mut gather: Gather,
) -> PolarsResult<Option<Column>> {
    let mut file = File::open(path)?;
    for rg in &metadata.row_groups {
        let chunks = rg.columns_under_root_iter(&field.name).ok_or_else(
            || polars_err!(ComputeError: "row group without column `{}`", field.name),
        )?;
        let mut parts = Vec::new();
        for m in chunks {
            let range = m.byte_range();
            let len = usize::try_from(range.end.saturating_sub(range.start))
                .map_err(|_| polars_err!(ComputeError: "a column chunk too large"))?;
            let mut bytes = vec![0u8; len];
            file.seek(SeekFrom::Start(range.start))?;
            file.read_exact(&mut bytes)?;
            parts.push((m, Buffer::from(bytes)));
        }
        for array in to_deserializer(parts, field.clone(), None)?.0 {
            if !gather.push(array) {
                return Ok(None);
            }
        }
    }
    gather.finish(field).map(Some)
}

/// One column's arrays as its row groups are decoded.
enum Gather {
    /// An `Enum` column: its codes.
    Enum(EnumCodes),
    /// Fixed-width numbers: the values so far, then any arrays from the first with nulls on.
    Numbers(Numbers, Vec<Box<dyn Array>>),
    /// Anything else: the arrays as decoded.
    Arrays(Vec<Box<dyn Array>>),
}

/// The values of a column of fixed-width numbers, gathered in one buffer.
enum Numbers {
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

macro_rules! numbers {
    ($self:expr, $v:ident => $body:expr) => {
        match $self {
            Numbers::I8($v) => $body,
            Numbers::I16($v) => $body,
            Numbers::I32($v) => $body,
            Numbers::I64($v) => $body,
            Numbers::U8($v) => $body,
            Numbers::U16($v) => $body,
            Numbers::U32($v) => $body,
            Numbers::U64($v) => $body,
            Numbers::F32($v) => $body,
            Numbers::F64($v) => $body,
        }
    };
}

impl Numbers {
    /// An empty buffer for `rows` values of a column of `dtype`, if it holds fixed-width numbers.
    fn new(dtype: &ArrowDataType, rows: usize) -> Option<Numbers> {
        use polars_arrow::datatypes::{PhysicalType, PrimitiveType as P};
        let PhysicalType::Primitive(p) = dtype.to_physical_type() else {
            return None;
        };
        Some(match p {
            P::Int8 => Numbers::I8(Vec::with_capacity(rows)),
            P::Int16 => Numbers::I16(Vec::with_capacity(rows)),
            P::Int32 => Numbers::I32(Vec::with_capacity(rows)),
            P::Int64 => Numbers::I64(Vec::with_capacity(rows)),
            P::UInt8 => Numbers::U8(Vec::with_capacity(rows)),
            P::UInt16 => Numbers::U16(Vec::with_capacity(rows)),
            P::UInt32 => Numbers::U32(Vec::with_capacity(rows)),
            P::UInt64 => Numbers::U64(Vec::with_capacity(rows)),
            P::Float32 => Numbers::F32(Vec::with_capacity(rows)),
            P::Float64 => Numbers::F64(Vec::with_capacity(rows)),
            _ => return None,
        })
    }

    /// Appends the values of `array` when it has no nulls and is of this buffer's type.
    fn extend(&mut self, array: &dyn Array) -> bool {
        fn add<T: polars_arrow::types::NativeType>(v: &mut Vec<T>, array: &dyn Array) -> bool {
            match array.as_any().downcast_ref::<PrimitiveArray<T>>() {
                Some(a) if a.null_count() == 0 => {
                    v.extend_from_slice(a.values());
                    true
                }
                _ => false,
            }
        }
        numbers!(self, v => add(v, array))
    }

    fn is_empty(&self) -> bool {
        numbers!(self, v => v.is_empty())
    }

    /// The values as one array of `dtype`; the buffer is left empty.
    fn take(&mut self, dtype: &ArrowDataType) -> Box<dyn Array> {
        numbers!(self, v => PrimitiveArray::from_vec(std::mem::take(v)).to(dtype.clone()).boxed())
    }
}

impl Gather {
    /// For a column other than an `Enum`.
    fn new(field: &ArrowField, rows: usize) -> Gather {
        match Numbers::new(field.dtype(), rows) {
            Some(n) => Gather::Numbers(n, Vec::new()),
            None => Gather::Arrays(Vec::new()),
        }
    }

    /// Takes the next decoded array; `false` if it cannot (an `Enum` array with nulls).
    fn push(&mut self, array: Box<dyn Array>) -> bool {
        match self {
            Gather::Enum(codes) => return codes.push(array.as_ref()).is_some(),
            Gather::Arrays(arrays) => arrays.push(array),
            Gather::Numbers(numbers, arrays) => {
                if !arrays.is_empty() || !numbers.extend(array.as_ref()) {
                    if arrays.is_empty() && !numbers.is_empty() {
                        arrays.push(numbers.take(array.dtype()));
                    }
                    arrays.push(array);
                }
            }
        }
        true
    }

    /// The column.
    fn finish(self, field: &ArrowField) -> PolarsResult<Column> {
        let arrays = match self {
            Gather::Enum(codes) => return Ok(codes.finish(field.name.clone())),
            Gather::Arrays(arrays) => arrays,
            Gather::Numbers(mut numbers, mut arrays) => {
                if arrays.is_empty() && !numbers.is_empty() {
                    arrays.push(numbers.take(field.dtype()));
                }
                arrays
            }
        };
        if arrays.is_empty() {
            return Ok(Column::new_empty(
                field.name.clone(),
                &DataType::from_arrow_field(field),
            ));
        }
        Series::try_from((field, arrays)).map(Column::from)
    }
}

fn total_rows(metadata: &FileMetadata) -> usize {
    metadata.row_groups.iter().map(|rg| rg.num_rows()).sum()
}

/// An `Enum` column's codes (of its physical width), translated from its dictionary-encoded
/// arrays as they are decoded: each array's dictionary is looked up once, then its keys are
/// translated.
struct EnumCodes {
    dtype: DataType,
    codes: EnumVec,
}

enum EnumVec {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl EnumCodes {
    /// Room for `rows` codes of the `Enum` column `field`; `None` if it is not one.
    fn new(field: &ArrowField, rows: usize) -> Option<EnumCodes> {
        let dtype = DataType::from_arrow_field(field);
        let DataType::Enum(fcats, _) = &dtype else {
            return None;
        };
        let codes = match fcats.physical() {
            CategoricalPhysical::U8 => EnumVec::U8(Vec::with_capacity(rows)),
            CategoricalPhysical::U16 => EnumVec::U16(Vec::with_capacity(rows)),
            CategoricalPhysical::U32 => EnumVec::U32(Vec::with_capacity(rows)),
        };
        Some(EnumCodes { dtype, codes })
    }

    /// Appends the codes of `array`; `None` for nulls or a label that is not one of the
    /// `Enum`'s (polars' own import is used then).
    fn push(&mut self, array: &dyn Array) -> Option<()> {
        let DataType::Enum(_, mapping) = &self.dtype else {
            return None;
        };
        if array.null_count() > 0 {
            return None;
        }
        fn translate<K: DictionaryKey + Into<u64>, C: TryFrom<u32> + Copy>(
            array: &dyn Array,
            mapping: &CategoricalMapping,
            codes: &mut Vec<C>,
        ) -> Option<()> {
            let d = array.as_any().downcast_ref::<DictionaryArray<K>>()?;
            let values = d.values().as_any().downcast_ref::<Utf8ViewArray>()?;
            let to_code: Vec<Option<C>> = values
                .values_iter()
                .map(|label| mapping.get_cat(label).and_then(|c| C::try_from(c).ok()))
                .collect();
            for &k in d.keys().values_iter() {
                let k = usize::try_from(k.into()).ok()?;
                codes.push((*to_code.get(k)?)?);
            }
            Some(())
        }
        fn any_key<C: TryFrom<u32> + Copy>(
            array: &dyn Array,
            mapping: &CategoricalMapping,
            codes: &mut Vec<C>,
        ) -> Option<()> {
            translate::<u8, C>(array, mapping, codes)
                .or_else(|| translate::<u16, C>(array, mapping, codes))
                .or_else(|| translate::<u32, C>(array, mapping, codes))
        }
        match &mut self.codes {
            EnumVec::U8(c) => any_key(array, mapping, c),
            EnumVec::U16(c) => any_key(array, mapping, c),
            EnumVec::U32(c) => any_key(array, mapping, c),
        }
    }

    /// The column named `name`.
    fn finish(self, name: PlSmallStr) -> Column {
        let series = match self.codes {
            EnumVec::U8(c) => Categorical8Chunked::from_cats_and_dtype(
                UInt8Chunked::from_vec(name, c),
                self.dtype,
            )
            .into_series(),
            EnumVec::U16(c) => Categorical16Chunked::from_cats_and_dtype(
                UInt16Chunked::from_vec(name, c),
                self.dtype,
            )
            .into_series(),
            EnumVec::U32(c) => Categorical32Chunked::from_cats_and_dtype(
                UInt32Chunked::from_vec(name, c),
                self.dtype,
            )
            .into_series(),
        };
        series.into_column()
    }
}

/// Reads a table input (a Parquet file) and conforms it to its declared columns, `Enum`
/// columns kept or made text as `strings` says.
pub fn read_table(
    path: &Path,
    decl: Option<&Declared>,
    what: &str,
    strings: Strings,
) -> Result<DataFrame, BuiltinError> {
    let df = read_parquet(path)?;
    match decl {
        Some(d) => conform_with(&df, d, Side::Input(what), &[], strings),
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

/// Flushes a written file. Not synced to the disk: the runner moves a complete file into the
/// store by renaming it, so a killed run leaves nothing partial, and no file of the store is
/// synced (see docs/perf.md, "Durability").
fn finish_file(mut w: BufWriter<File>, path: &Path) -> Result<(), BuiltinError> {
    w.flush().map_err(|e| {
        err(
            WRITE_FAILED,
            format!("cannot write `{}`: {e}", path.display()),
        )
    })
}

/// How a column of an Arrow type is written: its encodings (one per leaf) and compression.
fn column_plan(dtype: &ArrowDataType) -> (Vec<Encoding>, CompressionOptions) {
    let zstd = CompressionOptions::Zstd(None);
    match dtype {
        ArrowDataType::Float32 | ArrowDataType::Float64 => {
            (vec![Encoding::Plain], CompressionOptions::Uncompressed)
        }
        ArrowDataType::Dictionary(_, values, _)
            if matches!(**values, ArrowDataType::Float32 | ArrowDataType::Float64) =>
        {
            (
                vec![Encoding::RleDictionary],
                CompressionOptions::Uncompressed,
            )
        }
        ArrowDataType::Int8
        | ArrowDataType::Int16
        | ArrowDataType::Int32
        | ArrowDataType::Int64
        | ArrowDataType::UInt8
        | ArrowDataType::UInt16
        | ArrowDataType::UInt32
        | ArrowDataType::UInt64 => (vec![Encoding::DeltaBinaryPacked], zstd),
        other => (get_dtype_encoding(other), zstd),
    }
}

/// `f(i)` for `i` in `0..n`, on up to as many threads as there are CPUs, in order.
fn in_parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return mine;
                        }
                        mine.push((i, f(i)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a Parquet worker panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// Distinct values up to which a `Float` column is dictionary-encoded.
const FLOAT_DICTIONARY_LIMIT: usize = 4096;

/// A hasher for `f64` bit patterns (multiplicative; the table's order never reaches the file).
#[derive(Default)]
struct BitsHasher(u64);

impl Hasher for BitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (x ^ (x >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A `Float64` array without nulls holding at most [`FLOAT_DICTIONARY_LIMIT`] distinct values
/// (such as raked weights, one per cell) as a dictionary array, in order of first appearance,
/// so that its pages hold bit-packed codes; `None` for other arrays (given up at the first value
/// beyond the limit).
fn float_dictionary(array: &dyn Array) -> Option<Box<dyn Array>> {
    let a = array.as_any().downcast_ref::<PrimitiveArray<f64>>()?;
    if a.null_count() > 0 || a.len() < 2 * FLOAT_DICTIONARY_LIMIT {
        return None;
    }
    let mut index: HashMap<u64, u32, BuildHasherDefault<BitsHasher>> = HashMap::default();
    let mut values: Vec<f64> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(a.len());
    for &x in a.values().iter() {
        let next = values.len();
        let k = *index.entry(x.to_bits()).or_insert_with(|| {
            values.push(x);
            next as u32
        });
        if values.len() > FLOAT_DICTIONARY_LIMIT {
            return None;
        }
        keys.push(k);
    }
    let dtype =
        ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::Float64), false);
    DictionaryArray::<u32>::try_new(
        dtype,
        PrimitiveArray::from_vec(keys),
        PrimitiveArray::from_vec(values).boxed(),
    )
    .ok()
    .map(|d| d.boxed())
}

/// The compressed pages of one column of a row group (one list per leaf).
fn column_pages(
    array: &dyn Array,
    type_: &ParquetType,
    options: WriteOptions,
) -> PolarsResult<Vec<Vec<CompressedPage>>> {
    let dictionary = float_dictionary(array);
    let array = dictionary.as_deref().unwrap_or(array);
    let (encodings, compression) = column_plan(array.dtype());
    let options = WriteOptions {
        compression,
        ..options
    };
    array_to_columns(array, type_.clone(), options, &encodings)?
        .into_iter()
        .map(|pages| {
            pages
                .map(|page| Ok(compress(page?, Vec::new(), compression)?))
                .collect()
        })
        .collect()
}

/// Writes a table as a Parquet file, deterministically (see the module documentation).
pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<(), BuiltinError> {
    let fail = |e: PolarsError| {
        err(
            WRITE_FAILED,
            format!("cannot write `{}`: {e}", path.display()),
        )
    };
    let mut w = create(path)?;
    let schema = df.schema().to_arrow(CompatLevel::newest());
    let parquet_schema = to_parquet_schema(&schema).map_err(fail)?;
    let types: Vec<ParquetType> = parquet_schema.fields().to_vec();
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        version: Version::V1,
        compression: CompressionOptions::Uncompressed,
        data_page_size: Some(DATA_PAGE_SIZE),
    };
    let mut writer = FileWriter::new_with_parquet_schema(&mut w, schema, parquet_schema, options);
    let mut start = 0;
    while start < df.height() {
        let len = ROW_GROUP_SIZE.min(df.height() - start);
        let mut group = df.slice(start as i64, len);
        if group.columns().iter().any(|c| c.n_chunks() > 1) {
            group.rechunk_mut();
        }
        let batch = group
            .iter_chunks(CompatLevel::newest(), false)
            .next()
            .ok_or_else(|| fail(polars_err!(ComputeError: "an empty row group")))?;
        let arrays = batch.columns();
        let columns = in_parallel(arrays.len(), |i| {
            column_pages(arrays[i].as_ref(), &types[i], options)
        })
        .into_iter()
        .collect::<PolarsResult<Vec<_>>>()
        .map_err(fail)?;
        let leaves: Vec<Vec<CompressedPage>> = columns.into_iter().flatten().collect();
        let row_group = DynIter::new(leaves.iter().map(|pages| {
            Ok(DynStreamingIterator::new(
                fallible_streaming_iterator::convert(pages.iter().map(PolarsResult::Ok)),
            ))
        }));
        writer.write(len as u64, row_group).map_err(fail)?;
        start += len;
    }
    writer.end(None).map_err(fail)?;
    drop(writer);
    finish_file(w, path)?;
    handoff::remember(path, df);
    Ok(())
}

/// Writes `df`, the table read from the Parquet file `from` (by [`read_table`], conformed to a
/// declared schema), as the Parquet file `to`. When `from` was
/// written by this process from a table with exactly `df`'s columns, types and order
/// ([`handoff::written_as`]), its bytes are what encoding `df` would give (the writer is
/// deterministic), so they are taken as they are: hard-linked when `from` is read-only (as
/// the store's objects are: nothing changes it in place), copied otherwise.
pub fn write_parquet_as(df: &DataFrame, from: &Path, to: &Path) -> Result<(), BuiltinError> {
    if !handoff::written_as(from, df) {
        return write_parquet(df, to);
    }
    let read_only = std::fs::metadata(from).is_ok_and(|m| m.permissions().readonly());
    if read_only && std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map_err(|e| {
        err(
            WRITE_FAILED,
            format!("cannot write `{}`: {e}", to.display()),
        )
    })?;
    handoff::remember(to, df);
    Ok(())
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

/// Copies a written file to a path named by the user, creating its folder. The copy is a new
/// file as the user's process would make it (writable, within the umask), even when `from` is
/// a read-only object of the store.
pub fn copy_to(from: &Path, to: &Path) -> Result<(), BuiltinError> {
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            err(
                WRITE_FAILED,
                format!("cannot create the folder `{}`: {e}", dir.display()),
            )
        })?;
    }
    let copied = File::open(from).and_then(|mut src| {
        let mut dest = File::create(to)?;
        std::io::copy(&mut src, &mut dest)
    });
    copied.map(|_| ()).map_err(|e| {
        err(
            WRITE_FAILED,
            format!("cannot write `{}`: {e}", to.display()),
        )
    })
}
