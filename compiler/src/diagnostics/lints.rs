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

/// W004: a pipeline parameter that is never used.
pub(crate) fn unused_parameter(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedParameter,
        format!("parameter `{}` is never used", name),
        file,
        span,
        "unused parameter",
    )
    .with_help("pass it to a step, or remove it")
}

/// W002: a step result that is never used.
pub(crate) fn unused_result(file: FileId, span: Span, name: &str, callee: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedResult,
        format!("the result `{name}` of `{}` is never used", callee),
        file,
        span,
        "never used",
    )
    .with_help(format!(
        "pass `{name}` to a step, declare `output {name}`, or call the step without a name"
    ))
}

/// W004: a step parameter passed neither to the command nor to the environment.
pub(crate) fn unused_step_parameter(
    file: FileId,
    span: Span,
    name: &str,
    step: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedParameter,
        format!("parameter `{}` of step `{}` is never used", name, step),
        file,
        span,
        "not passed to the command or the environment",
    )
    .with_help(format!(
        "pass it in `run`, as `{}` or `\"${{{}}}\"`, or remove it",
        name, name
    ))
}

/// W004: a step output whose path the command never receives.
pub(crate) fn unused_step_output(file: FileId, span: Span, name: &str, step: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedParameter,
        format!(
            "output `{}` of step `{}` is never passed to the command",
            name, step
        ),
        file,
        span,
        "the command cannot know where to write it",
    )
    .with_help(format!(
        "pass its path in `run`, as `{}` or `\"--out=${{{}}}\"`",
        name, name
    ))
}

/// W005: an image without a tag (`tagged` false) or tagged `latest`.
pub(crate) fn unpinned_image(file: FileId, span: Span, image: &str, tagged: bool) -> Diagnostic {
    Diagnostic::new(
        Code::UnpinnedImage,
        format!("image `{}` is not pinned to a version", image),
        file,
        span,
        if !tagged { "no tag" } else { "`latest` moves" },
    )
    .with_help("pin a version tag such as `:1.4.2`, or a digest `@sha256:...`")
}
