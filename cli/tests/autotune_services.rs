//! `flowc autotune` and `flowc autotune recommend` reading Argo's archive in a real PostgreSQL
//! and series in a real Prometheus (started on loopback by autotune's test support), as the
//! nightly job does: the recommendations and the lock file must be those of the same history
//! read from files, and `recommend --format json` is the documented document (snapshot).

mod common;
#[path = "../../autotune/tests/support/mod.rs"]
mod support;

use common::{flowc, ok, stdout, text, write};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use support::{data, Postgres, Prometheus};

/// The steps of the recorded Argo workflow, each with `resources auto`.
const SOURCE: &str = r#"
step load_panel(day: Date) -> (panel: File) {
  image "registry.example.com/ms/etl:1.4.2"
  run ["python", "-m", "etl.load_panel", "--day", day, "--out", panel]
  resources auto(max: { memory: 8Gi })
}

step rake(panel: File) -> (weights: File) {
  image "registry.example.com/flowc/runtime:0.1.0"
  run ["rake", panel, weights]
  resources auto(max: { memory: 8Gi })
}

step weighting_quality(weights: File) -> (report: File) {
  image "registry.example.com/flowc/runtime:0.1.0"
  run ["quality", weights, report]
  resources auto(max: { memory: 8Gi })
}

step score(weights: File) -> (scores: File) {
  image "registry.example.com/flowc/runtime:0.1.0"
  run ["score", weights, scores]
  resources auto(max: { memory: 8Gi })
}

pipeline daily_weights(day: Date = "2026-11-27") {
  panel = load_panel(day: day)
  weights = rake(panel: panel)
  quality = weighting_quality(weights: weights)
  scores = score(weights: weights)
  output quality
  output scores
}
"#;

/// The recorded history written as files in `dir`, named relative to it.
fn history_files(dir: &Path) -> Vec<String> {
    let rec = data::recorded();
    data::write_files(&rec, dir)
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_str()?.to_string()))
        .collect()
}

/// `ARGS… --history HISTORY… --since … --until …`.
fn args<'a>(head: &[&'a str], history: &'a [String], tail: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = head.to_vec();
    v.push("--history");
    v.extend(history.iter().map(String::as_str));
    v.extend(["--since", data::SINCE, "--until", data::UNTIL]);
    v.extend(tail);
    v
}

fn parse(out: &std::process::Output) -> Json {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("JSON: {e}\n{}", text(out)))
}

/// The servers, loaded with the recorded history.
fn services() -> (Postgres, Prometheus) {
    let rec = data::recorded();
    let pg = Postgres::start();
    pg.argo_archive("argo", &rec.rows);
    let prom = Prometheus::start(&rec.openmetrics, None);
    (pg, prom)
}

#[test]
fn recommend_reads_the_services_as_it_reads_the_files() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let files = history_files(dir.path());
    let from_files = ok(
        &args(&["autotune", "recommend"], &files, &["--format", "json"]),
        dir.path(),
    );
    insta::assert_snapshot!("recommend_json", stdout(&from_files));
    let from_files = parse(&from_files);
    let steps: Vec<&str> = from_files["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(steps, ["load_panel", "rake", "score", "weighting_quality"]);

    let (pg, prom) = services();
    let url = [pg.url("argo")];
    let prom_url = prom.url();
    let served = ok(
        &args(
            &["autotune", "recommend"],
            &url,
            &["--prometheus", &prom_url, "--format", "json"],
        ),
        dir.path(),
    );
    assert!(
        !text(&served).contains(support::PG_PASSWORD),
        "{}",
        text(&served)
    );
    let served = parse(&served);
    for key in ["format", "window", "executions", "steps"] {
        assert_eq!(served[key], from_files[key], "{key}");
    }
    let codes = |j: &Json| -> Vec<Json> {
        j["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .map(|w| w["code"].clone())
            .collect()
    };
    assert_eq!(codes(&served), codes(&from_files));
}

#[test]
fn autotune_writes_the_same_lock_from_the_services_as_from_the_files() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let flow = write(dir.path(), "daily.flow", SOURCE);
    let lock = PathBuf::from(format!("{}.lock", flow.display()));
    let files = history_files(dir.path());
    ok(
        &args(&["autotune", "daily.flow"], &files, &["--write"]),
        dir.path(),
    );
    let from_files = std::fs::read_to_string(&lock).expect("lock from files");
    std::fs::remove_file(&lock).expect("remove lock");

    let (pg, prom) = services();
    let url = [pg.url("argo")];
    let prom_url = prom.url();
    let report = dir.path().join("report.md");
    let report_arg = report.display().to_string();
    ok(
        &args(
            &["autotune", "daily.flow"],
            &url,
            &[
                "--prometheus",
                &prom_url,
                "--write",
                "--report",
                &report_arg,
            ],
        ),
        dir.path(),
    );
    let served = std::fs::read_to_string(&lock).expect("lock from services");
    assert_eq!(served, from_files);
    for step in ["load_panel", "rake", "score", "weighting_quality"] {
        assert!(
            served.contains(&format!("daily_weights/{step}")),
            "{step}:\n{served}"
        );
    }
    assert!(std::fs::read_to_string(&report)
        .expect("report")
        .contains("rake"));
}

#[test]
fn unreachable_services_and_bad_windows_exit_1_with_their_codes() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let port = support::free_port();
    let url = format!("postgres://argo:hunter2@127.0.0.1:{port}/argo");
    let out = flowc(
        &["autotune", "recommend", "--history", &url, "--since", "14d"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("[A011]"), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
    assert!(!text(&out).contains("malformed record"), "{}", text(&out));

    let prom = format!("http://127.0.0.1:{port}");
    let out = flowc(
        &[
            "autotune",
            "recommend",
            "--history",
            "x.json",
            "--prometheus",
            &prom,
            "--since",
            "14 days",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--since: `14 days` is neither a duration"),
        "{}",
        text(&out)
    );
}

/// The `flowc autotune …` command of a nightly job file, its continuation lines joined.
fn nightly_command(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/nightly")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let start = text
        .find("flowc autotune ")
        .unwrap_or_else(|| panic!("{file} runs no `flowc autotune`"));
    let mut command = String::new();
    for line in text[start..].lines() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(part) => command.push_str(part),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    command
}

#[test]
fn the_nightly_jobs_run_flags_flowc_accepts() {
    let dir = tempfile::tempdir().expect("temporary folder");
    write(dir.path(), "daily.flow", SOURCE);
    let port = support::free_port();
    for file in ["gitlab-ci.yml", "argo-cronworkflow.yaml"] {
        let command = nightly_command(file)
            .replace("\"$flow\"", "daily.flow")
            .replace(
                "\"$ARGO_ARCHIVE_URL\"",
                &format!("postgres://argo:pw@127.0.0.1:{port}/argo"),
            )
            .replace("\"$PROMETHEUS_URL\"", &format!("http://127.0.0.1:{port}"))
            .replace("\"autotune/$name.md\"", "report.md");
        assert!(!command.contains('$'), "{file}: unsubstituted `{command}`");
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        assert!(
            words.contains(&"--write") && words.contains(&"--since"),
            "{command}"
        );
        // The flags parse (a usage error would exit 2); nothing listens, which is A011.
        let out = flowc(&words, dir.path());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{file}: {command}\n{}",
            text(&out)
        );
        assert!(text(&out).contains("[A011]"), "{file}: {}", text(&out));
    }
}
