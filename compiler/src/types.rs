//! The types of the language: parameters, artifacts and table schemas.
//!
//! A [`Ty`] is what the checker computes for every value. Tables carry a concrete [`Schema`];
//! built-in step signatures may instead mention schema variables, kept as a [`SchemaTpl`] until
//! a call binds them. Types render the way users write them (`Table<{ id: Int, w: Float }>`).

use std::fmt;

use crate::maps::IndexMap;

use crate::source::FileId;
use flowc_grammar::Span;

/// A place in the source, for pointing at where a type or column was declared.
pub type Origin = Option<(FileId, Span)>;

/// Column and scalar parameter types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    /// Text.
    Str,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// Calendar date, `YYYY-MM-DD`.
    Date,
}

impl Scalar {
    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Scalar::Str => "Str",
            Scalar::Int => "Int",
            Scalar::Float => "Float",
            Scalar::Bool => "Bool",
            Scalar::Date => "Date",
        }
    }

    /// The scalar named `name`.
    pub fn from_name(name: &str) -> Option<Scalar> {
        Some(match name {
            "Str" => Scalar::Str,
            "Int" => Scalar::Int,
            "Float" => Scalar::Float,
            "Bool" => Scalar::Bool,
            "Date" => Scalar::Date,
            _ => return None,
        })
    }

    /// Whether a value of type `self` may flow where `expected` is required (Int widens to Float).
    pub fn flows_into(self, expected: Scalar) -> bool {
        self == expected || (self == Scalar::Int && expected == Scalar::Float)
    }
}

/// A column of a concrete schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnTy {
    /// The column's scalar type.
    pub ty: Scalar,
    /// Whether it may hold nulls.
    pub nullable: bool,
    /// Where it was declared.
    pub origin: Origin,
}

/// A concrete table schema: ordered columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// The schema's name, when it is a named schema.
    pub name: Option<String>,
    /// Columns in declaration order.
    pub columns: IndexMap<String, ColumnTy>,
    /// Where the schema was declared.
    pub origin: Origin,
}

impl Schema {
    /// Whether the schema has no name and no column (the type of an error).
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = &self.name {
            return f.write_str(n);
        }
        f.write_str("{ ")?;
        for (i, (name, c)) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "{name}: {}{}",
                c.ty.as_str(),
                if c.nullable { "?" } else { "" }
            )?;
        }
        f.write_str(" }")
    }
}

/// A schema as a signature writes it: terms joined by `+`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaTpl {
    /// The terms in order; later terms' columns win.
    pub terms: Vec<TplTerm>,
}

/// A term of a schema template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TplTerm {
    /// A concrete schema.
    Fixed(Schema),
    /// A schema variable, optionally projected on the columns given by a parameter.
    Var {
        /// The variable's name.
        name: String,
        /// The `Columns<...>` parameter that selects the columns kept.
        projection: Option<String>,
    },
}

impl SchemaTpl {
    /// A template holding one concrete schema.
    pub fn fixed(schema: Schema) -> SchemaTpl {
        SchemaTpl {
            terms: vec![TplTerm::Fixed(schema)],
        }
    }

    /// The schema when the template has no variable.
    pub fn as_fixed(&self) -> Option<&Schema> {
        match self.terms.as_slice() {
            [TplTerm::Fixed(s)] => Some(s),
            _ => None,
        }
    }

    /// The variables it mentions.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            TplTerm::Var { name, .. } => Some(name.as_str()),
            TplTerm::Fixed(_) => None,
        })
    }
}

impl fmt::Display for SchemaTpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            match t {
                TplTerm::Fixed(s) => write!(f, "{s}")?,
                TplTerm::Var { name, projection } => {
                    f.write_str(name)?;
                    if let Some(p) = projection {
                        write!(f, "[{p}]")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The type of a value in a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A scalar parameter value.
    Scalar(Scalar),
    /// A list.
    List(Box<Ty>),
    /// A value that may be absent.
    Optional(Box<Ty>),
    /// A file artifact.
    File,
    /// A directory artifact.
    Dir,
    /// A model artifact.
    Model,
    /// A JSON document artifact.
    Json,
    /// A metrics artifact, with its declared keys when known (boxed, as a record's fields: a
    /// type is held in every parameter, output and argument of the checked model, and these
    /// two rare kinds made every one of them four times the size of the others).
    Metrics(Option<Box<Schema>>),
    /// A table artifact (Parquet) with its schema template.
    Table(SchemaTpl),
    /// Names of columns of the table bound to a schema variable or table parameter.
    Columns(String),
    /// One column name of the table bound to a schema variable or table parameter.
    Column(String),
    /// A record: named fields of value types (`{ region: Str, share: Float }`), a parameter
    /// value passed as a JSON object. Field order is the declared one; equality ignores it.
    Record(Box<IndexMap<String, Ty>>),
    /// The type of `none`.
    None,
    /// The type of an erroneous expression: compatible with everything, so one error is
    /// reported once.
    Error,
}

impl Ty {
    /// A concrete table type.
    pub fn table(schema: Schema) -> Ty {
        Ty::Table(SchemaTpl::fixed(schema))
    }

    /// Whether values of this type are artifacts (moved as files) rather than parameters.
    pub fn is_artifact(&self) -> bool {
        match self {
            Ty::File | Ty::Dir | Ty::Model | Ty::Json | Ty::Metrics(_) | Ty::Table(_) => true,
            Ty::List(t) | Ty::Optional(t) => t.is_artifact(),
            _ => false,
        }
    }

    /// The type without `Optional`.
    pub fn strip_optional(&self) -> &Ty {
        match self {
            Ty::Optional(t) => t.strip_optional(),
            t => t,
        }
    }

    /// Whether this is the error type.
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Scalar(s) => f.write_str(s.as_str()),
            Ty::List(t) => write!(f, "List<{t}>"),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::File => f.write_str("File"),
            Ty::Dir => f.write_str("Dir"),
            Ty::Model => f.write_str("Model"),
            Ty::Json => f.write_str("Json"),
            Ty::Metrics(None) => f.write_str("Metrics"),
            Ty::Metrics(Some(s)) => write!(f, "Metrics<{s}>"),
            Ty::Table(s) => write!(f, "Table<{s}>"),
            Ty::Columns(t) => write!(f, "Columns<{t}>"),
            Ty::Column(t) => write!(f, "Column<{t}>"),
            Ty::Record(fields) => {
                f.write_str("{ ")?;
                for (i, (name, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {t}")?;
                }
                f.write_str(if fields.is_empty() { "}" } else { " }" })
            }
            Ty::None => f.write_str("none"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}
