//! Whether a Python annotation contradicts a step parameter's declared type.
//!
//! Only annotations that name a type flowc knows the Python side of are judged: builtins
//! (`str`, `int`, `float`, `bool`, `list`, `dict`, …), `datetime.date`, paths, and DataFrame
//! types. `Optional[X]`, `X | None` and string annotations are unwrapped first. Anything else
//! (a type of the user's own, `Any`, a type variable) is accepted: the check reports only what
//! is certainly wrong.

use flowc_compiler::types::{Scalar, Ty};

/// Names an annotation may end with, and what they are.
const KNOWN: &[(&str, Kind)] = &[
    ("str", Kind::Str),
    ("int", Kind::Int),
    ("float", Kind::Float),
    ("bool", Kind::Bool),
    ("date", Kind::Date),
    ("datetime", Kind::DateTime),
    ("list", Kind::List),
    ("List", Kind::List),
    ("Sequence", Kind::List),
    ("tuple", Kind::Tuple),
    ("Tuple", Kind::Tuple),
    ("dict", Kind::Dict),
    ("Dict", Kind::Dict),
    ("Mapping", Kind::Dict),
    ("DataFrame", Kind::Frame),
    ("Table", Kind::Frame),
    ("LazyFrame", Kind::LazyFrame),
    ("Path", Kind::Path),
    ("PurePath", Kind::Path),
    ("PathLike", Kind::Path),
    ("bytes", Kind::Bytes),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Date,
    DateTime,
    List,
    Tuple,
    Dict,
    Frame,
    LazyFrame,
    Path,
    Bytes,
}

/// The annotation without quotes, `Optional[...]` and `| None`, and its outer type's last
/// dotted name (`pd.DataFrame` → `DataFrame`, `list[int]` → `list`).
fn outer_name(annotation: &str) -> String {
    let mut a = annotation
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim()
        .to_string();
    loop {
        let inner = a
            .strip_prefix("Optional[")
            .or_else(|| a.strip_prefix("typing.Optional["))
            .and_then(|r| r.strip_suffix(']'));
        match inner {
            Some(i) => a = i.trim().to_string(),
            None => break,
        }
    }
    let parts: Vec<&str> = a
        .split('|')
        .map(str::trim)
        .filter(|p| *p != "None")
        .collect();
    let one = if parts.len() == 1 { parts[0] } else { "" };
    let base = one.split('[').next().unwrap_or_default();
    base.rsplit('.')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// What a step parameter's values arrive as.
fn accepted(ty: &Ty) -> &'static [Kind] {
    match ty {
        Ty::Optional(inner) => accepted(inner),
        Ty::Scalar(Scalar::Str) | Ty::Column(_) => &[Kind::Str],
        // An int is a float to Python's type checkers (PEP 484's numeric tower).
        Ty::Scalar(Scalar::Int) => &[Kind::Int, Kind::Float],
        Ty::Scalar(Scalar::Float) => &[Kind::Float],
        Ty::Scalar(Scalar::Bool) => &[Kind::Bool],
        Ty::Scalar(Scalar::Date) => &[Kind::Date],
        Ty::List(_) | Ty::Columns(_) => &[Kind::List],
        Ty::Table(_) => &[Kind::Frame],
        Ty::File | Ty::Dir | Ty::Model => &[Kind::Path],
        Ty::Metrics(_) | Ty::Record(_) => &[Kind::Dict],
        Ty::Json | Ty::None | Ty::Error => &[],
    }
}

/// Why `annotation` contradicts `ty`, when it certainly does.
pub fn contradiction(ty: &Ty, annotation: Option<&str>) -> Option<String> {
    let annotation = annotation?;
    let name = outer_name(annotation);
    let (_, kind) = KNOWN.iter().find(|(n, _)| *n == name)?;
    let ok = accepted(ty);
    if ok.is_empty() || ok.contains(kind) {
        return None;
    }
    let arrives = match ok[0] {
        Kind::Str => "a `str`",
        Kind::Int => "an `int`",
        Kind::Float => "a `float`",
        Kind::Bool => "a `bool`",
        Kind::Date => "a `datetime.date`",
        Kind::List => "a `list`",
        Kind::Frame => "a DataFrame (pandas; polars or a pyarrow Table when annotated so)",
        Kind::Path => "a `pathlib.Path`",
        Kind::Dict => "a `dict`",
        _ => "another type",
    };
    Some(format!(
        "the value arrives as {arrives}, not `{}`",
        annotation.trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowc_compiler::types::Schema;

    #[test]
    fn annotations_are_judged_by_their_outer_known_type() {
        let date = Ty::Scalar(Scalar::Date);
        assert!(contradiction(&date, Some("int")).is_some());
        assert!(contradiction(&date, Some("datetime.date")).is_none());
        assert!(contradiction(&date, Some("date")).is_none());
        assert!(contradiction(&date, Some("MyDate")).is_none());
        assert!(contradiction(&date, None).is_none());
        let opt_int = Ty::Optional(Box::new(Ty::Scalar(Scalar::Int)));
        assert!(contradiction(&opt_int, Some("Optional[int]")).is_none());
        assert!(contradiction(&opt_int, Some("int | None")).is_none());
        assert!(contradiction(&opt_int, Some("str | None")).is_some());
        let table = Ty::table(Schema::default());
        for ok in [
            "pd.DataFrame",
            "'pl.DataFrame'",
            "pa.Table",
            "pandas.DataFrame",
        ] {
            assert!(contradiction(&table, Some(ok)).is_none(), "{ok}");
        }
        assert!(contradiction(&table, Some("dict")).is_some());
        assert!(contradiction(&Ty::List(Box::new(date)), Some("list[datetime.date]")).is_none());
        assert!(contradiction(&Ty::File, Some("str")).is_some());
        assert!(contradiction(&Ty::Json, Some("dict")).is_none());
    }
}
