//! Recommendations and reports from a flowc run store: bounds, GPU drop, OOM floor, and
//! deterministic, self-contained Markdown and HTML.

use flowc_autotune::{
    load_history, recommend, report, Resources, StepBounds, StepKey, TunerConfig,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn store() -> flowc_autotune::History {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flowc/store");
    load_history(&[dir], false).expect("store loads")
}

#[test]
fn recommends_per_step_with_bounds_gpu_and_oom() {
    let h = store();
    let gib = 1u64 << 30;
    let mut bounds = BTreeMap::new();
    bounds.insert(
        StepKey::new("daily_weights", "load_panel"),
        StepBounds {
            min: Resources {
                memory_bytes: Some(2 * gib),
                cpu_millis: Some(500),
                gpu: None,
            },
            ..Default::default()
        },
    );
    let recs = recommend(&h, &bounds, &TunerConfig::default());
    let by = |s: &str| recs.iter().find(|r| r.key.step == s).expect("step present");

    let load = by("load_panel");
    assert_eq!(load.memory.old_limit, Some(4 * gib));
    // The model wants ~1.2 GiB; the source's min bound wins.
    assert_eq!(load.memory.new_limit, 2 * gib);
    assert_eq!(load.memory.new_request, load.memory.new_limit);
    assert!(load.reasons.iter().any(|r| r.contains("min bound")));
    assert!(load.saved_gb_hours > 0.0);
    assert_eq!(load.cpu.request_millis, Some(890));

    let rake = by("rake");
    assert_eq!(rake.ooms, 1);
    assert!(
        rake.memory.new_limit > 1200 << 20,
        "never below the killed 1200 MiB"
    );

    let train = by("train");
    assert_eq!((train.gpu.current, train.gpu.recommended), (1, 0));
    assert!(train.reasons.iter().any(|r| r.contains("GPU idle")));
    assert!(train.changed);
}

#[test]
fn reports_are_deterministic_and_self_contained() {
    let h = store();
    let recs = recommend(&h, &BTreeMap::new(), &TunerConfig::default());
    let md = report::markdown(&recs, &h);
    assert_eq!(md, report::markdown(&recs, &h));
    assert!(md.contains("| daily_weights/load_panel |"));
    assert!(md.contains("### Why"));
    let html = report::html(&recs, &h);
    assert_eq!(html, report::html(&recs, &h));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), recs.len() + 1);
    for banned in ["<script", "<link", "src=", "href=", "@import", "url("] {
        assert!(
            !html.contains(banned),
            "HTML must not load anything: found {banned}"
        );
    }
}
