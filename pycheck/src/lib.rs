//! Python steps checked against their functions' source, without running it.
//!
//! For each step with `python "module:function"`, [`check`] looks for the module's source on
//! the Python path flowc uses (the `.flow` file's folder, then the configured source roots),
//! parses it with ruff's parser (never imports it), finds the function defined at the top level
//! and compares its signature with the step's: a step parameter the function does not take
//! (P003), a function parameter without default the step does not give (P004), an annotation
//! that contradicts the declared type (P005). A module whose package is found but which is not
//! there, or cannot be parsed, is P001; a module without the function, P002. When nothing of the
//! module's package is found here, the code is taken to live in the image only and one note
//! (P006) says so. Each diagnostic points at the `.flow` line and at the `.py` line; the Python
//! file is added to the analysis's sources so every renderer (terminal, JSON, SARIF, the
//! language server) shows it. [`python_types`] writes the Python types of a file's schemas and
//! Python steps for the Python side of each step.

mod annotations;
pub mod config;
mod diagnostics;
mod source;
mod stubs;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flowc_compiler::check::python::PythonFunction;
use flowc_compiler::check::StepSig;
use flowc_compiler::resolve::DeclId;
use flowc_compiler::source::Origin;
use flowc_compiler::{diagnostics::sort, Analysis, FileId, FileLoader};
use flowc_grammar::ast::Item;

pub use source::{find_module, Found, PyFunction, PyParam};
pub use stubs::python_types;

/// Checks every Python step of `analysis` (see the crate's documentation), adding its findings
/// to `analysis.diagnostics` and the Python files they point at to its sources. A step's module
/// is looked for in its `.flow` file's folder, then under the `[python] path` of the nearest
/// `flowc.toml` ([`config`]), then under `roots`.
pub fn check(analysis: &mut Analysis, loader: &dyn FileLoader, roots: &[PathBuf]) {
    let mut steps: Vec<(DeclId, PythonFunction)> = analysis
        .checked
        .props
        .iter()
        .filter_map(|(d, p)| Some((*d, p.python.as_deref()?.clone())))
        .collect();
    steps.sort_by_key(|(d, _)| (d.module.0, d.item));
    let mut noted = BTreeSet::new();
    let mut config_roots: std::collections::BTreeMap<PathBuf, Vec<PathBuf>> = Default::default();
    let mut found = Vec::new();
    for (decl, function) in steps {
        let Some(sig) = analysis.checked.steps.get(&decl).cloned() else {
            continue;
        };
        let flow_file = analysis.program.file(decl.module);
        let Origin::File(flow_path) = analysis.sources().get(flow_file).origin.clone() else {
            continue;
        };
        let folder = flow_path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let configured = config_roots.entry(folder.clone()).or_insert_with(|| {
            // A broken flowc.toml is reported by the commands that run steps.
            config::python_settings(&folder)
                .map(|s| s.path)
                .unwrap_or_default()
        });
        let mut path = vec![folder.clone()];
        path.extend(configured.iter().cloned());
        path.extend(roots.iter().cloned());
        let step = StepAt {
            decl,
            file: flow_file,
            sig: &sig,
            function: &function,
        };
        let mut diags = Vec::new();
        match find_module(loader, &function.module, &path) {
            Found::Module(py_path, text) => {
                let py_file = add_source(analysis, &py_path, &text);
                found.push(py_file);
                check_module(analysis, &step, py_file, &text, &mut diags);
            }
            Found::PackageOnly(package) => diags.push(diagnostics::module_not_found(
                &step.at(),
                &function,
                &package,
            )),
            Found::Nothing => {
                if noted.insert(function.module.clone()) {
                    diags.push(diagnostics::source_unavailable(
                        &step.at(),
                        &function,
                        &path,
                    ));
                }
            }
        }
        analysis.diagnostics.append(&mut diags);
    }
    sort(&mut analysis.diagnostics);
}

/// A Python step: its declaration, file, signature and function.
struct StepAt<'a> {
    decl: DeclId,
    file: FileId,
    sig: &'a StepSig,
    function: &'a PythonFunction,
}

impl StepAt<'_> {
    fn at(&self) -> diagnostics::FlowAt {
        diagnostics::FlowAt {
            file: self.file,
            python: self.function.span,
        }
    }
}

/// The Python file's id in the analysis's sources, added once.
fn add_source(analysis: &mut Analysis, path: &Path, text: &str) -> FileId {
    let origin = Origin::File(path.to_path_buf());
    match analysis.program.sources.find(&origin) {
        Some(id) => id,
        None => analysis.program.sources.add(origin, text),
    }
}

/// Checks one step against the module's source.
fn check_module(
    analysis: &Analysis,
    step: &StepAt<'_>,
    py_file: FileId,
    text: &str,
    diags: &mut Vec<flowc_compiler::Diagnostic>,
) {
    let at = step.at();
    let defs = match source::top_level(text) {
        Ok(defs) => defs,
        Err((why, offset)) => {
            diags.push(diagnostics::syntax_error(&at, py_file, &why, offset));
            return;
        }
    };
    let name = &step.function.function;
    let Some(def) = defs.functions.iter().find(|f| &f.name == name) else {
        if !defs.other_names.contains(name) {
            diags.push(diagnostics::function_not_found(
                &at,
                py_file,
                step.function,
                &defs,
            ));
        }
        // A name bound by an assignment or an import: its signature is checked when it runs.
        return;
    };
    let Item::Step(ast) = analysis.program.item(step.decl) else {
        return;
    };
    signature(step, ast, def, py_file, diags);
}

/// P003, P004 and P005 for one function.
fn signature(
    step: &StepAt<'_>,
    ast: &flowc_grammar::ast::Step,
    def: &PyFunction,
    py_file: FileId,
    diags: &mut Vec<flowc_compiler::Diagnostic>,
) {
    let at = step.at();
    let py = diagnostics::PyAt {
        file: py_file,
        def: def.name_span,
    };
    for p in &step.sig.params {
        let span = ast
            .params
            .iter()
            .find(|a| a.name.name == p.name)
            .map_or(ast.name.span, |a| a.span);
        match def.keyword(&p.name) {
            None if !def.takes_any_keyword => {
                diags.push(diagnostics::unknown_parameter(&at, span, &p.name, &py, def))
            }
            Some(param) => {
                if let Some(why) = annotations::contradiction(&p.ty, param.annotation.as_deref()) {
                    diags.push(diagnostics::annotation_mismatch(
                        &at, span, &p.name, &p.ty, &py, param, &why,
                    ));
                }
            }
            None => {}
        }
    }
    let given: BTreeSet<&str> = step
        .sig
        .params
        .iter()
        .chain(&step.sig.outputs)
        .map(|p| p.name.as_str())
        .collect();
    for param in &def.params {
        if param.required && !given.contains(param.name.as_str()) {
            diags.push(diagnostics::missing_parameter(&at, &py, param, step.sig));
        }
    }
}
