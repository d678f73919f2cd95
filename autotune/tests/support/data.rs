//! The recorded history the service tests load: nine daily runs of the Argo fixture
//! `argo/daily_weights.json` (eight in the tests' window, one three weeks older), each with the
//! fixture's Prometheus series (`prometheus/{memory_working_set,cpu_usage,gpu_util}.json`)
//! moved to its day, renamed to its pods and scaled by a day's factor, so that steps have
//! enough runs to fit models. The same data is written three ways: as files (the file-based
//! history the services must match), as rows of Argo's archive table, and as OpenMetrics text
//! for `promtool tsdb create-blocks-from openmetrics`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Argo's archive table as its migrations leave it on PostgreSQL (`persist/sqldb/migrate.go`).
pub const ARGO_ARCHIVE_TABLE: &str = "CREATE TABLE argo_archived_workflows (
    id varchar(128),
    uid varchar(128) NOT NULL,
    name varchar(256) NOT NULL,
    phase varchar(25) NOT NULL,
    namespace varchar(256) NOT NULL,
    workflow json NOT NULL,
    startedat timestamp NOT NULL,
    finishedat timestamp NOT NULL,
    clustername varchar(64) NOT NULL,
    instanceid varchar(64) NOT NULL,
    PRIMARY KEY (clustername, uid)
);
CREATE INDEX argo_archived_workflows_i1 ON argo_archived_workflows (clustername, instanceid, namespace);
CREATE INDEX argo_archived_workflows_i4 ON argo_archived_workflows (startedat);";

/// Days before 2026-11-28 of the recorded runs; the last is outside [`SINCE`]..[`UNTIL`].
pub const DAYS: [i64; 9] = [0, 1, 2, 3, 4, 5, 6, 7, 21];
/// The tests' window: the eight runs from 2026-11-21 to 2026-11-28.
pub const SINCE: &str = "2026-11-20T00:00:00Z";
/// See [`SINCE`].
pub const UNTIL: &str = "2026-12-01T00:00:00Z";

/// Memory and CPU of day `k` are the fixture's times this factor.
const FACTORS: [f64; 8] = [1.0, 1.06, 0.94, 1.10, 1.02, 0.90, 0.97, 1.04];

const DAY_MS: i64 = 86_400_000;

/// One row of `argo_archived_workflows`.
pub struct ArchiveRow {
    /// `uid`.
    pub uid: String,
    /// `name`.
    pub name: String,
    /// `namespace`.
    pub namespace: String,
    /// `phase`.
    pub phase: String,
    /// `startedat`, epoch ms.
    pub started_ms: i64,
    /// `finishedat`, epoch ms.
    pub finished_ms: i64,
    /// `workflow`: the whole workflow as JSON.
    pub workflow: String,
}

/// The history as files, rows and OpenMetrics.
pub struct Recorded {
    /// (file name, text) of each day's workflow JSON and Prometheus exports.
    pub files: Vec<(String, String)>,
    /// Archive rows, one per day.
    pub rows: Vec<ArchiveRow>,
    /// All exported series as OpenMetrics text.
    pub openmetrics: String,
}

/// The autotune crate's test fixtures (from the autotune or the CLI crate).
pub fn fixtures() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .unwrap_or(manifest)
        .join("autotune/tests/fixtures")
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `2026-11-28` minus `k` days.
fn date(k: i64) -> String {
    let base = flowc_autotune::time::parse_timestamp("2026-11-28T00:00:00Z").expect("date");
    flowc_autotune::time::format_timestamp(base - k * DAY_MS)[..10].to_string()
}

/// Day `k`'s names: the workflow's suffix and the Prometheus-only pod's.
fn rename(text: &str, k: i64) -> String {
    text.replace("x7k2p", &format!("d{k:02}x")).replace(
        "daily-weights-score-7f9c",
        &format!("daily-weights-score-d{k:02}x"),
    )
}

/// Builds the recorded history.
pub fn recorded() -> Recorded {
    let argo = fixture("argo/daily_weights.json");
    let mut files = Vec::new();
    let mut rows = Vec::new();
    let mut series = Series::new();
    for (i, &k) in DAYS.iter().enumerate() {
        let workflow = rename(&argo, k).replace("2026-11-28T", &format!("{}T", date(k)));
        rows.push(row(&workflow, i));
        files.push((format!("day{k:02}_workflow.json"), workflow));
        let factor = FACTORS.get(i).copied().unwrap_or(1.0);
        for export in ["memory_working_set", "cpu_usage", "gpu_util"] {
            let text = rename(&fixture(&format!("prometheus/{export}.json")), k);
            let moved = shift(&text, k, if export == "gpu_util" { 1.0 } else { factor });
            collect_series(&moved, &mut series);
            files.push((format!("day{k:02}_{export}.json"), moved));
        }
    }
    Recorded {
        files,
        rows,
        openmetrics: openmetrics(&series),
    }
}

/// Writes the files into `dir`; their paths.
pub fn write_files(rec: &Recorded, dir: &Path) -> Vec<PathBuf> {
    rec.files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write history file");
            p
        })
        .collect()
}

fn row(workflow: &str, i: usize) -> ArchiveRow {
    let v: Value = serde_json::from_str(workflow).expect("workflow JSON");
    let s = |path: &[&str]| -> String {
        let mut x = &v;
        for p in path {
            x = &x[*p];
        }
        x.as_str().expect("string").to_string()
    };
    let time = |path: &[&str]| flowc_autotune::time::parse_timestamp(&s(path)).expect("time");
    ArchiveRow {
        uid: format!("5b0d1a7e-0000-4000-8000-{i:012}"),
        name: s(&["metadata", "name"]),
        namespace: s(&["metadata", "namespace"]),
        phase: s(&["status", "phase"]),
        started_ms: time(&["status", "startedAt"]),
        finished_ms: time(&["status", "finishedAt"]),
        workflow: workflow.to_string(),
    }
}

/// A Prometheus export moved `k` days back, its integral values times `factor` (rounded).
fn shift(text: &str, k: i64, factor: f64) -> String {
    let mut v: Value = serde_json::from_str(text).expect("export JSON");
    for series in v["data"]["result"].as_array_mut().expect("result") {
        for sample in series["values"].as_array_mut().expect("values") {
            let ts = sample[0].as_i64().expect("integral time") - k * 86_400;
            let text = sample[1].as_str().expect("value").to_string();
            let scaled = match text.parse::<i64>() {
                Ok(n) => ((n as f64) * factor).round().to_string(),
                Err(_) => text,
            };
            *sample = serde_json::json!([ts, scaled]);
        }
    }
    serde_json::to_string_pretty(&v).expect("JSON")
}

/// Samples by metric, then by label set.
type Series = BTreeMap<String, BTreeMap<Vec<(String, String)>, Vec<(i64, String)>>>;

fn collect_series(text: &str, out: &mut Series) {
    let v: Value = serde_json::from_str(text).expect("export JSON");
    for s in v["data"]["result"].as_array().expect("result") {
        let labels = s["metric"].as_object().expect("metric");
        let name = labels["__name__"].as_str().expect("__name__").to_string();
        let key: Vec<(String, String)> = labels
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .map(|(k, v)| (k.clone(), v.as_str().expect("label").to_string()))
            .collect();
        let samples = out.entry(name).or_default().entry(key).or_default();
        for pair in s["values"].as_array().expect("values") {
            let ts = pair[0].as_i64().expect("time");
            samples.push((ts, pair[1].as_str().expect("value").to_string()));
        }
        samples.sort();
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// OpenMetrics text: one family per metric (counters as `counter` with `_total` samples).
fn openmetrics(series: &Series) -> String {
    let mut out = String::new();
    for (name, by_labels) in series {
        match name.strip_suffix("_total") {
            Some(base) => out.push_str(&format!("# TYPE {base} counter\n")),
            None => out.push_str(&format!("# TYPE {name} gauge\n")),
        }
        for (labels, samples) in by_labels {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            for (ts, value) in samples {
                out.push_str(&format!("{name}{{{}}} {value} {ts}\n", labels.join(",")));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}
