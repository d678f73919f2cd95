//! What the importer's tests share: the vendored files, checking a converted source with the
//! compiler, and the problems as text.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use flowc_compiler::{analyze, MemoryLoader};
use flowc_import::Converted;

/// The folder of this crate's tests.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The `.yaml` files of `tests/data/<dir>`, sorted, as (file name, text).
pub fn data_files(dir: &str) -> Vec<(String, String)> {
    let dir = tests_dir().join("data").join(dir);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect();
    out.sort();
    out
}

/// The diagnostics of checking `source` (saved as `name`.flow), one `severity[CODE]: message`
/// line each.
pub fn check(name: &str, source: &str) -> Vec<String> {
    let path = PathBuf::from(format!("{}.flow", name.trim_end_matches(".yaml")));
    let loader = MemoryLoader::new().with(path.clone(), source);
    let a = analyze(&loader, &[path]);
    a.diagnostics
        .iter()
        .map(|d| {
            let sev = if d.is_error() { "error" } else { "warning" };
            format!("{sev}[{}]: {}", d.code.as_str(), d.message)
        })
        .collect()
}

/// The problems of a conversion, as the CLI prints them.
pub fn render(name: &str, c: &Converted) -> String {
    c.problems.iter().map(|p| p.render(name)).collect()
}
