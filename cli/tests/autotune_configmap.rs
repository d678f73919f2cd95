//! The every-minute loop without a cluster: `flowc autotune --configmap` writes the tuned memory
//! as a ConfigMap, `flowc build --target argo --memory-from-configmap` reads it, and this test
//! plays Argo's controller between them: it resolves each tuned template's `flowc-memory`
//! parameter as the controller does (the ConfigMap's key, else the parameter's default) and
//! evaluates the `podSpecPatch` memory for every attempt its `retryStrategy` allows. The job of
//! `docs/nightly/argo-configmap-job.yaml` runs flags `flowc autotune` accepts.

mod common;
#[path = "../../autotune/tests/support/mod.rs"]
mod support;

use common::{flowc, ok, stdout, text, write};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;
use support::data;

/// The steps of the recorded Argo workflow (`support::data`), each with `resources auto`; `rake`
/// retries on its own.
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
  retries 7
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

fn documents(text: &str) -> Vec<Json> {
    text.split("\n---\n")
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .map(|d| serde_saphyr::from_str::<Json>(d).unwrap_or_else(|e| panic!("YAML: {e}\n{d}")))
        .collect()
}

/// Container templates that read `flowc-memory`, by template name.
fn tuned_templates(workflow: &[Json]) -> BTreeMap<String, Json> {
    workflow
        .iter()
        .flat_map(|d| d["spec"]["templates"].as_array().into_iter().flatten())
        .filter(|t| {
            t["inputs"]["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "flowc-memory"))
        })
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t.clone(),
            )
        })
        .collect()
}

/// The controller's value of the template's `flowc-memory` parameter with `configmaps`
/// (name → data): the key of the ConfigMap named, else the default.
fn resolve_parameter(template: &Json, configmaps: &BTreeMap<String, Json>) -> String {
    let p = template["inputs"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "flowc-memory"))
        .expect("the parameter");
    let r = &p["valueFrom"]["configMapKeyRef"];
    let from_map = configmaps
        .get(r["name"].as_str().unwrap_or_default())
        .and_then(|cm| cm["data"][r["key"].as_str().unwrap_or_default()].as_str());
    match from_map {
        Some(v) => v.to_string(),
        None => p["valueFrom"]["default"]
            .as_str()
            .expect("a default")
            .to_string(),
    }
}

/// The memory the `podSpecPatch` gives attempt `retries`, the parameter being `value`: the
/// expression `asInt(retries) < len(L) ? L[asInt(retries)] : sprig.last(L)` with L the
/// parameter split at spaces, checked to be exactly that before it is evaluated.
fn patched_memory(template: &Json, value: &str, retries: usize) -> String {
    let patch: Json =
        serde_json::from_str(template["podSpecPatch"].as_str().expect("a podSpecPatch"))
            .expect("the patch is JSON");
    let main = &patch["containers"][0];
    assert_eq!(main["name"], "main");
    let expr = main["resources"]["limits"]["memory"]
        .as_str()
        .expect("a memory limit");
    assert_eq!(main["resources"]["requests"]["memory"].as_str(), Some(expr));
    let list = "sprig.splitList(' ', inputs.parameters['flowc-memory'])";
    assert_eq!(
        expr,
        format!(
            "{{{{=asInt(retries) < len({list}) ? {list}[asInt(retries)] : sprig.last({list})}}}}"
        )
    );
    let l: Vec<&str> = value.split(' ').collect();
    l.get(retries).or(l.last()).expect("a ladder").to_string()
}

#[test]
fn a_build_reads_the_memory_the_autotune_job_writes() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    write(d, "daily.flow", SOURCE);
    let history: Vec<String> = data::write_files(&data::recorded(), d)
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_str()?.to_string()))
        .collect();
    let mut args = vec!["autotune", "daily.flow", "--history"];
    args.extend(history.iter().map(String::as_str));
    args.extend(["--since", data::SINCE, "--until", data::UNTIL, "--write"]);
    args.extend([
        "--configmap",
        "cm.yaml",
        "--configmap-name",
        "flowc-memory-daily",
    ]);
    ok(&args, d);
    let cm_text = std::fs::read_to_string(d.join("cm.yaml")).expect("the ConfigMap is written");
    let cm = documents(&cm_text).remove(0);
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "flowc-memory-daily");
    assert_eq!(
        cm["metadata"]["labels"]["workflows.argoproj.io/configmap-type"], "Parameter",
        "Argo reads parameters only from ConfigMaps with this label"
    );
    let lock: Json = serde_json::from_str(
        &std::fs::read_to_string(d.join("daily.flow.lock")).expect("the lock file"),
    )
    .expect("JSON");

    let out = ok(
        &[
            "build",
            "daily.flow",
            "--target",
            "argo",
            "--memory-from-configmap",
            "flowc-memory-daily",
        ],
        d,
    );
    let workflow = documents(&stdout(&out));
    let templates = tuned_templates(&workflow);
    assert_eq!(templates.len(), 4, "every tuned step reads the ConfigMap");
    let mut maps = BTreeMap::from([("flowc-memory-daily".to_string(), cm.clone())]);
    for (name, t) in &templates {
        // The job's ConfigMap and the build agree: same key, same ladder as the default.
        let value = resolve_parameter(t, &maps);
        let default = resolve_parameter(t, &BTreeMap::new());
        assert_eq!(value, default, "{name}: the job and the build disagree");
        let limit: usize = t["retryStrategy"]["limit"]
            .as_str()
            .and_then(|l| l.parse().ok())
            .expect("a retry limit");
        let step = name.replace('-', "_");
        let locked = &lock["steps"][format!("daily_weights/{step}")];
        assert_eq!(
            patched_memory(t, &value, 0),
            locked["memory"].as_str().expect("memory"),
            "{name}: attempt 0 gets the locked memory"
        );
        assert_eq!(
            patched_memory(t, &value, 1),
            locked["retry"]["first"].as_str().expect("first retry"),
            "{name}: attempt 1 gets the rule's first retry"
        );
        if name == "rake" {
            assert_eq!(limit, 7, "`retries 7` is kept");
            assert!(t["retryStrategy"].get("expression").is_none());
        } else {
            assert_eq!(limit, 5, "{name}: retried on OOM kills");
            assert_eq!(
                t["retryStrategy"]["expression"],
                "asInt(lastRetry.exitCode) == 137"
            );
        }
        assert_eq!(
            value.split(' ').count(),
            limit + 1,
            "{name}: one value per attempt"
        );
    }

    // The job applies new values: the next steps get them without a new build.
    let score = &templates["score"];
    let score_key = score["inputs"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "flowc-memory"))
        .and_then(|p| p["valueFrom"]["configMapKeyRef"]["key"].as_str())
        .expect("a key")
        .to_string();
    assert_eq!(score_key, "daily_weights.score");
    if let Some(cm) = maps.get_mut("flowc-memory-daily") {
        cm["data"][&score_key] = Json::String("300Mi 600Mi".into());
    }
    let value = resolve_parameter(score, &maps);
    assert_eq!(patched_memory(score, &value, 0), "300Mi");
    assert_eq!(patched_memory(score, &value, 1), "600Mi");
    assert_eq!(
        patched_memory(score, &value, 4),
        "600Mi",
        "beyond the ladder: its last"
    );
    // The next job starts from the values in force: the ConfigMap, read back.
    let in_force =
        serde_json::json!({"kind": "ConfigMap", "data": maps["flowc-memory-daily"]["data"]});
    write(d, "in-force.json", &in_force.to_string());
    let mut again = args.clone();
    again.extend(["--in-force", "in-force.json"]);
    let report = stdout(&ok(&again, d));
    assert!(
        report.contains("300Mi"),
        "the report starts from the value in force:\n{report}"
    );
    let before = stdout(&ok(&args, d));
    assert!(!before.contains("300Mi"), "{before}");
    // Without the ConfigMap, the lock file's values.
    let value = resolve_parameter(score, &BTreeMap::new());
    assert_eq!(
        patched_memory(score, &value, 0),
        lock["steps"]["daily_weights/score"]["memory"]
            .as_str()
            .expect("memory")
    );
}

#[test]
fn bad_configmap_names_and_targets_are_refused() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    write(d, "daily.flow", SOURCE);
    let out = flowc(
        &[
            "build",
            "daily.flow",
            "--target",
            "kfp",
            "--memory-from-configmap",
        ],
        d,
    );
    // A usage error, as `--channel` without Argo.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("build with `--target argo`"),
        "{}",
        text(&out)
    );
    let out = flowc(
        &[
            "build",
            "daily.flow",
            "--target",
            "argo",
            "--memory-from-configmap",
            "Memory_Map",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is not a ConfigMap name"),
        "{}",
        text(&out)
    );
    // The flag's value is optional: a `.flow` file right after it is refused, not taken as
    // the name.
    let out = flowc(
        &[
            "build",
            "--target",
            "argo",
            "--memory-from-configmap",
            "daily.flow",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("looks like the .flow file"),
        "{}",
        text(&out)
    );
    // Without a value, the default name.
    let out = ok(
        &[
            "build",
            "daily.flow",
            "--target",
            "argo",
            "--memory-from-configmap",
        ],
        d,
    );
    // No lock file: nothing is tuned, so nothing reads the ConfigMap.
    assert!(
        !stdout(&out).contains("configMapKeyRef"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_configmap_job_runs_flags_flowc_accepts() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/nightly/argo-configmap-job.yaml");
    let job = std::fs::read_to_string(&path).expect("the job");
    let start = job
        .find("flowc autotune ")
        .expect("the job runs flowc autotune");
    let mut command = String::new();
    for line in job[start..].lines() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(part) => command.push_str(part),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    write(d, "daily.flow", SOURCE);
    std::fs::create_dir_all(d.join("live")).expect("live");
    let port = support::free_port();
    let command = command
        .replace("\"$flow\"", "daily.flow")
        .replace(
            "\"$ARGO_ARCHIVE_URL\"",
            &format!("postgres://argo:pw@127.0.0.1:{port}/argo"),
        )
        .replace("\"$PROMETHEUS_URL\"", &format!("http://127.0.0.1:{port}"))
        .replace("\"in-force/$name.json\"", "in-force.json")
        .replace("\"cm/$name.yaml\"", "cm.yaml")
        .replace("\"flowc-memory-$name\"", "flowc-memory-daily");
    assert!(!command.contains('$'), "unsubstituted `{command}`");
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert!(words.contains(&"--configmap"), "{command}");
    assert!(words.contains(&"--in-force"), "{command}");
    write(d, "in-force.json", r#"{"kind": "ConfigMap", "data": {}}"#);
    // The flags parse (a usage error would exit 2); nothing listens, which is A011.
    let out = flowc(&words, d);
    assert_eq!(out.status.code(), Some(1), "{command}\n{}", text(&out));
    assert!(text(&out).contains("[A011]"), "{}", text(&out));
}

#[test]
fn the_replay_gives_the_attempts_a_build_gives() {
    assert_eq!(
        flowc_autotune::eval::OOM_RETRIES,
        flowc_targets::argo::OOM_RETRIES,
        "the replay scores the retries a build deploys"
    );
    assert_eq!(
        flowc_autotune::EvalConfig::default().max_attempts,
        1 + flowc_targets::argo::OOM_RETRIES
    );
}
