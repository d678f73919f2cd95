//! What the Argo and Kubeflow emitter tests share: the files to emit, building their plans,
//! the issues as text, the snapshot of one file and reading emitted YAML back.

use std::path::{Path, PathBuf};

use flowc_compiler::plan::{build_plan, Plan};
use flowc_targets::Emitted;
use flowc_tests::{analyze_at, flow_files, render_human, repo_root, tests_dir, trial};
use serde_json::Value as Json;

/// The pipeline version stamped into every emitted file.
pub const VERSION: &str = "1.2.0";

/// A file to emit: snapshot name, root folder, path under the root.
pub type Input = (String, PathBuf, PathBuf);

/// The plan of the pipeline of `rel` (a path under `root`), which must check without errors.
pub fn plan_at(root: &Path, rel: &Path) -> Plan {
    let analysis = analyze_at(root, rel);
    assert!(
        !analysis.has_errors(),
        "{} must check without errors:\n{}",
        rel.display(),
        render_human(&analysis)
    );
    build_plan(&analysis, None, Some(VERSION))
        .unwrap_or_else(|e| panic!("{}: no plan: {e}", rel.display()))
}

/// The examples that declare a pipeline, as `example_<stem>`.
pub fn examples() -> Vec<Input> {
    let repo = repo_root();
    flow_files(&repo, "examples")
        .into_iter()
        .filter(|rel| {
            std::fs::read_to_string(repo.join(rel))
                .unwrap_or_default()
                .lines()
                .any(|l| l.trim_start().starts_with("pipeline "))
        })
        .map(|rel| {
            let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            (format!("example_{stem}"), repo.clone(), rel)
        })
        .collect()
}

/// The `.flow` files under `tests/<dir>` whose stem and path `keep` accepts, as
/// `<prefix>_<stem>`.
pub fn fixtures(dir: &str, prefix: &str, keep: impl Fn(&str, &Path) -> bool) -> Vec<Input> {
    let tests = tests_dir();
    flow_files(&tests, dir)
        .into_iter()
        .filter_map(|rel| {
            let stem = rel.file_stem().and_then(|s| s.to_str())?.to_string();
            keep(&stem, &rel).then(|| (format!("{prefix}_{stem}"), tests.clone(), rel))
        })
        .collect()
}

/// The issues of an emission, one per line with its help, or `(none)`.
pub fn render_issues(e: &Emitted) -> String {
    if e.issues.is_empty() {
        return "(none)\n".into();
    }
    let mut s = String::new();
    for i in &e.issues {
        let at = match &i.task {
            Some((p, t)) => format!(" [{p}/{t}]"),
            None => String::new(),
        };
        let d = &i.diagnostic;
        s.push_str(&format!(
            "{}{at}: {}\n  help: {}\n",
            d.code.as_str(),
            d.message,
            d.help.as_deref().unwrap_or_default()
        ));
    }
    s
}

/// Snapshots one input's emission (with its issues) as `tests/snapshots/<dir>/<name>.snap`,
/// under a `----- <label>` heading.
pub fn assert_snapshot_of(dir: &str, label: &str, name: &str, rel: &Path, e: &Emitted) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(tests_dir().join("snapshots").join(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let shown = format!(
        "----- FILE {}\n----- ISSUES\n{}----- {label}\n{}",
        rel.display().to_string().replace('\\', "/"),
        render_issues(e),
        e.text
    );
    settings.bind(|| insta::assert_snapshot!(name, shown));
}

/// The inputs include the examples and the fixtures.
pub fn assert_enough_inputs(inputs: &[Input]) {
    assert!(
        inputs.len() >= 20,
        "expected examples and fixtures, found {}",
        inputs.len()
    );
}

/// The documents of a YAML file (separated by `---` lines), as JSON.
pub fn documents(text: &str) -> Vec<Json> {
    flowc_tests::validate::documents(text)
}

/// One test per file, named `file::NAME`, so that one failing file hides no other and
/// `-- file::NAME` runs one alone.
pub fn file_trials(
    inputs: Vec<Input>,
    check_file: fn(&str, &Path, &Path),
) -> Vec<libtest_mimic::Trial> {
    inputs
        .into_iter()
        .map(|(name, root, rel)| {
            trial(&format!("file::{name}"), move || {
                check_file(&name, &root, &rel)
            })
        })
        .collect()
}

/// Tests of the whole emitter, each named as its function.
pub fn named_trials(tests: &[(&str, fn())]) -> Vec<libtest_mimic::Trial> {
    tests.iter().map(|&(name, f)| trial(name, f)).collect()
}
