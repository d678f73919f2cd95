//! Reader tests on hand-made, realistic Argo status and Prometheus export files (written after
//! the documented formats), valid and malformed, and on flowc run records.

use flowc_autotune::{load_history, ErrorCode, History, Outcome, StepKey};
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// (code, file name, line) of every error, for exact comparison.
fn errors(paths: &[&str], lenient: bool) -> Vec<(&'static str, String, Option<usize>)> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| fixture(p)).collect();
    match load_history(&paths, lenient) {
        Ok(_) => Vec::new(),
        Err(errs) => errs
            .into_iter()
            .map(|e| {
                let name = e.file.rsplit('/').next().unwrap_or("").to_string();
                (e.code.as_str(), name, e.line)
            })
            .collect(),
    }
}

fn argo_with_prometheus() -> History {
    let paths = [
        "argo/daily_weights.json",
        "prometheus/memory_working_set.json",
        "prometheus/cpu_usage.json",
        "prometheus/gpu_util.json",
    ];
    load_history(&paths.map(fixture), false).expect("valid fixtures load")
}

#[test]
fn argo_nodes_become_executions_joined_with_prometheus() {
    let h = argo_with_prometheus();
    let mib = 1u64 << 20;
    let load = &h.steps[&StepKey::new("daily_weights", "load_panel")];
    assert_eq!(load.len(), 1);
    let e = &load[0];
    assert_eq!(e.outcome, Outcome::Ok);
    assert_eq!(e.version.as_deref(), Some("1.2.0"));
    assert_eq!(e.run_id, "daily-weights-v1-2-0-x7k2p");
    assert_eq!(e.memory_limit_bytes, Some(2 << 30));
    assert_eq!(e.cpu_request_millis, Some(500));
    assert_eq!(e.wall_seconds, 750.0);
    // The `main` container's peak, not the `wait` sidecar's.
    assert_eq!(e.peak_memory_bytes, Some(1200 * mib + 12 * 4096));
    // CPU counter increase over the samples.
    assert_eq!(e.cpu_seconds, Some(546.0));

    let rake = &h.steps[&StepKey::new("daily_weights", "rake")];
    assert_eq!(rake.len(), 2);
    assert_eq!(
        (rake[0].task.as_str(), rake[0].attempt, rake[0].outcome),
        ("rake[0]", 1, Outcome::Oom)
    );
    assert_eq!((rake[1].attempt, rake[1].outcome), (2, Outcome::Ok));
    assert_eq!(rake[1].peak_memory_bytes, Some(1370 * mib));
    assert_eq!(rake[1].cpu_limit_millis, Some(2000));
    // A counter reset (container restart) still counts the CPU used before it.
    assert_eq!(rake[1].cpu_seconds, Some(6.0 * 58.0 - 58.0 + 3.0));

    let quality = &h.steps[&StepKey::new("daily_weights", "weighting_quality")];
    assert_eq!(quality[0].outcome, Outcome::Timeout);
    assert_eq!(quality[0].gpu_count, 1);
    let util = quality[0].gpu_util.expect("gpu utilisation joined");
    assert!(util > 0.0 && util < 0.01, "{util}");

    // A pod known only to Prometheus, labelled with its step, is an execution of its own.
    let score = &h.steps[&StepKey::new("daily_weights", "score")];
    assert_eq!(score[0].peak_memory_bytes, Some(800 * mib + 30 * mib));
    // Skipped nodes are counted, unrelated pods are warnings: nothing vanishes silently.
    assert_eq!(h.ignored.get("Argo node skipped or omitted"), Some(&1));
    assert_eq!(h.warnings.len(), 1);
    assert_eq!(h.warnings[0].code, ErrorCode::UnmatchedSeries);
    assert!(h.warnings[0].message.contains("node-exporter-9xk2l"));
}

#[test]
fn malformed_argo_status_names_file_and_line() {
    assert_eq!(
        errors(&["argo/truncated.json"], false),
        [("A003", "truncated.json".to_string(), Some(101))]
    );
    assert_eq!(
        errors(&["argo/wrong_type.json"], false),
        [("A005", "wrong_type.json".to_string(), Some(91))]
    );
    assert_eq!(
        errors(&["argo/missing_field.json"], false),
        [("A004", "missing_field.json".to_string(), Some(126))]
    );
}

#[test]
fn malformed_prometheus_exports_name_file_and_line() {
    assert_eq!(
        errors(&["prometheus/truncated.json"], false),
        [("A003", "truncated.json".to_string(), Some(61))]
    );
    assert_eq!(
        errors(&["prometheus/wrong_type.json"], false),
        [("A005", "wrong_type.json".to_string(), Some(28))]
    );
    assert_eq!(
        errors(&["prometheus/missing_values.json"], false),
        [("A004", "missing_values.json".to_string(), Some(76))]
    );
    assert_eq!(
        errors(&["prometheus/error_response.json"], false),
        [("A006", "error_response.json".to_string(), Some(1))]
    );
    assert_eq!(
        errors(&["prometheus/no_metric_name.json"], false),
        [
            ("A010", "no_metric_name.json".to_string(), Some(7)),
            ("A010", "no_metric_name.json".to_string(), Some(76))
        ]
    );
}

#[test]
fn lenient_mode_counts_skipped_records() {
    let h = load_history(&[fixture("argo/missing_field.json")], true).expect("lenient load");
    assert_eq!(h.warnings.len(), 1);
    assert_eq!(h.warnings[0].code, ErrorCode::MissingField);
    assert_eq!(h.warnings[0].line, Some(126));
    // The other nodes are still read.
    assert_eq!(h.steps[&StepKey::new("daily_weights", "rake")].len(), 1);
    // File-level problems stay errors even in lenient mode.
    assert_eq!(
        errors(&["argo/truncated.json"], true),
        [("A003", "truncated.json".to_string(), Some(101))]
    );
}

#[test]
fn flowc_records_strict_and_lenient() {
    assert_eq!(
        errors(&["flowc/bad_records.jsonl"], false),
        [
            ("A003", "bad_records.jsonl".to_string(), Some(4)),
            ("A005", "bad_records.jsonl".to_string(), Some(2)),
            ("A007", "bad_records.jsonl".to_string(), Some(3)),
        ]
    );
    let h = load_history(&[fixture("flowc/bad_records.jsonl")], true).expect("lenient load");
    assert_eq!(h.len(), 1);
    assert_eq!(h.warnings.len(), 3);
}

#[test]
fn a_store_folder_is_searched_recursively() {
    let h = load_history(&[fixture("flowc/store")], false).expect("store loads");
    assert_eq!(h.pipelines(), ["daily_weights"]);
    assert_eq!(
        h.steps[&StepKey::new("daily_weights", "load_panel")].len(),
        8
    );
    assert_eq!(h.steps[&StepKey::new("daily_weights", "rake")].len(), 25);
    assert_eq!(h.ignored.get("cached flowc record (did not run)"), Some(&8));
}

#[test]
fn missing_file_and_unknown_format_are_errors() {
    assert_eq!(errors(&["nope.json"], true)[0].0, "A001");
    assert_eq!(errors(&["../readers.rs"], true)[0].0, "A002");
}
