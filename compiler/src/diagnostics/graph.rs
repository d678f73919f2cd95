//! Constructors of the diagnostics about the step graph (`E3xx`).

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::suggest::did_you_mean;

/// E302: a pipeline that calls itself.
pub(crate) fn recursive_pipeline(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::RecursivePipeline,
        format!("pipeline `{}` calls itself", name),
        file,
        span,
        "recursive call",
    )
    .with_help("pipelines cannot recurse; use `for` to repeat steps")
}

/// E303: `after NAME` where NAME is `what`, not a step result; `results` are the results in scope.
pub(crate) fn invalid_after(
    file: FileId,
    span: Span,
    name: &str,
    what: &str,
    results: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidAfter,
        format!("`after {}`: `{}` is {what}", name, name),
        file,
        span,
        "expected the name of a step call",
    )
    .with_help_opt(did_you_mean(name, results.iter().copied()).or(Some(
        "`after` names results bound with `name = step(...)`".into(),
    )))
}

/// E301: steps that depend on each other in a cycle (`names`, the first depending on itself when alone).
pub(crate) fn step_cycle(
    file: FileId,
    span: Span,
    names: &[String],
    self_loop: bool,
) -> Diagnostic {
    Diagnostic::new(
        Code::StepCycle,
        if self_loop {
            format!("`{}` depends on itself", names[0])
        } else {
            format!(
                "steps depend on each other in a cycle: {}",
                names.join(" → ")
            )
        },
        file,
        span,
        "this step is in the cycle",
    )
}

/// E304: a pipeline with no step call and no `check` (a `finally` alone does not count).
pub(crate) fn empty_pipeline(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::EmptyBody,
        format!("pipeline `{name}` runs no step"),
        file,
        span,
        "nothing to run",
    )
    .with_help("call a step in the pipeline, or remove it: Argo and Kubeflow refuse a pipeline with no task")
}

/// E304: a `for` loop whose body calls no step and has no `check`.
pub(crate) fn empty_for(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::EmptyBody,
        "this `for` loop runs nothing",
        file,
        span,
        "no step call or `check` in the body",
    )
    .with_help("call a step in the loop, or remove the loop")
}

/// E304: an `if` none of whose branches calls a step or has a `check`.
pub(crate) fn empty_if(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::EmptyBody,
        "this `if` runs nothing in any branch",
        file,
        span,
        "no step call or `check` in any branch",
    )
    .with_help("call a step in a branch, or remove the `if`")
}
