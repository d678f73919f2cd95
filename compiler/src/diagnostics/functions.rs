//! Constructors of the diagnostics about built-in functions in expressions (`E219`–`E220`).

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::suggest::did_you_mean;
use crate::types::Ty;

/// E219: `name(...)` where flowc has no function `name`.
pub(crate) fn unknown_function(file: FileId, span: Span, name: &str, known: &[&str]) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownFunction,
        format!("there is no function `{name}`"),
        file,
        span,
        "unknown function",
    )
    .with_help_opt(did_you_mean(name, known.iter().copied()))
    .with_note(format!(
        "the functions are: {}; a step is called as a statement (`x = {name}(arg: value)`)",
        known.join(", ")
    ))
}

/// E220: a function given another number of arguments than it takes.
pub(crate) fn wrong_arity(
    file: FileId,
    span: Span,
    name: &str,
    takes: usize,
    given: usize,
) -> Diagnostic {
    let s = if takes == 1 { "" } else { "s" };
    Diagnostic::new(
        Code::InvalidFunctionArguments,
        format!("`{name}` takes {takes} argument{s}, given {given}"),
        file,
        span,
        format!("{given} argument{}", if given == 1 { "" } else { "s" }),
    )
    .with_help(format!("write `{name}(xs)` with one list of lists"))
}

/// E220: `flatten(x)` where `x` is not a list of lists.
pub(crate) fn flatten_not_nested(file: FileId, span: Span, ty: &Ty) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidFunctionArguments,
        format!("`flatten` takes a list of lists, found `{ty}`"),
        file,
        span,
        format!("a `{ty}`"),
    )
    .with_help(match ty {
        Ty::List(_) => "this list is flat already: use it as it is".to_string(),
        _ => {
            "give `flatten` a `List<List<T>>`, such as what nested `for` loops collect".to_string()
        }
    })
}
