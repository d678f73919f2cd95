//! The steps, one module per standard library module, and what they share.

mod coded;
pub mod io;
pub mod survey;
pub mod synth;
pub mod table;

use flowc_compiler::plan::TypeRepr;
use flowc_runtime::builtin::BuiltinError;
use polars::prelude::*;
use serde_json::{Map, Value};

use crate::call::Call;
use crate::error::{err, BAD_ARTIFACT, COLUMN_ROLE, METRIC, NULL_IN_COLUMN};
use crate::files;
use crate::schema::{conform_opt, describe, first_null, Declared, Side, Strings};

/// Reads the table input `name`, conformed to its declared columns (`Str` columns as text).
pub fn input_table(call: &Call<'_>, name: &str) -> Result<DataFrame, BuiltinError> {
    input_table_with(call, name, Strings::Text)
}

/// Reads the table input `name`, conformed to its declared columns, `Enum` columns kept or
/// made text as `strings` says.
pub fn input_table_with(
    call: &Call<'_>,
    name: &str,
    strings: Strings,
) -> Result<DataFrame, BuiltinError> {
    let (path, ty) = call.input(name)?;
    let decl = Declared::of(ty)?;
    files::read_table(
        path,
        decl.as_ref(),
        &format!("{}: input `{name}`", call.step),
        strings,
    )
}

/// Reads the optional table input `name` (`Str` columns as text).
pub fn opt_input_table(call: &Call<'_>, name: &str) -> Result<Option<DataFrame>, BuiltinError> {
    match call.opt_input(name)? {
        None => Ok(None),
        Some((path, ty)) => {
            let decl = Declared::of(ty)?;
            files::read_table(
                path,
                decl.as_ref(),
                &format!("{}: input `{name}`", call.step),
                Strings::Text,
            )
            .map(Some)
        }
    }
}

/// The declared columns of the table output `name` (an error when it has none).
pub fn output_decl(call: &Call<'_>, name: &str) -> Result<Declared, BuiltinError> {
    let out = call.output(name)?;
    Declared::of(&out.ty)?.ok_or_else(|| {
        err(
            BAD_ARTIFACT,
            format!(
                "{}: output `{name}` must be a table with declared columns (name its schema with \
                 `as Table<Schema>` after the call)",
                call.step
            ),
        )
    })
}

/// Checks `df` against the declared columns of the table output `name` and writes it.
/// `allow_nulls` names columns whose nulls are accepted although declared without `?`.
pub fn emit_table(
    call: &Call<'_>,
    name: &str,
    df: DataFrame,
    allow_nulls: &[String],
) -> Result<(), BuiltinError> {
    let out = call.output(name)?;
    let decl = Declared::of(&out.ty)?;
    let what = format!("{}: output `{name}`", call.step);
    let df = conform_opt(df, decl.as_ref(), Side::Output(&what), allow_nulls)?;
    files::write_parquet(&df, &out.path)
}

/// A metric value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// An `Int`.
    Int(i64),
    /// A `Float`.
    Float(f64),
    /// A `Bool`.
    Bool(bool),
}

/// Writes the metrics output `name`: a JSON object with the declared keys, in the declared
/// order, taken from `values` (each must be present, of the declared type, and finite).
pub fn emit_metrics(
    call: &Call<'_>,
    name: &str,
    values: &[(&str, Metric)],
) -> Result<(), BuiltinError> {
    let out = call.output(name)?;
    let keys: Vec<(String, String)> = match &out.ty {
        TypeRepr::Metrics { keys } => keys
            .iter()
            .map(|k| (k.name.clone(), k.ty.clone()))
            .collect(),
        // Undeclared keys: write them all.
        _ => values
            .iter()
            .map(|(k, v)| {
                let ty = match v {
                    Metric::Int(_) => "Int",
                    Metric::Float(_) => "Float",
                    Metric::Bool(_) => "Bool",
                };
                (k.to_string(), ty.to_string())
            })
            .collect(),
    };
    let mut map = Map::new();
    for (key, ty) in keys {
        let Some((_, v)) = values.iter().find(|(k, _)| *k == key) else {
            let known: Vec<&str> = values.iter().map(|(k, _)| *k).collect();
            return Err(err(
                METRIC,
                format!(
                    "{}: output `{name}` declares the metric `{key}`, which the step does not \
                     produce (it produces: {})",
                    call.step,
                    known.join(", ")
                ),
            ));
        };
        let json = match (ty.as_str(), *v) {
            ("Int", Metric::Int(i)) => Value::from(i),
            ("Float", Metric::Int(i)) => Value::from(i as f64),
            ("Float", Metric::Float(x)) => match serde_json::Number::from_f64(x) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(err(
                        METRIC,
                        format!("{}: metric `{key}` is {x}, not a finite number", call.step),
                    ))
                }
            },
            ("Bool", Metric::Bool(b)) => Value::from(b),
            (ty, v) => {
                return Err(err(
                    METRIC,
                    format!(
                        "{}: metric `{key}` is declared as {ty} but the step computes {v:?}",
                        call.step
                    ),
                ))
            }
        };
        map.insert(key, json);
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(map))
        .map_err(|e| err(crate::error::WRITE_FAILED, format!("{}: {e}", call.step)))?;
    text.push('\n');
    std::fs::write(&out.path, text).map_err(|e| {
        err(
            crate::error::WRITE_FAILED,
            format!("cannot write `{}`: {e}", out.path.display()),
        )
    })
}

/// The column `name` of `df`, which a parameter named (`B050` when missing).
pub fn named_column<'d>(
    call: &Call<'_>,
    df: &'d DataFrame,
    name: &str,
    param: &str,
    table: &str,
) -> Result<&'d Column, BuiltinError> {
    df.column(name).map_err(|_| {
        err(
            COLUMN_ROLE,
            format!(
                "{}: `{param}` names the column `{name}`, which table `{table}` does not have",
                call.step
            ),
        )
    })
}

/// A column as `f64` values, with no nulls (`Int` or `Float`).
pub fn float_values(
    call: &Call<'_>,
    col: &Column,
    role: &str,
    table: &str,
) -> Result<Vec<f64>, BuiltinError> {
    if !(col.dtype().is_integer() || col.dtype().is_float()) {
        return Err(err(
            COLUMN_ROLE,
            format!(
                "{}: {role} `{}` of table `{table}` must be numeric (Int or Float), but it is {}",
                call.step,
                col.name(),
                describe(col.dtype())
            ),
        ));
    }
    no_nulls(call, col, role, table)?;
    let f = col
        .cast(&DataType::Float64)
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    let ca = f
        .f64()
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    Ok(ca.into_no_null_iter().collect())
}

/// Fails with `B051` when `col` holds a null.
pub fn no_nulls(
    call: &Call<'_>,
    col: &Column,
    role: &str,
    table: &str,
) -> Result<(), BuiltinError> {
    match first_null(col) {
        None => Ok(()),
        Some(row) => Err(err(
            NULL_IN_COLUMN,
            format!(
                "{}: {role} `{}` of table `{table}` holds a null at row {}; the step needs a \
                 value in every row",
                call.step,
                col.name(),
                row + 1
            ),
        )),
    }
}

/// A categorical column as text labels, one per row (`Str`, `Int` or `Bool` values; no nulls).
pub fn labels(
    call: &Call<'_>,
    col: &Column,
    role: &str,
    table: &str,
) -> Result<StringChunked, BuiltinError> {
    let dt = col.dtype();
    if !(matches!(dt, DataType::String | DataType::Boolean) || dt.is_integer()) {
        return Err(err(
            COLUMN_ROLE,
            format!(
                "{}: {role} `{}` of table `{table}` must be categorical (Str, Int or Bool), but \
                 it is {}",
                call.step,
                col.name(),
                describe(dt)
            ),
        ));
    }
    no_nulls(call, col, role, table)?;
    let text = col
        .cast(&DataType::String)
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    text.str()
        .cloned()
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))
}
