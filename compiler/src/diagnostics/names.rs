//! Constructors of the diagnostics about imports and names (`E1xx`).

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::suggest::did_you_mean;

/// E107: an imported file cannot be read.
pub(crate) fn import_not_found(file: FileId, span: Span, path: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::ImportNotFound,
        format!("cannot read imported file `{path}`: {why}"),
        file,
        span,
        "imported here",
    )
    .with_help("import paths are relative to the importing file")
}

/// E110: `std.NAME` is not a module of the standard library, which has `known`.
pub(crate) fn unknown_std_module(
    file: FileId,
    span: Span,
    path: &str,
    known: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownStdModule,
        format!("there is no standard-library module `{path}`"),
        file,
        span,
        "unknown module",
    )
    .with_help_opt(did_you_mean(path, known.iter().copied()))
    .with_note(format!("the standard library has: {}", known.join(", ")))
}

/// E109: an import at `span` is part of the cycle of files `cycle`.
pub(crate) fn import_cycle(file: FileId, span: Span, cycle: &[String]) -> Diagnostic {
    Diagnostic::new(
        Code::ImportCycle,
        "this import is part of an import cycle",
        file,
        span,
        "imports a file that imports this one back",
    )
    .with_note(format!("the cycle: {}", cycle.join(" → ")))
    .with_help("move the shared declarations into a third file that both import")
}

/// E106: `name` is declared (or imported) at `span` after its first declaration at `first`.
pub(crate) fn duplicate_declaration(
    file: FileId,
    span: Span,
    first: Span,
    name: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateDeclaration,
        format!("`{name}` is declared more than once"),
        file,
        span,
        "declared again here",
    )
    .with_label(file, first, "first declared here")
    .with_help("rename one of them, or import with `as` to give it another name")
}

/// E108: an imported name that the imported module `source` does not declare.
pub(crate) fn imported_name_not_found<'a>(
    file: FileId,
    span: Span,
    name: &str,
    source: &str,
    declared: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    Diagnostic::new(
        Code::ImportedNameNotFound,
        format!("`{name}` is not declared in `{source}`"),
        file,
        span,
        "not found in the imported module",
    )
    .with_help_opt(did_you_mean(name, declared))
}

/// E111: `name` is `kind_a` (such as "a schema") where `what` (such as "a step") is expected;
/// `declared` is where it is declared.
pub(crate) fn wrong_kind(
    file: FileId,
    span: Span,
    name: &str,
    kind_a: &str,
    what: &str,
    declared: (FileId, Span),
) -> Diagnostic {
    Diagnostic::new(
        Code::WrongKind,
        format!("`{name}` is {kind_a}, not {what}"),
        file,
        span,
        format!("expected {what}"),
    )
    .with_label(declared.0, declared.1, format!("`{name}` is declared here"))
}

/// `code` (E101–E105): no declaration of the kind `what` (such as "a step") is named `name`;
/// `in_scope` are the names of that kind in scope, for a suggestion.
pub(crate) fn unknown_name(
    code: Code,
    file: FileId,
    span: Span,
    name: &str,
    what: &str,
    in_scope: &[String],
) -> Diagnostic {
    let d = Diagnostic::new(
        code,
        format!(
            "there is no {} named `{name}`",
            what.trim_start_matches("a ").trim_start_matches("an ")
        ),
        file,
        span,
        "not found in this module",
    )
    .with_help_opt(did_you_mean(name, in_scope.iter().map(String::as_str)));
    if d.help.is_some() {
        return d;
    }
    d.with_help(format!(
        "declare {what} named `{name}`, or import it from the module that declares it"
    ))
}

/// E106: a column, parameter (`what`) declared twice in one declaration.
pub(crate) fn declared_twice(
    file: FileId,
    span: Span,
    first: Span,
    what: &str,
    name: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateDeclaration,
        format!("{what} `{name}` is declared twice"),
        file,
        span,
        "declared again here",
    )
    .with_label(file, first, "first declared here")
}

/// E102: an unknown type; `help` suggests one.
pub(crate) fn unknown_type(
    file: FileId,
    span: Span,
    name: &str,
    help: Option<String>,
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownType,
        format!("unknown type `{name}`"),
        file,
        span,
        "not a type",
    )
    .with_help_opt(help)
}

/// E102: a column projection of a named schema, not of a schema variable.
pub(crate) fn projection_of_named_schema(file: FileId, span: Span, schema: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownType,
        "a column projection needs a schema variable",
        file,
        span,
        "projection of a named schema",
    )
    .with_help(format!(
        "write the columns you keep as a schema, or use `{}` whole",
        schema
    ))
}

/// E113: `builtin step` outside the standard library.
pub(crate) fn builtin_outside_std(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
                    Code::BuiltinOutsideStd,
                    format!("`builtin step {}` is declared outside the standard library", name),
                    file,
                    span,
                    "built-in steps are implemented inside flowc",
                )
                .with_help("declare a container step with `step`, `image` and `run`, or import the built-in from `std.*`")
}

/// E102: `Columns<NAME>` where NAME is no schema variable or table parameter.
pub(crate) fn columns_of_unknown(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownType,
        format!(
            "`{}` is neither a schema variable nor a table parameter of this step",
            name
        ),
        file,
        span,
        "columns of what?",
    )
    .with_help(
        "name a `Table<...>` parameter of the step, or a schema variable declared in `<...>`",
    )
}

/// E106: a parameter or output name used twice in a step's signature.
pub(crate) fn declared_twice_in_signature(
    file: FileId,
    span: Span,
    first: Span,
    name: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateDeclaration,
        format!("`{}` is declared twice in the step's signature", name),
        file,
        span,
        "declared again here",
    )
    .with_label(file, first, "first declared here")
}

/// E102: `Columns`/`Column` as the type of a pipeline parameter.
pub(crate) fn columns_as_pipeline_parameter(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownType,
        "`Columns` and `Column` are only for built-in step parameters",
        file,
        span,
        "not a pipeline parameter type",
    )
    .with_help("use `List<Str>` for a list of column names")
}

/// E112: a name bound twice in a pipeline.
pub(crate) fn bound_twice(file: FileId, span: Span, first: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateBinding,
        format!("`{name}` is bound twice in this pipeline"),
        file,
        span,
        "bound again here",
    )
    .with_label(file, first, "first bound here")
    .with_help("give each step result its own name")
}

/// E112: a result named as a parameter of the pipeline.
pub(crate) fn binding_shadows_parameter(
    file: FileId,
    span: Span,
    parameter: Span,
    name: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateBinding,
        format!("`{name}` is already a parameter of the pipeline"),
        file,
        span,
        "shadows the parameter",
    )
    .with_label(file, parameter, "parameter declared here")
    .with_help("give the step result another name")
}

/// E112: a pipeline output declared twice.
pub(crate) fn duplicate_output(file: FileId, span: Span, first: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateBinding,
        format!("output `{}` is declared twice", name),
        file,
        span,
        "declared again here",
    )
    .with_label(file, first, "first declared here")
    .with_help("give each output its own name")
}

/// E211: a member of a step result that has no output.
pub(crate) fn no_output(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownMember,
        format!("`{}` has no output", name),
        file,
        span,
        "the step returns nothing",
    )
    .with_help("declare an output with `-> (name: Type)` on the step")
}

/// E105: a name neither bound nor a parameter in this pipeline; `in_scope` are those that are.
pub(crate) fn unknown_pipeline_name(
    file: FileId,
    span: Span,
    name: &str,
    in_scope: &[String],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownName,
        format!("`{}` is not defined in this pipeline", name),
        file,
        span,
        "unknown name",
    )
    .with_help_opt(
        did_you_mean(name, in_scope.iter().map(String::as_str)).or(Some(
            "bind it with `name = step(...)` or declare it as a pipeline parameter".into(),
        )),
    )
}

/// E105: `run` read outside a `finally` call (only an exit handler knows how the run ended).
pub(crate) fn run_outside_finally(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownName,
        "`run` is readable only in the arguments of a `finally` call",
        file,
        span,
        "not in a `finally` call",
    )
    .with_help(
        "pass `run.status` or `run.name` to a step called with `finally`, which runs when the \
         pipeline has ended",
    )
}

/// E105: a field of `run` that does not exist (`field` empty: `run` alone); `fields` are its
/// fields.
pub(crate) fn unknown_run_field(
    file: FileId,
    span: Span,
    field: &str,
    fields: &[&str],
) -> Diagnostic {
    let message = if field.is_empty() {
        "`run` is read through one of its fields".to_string()
    } else {
        format!("`run` has no field `{field}`")
    };
    Diagnostic::new(
        Code::UnknownName,
        message,
        file,
        span,
        "not a field of `run`",
    )
    .with_help(format!(
        "read {}",
        fields
            .iter()
            .map(|f| format!("`run.{f}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    ))
}

/// E211: a key the metrics of `result` do not have; `keys` are theirs.
pub(crate) fn unknown_metric(
    file: FileId,
    span: Span,
    result: &str,
    key: &str,
    keys: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownMember,
        format!("the metrics of `{}` have no key `{}`", result, key),
        file,
        span,
        "unknown metric",
    )
    .with_help_opt(did_you_mean(key, keys.iter().copied()))
    .with_note(format!("its metrics are: {}", keys.join(", ")))
}

/// E211: a member of `name`, which is `other`.
pub(crate) fn no_member(
    file: FileId,
    span: Span,
    name: &str,
    member: &str,
    other: impl std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownMember,
        format!("`{}` has no member `{}`", name, member),
        file,
        span,
        format!("`{}` is `{other}`", name),
    )
}

/// E211: a member of `name`, a list of the results of the `for` iterations that bound it.
pub(crate) fn member_of_loop_list(
    file: FileId,
    span: Span,
    name: &str,
    member: &str,
    list: impl std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownMember,
        format!("`{name}` is a list here and has no member `{member}`"),
        file,
        span,
        format!("`{name}` is `{list}`"),
    )
    .with_note(format!(
        "`{name}` is bound inside a `for`: after the loop it is a list, one item per iteration"
    ))
    .with_help(format!(
        "read `{name}.{member}` inside the loop's body, or pass the whole list to a step that takes a `List`"
    ))
}

/// E211: a member of a metric value.
pub(crate) fn member_of_metric(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownMember,
        "a metric value has no members",
        file,
        span,
        "unexpected member",
    )
    .with_help("remove the extra `.name`")
}

/// E105: a name in a step that is none of its inputs and outputs (`names`).
pub(crate) fn unknown_step_name(
    file: FileId,
    span: Span,
    name: &str,
    names: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownName,
        format!("`{name}` is not an input or output of this step"),
        file,
        span,
        "unknown name",
    )
    .with_help_opt(did_you_mean(name, names.iter().copied()))
    .with_note(if names.is_empty() {
        "the step has no inputs or outputs".to_string()
    } else {
        format!("the step's inputs and outputs are: {}", names.join(", "))
    })
}

/// E105: a name interpolated in a step that is not one of its parameters (`params`).
pub(crate) fn unknown_step_parameter(
    file: FileId,
    span: Span,
    name: &str,
    params: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownName,
        format!("`{}` is not a parameter of this step", name),
        file,
        span,
        "unknown name",
    )
    .with_help_opt(did_you_mean(name, params.iter().copied()))
}

/// E111: an environment variable set from a declaration that is neither a secret nor a parameter.
pub(crate) fn env_from_wrong_kind(
    file: FileId,
    span: Span,
    name: &str,
    kind_a: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::WrongKind,
        format!("`{}` is {}, not a secret or parameter", name, kind_a),
        file,
        span,
        "expected a secret or a parameter",
    )
    .with_help("set environment variables from strings, parameters or secrets")
}

/// E104: an environment variable set from an unknown name; `in_scope` are the secrets and parameters.
pub(crate) fn unknown_secret(
    file: FileId,
    span: Span,
    name: &str,
    in_scope: &[String],
) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownSecret,
        format!("there is no secret or parameter named `{}`", name),
        file,
        span,
        "not found",
    )
    .with_help_opt(did_you_mean(name, in_scope.iter().map(String::as_str)))
}
