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
