//! Constructors of the diagnostics about foreign imports (`import kfp "train.yaml" (train)`):
//! the import itself (`E419`–`E422`), and the importer's problems of the foreign file, whose
//! codes (`I0xx`, `IW0xx`) the importer chooses from the table.

use flowc_grammar::Span;

use super::{Code, Diagnostic, Label};
use crate::foreign::ForeignProblem;
use crate::source::FileId;
use crate::suggest::did_you_mean;

/// E419: the foreign file of an import cannot be read (`why`).
pub(crate) fn foreign_file_unreadable(
    file: FileId,
    span: Span,
    path: &str,
    why: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::ForeignFileUnreadable,
        format!("cannot read the imported file `{path}`: {why}"),
        file,
        span,
        "imported here",
    )
    .with_help("import paths are relative to the importing file; the file must be UTF-8 text")
}

/// E420: `name` is not declared by the foreign file `source`, which declares `declared`.
pub(crate) fn foreign_name_not_found<'a>(
    file: FileId,
    span: Span,
    name: &str,
    source: &str,
    declared: impl IntoIterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let list: Vec<String> = declared
        .clone()
        .into_iter()
        .map(|d| format!("`{d}`"))
        .collect();
    let help = did_you_mean(name, declared).unwrap_or_else(|| {
        format!(
            "import a name it declares: {} (names from the file are made valid `.flow` names, as `flowc import kfp` makes them)",
            if list.is_empty() { "none".to_string() } else { list.join(", ") }
        )
    });
    Diagnostic::new(
        Code::ForeignNameNotFound,
        format!("`{name}` is not declared by `{source}`"),
        file,
        span,
        "not made from the imported file",
    )
    .with_help(help)
}

/// E421: the foreign file `path` is read but cannot be imported as a module (`why`).
pub(crate) fn foreign_not_importable(
    file: FileId,
    span: Span,
    path: &str,
    why: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::ForeignNotImportable,
        format!("`{path}` cannot be imported: {why}"),
        file,
        span,
        "imported here",
    )
    .with_help("compile the pipeline (`kfp dsl compile`) and import the compiled file, or convert it with `flowc import kfp`")
}

/// E422: no importer here reads files of `kind`; `known` are the kinds that are read.
pub(crate) fn unknown_import_kind(
    file: FileId,
    span: Span,
    kind: &str,
    known: &[&str],
) -> Diagnostic {
    let help = did_you_mean(kind, known.iter().copied()).unwrap_or_else(|| {
        if known.is_empty() {
            "foreign files are read by `flowc check`, `build`, `run` and the language server"
                .to_string()
        } else {
            let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!("the kinds are {}", list.join(", "))
        }
    });
    Diagnostic::new(
        Code::UnknownImportKind,
        format!("flowc cannot import files of kind `{kind}`"),
        file,
        span,
        "unknown kind",
    )
    .with_help(help)
}

/// An importer's problem of the foreign file `yaml` (at its line and column), imported at
/// `import`. Errors are reported at the file with the import as a second place; warnings at
/// the import, with the file's place as a second label.
pub(crate) fn foreign_problem(
    p: &ForeignProblem,
    yaml: (FileId, Span, &str),
    import: (FileId, Span),
) -> Diagnostic {
    let code = Code::parse(&p.code).unwrap_or(Code::ForeignNotImportable);
    let (file, span, name) = yaml;
    let mut d = Diagnostic::new(code, p.message.clone(), file, span, "").with_help(p.help.clone());
    let imported = Label {
        file: import.0,
        span: import.1,
        message: "imported here".to_string(),
        primary: false,
    };
    if d.is_error() {
        d.labels.push(imported);
    } else {
        d.labels[0].primary = false;
        d.labels.insert(
            0,
            Label {
                primary: true,
                ..imported
            },
        );
        d.message = format!("{} (in `{name}`, line {})", p.message, p.line);
    }
    d
}
