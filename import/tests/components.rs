//! Real Kubeflow component files (`data/components/`, vendored with their source in the README
//! there) converted to `.flow`: a reviewed snapshot of each result with its warnings, and each
//! result checks without errors with the compiler.

mod common;

use common::{check, data_files, render};

#[test]
fn every_vendored_component_converts_and_checks() {
    let files = data_files("components");
    let mut failures = Vec::new();
    for (name, text) in &files {
        let c = flowc_import::convert(name, text);
        if c.has_errors() {
            failures.push(format!("{name}: not converted\n{}", render(name, &c)));
            continue;
        }
        let diagnostics = check(name, &c.source);
        if diagnostics.iter().any(|d| d.starts_with("error")) {
            failures.push(format!("{name}: {diagnostics:?}\n{}", c.source));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/components");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(format!("tests/data/components/{name}"));
        settings.bind(|| {
            insta::assert_snapshot!(
                name.trim_end_matches(".yaml"),
                format!(
                    "{}\n----- IMPORT PROBLEMS\n{}----- CHECK\n{}\n",
                    c.source,
                    render(name, &c),
                    diagnostics.join("\n")
                )
            );
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        files.len() >= 15,
        "at least 15 real component files are vendored, found {}",
        files.len()
    );
}
