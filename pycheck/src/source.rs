//! Finding a module's source on the Python path and reading its top-level functions with
//! ruff's parser.

use std::collections::BTreeSet;
use std::path::PathBuf;

use flowc_compiler::FileLoader;
use flowc_grammar::Span;
use ruff_python_ast::{Expr, Parameter, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};

/// What the Python path holds of a module.
#[derive(Debug)]
pub enum Found {
    /// Its source file and text.
    Module(PathBuf, String),
    /// Its top-level package's folder, but not the module itself.
    PackageOnly(PathBuf),
    /// Nothing of it: the code is elsewhere (in the image).
    Nothing,
}

/// Where `module` is on `path`: `a/b.py` or `a/b/__init__.py` under the first root that has
/// either, read through `loader` (so an editor's unsaved text is what is checked).
pub fn find_module(loader: &dyn FileLoader, module: &str, path: &[PathBuf]) -> Found {
    let relative: PathBuf = module.split('.').collect();
    for root in path {
        let base = root.join(&relative);
        for file in [base.with_extension("py"), base.join("__init__.py")] {
            if let Ok(bytes) = loader.load(&file) {
                return Found::Module(file, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    // The top-level package is here (a folder, or its `__init__.py` through the loader) but
    // not the module: a misspelt or missing module rather than code that lives elsewhere.
    let top = module.split('.').next().unwrap_or(module);
    path.iter()
        .map(|root| root.join(top))
        .find(|p| {
            module.contains('.') && (p.is_dir() || loader.load(&p.join("__init__.py")).is_ok())
        })
        .map_or(Found::Nothing, Found::PackageOnly)
}

/// A parameter of a Python function.
#[derive(Clone, Debug)]
pub struct PyParam {
    /// Its name.
    pub name: String,
    /// The parameter in the source.
    pub span: Span,
    /// Its annotation's source text.
    pub annotation: Option<String>,
    /// Whether a call must give it (no default, not `*args`/`**kwargs`).
    pub required: bool,
    /// Whether it can be given by keyword (not positional-only, not `*args`/`**kwargs`).
    pub keyword: bool,
}

/// A function defined at the top level of a module.
#[derive(Clone, Debug)]
pub struct PyFunction {
    /// Its name.
    pub name: String,
    /// Its name in `def NAME(...)`.
    pub name_span: Span,
    /// Its parameters, in order.
    pub params: Vec<PyParam>,
    /// Whether it has `**kwargs`.
    pub takes_any_keyword: bool,
}

impl PyFunction {
    /// The parameter a keyword argument `name` goes to.
    pub fn keyword(&self, name: &str) -> Option<&PyParam> {
        self.params.iter().find(|p| p.keyword && p.name == name)
    }
}

/// A module's top level: its functions, and the other names it binds (assignments, imports,
/// classes), whose signatures are not read.
#[derive(Debug, Default)]
pub struct TopLevel {
    pub functions: Vec<PyFunction>,
    pub other_names: BTreeSet<String>,
}

fn span(r: TextRange) -> Span {
    Span::new(r.start().to_usize(), r.end().to_usize())
}

/// The top level of `text`, or the first syntax error and its offset.
pub fn top_level(text: &str) -> Result<TopLevel, (String, usize)> {
    let parsed = ruff_python_parser::parse_module(text)
        .map_err(|e| (e.error.to_string(), e.location.start().to_usize()))?;
    let mut out = TopLevel::default();
    for stmt in &parsed.syntax().body {
        match stmt {
            Stmt::FunctionDef(def) => out.functions.push(function(text, def)),
            Stmt::ClassDef(c) => {
                out.other_names.insert(c.name.id.to_string());
            }
            Stmt::Assign(a) => out
                .other_names
                .extend(a.targets.iter().filter_map(target_name)),
            Stmt::AnnAssign(a) => out.other_names.extend(target_name(&a.target)),
            Stmt::Import(i) => out.other_names.extend(i.names.iter().map(|a| {
                let bound = a.asname.as_ref().unwrap_or(&a.name);
                bound.id.split('.').next().unwrap_or_default().to_string()
            })),
            Stmt::ImportFrom(i) => out.other_names.extend(
                i.names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).id.to_string()),
            ),
            // Definitions under `if`/`try` at the top level: their names are bound, but which
            // definition wins is known only when the module runs.
            Stmt::If(_) | Stmt::Try(_) => out.other_names.extend(nested_defs(stmt)),
            _ => {}
        }
    }
    // A later top-level binding of a function's name replaces the `def`.
    out.functions.retain(|f| !out.other_names.contains(&f.name));
    Ok(out)
}

fn target_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.to_string()),
        _ => None,
    }
}

fn nested_defs(stmt: &Stmt) -> Vec<String> {
    let body: Vec<&Stmt> = match stmt {
        Stmt::If(s) => s
            .body
            .iter()
            .chain(s.elif_else_clauses.iter().flat_map(|c| &c.body))
            .collect(),
        Stmt::Try(s) => s.body.iter().chain(&s.orelse).chain(&s.finalbody).collect(),
        _ => Vec::new(),
    };
    body.into_iter()
        .filter_map(|s| match s {
            Stmt::FunctionDef(d) => Some(d.name.id.to_string()),
            Stmt::Assign(a) => a.targets.first().and_then(target_name),
            _ => None,
        })
        .collect()
}

fn param(text: &str, p: &Parameter, required: bool, keyword: bool) -> PyParam {
    PyParam {
        name: p.name.id.to_string(),
        span: span(p.range()),
        annotation: p
            .annotation
            .as_ref()
            .map(|a| text[a.range().start().to_usize()..a.range().end().to_usize()].to_string()),
        required,
        keyword,
    }
}

fn function(text: &str, def: &StmtFunctionDef) -> PyFunction {
    let ps = &def.parameters;
    let mut params = Vec::new();
    for p in &ps.posonlyargs {
        params.push(param(text, &p.parameter, p.default.is_none(), false));
    }
    for p in ps.args.iter().chain(&ps.kwonlyargs) {
        params.push(param(text, &p.parameter, p.default.is_none(), true));
    }
    PyFunction {
        name: def.name.id.to_string(),
        name_span: span(def.name.range),
        params,
        takes_any_keyword: ps.kwarg.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_and_their_parameters_are_read_without_running_the_module() {
        let text = "import os\nfrom x import y as z\nraise SystemExit('never run')\n\
                    def f(a, /, b: int, *args, c: 'pd.DataFrame' = None, d, **kw):\n    pass\n\
                    class K: pass\n";
        let t = top_level(text).unwrap();
        let f = &t.functions[0];
        assert_eq!(f.name, "f");
        let names: Vec<_> = f
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.required, p.keyword))
            .collect();
        assert_eq!(
            names,
            [
                ("a", true, false),
                ("b", true, true),
                ("c", false, true),
                ("d", true, true)
            ]
        );
        assert_eq!(f.params[1].annotation.as_deref(), Some("int"));
        assert_eq!(f.params[2].annotation.as_deref(), Some("'pd.DataFrame'"));
        assert!(f.takes_any_keyword);
        assert_eq!(
            &text[f.name_span.start as usize..f.name_span.end as usize],
            "f"
        );
        assert!(["os", "z", "K"].iter().all(|n| t.other_names.contains(*n)));
    }

    #[test]
    fn a_syntax_error_is_reported_with_its_offset() {
        let (why, at) = top_level("def f(:\n").unwrap_err();
        assert!(!why.is_empty());
        assert!(at <= 8);
    }
}
