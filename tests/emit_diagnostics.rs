//! Target problems as diagnostics, drawn with their source: for every example and emitter
//! fixture with a problem on Argo or Kubeflow, a snapshot of what `flowc check --target
//! argo,kfp` prints (`tests/snapshots/emit/diagnostics/`), one test per file (libtest-mimic).
//! The emitters' own snapshots (`emit_argo`, `emit_kfp`) keep the problems' text; these show
//! the line each is reported at.

use std::path::Path;

use flowc_targets::Target;
use flowc_tests::{analyze_at, tests_dir, trial};

// The emitter suites' shared helpers; this suite uses the inputs and the per-file tests.
#[allow(dead_code)]
mod emit_common;

use emit_common::{examples, file_trials, fixtures, Input};

/// The examples declaring a pipeline and the emitter fixtures: name, root, path under it.
fn inputs() -> Vec<Input> {
    let mut out = examples();
    out.extend(fixtures("fixtures/emit", "fixture", |_, rel| {
        !rel.starts_with("fixtures/emit/lib")
    }));
    out
}

/// What `flowc check --target argo,kfp` prints for the file, or `None` without a target
/// problem.
fn rendered(root: &Path, rel: &Path) -> Option<String> {
    let analysis = analyze_at(root, rel);
    let problems = flowc_targets::check(&analysis, &Target::ALL);
    if problems.is_empty() {
        return None;
    }
    for d in &problems {
        assert!(
            !d.labels.is_empty(),
            "{}: `{}` has no location",
            rel.display(),
            d.message
        );
    }
    Some(flowc::render::human::render(
        analysis.sources(),
        &problems,
        false,
        100,
    ))
}

fn check_file(name: &str, root: &Path, rel: &Path) {
    let Some(text) = rendered(root, rel) else {
        return;
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(tests_dir().join("snapshots/emit/diagnostics"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let shown = format!(
        "----- FILE {}\n----- flowc check --target argo,kfp\n{text}",
        rel.display().to_string().replace('\\', "/")
    );
    settings.bind(|| insta::assert_snapshot!(name, shown));
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let all = inputs();
    let with_problems = all
        .iter()
        .filter(|(_, root, rel)| rendered(root, rel).is_some())
        .count();
    let mut tests = vec![trial("some_files_have_target_problems", move || {
        assert!(with_problems >= 5, "{with_problems} files with problems");
    })];
    tests.extend(file_trials(all, check_file));
    libtest_mimic::run(&args, tests).exit();
}
