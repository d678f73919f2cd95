//! Constructors of the diagnostics about record types and values (`E433`–`E436`).

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::suggest::did_you_mean;
use crate::types::Ty;

/// E433: `name.field` where the record `name` has no field `field`.
pub(crate) fn unknown_field(
    file: FileId,
    span: Span,
    name: &str,
    field: &str,
    fields: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownRecordField,
        format!("the record `{name}` has no field `{field}`"),
        file,
        span,
        "unknown field",
    )
    .with_help_opt(did_you_mean(field, fields.iter().copied()))
    .with_note(format!("its fields are: {}", fields.join(", ")))
}

/// E433: `name.field.more` where `name.field` is not a record.
pub(crate) fn field_of_non_record(file: FileId, span: Span, path: &str, ty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownRecordField,
        format!("`{path}` is a `{ty}`, not a record: it has no fields"),
        file,
        span,
        "no such field",
    )
    .with_help(format!("use `{path}` itself"))
}

/// E434: a record lacks field `field` that another record or its type has.
pub(crate) fn missing_field(file: FileId, span: Span, field: &str, other: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::RecordFieldsDisagree,
        format!("this record has no field `{field}`, which `{other}` has"),
        file,
        span,
        format!("`{field}` missing"),
    )
    .with_help(format!(
        "give `{field}` here, or make it optional (`{field}: T?`) in the record type"
    ))
}

/// E434: a record has field `field` that another record or its type lacks.
pub(crate) fn extra_field(file: FileId, span: Span, field: &str, other: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::RecordFieldsDisagree,
        format!("this record has a field `{field}`, which `{other}` has not"),
        file,
        span,
        format!("`{field}` is not in `{other}`"),
    )
    .with_help_opt(match other {
        Ty::Record(fs) => did_you_mean(field, fs.keys().map(String::as_str)),
        _ => None,
    })
    .with_note("the records of a list, and a record and its type, have the same fields")
}

/// E435: a field written twice in a record type or value.
pub(crate) fn duplicate_field(file: FileId, span: Span, field: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRecordType,
        format!("the field `{field}` is given twice"),
        file,
        span,
        "given again here",
    )
    .with_help("remove one of the two")
}

/// E435: a record field of an artifact (or otherwise non-value) type.
pub(crate) fn artifact_field(file: FileId, span: Span, field: &str, ty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRecordType,
        format!("the record field `{field}` is a `{ty}`, which a record cannot hold"),
        file,
        span,
        "not a value type",
    )
    .with_help(
        "record fields are values (`Str`, `Int`, `Float`, `Bool`, `Date`, lists and records of them): pass artifacts as separate arguments",
    )
}

/// E434: the record `t` of a literal list whose fields differ from those of the earlier `prev`;
/// `None` when the two are not both records or have the same fields (the types differ).
pub(crate) fn list_disagreement(file: FileId, span: Span, prev: &Ty, t: &Ty) -> Option<Diagnostic> {
    let (Ty::Record(p), Ty::Record(f)) = (prev, t) else {
        return None;
    };
    if let Some(name) = p.keys().find(|k| !f.contains_key(*k)) {
        return Some(missing_field(file, span, name, prev));
    }
    let name = f.keys().find(|k| !p.contains_key(*k))?;
    Some(extra_field(file, span, name, prev))
}

/// E436: a record value's field holds a run-time value (a name or an interpolation).
pub(crate) fn run_time_field(file: FileId, span: Span, field: &str) -> Diagnostic {
    Diagnostic::new(
        Code::RecordOfRunTimeValues,
        format!("the record field `{field}` is not a literal value"),
        file,
        span,
        "read at run time",
    )
    .with_help(
        "write record values with literal fields, and pass run-time values (`job.region`, a step's output) as separate arguments",
    )
}

/// E435: a step or pipeline output of a record type.
pub(crate) fn record_output(file: FileId, span: Span, output: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRecordType,
        format!("the output `{output}` is a record, which an output cannot be"),
        file,
        span,
        "a record output",
    )
    .with_help(
        "records are parameters and loop items: return each field as a value output, or the record as a `Json` file",
    )
}
