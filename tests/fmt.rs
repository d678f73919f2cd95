//! `flowc fmt` on every example and fixture: idempotent, and keeps every comment.
//!
//! The harness is libtest-mimic's: each file is a test of its own (`lossless::PATH`,
//! `formatted::PATH`), so one file's failure does not hide the others'.

use std::path::{Path, PathBuf};

use flowc_compiler::fmt::format;
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
    let a = flowc_grammar::parse(&text);
    let b = flowc_grammar::parse(&once);
    assert_eq!(
        a.module.items.len(),
        b.module.items.len(),
        "{}",
        path.display()
    );
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
