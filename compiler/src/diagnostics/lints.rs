//! Constructors of the warnings (`W0xx`): likely mistakes that do not stop a build.

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;

/// W001: an imported name that is never used.
pub(crate) fn unused_import(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedImport,
        format!("`{name}` is imported but never used"),
        file,
        span,
        "unused import",
    )
    .with_help(format!("remove `{name}` from the import"))
}

/// W003: a declaration of the kind `what` (such as "step") that nothing uses.
pub(crate) fn unused_declaration(file: FileId, span: Span, what: &str, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedDeclaration,
        format!("{what} `{name}` is never used"),
        file,
        span,
        format!("unused {what}"),
    )
    .with_help(format!(
        "use it, or remove it; shared {what}s belong in a file without pipelines, which is not checked for this"
    ))
}
