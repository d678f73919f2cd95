//! `flowc fmt` on every example and fixture: idempotent, keeps every comment, and never changes
//! what a file means: the formatted file reports the same diagnostics (codes and messages) and
//! every pipeline of it has the same plan JSON as the original.
//!
//! The harness is libtest-mimic's: each file is a test of its own (`lossless::PATH`,
//! `formatted::PATH`), so one file's failure does not hide the others'.

use std::path::{Path, PathBuf};

use flowc_compiler::fmt::format;
use flowc_compiler::plan::build_plan;
use flowc_compiler::{analyze, Analysis, FileLoader};
use flowc_grammar::ast::Item;
use flowc_tests::{flow_files, repo_root, tests_dir};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let mut files: Vec<(String, PathBuf)> = flow_files(&repo_root(), "examples")
        .into_iter()
        .map(|p| (slash(&p), repo_root().join(p)))
        .collect();
    files.extend(
        flow_files(&tests_dir(), "fixtures")
            .into_iter()
            .map(|p| (format!("tests/{}", slash(&p)), tests_dir().join(p))),
    );
    let formattable: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
    let mut trials: Vec<Trial> = files
        .into_iter()
        .map(|(name, path)| {
            Trial::test(format!("lossless::{name}"), move || {
                idempotent_and_lossless(&path);
                Ok(())
            })
        })
        .collect();
    trials.push(Trial::test("enough_files_are_formatted", move || {
        enough_files_are_formatted(&formattable)
    }));
    trials.extend(flow_files(&repo_root(), "examples").into_iter().map(|rel| {
        Trial::test(format!("formatted::{}", slash(&rel)), move || {
            example_is_formatted(&rel);
            Ok(())
        })
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn comments(text: &str) -> Vec<String> {
    let parsed = flowc_grammar::parse(text);
    let mut c: Vec<String> = parsed
        .module
        .comments
        .iter()
        .map(|c| c.text.trim().to_string())
        .collect();
    c.sort();
    c
}

/// The file's formatted text, if it is UTF-8 and formats.
fn formatted(path: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let once = format(&text).ok()?;
    Some((text, once))
}

fn idempotent_and_lossless(path: &Path) {
    let Some((text, once)) = formatted(path) else {
        return;
    };
    let twice = format(&once)
        .unwrap_or_else(|e| panic!("{}: formatted output does not parse: {e:?}", path.display()));
    assert_eq!(once, twice, "{}: fmt is not idempotent", path.display());
    assert_eq!(
        comments(&text),
        comments(&once),
        "{}: fmt changed the comments",
        path.display()
    );
    // Formatting never changes what the file means.
    assert_eq!(
        meaning(path, &text),
        meaning(path, &once),
        "{}",
        path.display()
    );
}

/// The disk, except that `path` reads as `text` (the formatted file beside its imports).
struct Overlay<'a> {
    path: &'a Path,
    text: &'a str,
}

impl FileLoader for Overlay<'_> {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        if path == self.path {
            return Ok(self.text.as_bytes().to_vec());
        }
        std::fs::read(path).map_err(|e| e.to_string())
    }
}

/// A plan's JSON without `source_sha256`, the hash of the text (which formatting changes).
fn without_source_hash(json: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("source_sha256");
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// What `text` at `path` means: its diagnostics (code and message, without positions, which
/// formatting moves) and the plan JSON of each of its pipelines.
fn meaning(path: &Path, text: &str) -> (Vec<String>, Vec<(String, String)>) {
    let a: Analysis = analyze(&Overlay { path, text }, &[path.to_path_buf()]);
    let diagnostics = a
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect();
    let pipelines: Vec<String> = flowc_grammar::parse(text)
        .module
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Pipeline(p) => Some(p.name.name.clone()),
            _ => None,
        })
        .collect();
    let plans = pipelines
        .into_iter()
        .map(|name| {
            let plan = build_plan(&a, Some(&name), Some("1.0.0"))
                .map(|p| without_source_hash(&p.to_json()))
                .unwrap_or_else(|e| format!("no plan: {e}"));
            (name, plan)
        })
        .collect();
    (diagnostics, plans)
}

fn enough_files_are_formatted(files: &[PathBuf]) -> Result<(), Failed> {
    let formatted_count = files.iter().filter(|p| formatted(p).is_some()).count();
    assert!(formatted_count >= 20);
    Ok(())
}

fn example_is_formatted(rel: &Path) {
    let text = std::fs::read_to_string(repo_root().join(rel)).unwrap_or_default();
    let f = format(&text).unwrap_or_default();
    assert_eq!(
        f,
        text,
        "{} is not formatted: run `flowc fmt examples`",
        rel.display()
    );
}
