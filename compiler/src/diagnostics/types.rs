//! Constructors of the diagnostics about types, arguments and schemas (`E2xx`).
//!
//! A value that cannot flow where it is sent is reported by one of the first six, according to
//! the mismatch that assignability found; `what` names the place it flows into, as in
//! "argument `n` of `panel`". The caller adds the labels of the producer and of the declaration.

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::types::{ColumnTy, Ty};

fn col_str(c: &ColumnTy) -> String {
    format!("{}{}", c.ty.as_str(), if c.nullable { "?" } else { "" })
}

/// E201: `found` flows where `expected` is required.
pub(crate) fn type_mismatch(
    file: FileId,
    span: Span,
    what: &str,
    expected: &Ty,
    found: &Ty,
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("{what} expects `{expected}`, found `{found}`"),
        file,
        span,
        format!("this is `{found}`"),
    )
}

/// E201: a value that may be absent (`found`, such as `Int?`) where a value is required.
pub(crate) fn value_may_be_absent(
    file: FileId,
    span: Span,
    what: &str,
    expected: &Ty,
    found: &Ty,
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("{what} expects `{expected}`, but the value may be absent (`{found}`)"),
        file,
        span,
        "may be none here",
    )
    .with_help("bind the value in every branch of the `if`, or make the input optional with `?`")
}

/// E202: an artifact where a parameter value is expected, or the reverse.
pub(crate) fn artifact_parameter_mismatch(
    file: FileId,
    span: Span,
    what: &str,
    expected: &Ty,
    found: &Ty,
    expected_artifact: bool,
) -> Diagnostic {
    let (want, got) = if expected_artifact {
        ("an artifact", "a parameter value")
    } else {
        ("a parameter value", "an artifact")
    };
    Diagnostic::new(
        Code::ArtifactParameterMismatch,
        format!("{what} expects {want} (`{expected}`), found {got} (`{found}`)"),
        file,
        span,
        format!("this is {got}"),
    )
    .with_help(if expected_artifact {
        "pass the output of a step, or declare a pipeline parameter of an artifact type"
    } else {
        "parameters are small values; read the artifact inside the step instead"
    })
}

/// E203: the table lacks the column `name` that `what` requires.
pub(crate) fn missing_column(
    file: FileId,
    span: Span,
    what: &str,
    name: &str,
    expected: &ColumnTy,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::MissingColumn,
        format!(
            "{what} requires column `{name}: {}`, which the table does not have",
            col_str(expected)
        ),
        file,
        span,
        format!("this table has no column `{name}`"),
    );
    if let Some((f, s)) = expected.origin {
        d = d.with_label(f, s, "required here");
    }
    d.with_help(format!(
        "add `{name}` to the producer's schema, or derive it before this step"
    ))
}

/// E204: the column `name` is `found` where `what` requires `expected`.
pub(crate) fn column_type_mismatch(
    file: FileId,
    span: Span,
    what: &str,
    name: &str,
    expected: &ColumnTy,
    found: &ColumnTy,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::ColumnTypeMismatch,
        format!(
            "column `{name}` is `{}` but {what} requires `{}`",
            col_str(found),
            col_str(expected)
        ),
        file,
        span,
        format!("`{name}` is `{}` here", col_str(found)),
    );
    if let Some((f, s)) = found.origin {
        d = d.with_label(
            f,
            s,
            format!("`{name}` is declared `{}` here", col_str(found)),
        );
    }
    if let Some((f, s)) = expected.origin {
        d = d.with_label(f, s, format!("`{}` is required here", col_str(expected)));
    }
    d.with_help(format!(
        "cast `{name}` to `{}` before this step, or change one of the schemas",
        expected.ty.as_str()
    ))
}

/// E205: the column `name` may be null where `what` requires a non-null value.
pub(crate) fn nullable_column(
    file: FileId,
    span: Span,
    what: &str,
    name: &str,
    expected: &ColumnTy,
    found: &ColumnTy,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::NullableColumn,
        format!(
            "column `{name}` may be null, but {what} requires a non-null `{}`",
            expected.ty.as_str()
        ),
        file,
        span,
        format!("`{name}` is `{}` here", col_str(found)),
    );
    if let Some((f, s)) = found.origin {
        d = d.with_label(f, s, "declared nullable here");
    }
    if let Some((f, s)) = expected.origin {
        d = d.with_label(f, s, "required non-null here");
    }
    d.with_help(format!(
        "filter out or fill the nulls of `{name}` first, or declare the input column `{}?`",
        expected.ty.as_str()
    ))
}
