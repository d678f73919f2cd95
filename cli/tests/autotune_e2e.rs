//! `flowc autotune` end to end, as a user drives it: a pipeline with `resources auto(...)` runs
//! a few times, `flowc autotune --write` tunes it from the run records, and what `flowc build`
//! emits for Argo and Kubeflow, and what the next `flowc run` enforces, are the values the lock
//! file recorded; on Argo a step that retries gets the lock file's retry rule by attempt. The HTML report is parsed as HTML and must hold a chart per step.

mod common;
use common::{flowc, ok, run_records as records, text};

use std::collections::BTreeMap;
use std::path::Path;

use scraper::{Html, Selector};
use serde_json::Value as Json;

/// Two container steps that allocate memory: `grow` holds a `mb` MiB buffer (dd's block), so
/// its peak follows the parameter; `churn` streams through a fixed 32 MiB block. Caching is off,
/// so every run measures both.
const SOURCE: &str = r#"
step grow(mb: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=$0M count=2 2>/dev/null && echo $0 > $1", mb, out]
  resources auto(min: { memory: 64Mi }, max: { cpu: 2, memory: 4Gi })
  cache off
}

step churn(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=32M count=$0 2>/dev/null && echo $0 > $1", n, out]
  resources auto(max: { memory: 2Gi })
  cache off
  retries 2
}

pipeline tune(mb: Int = 300, n: Int = 16) {
  g = grow(mb: mb)
  c = churn(n: n)
  output g
  output c
}
"#;

/// Bytes of a Kubernetes memory quantity as flowc writes them (`256Mi`, `4Gi`, `1500M`, `12`).
fn memory_bytes(q: &str) -> u64 {
    let digits = q.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("memory quantity `{q}`"));
    let unit: u64 = match &q[digits.len()..] {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        other => panic!("unit `{other}` in `{q}`"),
    };
    n * unit
}

/// Millicores of a CPU quantity (`1100m`, `2`, `0.5`).
fn cpu_millis(q: &str) -> u64 {
    match q.strip_suffix('m') {
        Some(m) => m.parse().unwrap_or_else(|_| panic!("cpu quantity `{q}`")),
        None => {
            let cores: f64 = q.parse().unwrap_or_else(|_| panic!("cpu quantity `{q}`"));
            (cores * 1000.0).round() as u64
        }
    }
}

/// The YAML documents of a build, as JSON (the documents are separated by `---` lines).
fn yaml_documents(text: &str) -> Vec<Json> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else if let Some(d) = docs.last_mut() {
            d.push_str(line);
            d.push('\n');
        }
    }
    docs.iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .map(|d| {
            serde_saphyr::from_str::<Json>(d)
                .unwrap_or_else(|e| panic!("YAML does not parse: {e}\n{d}"))
        })
        .collect()
}

/// The first object anywhere in `v` with `"name": name` and a `container` (an Argo template).
fn argo_template<'a>(v: &'a Json, name: &str) -> Option<&'a Json> {
    match v {
        Json::Object(m) => {
            if m.get("name").and_then(Json::as_str) == Some(name) && m.contains_key("container") {
                return Some(v);
            }
            m.values().find_map(|x| argo_template(x, name))
        }
        Json::Array(a) => a.iter().find_map(|x| argo_template(x, name)),
        _ => None,
    }
}

/// A step's values in the lock file: memory (bytes) and CPU request (millicores).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Locked {
    memory: u64,
    cpu: u64,
}

fn read_lock(path: &Path) -> BTreeMap<String, Locked> {
    let lock: Json =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the lock file is written"))
            .expect("the lock file is JSON");
    assert_eq!(lock["format"], "flowc.lock");
    lock["steps"]
        .as_object()
        .expect("steps")
        .iter()
        .map(|(k, v)| {
            let memory = v["memory"].as_str().map(memory_bytes);
            let cpu = v["cpu"].as_str().map(cpu_millis);
            assert_eq!(v["executions"], 6, "{k}: {v}");
            (
                k.clone(),
                Locked {
                    memory: memory.unwrap_or_else(|| panic!("{k}: no memory in {v}")),
                    cpu: cpu.unwrap_or_else(|| panic!("{k}: no cpu in {v}")),
                },
            )
        })
        .collect()
}

/// Argo: (requests.memory, limits.memory, requests.cpu) of a step's template.
fn argo_resources(yaml: &str, step: &str) -> (Option<u64>, Option<u64>, Option<u64>) {
    let docs = yaml_documents(yaml);
    let t = docs
        .iter()
        .find_map(|d| argo_template(d, step))
        .unwrap_or_else(|| panic!("no Argo template `{step}` in\n{yaml}"));
    let r = &t["container"]["resources"];
    (
        r["requests"]["memory"].as_str().map(memory_bytes),
        r["limits"]["memory"].as_str().map(memory_bytes),
        r["requests"]["cpu"].as_str().map(cpu_millis),
    )
}

#[test]
fn autotune_writes_limits_that_build_and_run_use_and_a_report_with_a_chart_per_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("tune.flow"), SOURCE).expect("write");
    ok(&["check", "tune.flow"], d);

    // Before any tuning, `auto` steps are emitted with their bounds.
    let before = ok(&["build", "tune.flow", "--target", "argo"], d);
    let before = String::from_utf8_lossy(&before.stdout).into_owned();
    assert_eq!(
        argo_resources(&before, "grow"),
        (Some(64 << 20), Some(4 << 30), None)
    );

    let peaks = run_six_times(d);
    let tuned = ok(
        &[
            "autotune",
            "tune.flow",
            "--history",
            ".flow/runs",
            "--write",
            "--report",
            "report.html",
        ],
        d,
    );
    let summary = text(&tuned);
    assert!(summary.contains("tune/grow"), "{summary}");

    risk_knobs_order_the_limits(d);
    let lock = read_lock(&d.join("tune.flow.lock"));
    assert_eq!(
        lock.keys().map(String::as_str).collect::<Vec<_>>(),
        ["tune/churn", "tune/grow"]
    );
    // The tuned limits cover every peak seen and respect the source's bounds.
    for (step, l) in &lock {
        let largest = peaks.get(step).and_then(|p| p.iter().max()).copied();
        if let Some(largest) = largest {
            assert!(
                l.memory > largest,
                "{step}: {l:?} under a peak of {largest}"
            );
        }
    }
    let grow = lock["tune/grow"];
    assert!(
        (64 << 20..=4 << 30).contains(&grow.memory) && grow.cpu <= 2000,
        "{grow:?}"
    );
    assert!(lock["tune/churn"].memory <= 2 << 30);

    let argo_yaml = argo_uses_the_lock(d, &lock);
    assert_ne!(argo_yaml, before, "the lock file changed the build");
    argo_retries_follow_the_lock(&argo_yaml, &d.join("tune.flow.lock"));
    kubeflow_uses_the_lock(d, &lock);
    runner_enforces_the_lock(d, &lock);
    report_has_a_chart_per_step(d, &lock, &peaks);
}

/// The lock file has a retry rule per step; on Argo, the step that retries (`churn`) gets a
/// `podSpecPatch` whose memory is the locked value on attempt 0 and the rule's first retry on
/// attempt 1; the step without retries is retried after OOM kills only.
fn argo_retries_follow_the_lock(yaml: &str, lock: &Path) {
    let lock: Json = serde_json::from_str(&std::fs::read_to_string(lock).expect("lock"))
        .expect("the lock file is JSON");
    let churn = &lock["steps"]["tune/churn"];
    let retry = &churn["retry"];
    assert_eq!(retry["factor"], 1.4, "{churn}");
    assert_eq!(retry["min_step"], "100Mi", "{churn}");
    let memory = churn["memory"].as_str().expect("memory");
    let first = retry["first"].as_str().expect("first retry");
    assert!(memory_bytes(first) > memory_bytes(memory), "{churn}");
    assert!(lock["steps"]["tune/grow"]["retry"].is_object());

    let docs = yaml_documents(yaml);
    let template = |step: &str| {
        docs.iter()
            .find_map(|d| argo_template(d, step))
            .unwrap_or_else(|| panic!("no Argo template `{step}`"))
    };
    let patch = template("churn")["podSpecPatch"]
        .as_str()
        .unwrap_or_else(|| panic!("no podSpecPatch in {}", template("churn")));
    let patch: Json = serde_json::from_str(patch).expect("the patch is JSON");
    let main = &patch["containers"][0];
    assert_eq!(main["name"], "main");
    let limit = main["resources"]["limits"]["memory"]
        .as_str()
        .expect("memory");
    assert!(
        limit.starts_with(&format!(
            "{{{{=asInt(retries) == 0 ? '{memory}' : asInt(retries) == 1 ? '{first}' : "
        )),
        "{limit}"
    );
    assert_eq!(
        main["resources"]["requests"]["memory"].as_str(),
        Some(limit)
    );
    // `retries 2` becomes at least the 5 retries of a tuned step, after any failure.
    assert_eq!(template("churn")["retryStrategy"]["limit"], "5");
    assert!(template("churn")["retryStrategy"]
        .get("expression")
        .is_none());
    // Without `retries`, the tuned step is retried after OOM kills only, with the same patch.
    let grow = template("grow");
    assert_eq!(grow["retryStrategy"]["limit"], "5", "{grow}");
    assert_eq!(
        grow["retryStrategy"]["expression"],
        "asInt(lastRetry.exitCode) == 137"
    );
    assert!(grow["podSpecPatch"].as_str().is_some(), "{grow}");
}

/// Six runs with different buffer sizes; the measured peaks of each step.
fn run_six_times(d: &Path) -> BTreeMap<String, Vec<u64>> {
    // Six runs with different buffer sizes: every run measures both steps.
    for i in 0..6 {
        let mb = format!("mb={}", 300 + 10 * i);
        ok(&["run", "tune.flow", "--param", &mb], d);
    }
    let runs = records(&d.join(".flow"));
    assert_eq!(runs.len(), 6);
    let mut peaks: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in runs.iter().flatten() {
        assert_eq!(r["reason"], "ok", "{r}");
        let step = format!("tune/{}", r["step"].as_str().expect("step"));
        let peak = r["peak_rss_bytes"].as_u64().unwrap_or(0);
        if peak > 0 {
            peaks.entry(step).or_default().push(peak);
        }
    }
    // dd's buffer is resident: `grow` peaks above its block size in every run.
    let grow_peaks = &peaks["tune/grow"];
    assert_eq!(grow_peaks.len(), 6, "{peaks:?}");
    assert!(grow_peaks.iter().all(|p| *p >= 300 << 20), "{peaks:?}");

    peaks
}

/// The model's knobs: a stricter target never gives less memory than a looser one, and
/// impossible values are refused before anything is read.
fn risk_knobs_order_the_limits(d: &Path) {
    for name in ["strict", "loose"] {
        std::fs::write(d.join(format!("{name}.flow")), SOURCE).expect("write");
    }
    let risk = |file: &str, args: &[&str]| {
        let mut all = vec!["autotune", file, "--history", ".flow/runs", "--write"];
        all.extend_from_slice(args);
        ok(&all, d);
        read_lock(&d.join(format!("{file}.lock")))
    };
    let strict = risk("strict.flow", &["--risk", "0.0001", "--max-risk", "0.0001"]);
    let loose = risk(
        "loose.flow",
        &["--risk", "0.3", "--max-risk", "0.3", "--half-life", "1"],
    );
    for (step, l) in &strict {
        assert!(
            l.memory >= loose[step].memory,
            "{step}: {l:?} vs {:?}",
            loose[step]
        );
    }
    // `grow` peaks differ from run to run: the target changes its limit.
    assert!(
        strict["tune/grow"].memory > loose["tune/grow"].memory,
        "{strict:?} vs {loose:?}"
    );
    for bad in [
        vec!["--risk", "1.5"],
        vec!["--risk", "0"],
        vec!["--half-life", "-2"],
        vec!["--risk", "0.05", "--max-risk", "0.01"],
    ] {
        let mut all = vec!["autotune", "tune.flow", "--history", ".flow/runs"];
        all.extend_from_slice(&bad);
        let o = flowc(&all, d);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
    }
}

/// Argo: requests and limits of each tuned step are the locked values (memory request =
/// limit, as the tuner sets them); the YAML.
fn argo_uses_the_lock(d: &Path, lock: &BTreeMap<String, Locked>) -> String {
    let argo = ok(&["build", "tune.flow", "--target", "argo"], d);
    let argo_yaml = String::from_utf8_lossy(&argo.stdout).into_owned();
    assert!(
        String::from_utf8_lossy(&argo.stderr).contains("uses tuned resources"),
        "{}",
        text(&argo)
    );
    for (step, name) in [("tune/grow", "grow"), ("tune/churn", "churn")] {
        let l = lock[step];
        assert_eq!(
            argo_resources(&argo_yaml, name),
            (Some(l.memory), Some(l.memory), Some(l.cpu)),
            "{step}"
        );
    }

    argo_yaml
}

/// Kubeflow: the executors of tasks `g` and `c` carry the locked values.
fn kubeflow_uses_the_lock(d: &Path, lock: &BTreeMap<String, Locked>) {
    // Kubeflow: the executors of tasks `g` and `c` carry the same values.
    let kfp = ok(&["build", "tune.flow", "--target", "kfp"], d);
    let kfp_docs = yaml_documents(&String::from_utf8_lossy(&kfp.stdout));
    let executors = kfp_docs
        .iter()
        .find_map(|doc| doc["deploymentSpec"]["executors"].as_object())
        .expect("KFP executors");
    for (step, task) in [("tune/grow", "g"), ("tune/churn", "c")] {
        let l = lock[step];
        let r = &executors[&format!("exec-{task}")]["container"]["resources"];
        assert_eq!(
            r["resourceMemoryLimit"].as_str().map(memory_bytes),
            Some(l.memory),
            "{step}: {r}"
        );
        assert_eq!(
            r["resourceMemoryRequest"].as_str().map(memory_bytes),
            Some(l.memory),
            "{step}: {r}"
        );
        assert_eq!(
            r["resourceCpuRequest"].as_str().map(cpu_millis),
            Some(l.cpu),
            "{step}: {r}"
        );
        let gb = r["memoryLimit"].as_f64().expect("memoryLimit in GB");
        assert!((gb * 1e9 - l.memory as f64).abs() < 1.0, "{step}: {r}");
    }
}

/// The local runner enforces the tuned limits too.
fn runner_enforces_the_lock(d: &Path, lock: &BTreeMap<String, Locked>) {
    // The local runner enforces the tuned limits too.
    ok(&["run", "tune.flow", "--param", "mb=320"], d);
    let last = records(&d.join(".flow")).pop().expect("a run");
    for r in &last {
        let step = format!("tune/{}", r["step"].as_str().expect("step"));
        assert_eq!(
            r["limits"]["memory_bytes"].as_u64(),
            Some(lock[&step].memory),
            "{r}"
        );
    }
}

/// The report is a well-formed HTML page with the totals chart and one chart per step, each
/// with a point per measured run and the new limit.
fn report_has_a_chart_per_step(
    d: &Path,
    lock: &BTreeMap<String, Locked>,
    peaks: &BTreeMap<String, Vec<u64>>,
) {
    // The report is a well-formed HTML page with the totals chart and one chart per step, each
    // with a point per measured run and the new limit.
    let html = std::fs::read_to_string(d.join("report.html")).expect("the report is written");
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    let sel = |s: &str| Selector::parse(s).unwrap_or_else(|e| panic!("selector {s}: {e:?}"));
    let title: String = doc
        .select(&sel("head > title"))
        .flat_map(|t| t.text())
        .collect();
    assert_eq!(title, "flowc autotune report");
    assert!(
        doc.select(&sel("script, link, img, iframe"))
            .next()
            .is_none(),
        "self-contained"
    );
    let charts: Vec<_> = doc.select(&sel("body svg")).collect();
    assert_eq!(charts.len(), 1 + lock.len(), "totals + one per step");
    let headings: Vec<String> = doc.select(&sel("h3")).map(|h| h.text().collect()).collect();
    assert_eq!(headings, ["tune/churn", "tune/grow"]);
    for (step, l) in lock {
        let chart = doc
            .select(&sel("svg[aria-label]"))
            .find(|s| s.value().attr("aria-label") == Some(step.as_str()))
            .unwrap_or_else(|| panic!("no chart for {step}"));
        let points = chart.select(&sel("circle")).count();
        assert_eq!(points, peaks.get(step).map_or(0, Vec::len), "{step}");
        let new_limit: Vec<String> = chart
            .select(&sel("line > title"))
            .map(|t| t.text().collect())
            .filter(|t: &String| t.starts_with("new limit"))
            .collect();
        let expected = format!("new limit {:.2} GiB", l.memory as f64 / (1u64 << 30) as f64);
        assert_eq!(new_limit, [expected], "{step}");
    }
}

/// Writes the lock file of `once.flow`: its step `big` tuned to 128 MiB, with a retry rule whose
/// first retry is `first` (then × 1.4, at least + 100 MiB).
fn write_once_lock(d: &std::path::Path, first: &str) {
    let lock = format!(
        r#"{{
  "format": "flowc.lock",
  "version": 1,
  "steps": {{
    "once/big": {{
      "memory": "128Mi", "cpu": "100m", "gpu": 0, "confidence": "low", "executions": 3,
      "retry": {{ "first": "{first}", "factor": 1.4, "min_step": "100Mi" }}
    }}
  }}
}}
"#
    );
    std::fs::write(d.join("once.flow.lock"), lock).expect("write");
}

/// The local runner applies the lock file's retry rule: an attempt killed for memory at the
/// locked value is retried with the rule's first retry, and the run succeeds.
#[test]
fn the_runner_retries_a_kill_with_the_lock_files_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let source = r#"
step big(mb: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=$0M count=40 2>/dev/null && echo $0 > $1", mb, out]
  resources auto(max: { memory: 4Gi })
  cache off
  retries 1
}

pipeline once(mb: Int = 300) {
  b = big(mb: mb)
  output b
}
"#;
    std::fs::write(d.join("once.flow"), source).expect("write");
    write_once_lock(d, "640Mi");
    ok(&["run", "once.flow"], d);
    let last = records(&d.join(".flow")).pop().expect("a run");
    let attempts: Vec<(u64, &str, Option<u64>)> = last
        .iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap_or(0),
                r["reason"].as_str().unwrap_or(""),
                r["limits"]["memory_bytes"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [(1, "oom", Some(128 << 20)), (2, "ok", Some(640 << 20))],
        "{last:?}"
    );
}

/// A tuned step with a retry rule and no `retries` of its own is retried after OOM kills as
/// its Argo build is (`OOM_RETRIES` times at most, each attempt under the rule's next limit), and
/// not after any other failure.
#[test]
fn the_runner_retries_oom_kills_of_a_tuned_step_as_argo_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let source = r#"
step big(mb: Int, fail: Bool) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=$0M count=40 2>/dev/null && test $1 = false && echo $0 > $2", mb, fail, out]
  resources auto(max: { memory: 4Gi })
  cache off
}

pipeline once(mb: Int = 250, fail: Bool = false) {
  b = big(mb: mb, fail: fail)
  output b
}
"#;
    std::fs::write(d.join("once.flow"), source).expect("write");
    write_once_lock(d, "160Mi");
    let attempts = |d: &std::path::Path| -> Vec<(String, Option<u64>)> {
        records(&d.join(".flow"))
            .pop()
            .expect("a run")
            .iter()
            .map(|r| {
                (
                    r["reason"].as_str().unwrap_or("").to_string(),
                    r["limits"]["memory_bytes"].as_u64().map(|b| b >> 20),
                )
            })
            .collect()
    };
    // 128 MiB, then max(160 MiB, 1.4 × 128, 128 + 100) = 228, then 328: two OOM retries.
    ok(&["run", "once.flow"], d);
    let ran = attempts(d);
    let reasons: Vec<&str> = ran.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(reasons, ["oom", "oom", "ok"], "{ran:?}");
    assert_eq!(
        ran.iter().map(|(_, m)| *m).collect::<Vec<_>>(),
        [Some(128), Some(228), Some(328)]
    );
    // A failure that is not a kill for memory is not retried (the step has no `retries`).
    let failed = flowc(
        &[
            "run",
            "once.flow",
            "--param",
            "mb=1",
            "--param",
            "fail=true",
        ],
        d,
    );
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let ran = attempts(d);
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].0, "failed", "{ran:?}");
}

/// The local runner applies the lock file's input-size rule: a tuned step whose input size is
/// known before it starts runs under the rule's memory for that input, not the static value.
#[test]
fn the_runner_sizes_a_step_by_its_input_with_the_lock_files_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let source = r#"
step make(mb: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "dd if=/dev/zero of=$1 bs=1048576 count=$0 2>/dev/null", mb, out]
  cache off
}

step measure(data: File) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "wc -c < $0 > $1", data, out]
  resources auto(max: { memory: 4Gi })
  cache off
}

pipeline scaled(mb: Int = 50) {
  m = make(mb: mb)
  s = measure(data: m)
  output s
}
"#;
    std::fs::write(d.join("scaled.flow"), source).expect("write");
    // 100 MiB + 2 × input, at most 1 GiB up to 400 MiB of input; the static value is 3 GiB.
    let lock = r#"{
  "format": "flowc.lock",
  "version": 1,
  "steps": {
    "scaled/measure": {
      "memory": "3Gi", "cpu": "100m", "gpu": 0, "confidence": "medium", "executions": 40,
      "input_scaling": { "kind": "linear", "a": 104857600.0, "b": 2.0, "multiplier": 1.0,
                         "max_input_bytes": 419430400, "cap_bytes": 1073741824 }
    }
  }
}
"#;
    std::fs::write(d.join("scaled.flow.lock"), lock).expect("write");
    ok(&["run", "scaled.flow"], d);
    let last = records(&d.join(".flow")).pop().expect("a run");
    let r = last
        .iter()
        .find(|r| r["step"] == "measure")
        .unwrap_or_else(|| panic!("no record of `measure` in {last:?}"));
    let input = r["input_bytes"].as_u64().expect("input bytes");
    assert!(input >= 50 << 20, "{r}");
    let expected = (100u64 << 20) + 2 * input;
    let expected = expected.div_ceil(1 << 20) << 20;
    assert_eq!(r["limits"]["memory_bytes"].as_u64(), Some(expected), "{r}");
    assert_eq!(
        r["requests"]["memory_bytes"].as_u64(),
        Some(expected),
        "{r}"
    );
}
