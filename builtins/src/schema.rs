//! Declared table schemas (from the plan's [`TypeRepr`]) and the check of real tables against
//! them.
//!
//! flowc's column types map to polars types as `Str`→`String`, `Int`→`Int64`,
//! `Float`→`Float64`, `Bool`→`Boolean`, `Date`→`Date`; a `Str` column may also be held as a
//! polars `Enum` (a fixed list of labels and one small code per row, stored in Parquet as a
//! dictionary-encoded column), as the synthetic panels' categorical columns are. [`conform`]
//! turns a table into exactly the declared columns, in the declared order, with exactly those
//! types: it accepts only lossless conversions (any integer type that fits into `Int64`; an
//! integer or `Float32` where `Float` is declared, as width subtyping widens `Int` to `Float`; a
//! column of nulls; an `Enum` or `Categorical` where `Str` is declared), and reports a missing
//! column, a column of another type, or a null in a column declared without `?`, naming the
//! table (file, input or output) and the column. `Enum` columns are kept as they are in tables
//! written and in the inputs of steps that code them ([`Strings::Enums`]), and turned into
//! `String` elsewhere ([`Strings::Text`]), so that SQL, joins and CSV see plain text.

use flowc_compiler::plan::{ColumnRepr, TypeRepr};
use flowc_runtime::builtin::BuiltinError;
use polars::prelude::*;

use crate::error::{
    err, COLUMN_TYPE, MISSING_COLUMN, OUTPUT_COLUMN_TYPE, OUTPUT_MISSING_COLUMN, OUTPUT_NULL,
    UNEXPECTED_NULL,
};

/// A flowc column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    /// `Str`.
    Str,
    /// `Int`.
    Int,
    /// `Float`.
    Float,
    /// `Bool`.
    Bool,
    /// `Date`.
    Date,
}

impl ColType {
    /// The type of a flowc type name.
    pub fn parse(name: &str) -> Option<ColType> {
        Some(match name {
            "Str" => ColType::Str,
            "Int" => ColType::Int,
            "Float" => ColType::Float,
            "Bool" => ColType::Bool,
            "Date" => ColType::Date,
            _ => return None,
        })
    }

    /// The flowc name.
    pub fn name(self) -> &'static str {
        match self {
            ColType::Str => "Str",
            ColType::Int => "Int",
            ColType::Float => "Float",
            ColType::Bool => "Bool",
            ColType::Date => "Date",
        }
    }

    /// The polars type that stores it.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Str => DataType::String,
            ColType::Int => DataType::Int64,
            ColType::Float => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::Date => DataType::Date,
        }
    }

    /// The flowc type of a polars type, when there is one.
    pub fn of_dtype(dt: &DataType) -> Option<ColType> {
        Some(match dt {
            DataType::String => ColType::Str,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => ColType::Int,
            DataType::Float32 | DataType::Float64 => ColType::Float,
            DataType::Boolean => ColType::Bool,
            DataType::Date => ColType::Date,
            DataType::Categorical(_, _) | DataType::Enum(_, _) => ColType::Str,
            _ => return None,
        })
    }
}

/// How [`conform`] hands over `Str` columns held as categoricals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strings {
    /// `Enum` columns are kept (a `Categorical`, whose codes depend on the process, becomes
    /// `String`).
    Enums,
    /// Every `Str` column is `String`.
    Text,
}

/// A declared column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclCol {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ColType,
    /// Whether it may hold nulls.
    pub nullable: bool,
}

/// A declared table schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    /// The schema's name, if named (for messages).
    pub schema: Option<String>,
    /// The columns, in order.
    pub columns: Vec<DeclCol>,
}

impl Declared {
    /// The declared columns of a table type; `None` when the type is not a table with known
    /// columns (the table is then taken as it is).
    pub fn of(ty: &TypeRepr) -> Result<Option<Declared>, BuiltinError> {
        let TypeRepr::Table { schema, columns } = ty else {
            return Ok(None);
        };
        let columns = columns
            .iter()
            .map(decl_col)
            .collect::<Result<Vec<_>, BuiltinError>>()?;
        Ok(Some(Declared {
            schema: schema.clone(),
            columns,
        }))
    }

    /// A declared schema from columns.
    pub fn from_columns(columns: Vec<DeclCol>) -> Declared {
        Declared {
            schema: None,
            columns,
        }
    }

    /// The column named `name`.
    pub fn get(&self, name: &str) -> Option<&DeclCol> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// `in `Schema`` or empty, for messages.
    fn in_schema(&self) -> String {
        match &self.schema {
            Some(s) => format!(" (declared in `{s}`)"),
            None => String::new(),
        }
    }
}

fn decl_col(c: &ColumnRepr) -> Result<DeclCol, BuiltinError> {
    let ty = ColType::parse(&c.ty).ok_or_else(|| {
        err(
            COLUMN_TYPE,
            format!(
                "column `{}` has type `{}`, which is not a column type",
                c.name, c.ty
            ),
        )
    })?;
    Ok(DeclCol {
        name: c.name.clone(),
        ty,
        nullable: c.nullable,
    })
}

/// A human name of a polars type, in flowc's terms where there is one.
pub fn describe(dt: &DataType) -> String {
    match dt {
        DataType::Float32 => "Float (32-bit)".to_string(),
        DataType::Int64 | DataType::Float64 => ColType::of_dtype(dt)
            .map(ColType::name)
            .unwrap_or_default()
            .to_string(),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => format!("Int ({dt})"),
        DataType::Null => "null".to_string(),
        other => match ColType::of_dtype(other) {
            Some(t) => t.name().to_string(),
            None => format!("{other} (not a flowc column type)"),
        },
    }
}

/// Which table is being checked, for messages and error codes.
#[derive(Clone, Copy, Debug)]
pub enum Side<'a> {
    /// A table read from outside or handed to the step (a file, an input): `B020`–`B022`.
    Input(&'a str),
    /// A table the step computed, checked before writing: `B030`–`B032`.
    Output(&'a str),
}

impl Side<'_> {
    fn what(&self) -> &str {
        match self {
            Side::Input(w) | Side::Output(w) => w,
        }
    }
}

/// The column `name` converted to `ty`, when the conversion is lossless.
fn convert(col: &Column, ty: ColType, strings: Strings) -> Option<Column> {
    let dt = col.dtype();
    if *dt == ty.dtype() {
        return Some(col.clone());
    }
    if ty == ColType::Str && matches!(dt, DataType::Categorical(_, _) | DataType::Enum(_, _)) {
        return if strings == Strings::Enums && matches!(dt, DataType::Enum(_, _)) {
            Some(col.clone())
        } else {
            col.cast(&DataType::String).ok()
        };
    }
    let ok = match (ty, dt) {
        (_, DataType::Null) => true,
        (ColType::Int, d) => d.is_integer(),
        (ColType::Float, d) => d.is_integer() || *d == DataType::Float32,
        _ => false,
    };
    if !ok {
        return None;
    }
    // Strict: a UInt64 beyond Int64's range fails instead of becoming null.
    col.strict_cast(&ty.dtype()).ok()
}

/// The first row holding a null, if any.
pub fn first_null(col: &Column) -> Option<usize> {
    if col.null_count() == 0 {
        return None;
    }
    col.is_null().iter().position(|v| v == Some(true))
}

/// `df` restricted to the declared columns, in order, converted to the declared types; extra
/// columns are dropped. `allow_nulls` names columns whose nulls are accepted even when they
/// are declared without `?` (the right columns of a left join). `Enum` columns are kept in
/// outputs and become `String` in inputs (see [`conform_with`]).
pub fn conform(
    df: &DataFrame,
    decl: &Declared,
    side: Side<'_>,
    allow_nulls: &[String],
) -> Result<DataFrame, BuiltinError> {
    let strings = match side {
        Side::Input(_) => Strings::Text,
        Side::Output(_) => Strings::Enums,
    };
    conform_with(df, decl, side, allow_nulls, strings)
}

/// [`conform`], with `strings` saying whether `Enum` columns are kept.
pub fn conform_with(
    df: &DataFrame,
    decl: &Declared,
    side: Side<'_>,
    allow_nulls: &[String],
    strings: Strings,
) -> Result<DataFrame, BuiltinError> {
    let (missing, wrong, null) = match side {
        Side::Input(_) => (MISSING_COLUMN, COLUMN_TYPE, UNEXPECTED_NULL),
        Side::Output(_) => (OUTPUT_MISSING_COLUMN, OUTPUT_COLUMN_TYPE, OUTPUT_NULL),
    };
    let what = side.what();
    let mut out = Vec::with_capacity(decl.columns.len());
    for c in &decl.columns {
        let Ok(col) = df.column(&c.name) else {
            let have: Vec<String> = df
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect();
            return Err(err(
                missing,
                format!(
                    "{what} has no column `{}`{}; its columns are: {}",
                    c.name,
                    decl.in_schema(),
                    if have.is_empty() {
                        "none".to_string()
                    } else {
                        have.join(", ")
                    }
                ),
            ));
        };
        let Some(converted) = convert(col, c.ty, strings) else {
            return Err(err(
                wrong,
                format!(
                    "{what}: column `{}` is {}, but `{}`{} is declared as {}",
                    c.name,
                    describe(col.dtype()),
                    c.name,
                    decl.in_schema(),
                    c.ty.name()
                ),
            ));
        };
        if !c.nullable && !allow_nulls.contains(&c.name) {
            if let Some(row) = first_null(&converted) {
                return Err(err(
                    null,
                    format!(
                        "{what}: column `{}` holds a null (row {}, {} nulls in all), but it is \
                         declared as {} without `?`",
                        c.name,
                        row + 1,
                        converted.null_count(),
                        c.ty.name()
                    ),
                ));
            }
        }
        out.push(converted);
    }
    DataFrame::new(df.height(), out).map_err(|e| err(wrong, format!("{what}: {e}")))
}

/// Conforms when there is a declared schema; otherwise returns the table as it is.
pub fn conform_opt(
    df: DataFrame,
    decl: Option<&Declared>,
    side: Side<'_>,
    allow_nulls: &[String],
) -> Result<DataFrame, BuiltinError> {
    match decl {
        Some(d) => conform(&df, d, side, allow_nulls),
        None => Ok(df),
    }
}
