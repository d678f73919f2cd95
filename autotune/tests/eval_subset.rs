//! Runs the evaluation on a subset of the shared traces and checks that flowc's tuner beats both
//! baselines there. The traces live in the repository's sibling folder `shared/traces`; without
//! it the test says so and passes.

use flowc_autotune::eval::table::waste_vs_better;
use flowc_autotune::{evaluate, EvalConfig};
use std::path::PathBuf;

fn traces() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces");
    dir.is_dir().then_some(dir)
}

#[test]
fn flowc_beats_both_baselines_on_a_subset() {
    let Some(dir) = traces() else {
        println!("skipped: shared traces not found next to the repository (../../shared/traces from autotune/)");
        return;
    };
    let mut paths = vec![dir.join("sizey/trace_methylseq.csv")];
    for run in 1..=5 {
        paths.push(dir.join(format!(
            "wfinstances/pegasus-srasearch/srasearch-chameleon-50a-00{run}.json"
        )));
    }
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        println!("skipped: trace {} not found", missing.display());
        return;
    }
    let report = evaluate(&paths, &EvalConfig::default()).expect("traces load");
    assert_eq!(report.workflows.len(), 2);
    let [flowc, vpa, krr] = &report.total[..] else {
        panic!("three policies")
    };
    assert_eq!(
        (
            flowc.policy.as_str(),
            vpa.policy.as_str(),
            krr.policy.as_str()
        ),
        ("flowc", "VPA-like", "KRR-like")
    );
    assert!(
        flowc.wasted_gb_h < vpa.wasted_gb_h && flowc.wasted_gb_h < krr.wasted_gb_h,
        "{:?}",
        report.total
    );
    assert!(
        flowc.oom_rate() <= vpa.oom_rate().min(krr.oom_rate()),
        "{:?}",
        report.total
    );
    for w in &report.workflows {
        let rel = waste_vs_better(&w.policies).unwrap_or(0.0);
        assert!(
            rel <= 1.05,
            "{}: flowc wastes {rel:.3}x the better baseline",
            w.workflow
        );
    }
    // The table is deterministic.
    let again = evaluate(&paths, &EvalConfig::default()).expect("traces load");
    assert_eq!(report.to_markdown(), again.to_markdown());
}
