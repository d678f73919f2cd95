//! The P0xx diagnostics: one constructor per message, each pointing at the `.flow` step and,
//! where there is one, at the Python line.

use std::path::{Path, PathBuf};

use flowc_compiler::check::python::PythonFunction;
use flowc_compiler::check::StepSig;
use flowc_compiler::types::Ty;
use flowc_compiler::{Code, Diagnostic, FileId};
use flowc_grammar::Span;

use crate::source::{PyFunction, PyParam, TopLevel};

/// Where a step's `python "..."` is written.
pub struct FlowAt {
    pub file: FileId,
    pub python: Span,
}

/// Where the function is defined.
pub struct PyAt {
    pub file: FileId,
    pub def: Span,
}

fn paths(path: &[PathBuf]) -> String {
    path.iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// P001: the package is here but the module is not.
pub fn module_not_found(at: &FlowAt, f: &PythonFunction, package: &Path) -> Diagnostic {
    Diagnostic::new(
        Code::PythonModuleNotFound,
        format!(
            "module `{}` is not in package `{}`",
            f.module,
            package.display()
        ),
        at.file,
        at.python,
        "no such module",
    )
    .with_help(format!(
        "create `{}.py` (or fix the module's name)",
        f.module.replace('.', "/")
    ))
}

/// P001: the module does not parse.
pub fn syntax_error(at: &FlowAt, py: FileId, why: &str, offset: usize) -> Diagnostic {
    Diagnostic::new(
        Code::PythonModuleNotFound,
        format!("the step's Python module cannot be parsed: {why}"),
        at.file,
        at.python,
        "this module",
    )
    .with_label(py, Span::empty(offset), "syntax error here")
    .with_help("fix the syntax error: the step would fail when its module is imported")
}

/// P002: the module has no such function.
pub fn function_not_found(
    at: &FlowAt,
    py: FileId,
    f: &PythonFunction,
    defs: &TopLevel,
) -> Diagnostic {
    let names: Vec<&str> = defs.functions.iter().map(|d| d.name.as_str()).collect();
    let near = flowc_compiler::suggest::closest(&f.function, names.iter().copied());
    let d = Diagnostic::new(
        Code::PythonFunctionNotFound,
        format!("module `{}` defines no function `{}`", f.module, f.function),
        at.file,
        at.python,
        "no such function",
    )
    .with_label(py, Span::empty(0), "in this module");
    match near {
        Some(n) => d.with_help(format!("did you mean `{}:{n}`?", f.module)),
        None => d.with_help(format!(
            "define `def {}(...)` at the top level of the module",
            f.function
        )),
    }
}

/// P003: the step passes a parameter the function does not take.
pub fn unknown_parameter(
    at: &FlowAt,
    param: Span,
    name: &str,
    py: &PyAt,
    def: &PyFunction,
) -> Diagnostic {
    let positional_only = def.params.iter().any(|p| p.name == name && !p.keyword);
    Diagnostic::new(
        Code::PythonUnknownParameter,
        format!("function `{}` takes no parameter `{name}`, which the step passes", def.name),
        at.file,
        param,
        "passed to the function by this name",
    )
    .with_label(py.file, py.def, "defined here")
    .with_help(if positional_only {
        format!("`{name}` is positional-only (before `/`): flowc passes every input by name; move it after the `/`")
    } else {
        format!("add `{name}` to the function's parameters (or `**kwargs`), or remove it from the step")
    })
}

/// P004: a function parameter without default the step does not give.
pub fn missing_parameter(at: &FlowAt, py: &PyAt, param: &PyParam, sig: &StepSig) -> Diagnostic {
    Diagnostic::new(
        Code::PythonMissingParameter,
        format!(
            "function parameter `{}` has no default, and step `{}` does not give it",
            param.name, sig.name
        ),
        at.file,
        at.python,
        "the step calls this function",
    )
    .with_label(py.file, param.span, "needs a value")
    .with_help(format!(
        "declare `{}` as an input of the step, or give it a default in Python",
        param.name
    ))
}

/// P005: an annotation that contradicts the declared type.
pub fn annotation_mismatch(
    at: &FlowAt,
    param: Span,
    name: &str,
    ty: &Ty,
    py: &PyAt,
    p: &PyParam,
    why: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::PythonAnnotationMismatch,
        format!("parameter `{name}` is `{ty}` in the step, but its Python annotation says otherwise: {why}"),
        at.file,
        param,
        format!("declared `{ty}` here"),
    )
    .with_label(py.file, p.span, "annotated here")
    .with_help("make the two agree: change the annotation, or the step's type")
}

/// P006: nothing of the module is here; it is checked when it runs.
pub fn source_unavailable(at: &FlowAt, f: &PythonFunction, path: &[PathBuf]) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::PythonSourceUnavailable,
        format!(
            "the source of module `{}` is not found here, so `{}` is checked only when the step runs",
            f.module,
            f.reference()
        ),
        at.file,
        at.python,
        "not found on this machine",
    )
    .with_help("to have it checked here, put the module under the pipeline's folder or add its source root to `[python] path` in flowc.toml");
    d.notes.push(format!("searched {}", paths(path)));
    d
}
