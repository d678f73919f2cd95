//! The examples of the target codes' explanations (`compiler/src/diagnostics/explain/CODE.md`,
//! E5xx and W5xx) run through the target check: the problem example must report its code on
//! some target, the fixed example on none.
//!
//! The convention (shared with the test of the other codes' explanations): the problem example
//! is the first ```` ```flow ```` block under `## Example`, the fixed one the first
//! ```` ```flow ```` block under `## How to fix`. A code whose problem cannot be shown in a few
//! lines is listed in [`NO_FLOW_EXAMPLE`] with the reason, and the test checks that its file
//! indeed has no `flow` example, so nothing is skipped silently.

use std::path::PathBuf;

use flowc_compiler::diagnostics::Phase;
use flowc_compiler::{analyze, Code, MemoryLoader};
use flowc_targets::Target;

/// Target codes whose explanation shows the problem without a `flow` example, and why.
const NO_FLOW_EXAMPLE: &[(&str, &str)] = &[
    (
        "E503",
        "a pipeline over Argo's 200 DAG templates or etcd's 1.5 MB is too large to quote",
    ),
    (
        "W503",
        "a pipeline over the Argo controller's 1 MiB is too large to quote",
    ),
];

/// The first ```` ```flow ```` block under the `## heading` section of `md`.
fn flow_block(md: &str, heading: &str) -> Option<String> {
    let start = md.find(&format!("\n## {heading}\n"))?;
    let section = &md[start + heading.len() + 5..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let open = section.find("```flow\n")? + "```flow\n".len();
    let len = section[open..].find("\n```")?;
    Some(section[open..open + len + 1].to_string())
}

/// The codes the target check reports for `source` on every target, with the target's name.
fn target_codes(source: &str) -> Vec<(String, &'static str)> {
    let path = PathBuf::from("example.flow");
    let loader = MemoryLoader::new().with(path.clone(), source);
    let analysis = analyze(&loader, &[path]);
    let errors: Vec<&str> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        errors.is_empty(),
        "the example must check: {errors:?}\n{source}"
    );
    let mut out = Vec::new();
    for t in Target::ALL {
        for d in flowc_targets::check(&analysis, &[t]) {
            assert!(!d.labels.is_empty(), "{} has no location", d.message);
            out.push((d.code.as_str().to_string(), t.name()));
        }
    }
    out
}

#[test]
fn target_explanations_show_their_problem_and_its_fix() {
    let codes: Vec<Code> = Code::ALL
        .iter()
        .copied()
        .filter(|c| c.phase() == Phase::Target)
        .collect();
    assert_eq!(
        codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["E501", "E502", "E503", "W501", "W503"]
    );
    let mut failures = Vec::new();
    for code in codes {
        let id = code.as_str();
        let md = code.explanation();
        let problem = flow_block(md, "Example");
        if let Some((_, why)) = NO_FLOW_EXAMPLE.iter().find(|(c, _)| *c == id) {
            assert!(
                problem.is_none(),
                "{id} is exempt ({why}) but has a flow example"
            );
            continue;
        }
        let Some(problem) = problem else {
            failures.push(format!("{id}: no ```flow block under `## Example`"));
            continue;
        };
        let Some(fixed) = flow_block(md, "How to fix") else {
            failures.push(format!("{id}: no ```flow block under `## How to fix`"));
            continue;
        };
        let reported = target_codes(&problem);
        if !reported.iter().any(|(c, _)| c == id) {
            failures.push(format!("{id}: the example reports {reported:?}, not {id}"));
        }
        let after = target_codes(&fixed);
        if let Some((_, t)) = after.iter().find(|(c, _)| c == id) {
            failures.push(format!("{id}: the fixed example still reports it on {t}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn flow_blocks_are_found_by_section() {
    let md = "# X\n\n## Example\n\ntext\n\n```text\nno\n```\n\n```flow\na\n```\n\n```flow\nb\n```\n\n## How to fix\n\n```flow\nc\n```\n";
    assert_eq!(flow_block(md, "Example").as_deref(), Some("a\n"));
    assert_eq!(flow_block(md, "How to fix").as_deref(), Some("c\n"));
    assert_eq!(flow_block(md, "Why"), None);
    assert_eq!(
        flow_block("## Example\n\n```text\nx\n```\n", "Example"),
        None
    );
}
