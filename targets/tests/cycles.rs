//! The last check of a Kubeflow build: a DAG whose tasks would depend on each other in a cycle
//! is refused with a located E501 instead of written as YAML Kubeflow rejects. The program is
//! the law test's counterexample left in `tests/fixtures/law_pending/` (two `if`s on one
//! condition around a loop share their condition groups).

use std::path::PathBuf;

use flowc_compiler::{analyze, Code, MemoryLoader};
use flowc_targets::Target;

#[test]
fn a_dependency_cycle_on_kubeflow_is_a_located_e501() {
    let rel = "tests/fixtures/law_pending/kfp_two_ifs_on_one_condition_around_a_loop.flow";
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel);
    let source = std::fs::read_to_string(&file).expect("the fixture");
    let path = PathBuf::from("p.flow");
    let loader = MemoryLoader::new().with(path.clone(), source.as_str());
    let analysis = analyze(&loader, &[path]);
    assert!(!analysis.has_errors(), "the program must check");
    let found = flowc_targets::check(&analysis, &[Target::Kfp]);
    let cycle = found
        .iter()
        .find(|d| d.code == Code::UnsupportedByTarget && d.message.contains("cycle"))
        .unwrap_or_else(|| panic!("no cycle reported: {found:?}"));
    assert!(!cycle.labels.is_empty(), "the cycle has no location");
    assert!(cycle.message.contains("`for-loop-"), "{}", cycle.message);
}
