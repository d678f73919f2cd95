//! `flowc run --out DIR`: the run's outputs placed under their names, so that a person finds
//! them without the store's hashes. A file or folder output is copied to `DIR/NAME` (a copy,
//! not a link: editing it must not change the store's object); a list (a loop's outputs) is a
//! folder `DIR/NAME/` with one entry per item, `0`, `1`, …; a value is written as JSON to
//! `DIR/NAME.json`; an absent optional output is left out.
//!
//! The folder is created when missing. flowc writes a `.flowc-out` file into it, naming the run;
//! a folder that holds other files without it was not made by `--out` and is refused, unless
//! the caller forces it. Only the outputs' own names are replaced.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{RunCode, RunError};
use crate::store::copy_into;
use flowc_compiler::plan::{PlanOutput, TypeRepr};

/// The file that marks a folder as one `--out` wrote.
pub const MARKER: &str = ".flowc-out";

/// Places `values` (the run's outputs, as the summary has them: an artifact as its path) of
/// the outputs `declared` in `dir`; returns the paths written, in the outputs' order.
pub fn place(
    dir: &Path,
    declared: &[PlanOutput],
    values: &[(String, Json)],
    run_id: &str,
    force: bool,
) -> Result<Vec<PathBuf>, RunError> {
    prepare(dir, force)?;
    let mut written = Vec::new();
    for (name, value) in values {
        let Some(ty) = declared.iter().find(|o| o.name == *name).map(|o| &o.ty) else {
            continue;
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            continue;
        }
        for old in [dir.join(name), dir.join(format!("{name}.json"))] {
            remove(&old).map_err(|e| io_error(&old, &e))?;
        }
        if let Some(path) = place_one(&dir.join(name), ty, value)? {
            written.push(path);
        }
    }
    let marker = dir.join(MARKER);
    std::fs::write(&marker, format!("{run_id}\n")).map_err(|e| io_error(&marker, &e))?;
    Ok(written)
}

/// Creates `dir`, or accepts it when it is empty, was written by `--out`, or `force`.
fn prepare(dir: &Path, force: bool) -> Result<(), RunError> {
    check(dir, force)?;
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))
}

/// Whether `--out DIR` may write into `dir` (before a run, so that it is refused before
/// anything runs): a missing or empty folder, one written by `--out`, or any with `force`.
pub fn check(dir: &Path, force: bool) -> Result<(), RunError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            let empty = entries.next().is_none();
            if !empty && !force && !dir.join(MARKER).exists() {
                return Err(RunError::new(
                    RunCode::BadOutFolder,
                    format!(
                        "`{}` holds files that `--out` did not place there",
                        dir.display()
                    ),
                )
                .hint("choose an empty or new folder, or pass `--force` to write into it anyway"));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(dir, &e)),
    }
}

/// Writes one value of type `ty` at `path` (a value at `path.json`); returns what it wrote.
fn place_one(path: &Path, ty: &TypeRepr, value: &Json) -> Result<Option<PathBuf>, RunError> {
    let inner = match ty {
        TypeRepr::Optional { inner } => inner.as_ref(),
        other => other,
    };
    match (inner, value) {
        (_, Json::Null) => Ok(None),
        (TypeRepr::List { item }, Json::Array(items)) if item.is_artifact() => {
            std::fs::create_dir_all(path).map_err(|e| io_error(path, &e))?;
            for (i, v) in items.iter().enumerate() {
                place_one(&path.join(i.to_string()), item, v)?;
            }
            Ok(Some(path.to_path_buf()))
        }
        (t, Json::String(stored)) if t.is_artifact() => {
            copy_into(Path::new(stored), path).map_err(|e| io_error(path, &e))?;
            Ok(Some(path.to_path_buf()))
        }
        _ => {
            let mut file = path.as_os_str().to_owned();
            file.push(".json");
            let file = PathBuf::from(file);
            let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
            text.push('\n');
            std::fs::write(&file, text).map_err(|e| io_error(&file, &e))?;
            Ok(Some(file))
        }
    }
}

/// Removes a file or folder if it is there.
fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> RunError {
    RunError::new(
        RunCode::BadOutFolder,
        format!("cannot write `{}`: {e}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowc_compiler::plan::Value;

    fn output(name: &str, ty: TypeRepr) -> PlanOutput {
        PlanOutput {
            name: name.into(),
            ty,
            value: Value::Param { name: name.into() },
            span: None,
        }
    }

    fn file() -> TypeRepr {
        TypeRepr::Artifact {
            name: "File".into(),
        }
    }

    #[test]
    fn files_lists_and_values_under_their_names() {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("objects");
        std::fs::create_dir_all(&store).unwrap();
        for (n, text) in [("a", "report\n"), ("b", "zero"), ("c", "one")] {
            std::fs::write(store.join(n), text).unwrap();
        }
        let at = |n: &str| Json::String(store.join(n).to_string_lossy().into_owned());
        let declared = vec![
            output("report", file()),
            output(
                "parts",
                TypeRepr::List {
                    item: Box::new(file()),
                },
            ),
            output("count", TypeRepr::Scalar { name: "Int".into() }),
        ];
        let values = vec![
            ("report".to_string(), at("a")),
            ("parts".to_string(), Json::Array(vec![at("b"), at("c")])),
            ("count".to_string(), Json::from(2)),
        ];
        let out = tmp.path().join("out");
        let written = place(&out, &declared, &values, "run-1", false).unwrap();
        assert_eq!(written.len(), 3);
        let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
        assert_eq!(read("report"), "report\n");
        assert_eq!(read("parts/0"), "zero");
        assert_eq!(read("parts/1"), "one");
        assert_eq!(read("count.json"), "2\n");
        assert_eq!(read(MARKER), "run-1\n");
        // A second run replaces its own outputs.
        let values = vec![("report".to_string(), at("c"))];
        place(&out, &declared, &values, "run-2", false).unwrap();
        assert_eq!(read("report"), "one");
    }

    #[test]
    fn a_foreign_folder_is_refused_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let e = place(tmp.path(), &[], &[], "run-1", false).unwrap_err();
        assert_eq!(e.code, RunCode::BadOutFolder);
        assert!(!tmp.path().join(MARKER).exists());
        place(tmp.path(), &[], &[], "run-1", true).unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
            "mine"
        );
    }
}
