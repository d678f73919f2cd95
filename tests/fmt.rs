//! `flowc fmt` on every example and fixture: idempotent, and keeps every comment.

use flowc_compiler::fmt::format;
use flowc_tests::{flow_files, repo_root, tests_dir};

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

#[test]
fn idempotent_and_lossless_on_examples_and_fixtures() {
    let mut files: Vec<_> = flow_files(&repo_root(), "examples")
        .into_iter()
        .map(|p| repo_root().join(p))
        .collect();
    files.extend(
        flow_files(&tests_dir(), "fixtures")
            .into_iter()
            .map(|p| tests_dir().join(p)),
    );
    let mut formatted_count = 0;
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(once) = format(&text) else { continue };
        formatted_count += 1;
        let twice = format(&once).unwrap_or_else(|e| {
            panic!("{}: formatted output does not parse: {e:?}", path.display())
        });
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
    assert!(formatted_count >= 20);
}

#[test]
fn examples_are_formatted() {
    for rel in flow_files(&repo_root(), "examples") {
        let text = std::fs::read_to_string(repo_root().join(&rel)).unwrap_or_default();
        let f = format(&text).unwrap_or_default();
        assert_eq!(
            f,
            text,
            "{} is not formatted: run `flowc fmt examples`",
            rel.display()
        );
    }
}
