//! Snapshot tests of `flowc check` on the fixtures in `fixtures/check/`.
//!
//! A fixture named `E203_something.flow` must report `E203` (and the snapshot shows everything
//! it reports, rendered as a user sees it); `ok_something.flow` must report no error. Fixtures
//! may import helper files from `fixtures/check/lib/`, which are not checked on their own.
//! Every code in the table must have at least one fixture.

use std::collections::BTreeSet;
use std::path::Path;

use flowc_compiler::Code;
use flowc_tests::{analyze_at, flow_files, render_human, tests_dir};

#[test]
fn check_fixtures() {
    let root = tests_dir();
    let files = flow_files(&root, "fixtures/check");
    assert!(
        files.len() >= 60,
        "expected at least 60 check fixtures, found {}",
        files.len()
    );
    let mut covered = BTreeSet::new();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots/check"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for rel in files
        .iter()
        .filter(|f| !f.starts_with("fixtures/check/lib"))
    {
        let name = rel
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let source = std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| {
            // Binary fixtures are shown as a byte count.
            format!(
                "<{} bytes, not UTF-8: {e}>",
                std::fs::metadata(root.join(rel))
                    .map(|m| m.len())
                    .unwrap_or(0)
            )
        });
        let analysis = analyze_at(&root, rel);
        let codes: BTreeSet<&str> = analysis
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        let expected = name.split('_').next().unwrap_or_default();
        if expected == "ok" {
            assert!(
                !analysis.has_errors(),
                "{name} must check without errors:\n{}",
                render_human(&analysis)
            );
        } else {
            let code = Code::parse(expected)
                .unwrap_or_else(|| panic!("fixture {name}: `{expected}` is not a code"));
            assert!(
                codes.contains(code.as_str()),
                "{name} must report {expected}, reported {codes:?}:\n{}",
                render_human(&analysis)
            );
            covered.insert(code);
        }
        let shown = if source.len() > 4000 {
            format!(
                "{}\n<... {} bytes in all>",
                &source[..(0..=2000)
                    .rev()
                    .find(|i| source.is_char_boundary(*i))
                    .unwrap_or(0)],
                source.len()
            )
        } else {
            source
        };
        let snapshot = format!(
            "----- SOURCE CODE {}\n{shown}\n----- DIAGNOSTICS\n{}",
            slash(rel),
            render_human(&analysis)
        );
        settings.bind(|| insta::assert_snapshot!(name, snapshot));
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !covered.contains(c))
        .map(|c| c.as_str())
        .collect();
    // Target codes (E5xx, W5xx) are reported by `flowc build`, whose fixtures live with the
    // emitters.
    let missing: Vec<&str> = missing
        .into_iter()
        .filter(|c| c.get(1..2) != Some("5"))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

#[test]
fn three_errors_in_three_declarations_are_all_reported() {
    let root = tests_dir();
    let a = analyze_at(
        &root,
        Path::new("fixtures/multi/three_independent_errors.flow"),
    );
    let errors: Vec<_> = a.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 3, "{}", render_human(&a));
    let lines: BTreeSet<u32> = errors
        .iter()
        .filter_map(|d| d.primary())
        .map(|l| a.sources().get(l.file).lines.line_col(l.span.start).line)
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "the three errors are on three different lines"
    );
}

#[test]
fn examples_check_clean() {
    let root = flowc_tests::repo_root();
    let files = flow_files(&root, "examples");
    assert!(files.len() >= 10);
    for rel in files {
        let a = analyze_at(&root, &rel);
        assert!(
            a.diagnostics.is_empty(),
            "{} must check without diagnostics:\n{}",
            rel.display(),
            render_human(&a)
        );
    }
}
