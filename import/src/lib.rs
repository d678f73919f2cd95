//! `flowc import kfp`: Kubeflow component files and compiled KFP v2 pipelines as `.flow`.
//!
//! [`convert`] reads one YAML file and returns the `.flow` source (formatted by the
//! compiler's formatter) and the problems found, each with a stable code and the line of the
//! YAML node it is about. No IO and no printing: the CLI reads and writes the files. Nothing
//! is dropped silently: what cannot be converted is a `//` comment at its place in the output
//! and a warning. Invariant: no input panics (tested on truncated and random bytes).

mod component;
mod hook;
mod ir;
pub mod names;
pub mod problem;
mod step;
pub mod types;
pub mod yaml;

pub use hook::KfpImporter;
pub use problem::{Code, Problem, Severity};

use names::Names;
use yaml::Pos;

/// The result of converting one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The `.flow` source, formatted; empty when an error stopped the conversion.
    pub source: String,
    /// Errors and warnings, sorted by line.
    pub problems: Vec<Problem>,
    /// Python modules the `.flow` source's Python steps call (lightweight components moved
    /// out of their commands), to be written beside it; empty unless asked for.
    pub modules: Vec<Module>,
}

/// A Python module to write beside the `.flow` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Its path relative to the `.flow` file's folder (`p_kfp/train.py`).
    pub path: String,
    /// Its source.
    pub text: String,
}

impl Converted {
    /// Whether an error stopped the conversion.
    pub fn has_errors(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.code.severity() == Severity::Error)
    }
}

/// What one conversion collects.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    problems: Vec<Problem>,
    /// The package lightweight Python components become modules of (`None`: they stay
    /// container steps).
    python_package: Option<String>,
    /// The file being converted, for the modules' docstrings.
    origin: String,
    /// The modules written so far.
    modules: Vec<Module>,
}

impl Ctx {
    pub(crate) fn error(
        &mut self,
        code: Code,
        at: Pos,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems.push(Problem::new(code, at, msg, help));
    }

    pub(crate) fn warn(
        &mut self,
        code: Code,
        at: Pos,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems.push(Problem::new(code, at, msg, help));
    }

    /// Reports a renamed name.
    pub(crate) fn renamed(&mut self, at: Pos, what: &str, from: &str, to: &str) {
        self.warn(
            Code::Renamed,
            at,
            format!("the {what} `{from}` is `{to}` in `.flow`: names are letters, digits and `_`, unique, and not keywords"),
            "nothing to do; callers use the new name",
        );
    }

    pub(crate) fn failed(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.code.severity() == Severity::Error)
    }
}

/// Converts the Kubeflow YAML `text` (a component file or a compiled pipeline) to `.flow`.
/// `file` is the name written in the output's header comment.
pub fn convert(file: &str, text: &str) -> Converted {
    convert_in(Ctx::default(), file, text)
}

/// Like [`convert`], and a lightweight Python component (`@dsl.component`) becomes a Python
/// step whose function is moved into a module of `package` (a folder beside the `.flow` file):
/// [`Converted::modules`] holds the modules and the package's `__init__.py`.
pub fn convert_with_modules(file: &str, text: &str, package: &str) -> Converted {
    let ctx = Ctx {
        python_package: Some(package.to_string()),
        origin: file.to_string(),
        ..Ctx::default()
    };
    convert_in(ctx, file, text)
}

fn convert_in(mut ctx: Ctx, file: &str, text: &str) -> Converted {
    let body = convert_docs(&mut ctx, text);
    let mut problems = ctx.problems;
    problems.sort();
    problems.dedup();
    let failed = problems
        .iter()
        .any(|p| p.code.severity() == Severity::Error);
    let source = match body {
        Some(body) if !failed => {
            let text = format!("//! Imported from `{file}` by `flowc import kfp`.\n\n{body}");
            flowc_compiler::fmt::format(&text).unwrap_or(text)
        }
        _ => String::new(),
    };
    let mut modules = if source.is_empty() {
        Vec::new()
    } else {
        ctx.modules
    };
    if let (Some(pkg), false) = (&ctx.python_package, modules.is_empty()) {
        modules.insert(
            0,
            Module {
                path: format!("{pkg}/__init__.py"),
                text: format!(
                    "\"\"\"The functions of the Kubeflow components of `{file}`, moved here by `flowc import kfp`.\"\"\"\n"
                ),
            },
        );
    }
    Converted {
        source,
        problems,
        modules,
    }
}

/// Reads the documents and converts the first.
fn convert_docs(ctx: &mut Ctx, text: &str) -> Option<String> {
    let docs = match yaml::parse(text) {
        Ok(d) => d,
        Err(e) => {
            ctx.error(
                Code::NotYaml,
                e.pos,
                format!("the file is not valid YAML: {}", e.message),
                "fix the YAML syntax at this place",
            );
            return None;
        }
    };
    for d in &docs {
        duplicate_keys(ctx, d);
    }
    if ctx.failed() {
        return None;
    }
    let Some(doc) = docs.first().filter(|d| d.as_map().is_some()) else {
        let at = docs.first().map_or(Pos { line: 1, col: 1 }, |d| d.pos);
        ctx.error(
            Code::NotKfp,
            at,
            "the file holds no YAML mapping: it is neither a Kubeflow component nor a compiled pipeline",
            "pass a component file (`name`, `implementation`) or a compiled pipeline (`pipelineInfo`, `root`)",
        );
        return None;
    };
    if doc.get("implementation").is_some() {
        let mut names = Names::default();
        return component::convert(ctx, doc, &mut names).map(|s| s.write());
    }
    let spec = doc.get("pipelineSpec").unwrap_or(doc);
    if spec.get("root").is_some() && spec.get("components").is_some() {
        return ir::convert(ctx, spec, docs.get(1));
    }
    ctx.error(
        Code::NotKfp,
        doc.pos,
        "this YAML is neither a Kubeflow component (no `implementation`) nor a compiled pipeline (no `root` and `components`)",
        "pass a component file (`name`, `implementation`) or a compiled pipeline (`pipelineInfo`, `root`)",
    );
    None
}

/// Reports a key written twice in one mapping (YAML readers keep one of them silently).
fn duplicate_keys(ctx: &mut Ctx, n: &yaml::Node) {
    match &n.value {
        yaml::Value::Scalar(..) => {}
        yaml::Value::Seq(items) => items.iter().for_each(|i| duplicate_keys(ctx, i)),
        yaml::Value::Map(entries) => {
            let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
            for (k, v) in entries {
                if let Some(key) = k.as_str() {
                    if let Some(first) = seen.insert(key, k.pos.line) {
                        ctx.error(
                            Code::DuplicateName,
                            k.pos,
                            format!("the key `{key}` is written twice in one mapping (first on line {first})"),
                            "remove or rename one of them",
                        );
                    }
                }
                duplicate_keys(ctx, v);
            }
        }
    }
}
