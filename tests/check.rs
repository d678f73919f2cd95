//! Snapshot tests of `flowc check` on the fixtures in `fixtures/check/`, one test per fixture.
//!
//! A fixture named `E203_something.flow` must report `E203` (and the snapshot shows everything
//! it reports, rendered as a user sees it); `ok_something.flow` must report no error. Fixtures
//! may import helper files from `fixtures/check/lib/`, which are not checked on their own.
//! Every code in the table must have at least one fixture.
//!
//! The harness is libtest-mimic's: each fixture is a test named `fixture::NAME`, so a failing
//! fixture does not hide the others and `cargo test -p flowc-tests --test check -- E203_` runs a
//! few alone. The explanations' examples (`explain::CODE`, see [`explain`]) are tests here too.

#[path = "check/explain.rs"]
mod explain;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flowc_compiler::Code;
use flowc_tests::{analyze_at, flow_files, render_human, tests_dir};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = fixtures()
        .into_iter()
        .map(|rel| {
            let name = format!("fixture::{}", stem(&rel));
            Trial::test(name, move || check_fixture(&rel))
        })
        .collect();
    trials.push(Trial::test(
        "every_code_has_a_fixture",
        every_code_has_a_fixture,
    ));
    trials.push(Trial::test(
        "three_errors_in_three_declarations_are_all_reported",
        three_errors_in_three_declarations_are_all_reported,
    ));
    trials.push(Trial::test("examples_check_clean", examples_check_clean));
    trials.extend(explain::trials());
    libtest_mimic::run(&args, trials).exit();
}

/// The checked fixtures (helpers in `lib/` excluded), as paths relative to the tests folder.
fn fixtures() -> Vec<PathBuf> {
    flow_files(&tests_dir(), "fixtures/check")
        .into_iter()
        .filter(|f| !f.starts_with("fixtures/check/lib"))
        .collect()
}

fn stem(rel: &Path) -> String {
    rel.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// The code a fixture's name promises (`None` for an `ok_` fixture).
fn expected_code(name: &str) -> Result<Option<Code>, Failed> {
    let expected = name.split('_').next().unwrap_or_default();
    if expected == "ok" {
        return Ok(None);
    }
    Code::parse(expected)
        .map(Some)
        .ok_or_else(|| format!("fixture {name}: `{expected}` is not a code").into())
}

fn check_fixture(rel: &Path) -> Result<(), Failed> {
    let root = tests_dir();
    let name = stem(rel);
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
    match expected_code(&name)? {
        None if analysis.has_errors() => {
            return Err(format!(
                "{name} must check without errors:\n{}",
                render_human(&analysis)
            )
            .into())
        }
        Some(code) if !codes.contains(code.as_str()) => {
            return Err(format!(
                "{name} must report {}, reported {codes:?}:\n{}",
                code.as_str(),
                render_human(&analysis)
            )
            .into())
        }
        _ => {}
    }
    let snapshot = format!(
        "----- SOURCE CODE {}\n{}\n----- DIAGNOSTICS\n{}",
        slash(rel),
        shown(source),
        render_human(&analysis)
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots/check"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, snapshot));
    Ok(())
}

/// The source as the snapshot shows it: cut after 2,000 bytes when over 4,000.
fn shown(source: String) -> String {
    if source.len() <= 4000 {
        return source;
    }
    let cut = (0..=2000)
        .rev()
        .find(|i| source.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}\n<... {} bytes in all>", &source[..cut], source.len())
}

fn every_code_has_a_fixture() -> Result<(), Failed> {
    let fixtures = fixtures();
    if fixtures.len() < 60 {
        return Err(format!(
            "expected at least 60 check fixtures, found {}",
            fixtures.len()
        )
        .into());
    }
    let mut covered = BTreeSet::new();
    for rel in &fixtures {
        covered.extend(expected_code(&stem(rel))?);
    }
    // Target codes (E5xx, W5xx) are reported for a build target, whose fixtures live with the
    // emitters; build-value codes (E430) for `--set`, tested with the CLI.
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| {
            !covered.contains(c)
                && !explain::is_target_code(**c)
                && !explain::is_build_value_code(**c)
        })
        .map(|c| c.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("codes without a fixture: {missing:?}").into())
    }
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn three_errors_in_three_declarations_are_all_reported() -> Result<(), Failed> {
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
    Ok(())
}

fn examples_check_clean() -> Result<(), Failed> {
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
    Ok(())
}
