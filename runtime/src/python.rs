//! Python steps on this machine: the interpreter that runs them, the runtime package it
//! imports, and the Python path their modules are found on.
//!
//! A Python step's command is `python3 -m flowc_step …` (see `flowc_compiler::plan::python`).
//! In a pod the image's `python3` runs it with the runtime package and the user's code
//! installed. Here the host and sandbox engines run it with the interpreter the user chose
//! (`--python`, `FLOWC_PYTHON`, `[python] interpreter` in `flowc.toml`; default `python3` on
//! `PATH`), with `PYTHONPATH` holding the runtime package this flowc carries (the files of the
//! repository's `python/flowc_step`, written once into the store) and the configured source
//! roots (the pipeline's folder first). The container engines run the image's interpreter, as
//! a pod does.
//!
//! Before the first step, the interpreter is checked once: R025 when it cannot be found, R026
//! when it is older than 3.9 or, when a step exchanges tables, cannot import pyarrow. A step's cache key also holds the SHA-256 of its module's
//! source file as found on the Python path, so editing the function reruns the step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{RunCode, RunError};
use flowc_compiler::plan::python::PythonCall;
use flowc_compiler::plan::{Plan, TaskKind, TypeRepr};

/// The runtime package's files, as this flowc carries them: (name, text).
const RUNTIME_FILES: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../../python/flowc_step/__init__.py"),
    ),
    (
        "__main__.py",
        include_str!("../../python/flowc_step/__main__.py"),
    ),
    (
        "errors.py",
        include_str!("../../python/flowc_step/errors.py"),
    ),
    ("kfp.py", include_str!("../../python/flowc_step/kfp.py")),
    (
        "kfp_dsl.py",
        include_str!("../../python/flowc_step/kfp_dsl.py"),
    ),
    ("main.py", include_str!("../../python/flowc_step/main.py")),
    (
        "outputs.py",
        include_str!("../../python/flowc_step/outputs.py"),
    ),
    (
        "tables.py",
        include_str!("../../python/flowc_step/tables.py"),
    ),
    (
        "values.py",
        include_str!("../../python/flowc_step/values.py"),
    ),
];

/// How the user asked Python steps to run here.
#[derive(Clone, Debug, Default)]
pub struct PythonOptions {
    /// The interpreter (`--python`, `FLOWC_PYTHON` or the project's setting); `python3` when
    /// none is given.
    pub interpreter: Option<PathBuf>,
    /// Where the steps' modules are found, in order (the pipeline's folder, then the
    /// project's source roots).
    pub path: Vec<PathBuf>,
}

/// What a run's Python steps run with.
#[derive(Clone, Debug)]
pub struct PythonSetup {
    /// The interpreter, as an absolute path.
    pub interpreter: PathBuf,
    /// `PYTHONPATH`: the runtime package's folder, then the source roots.
    pub path: Vec<PathBuf>,
    /// The SHA-256 of each step module's source file, by module (none when not found here).
    pub code: HashMap<String, String>,
}

impl PythonSetup {
    /// `PYTHONPATH`'s value.
    pub fn python_path(&self) -> String {
        std::env::join_paths(&self.path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The Python functions a plan's steps call, and whether one of them reads or writes a table
/// (only those need pyarrow).
fn python_calls(plan: &Plan) -> (Vec<&PythonCall>, bool) {
    let tasks: Vec<(&PythonCall, &flowc_compiler::plan::Task)> = plan
        .pipelines
        .values()
        .flat_map(|p| &p.tasks)
        .filter_map(|t| match &t.kind {
            TaskKind::Container {
                python: Some(call), ..
            } => Some((call, t)),
            _ => None,
        })
        .collect();
    let tables = tasks.iter().any(|(_, t)| {
        let tys = t
            .inputs
            .iter()
            .map(|i| &i.ty)
            .chain(t.outputs.iter().map(|o| &o.ty));
        tys.into_iter().any(has_table)
    });
    (tasks.into_iter().map(|(c, _)| c).collect(), tables)
}

fn has_table(ty: &TypeRepr) -> bool {
    match ty {
        TypeRepr::Table { .. } => true,
        TypeRepr::List { item } => has_table(item),
        TypeRepr::Optional { inner } => has_table(inner),
        _ => false,
    }
}

/// The setup of a run whose plan has Python steps (none when it has none), checked: the
/// interpreter exists and imports pyarrow, and the runtime package is written under `store`.
pub fn prepare(
    plan: &Plan,
    opts: &PythonOptions,
    store: &Path,
) -> Result<Option<PythonSetup>, RunError> {
    let (calls, tables) = python_calls(plan);
    if calls.is_empty() {
        return Ok(None);
    }
    let interpreter = find_interpreter(opts.interpreter.as_deref())?;
    probe(&interpreter, tables)?;
    let runtime = install_runtime(store).map_err(|e| {
        RunError::new(
            RunCode::StoreUnavailable,
            format!("cannot write the Python runtime package into the store: {e}"),
        )
    })?;
    let mut path = vec![runtime];
    path.extend(opts.path.iter().cloned());
    let code = calls
        .iter()
        .filter_map(|c| Some((c.module.clone(), module_hash(&c.module, &opts.path)?)))
        .collect();
    Ok(Some(PythonSetup {
        interpreter,
        path,
        code,
    }))
}

/// The interpreter as an absolute path: a path as given, or a bare name looked up on `PATH`.
fn find_interpreter(given: Option<&Path>) -> Result<PathBuf, RunError> {
    let name = given.unwrap_or(Path::new("python3"));
    let found = if name.components().count() > 1 {
        // Made absolute without following links: a virtualenv's `python` is a link whose
        // folder is what makes it that virtualenv's interpreter.
        name.is_file()
            .then(|| std::path::absolute(name).unwrap_or(name.to_path_buf()))
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    found.ok_or_else(|| {
        RunError::new(
            RunCode::PythonNotFound,
            format!(
                "the Python interpreter `{}` that runs Python steps is not found",
                name.display()
            ),
        )
        .hint("install Python 3, or name an interpreter with `--python PATH`, `FLOWC_PYTHON` or `[python] interpreter` in flowc.toml")
    })
}

/// Checks that the interpreter runs, is Python 3.9 or newer, and can import pyarrow when a
/// step exchanges tables (the runtime's one dependency, imported only for tables).
fn probe(interpreter: &Path, tables: bool) -> Result<(), RunError> {
    let import = if tables { "import pyarrow; " } else { "" };
    let script = format!(
        "import sys; {import}assert sys.version_info >= (3, 9), 'Python 3.9 or newer is needed'"
    );
    let out = Command::new(interpreter)
        .args(["-c", &script])
        .output()
        .map_err(|e| {
            RunError::new(
                RunCode::PythonNotFound,
                format!(
                    "the Python interpreter `{}` cannot be started: {e}",
                    interpreter.display()
                ),
            )
            .hint("name a working interpreter with `--python PATH`")
        })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = stderr
        .lines()
        .last()
        .unwrap_or("it failed")
        .trim()
        .to_string();
    Err(RunError::new(
        RunCode::PythonUnusable,
        format!("the Python interpreter `{}` cannot run Python steps: {why}", interpreter.display()),
    )
    .hint(format!(
        "install the runtime's dependency into it (`{} -m pip install pyarrow`, and pandas or polars if your functions use them), or choose another interpreter with `--python PATH`",
        interpreter.display()
    )))
}

/// Writes the runtime package into `<store>/python/<hash>/flowc_step` (once: the folder is
/// named by its contents and renamed into place whole) and returns the folder to put on the
/// Python path.
fn install_runtime(store: &Path) -> std::io::Result<PathBuf> {
    let mut h = Sha256::new();
    for (name, text) in RUNTIME_FILES {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
    }
    let digest = format!("{:x}", h.finalize());
    let root = store.join("python").join(&digest[..16]);
    if root.join("flowc_step").join("__main__.py").is_file() {
        return Ok(root);
    }
    let tmp = store
        .join("python")
        .join(format!(".{}-{}", &digest[..16], std::process::id()));
    let package = tmp.join("flowc_step");
    std::fs::create_dir_all(&package)?;
    for (name, text) in RUNTIME_FILES {
        std::fs::write(package.join(name), text)?;
    }
    match std::fs::rename(&tmp, &root) {
        Ok(()) => Ok(root),
        // Another run put it there first: the same files.
        Err(_) if root.join("flowc_step").join("__main__.py").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(root)
        }
        Err(e) => Err(e),
    }
}

/// The file a module's source is in, on `path`: `a/b.py` or `a/b/__init__.py`.
pub fn module_file(module: &str, path: &[PathBuf]) -> Option<PathBuf> {
    let relative: PathBuf = module.split('.').collect();
    path.iter().find_map(|root| {
        let file = root.join(&relative).with_extension("py");
        let package = root.join(&relative).join("__init__.py");
        [file, package].into_iter().find(|p| p.is_file())
    })
}

/// The SHA-256 of a module's source file, when it is found on `path`.
fn module_hash(module: &str, path: &[PathBuf]) -> Option<String> {
    let bytes = std::fs::read(module_file(module, path)?).ok()?;
    Some(format!("{:x}", Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_package_is_written_once_under_a_name_of_its_contents() {
        let store = tempfile::tempdir().unwrap();
        let a = install_runtime(store.path()).unwrap();
        let b = install_runtime(store.path()).unwrap();
        assert_eq!(a, b);
        let main = std::fs::read_to_string(a.join("flowc_step/main.py")).unwrap();
        assert!(main.contains("def main(argv)"));
        assert_eq!(
            std::fs::read_dir(store.path().join("python"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn modules_are_found_as_files_or_packages_in_path_order() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(a.path().join("etl")).unwrap();
        std::fs::write(a.path().join("etl/__init__.py"), "").unwrap();
        std::fs::write(b.path().join("etl.py"), "").unwrap();
        std::fs::write(b.path().join("solo.py"), "x = 1").unwrap();
        let path = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(
            module_file("etl", &path),
            Some(a.path().join("etl/__init__.py"))
        );
        assert_eq!(module_file("solo", &path), Some(b.path().join("solo.py")));
        assert_eq!(module_file("missing.mod", &path), None);
        assert!(module_hash("solo", &path).is_some());
    }

    #[test]
    fn a_missing_interpreter_is_r025() {
        let e = find_interpreter(Some(Path::new("/nonexistent/python3"))).unwrap_err();
        assert_eq!(e.code, RunCode::PythonNotFound);
        let e = find_interpreter(Some(Path::new("flowc-no-such-python"))).unwrap_err();
        assert_eq!(e.code.as_str(), "R025");
    }
}
