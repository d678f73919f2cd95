//! Constructors of the diagnostics about types, arguments and schemas (`E2xx`).
//!
//! A value that cannot flow where it is sent is reported by one of the first six, according to
//! the mismatch that assignability found; `what` names the place it flows into, as in
//! "argument `n` of `panel`". The caller adds the labels of the producer and of the declaration.

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::suggest::did_you_mean;
use crate::types::{ColumnTy, Scalar, Ty};

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

/// E202: the artifact `name` (of type `ty`) interpolated into a string.
pub(crate) fn interpolated_artifact(file: FileId, span: Span, name: &str, ty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::ArtifactParameterMismatch,
        format!(
            "`{}` is an artifact and cannot be interpolated into a value",
            name
        ),
        file,
        span,
        format!("`{}` is `{ty}`", name),
    )
    .with_help("pass the artifact to a step input instead; only parameters are text")
}

/// E215: a string where a `Date` is expected that is not a valid date (`why`).
pub(crate) fn invalid_date(file: FileId, span: Span, value: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDate,
        format!("`{}` is not a valid date: {why}", value),
        file,
        span,
        "expected `YYYY-MM-DD`",
    )
    .with_help("write dates as `\"2024-01-31\"`")
}

/// E201: a quantity with a unit (`512Mi`) where a value is expected.
pub(crate) fn quantity_as_value(
    file: FileId,
    span: Span,
    number: impl std::fmt::Display,
    unit: impl std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("the quantity `{}{}` is not a value", number, unit),
        file,
        span,
        "quantities with units are only for properties",
    )
    .with_help("pass a plain number (bytes, seconds) or a string instead")
}

/// E201: a list item of type `t` after items of type `prev`.
pub(crate) fn mixed_list(file: FileId, span: Span, prev: &Ty, t: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("list items have different types: `{prev}` and `{t}`"),
        file,
        span,
        format!("this is `{t}`"),
    )
    .with_help("make every item of a list the same type")
}

/// E218: `l OP r` compares values that cannot be compared.
pub(crate) fn incomparable(
    file: FileId,
    op: &str,
    op_span: Span,
    lhs: Span,
    l: &Ty,
    rhs: Span,
    r: &Ty,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidOperands,
        format!("cannot compare `{l}` with `{r}` using `{}`", op),
        file,
        op_span,
        "incompatible operands",
    )
    .with_label(file, lhs, format!("`{l}`"))
    .with_label(file, rhs, format!("`{r}`"))
    .with_help("compare numbers with numbers, and strings or dates with values of the same type")
}

/// E218: `+` of a string (`text`) and a value of another type (`other`), the one pointed at.
pub(crate) fn mixed_plus(
    file: FileId,
    (text, text_ty): (Span, &Ty),
    (other, other_ty): (Span, &Ty),
) -> Diagnostic {
    let (first, second) = if text.start <= other.start {
        (text_ty, other_ty)
    } else {
        (other_ty, text_ty)
    };
    Diagnostic::new(
        Code::InvalidOperands,
        format!("cannot join `{first}` and `{second}` with `+`"),
        file,
        other,
        format!("this is `{other_ty}`, not `Str`"),
    )
    .with_label(file, text, format!("this is `{text_ty}`"))
    .with_note("`+` joins two strings or adds two numbers")
    .with_help("make both operands strings, or both numbers")
}

/// E218: an operand of type `t` of `op`, which takes `want`.
pub(crate) fn invalid_operand(
    file: FileId,
    span: Span,
    op: &str,
    want: &[&str],
    t: &Ty,
) -> Diagnostic {
    // `Int`, `Float` or `Str`
    let quoted: Vec<String> = want.iter().map(|w| format!("`{w}`")).collect();
    let types = match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    };
    Diagnostic::new(
        Code::InvalidOperands,
        format!("`{op}` needs {types} operands, found `{t}`"),
        file,
        span,
        format!("this is `{t}`"),
    )
    .with_help(format!("give `{op}` only {types} values"))
}

/// E212: a default value that is a name, not a literal.
pub(crate) fn default_not_literal(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDefault,
        "a default value must be a literal",
        file,
        span,
        format!("`{}` is a name", name),
    )
    .with_help("write the value itself, such as `0.3`, `\"fr\"` or `[\"a\", \"b\"]`")
}

/// E212: a default value of type `actual` for a parameter of type `ty`.
pub(crate) fn default_type_mismatch(file: FileId, span: Span, actual: &Ty, ty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDefault,
        format!("the default value is `{actual}`, but the parameter is `{ty}`"),
        file,
        span,
        format!("expected `{ty}`"),
    )
    .with_help(format!("give a default of type `{ty}`"))
}

/// E208: an argument given twice.
pub(crate) fn duplicate_argument(file: FileId, span: Span, first: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateArgument,
        format!("argument `{}` is given twice", name),
        file,
        span,
        "given again here",
    )
    .with_label(file, first, "first given here")
    .with_help("remove one of them")
}

/// E206: an argument the callee does not take; `params` are the ones it takes.
pub(crate) fn unknown_argument(
    file: FileId,
    span: Span,
    name: &str,
    callee: &str,
    declared: (FileId, Span),
    params: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownArgument,
        format!("`{}` takes no argument `{}`", callee, name),
        file,
        span,
        "unknown argument",
    )
    .with_label(
        declared.0,
        declared.1,
        format!("`{}` is declared here", callee),
    )
    .with_help_opt(did_you_mean(name, params.iter().copied()))
}

/// E207: a call without the arguments `list`.
pub(crate) fn missing_arguments(
    file: FileId,
    span: Span,
    callee: &str,
    list: &[String],
) -> Diagnostic {
    Diagnostic::new(
        Code::MissingArgument,
        format!(
            "`{}` is missing {} {}",
            callee,
            if list.len() == 1 {
                "argument"
            } else {
                "arguments"
            },
            list.join(", ")
        ),
        file,
        span,
        "missing arguments",
    )
}

/// E201: `as` on a call of a step without outputs.
pub(crate) fn cast_without_output(file: FileId, span: Span, callee: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("`{}` has no output to give a type with `as`", callee),
        file,
        span,
        "nothing to cast",
    )
    .with_help("remove the `as ...` clause")
}

/// E201: `as` giving a non-table type `cty` to a table output.
pub(crate) fn cast_to_non_table(file: FileId, span: Span, callee: &str, cty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("`{}` produces a table; `as` must give `Table<...>`", callee),
        file,
        span,
        format!("`{cty}` is not a table"),
    )
    .with_help("write `as Table<SchemaName>`")
}

/// E210: the schema variable `var` of output `output` (the `k`th) is fixed by no input.
pub(crate) fn cannot_infer_schema(
    file: FileId,
    span: Span,
    callee: &str,
    var: impl std::fmt::Display,
    output: &str,
    declared: (FileId, Span),
    first_output: bool,
) -> Diagnostic {
    Diagnostic::new(
        Code::CannotInferSchema,
        format!(
            "cannot infer the schema `{var}` of output `{}` of `{}`",
            output, callee
        ),
        file,
        span,
        "no input determines it",
    )
    .with_label(declared.0, declared.1, "the output is declared here")
    .with_help(if first_output {
        "give the schema after the call: `... as Table<SchemaName>`".to_string()
    } else {
        format!("pass a table for `{var}`")
    })
}

/// E201: a value of type `actual` where a column name (or a list of them) is expected.
pub(crate) fn not_columns(
    file: FileId,
    span: Span,
    argument: &str,
    callee: &str,
    single: bool,
    actual: &Ty,
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!(
            "argument `{}` of `{}` takes {}",
            argument,
            callee,
            if single {
                "a column name"
            } else {
                "a list of column names"
            }
        ),
        file,
        span,
        format!("this is `{actual}`"),
    )
    .with_help(if single {
        "write the column name, as in `weight`"
    } else {
        "write the columns as a list, as in `[sex, age_group]`"
    })
}

/// E201: a list item that is not a column name.
pub(crate) fn not_a_column_name(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        "a column name is a bare name or a string",
        file,
        span,
        "not a column name",
    )
    .with_help("write the column's name, as in `sex` or `\"sex\"`")
}

/// E209: a column that the table does not have; `columns` are its columns.
pub(crate) fn unknown_column(file: FileId, span: Span, name: &str, columns: &[&str]) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownColumn,
        format!("the table has no column `{name}`"),
        file,
        span,
        "unknown column",
    )
    .with_help_opt(did_you_mean(name, columns.iter().copied()))
    .with_note(format!("its columns are: {}", columns.join(", ")))
}

/// E208: a column listed twice.
pub(crate) fn duplicate_column_argument(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateArgument,
        format!("column `{name}` is listed twice"),
        file,
        span,
        "listed again",
    )
    .with_help("list each column once")
}

/// E214: a schema in an `extends` cycle.
pub(crate) fn schema_extends_itself(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::SchemaConflict,
        format!("schema `{}` extends itself", name),
        file,
        span,
        "this schema is part of an `extends` cycle",
    )
    .with_help("remove one of the `extends` clauses of the cycle")
}

/// E214: a column inherited with two types: `first` from `first_parent`, `second` from `parent`.
pub(crate) fn conflicting_parents(
    file: FileId,
    span: Span,
    name: &str,
    first: Scalar,
    first_parent: &str,
    second: Scalar,
    parent: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::SchemaConflict,
        format!(
            "column `{name}` is `{}` in `{}` but `{}` in `{}`",
            first.as_str(),
            first_parent,
            second.as_str(),
            parent
        ),
        file,
        span,
        "conflicting parent",
    )
    .with_help("give the column the same type in both schemas, or rename it")
}

/// E214: a column redefined as `ty` that the parent `parent` declares `inherited`.
pub(crate) fn column_redefined(
    file: FileId,
    span: Span,
    name: &str,
    ty: Scalar,
    parent: &str,
    inherited: Scalar,
) -> Diagnostic {
    Diagnostic::new(
        Code::SchemaConflict,
        format!(
            "column `{name}` is redefined as `{}` but `{}` declares it `{}`",
            ty.as_str(),
            parent,
            inherited.as_str()
        ),
        file,
        span,
        "redefined here",
    )
}

/// E213: a column of a type that is not a scalar.
pub(crate) fn invalid_column_type(file: FileId, span: Span, name: &str, ty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidColumnType,
        format!("column `{}` has type `{ty}`, which is not a scalar", name),
        file,
        span,
        "not a column type",
    )
    .with_help("columns are `Str`, `Int`, `Float`, `Bool` or `Date`, optionally with `?`")
}

/// E201: a name bound to `b` in this branch and to `a` (at `first`) in another.
pub(crate) fn branch_type_mismatch(
    file: FileId,
    span: Span,
    first: Span,
    name: &str,
    a: &Ty,
    b: &Ty,
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        format!("`{name}` is `{b}` in this branch but `{a}` in another"),
        file,
        span,
        format!("this is `{b}`"),
    )
    .with_label(file, first, format!("this is `{a}`"))
    .with_help("bind values of one type to the name in every branch")
}

/// E216: a condition (`what`) that is not a `Bool`.
pub(crate) fn not_bool(file: FileId, span: Span, what: &str, t: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::NotBool,
        format!("{what} must be a `Bool`, found `{t}`"),
        file,
        span,
        format!("this is `{t}`"),
    )
    .with_help("compare the value, as in `quality.max_abs_error < 0.001`")
}

/// E217: `for` over a value of type `other`.
pub(crate) fn not_a_list(file: FileId, span: Span, other: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::NotAList,
        format!("`for` needs a list, found `{other}`"),
        file,
        span,
        format!("this is `{other}`"),
    )
    .with_help("iterate over a `List<...>` parameter, a list literal, or a list output of a step")
}

/// E201: `run` given something other than a list.
pub(crate) fn run_not_a_list(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        "`run` takes a list of arguments",
        file,
        span,
        "not a list",
    )
    .with_help("write the command as a list: `run [\"python\", \"-m\", \"job\", input]`")
}

/// E201: a command argument that is not a string, a number or a name.
pub(crate) fn invalid_command_argument(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        "a command argument must be a string, a number or the name of an input or output",
        file,
        span,
        "not a command argument",
    )
    .with_help("quote the argument, or interpolate names with `\"${name}\"`")
}

/// E202: an artifact given to an environment variable.
pub(crate) fn artifact_in_env(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::ArtifactParameterMismatch,
        format!(
            "`{}` is an artifact; an environment variable holds text",
            name
        ),
        file,
        span,
        "artifact",
    )
    .with_help(format!(
        "pass its path to the command instead: `run [..., \"${{{}}}\"]`",
        name
    ))
}

/// E201: an environment variable set from something else than a string, a number, a parameter or a secret.
pub(crate) fn invalid_env_value(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        "an environment variable is set from a string, a number, a parameter or a secret",
        file,
        span,
        "not allowed here",
    )
    .with_help("quote the value")
}
