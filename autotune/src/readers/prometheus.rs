//! Reader for Prometheus HTTP API `query_range` responses (`resultType: matrix`, or `vector`).
//!
//! Understood metrics: `container_memory_working_set_bytes` (peak = the largest sample),
//! `container_cpu_usage_seconds_total` (CPU seconds = the counter's increase, resets handled),
//! and GPU utilisation from DCGM: `DCGM_FI_DEV_GPU_UTIL` (percent) or
//! `DCGM_FI_PROF_GR_ENGINE_ACTIVE` (ratio), averaged. The metric comes from the series'
//! `__name__` label, else from the file name. Series are aggregated per pod (label `pod`,
//! `pod_name` or `exported_pod`); the pod-level cgroup (`container="POD"` or empty) and Argo's
//! `wait`/`init` sidecars are left out. The join to steps happens in [`super::join`].

use super::{Fields, ReadOutput, Sink};
use crate::error::{AutotuneError, ErrorCode};
use crate::history::Provenance;
use crate::json::Json;
use std::collections::BTreeMap;

/// Metrics this reader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `container_memory_working_set_bytes`
    MemoryWorkingSet,
    /// `container_cpu_usage_seconds_total`
    CpuSeconds,
    /// `DCGM_FI_DEV_GPU_UTIL`, percent.
    GpuUtilPercent,
    /// `DCGM_FI_PROF_GR_ENGINE_ACTIVE`, ratio.
    GpuEngineActive,
}

impl Metric {
    /// The metric for a Prometheus metric name.
    pub fn from_name(name: &str) -> Option<Metric> {
        Some(match name {
            "container_memory_working_set_bytes" => Metric::MemoryWorkingSet,
            "container_cpu_usage_seconds_total" => Metric::CpuSeconds,
            "DCGM_FI_DEV_GPU_UTIL" => Metric::GpuUtilPercent,
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE" => Metric::GpuEngineActive,
            _ => return None,
        })
    }

    const NAMES: [&'static str; 4] = [
        "container_memory_working_set_bytes",
        "container_cpu_usage_seconds_total",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    ];
}

/// What the exports say about one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUsage {
    /// Namespace, when labelled.
    pub namespace: Option<String>,
    /// Pod name.
    pub pod: String,
    /// Labels of the first series seen for the pod (for step labels).
    pub labels: BTreeMap<String, String>,
    /// Peak working set.
    pub peak_memory_bytes: Option<u64>,
    /// CPU seconds used.
    pub cpu_seconds: Option<f64>,
    /// Mean GPU utilisation, 0..=1.
    pub gpu_util: Option<f64>,
    /// First sample, epoch ms.
    pub first_ms: i64,
    /// Last sample, epoch ms.
    pub last_ms: i64,
    /// Where the first series was.
    pub source: Provenance,
}

impl PodUsage {
    /// Merges another partial view of the same pod.
    pub fn merge(&mut self, other: &PodUsage) {
        self.peak_memory_bytes = max_opt(self.peak_memory_bytes, other.peak_memory_bytes);
        self.cpu_seconds = sum_opt(self.cpu_seconds, other.cpu_seconds);
        self.gpu_util = match (self.gpu_util, other.gpu_util) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.first_ms = self.first_ms.min(other.first_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
        for (k, v) in &other.labels {
            self.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn sum_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, y) => x.or(y),
    }
}

/// Reads an export. A non-success response or a missing `data.result` is file-level.
pub fn read(doc: &Json, sink: &mut Sink<'_>) -> Result<ReadOutput, AutotuneError> {
    let f = Fields { sink };
    let status = f.req_str(doc, "status", "status")?;
    if status != "success" {
        let detail = doc
            .get("error")
            .and_then(Json::as_str)
            .unwrap_or("no detail");
        return Err(sink.error(
            ErrorCode::InvalidValue,
            doc.line,
            format!("the export is a failed query (`status: {status}`): {detail}"),
        ));
    }
    let data = f.req_obj(doc, "data", "data")?;
    let result_type = f.req_str(data, "resultType", "data.resultType")?;
    if result_type != "matrix" && result_type != "vector" {
        let line = data.get("resultType").map_or(data.line, |v| v.line);
        return Err(sink.error(ErrorCode::InvalidValue, line, format!("field `data.resultType` is `{result_type}`; expected `matrix` (a query_range export)")));
    }
    let result = f.req_arr(data, "result", "data.result")?;
    let file_metric = Metric::NAMES
        .iter()
        .find(|n| sink.file.contains(*n))
        .and_then(|n| Metric::from_name(n));
    let mut pods: BTreeMap<(Option<String>, String), PodUsage> = BTreeMap::new();
    let mut out = ReadOutput::default();
    let mut problems = Vec::new();
    for (i, series_json) in result.iter().enumerate() {
        match series(series_json, i, result_type, file_metric, &f) {
            Ok(Ok(usage)) => match pods.get_mut(&(usage.namespace.clone(), usage.pod.clone())) {
                Some(existing) => existing.merge(&usage),
                None => {
                    pods.insert((usage.namespace.clone(), usage.pod.clone()), usage);
                }
            },
            Ok(Err(reason)) => out.ignored.push(reason),
            Err(e) => problems.push(e),
        }
    }
    for e in problems {
        sink.record(e);
    }
    out.pods = pods.into_values().collect();
    Ok(out)
}

type SeriesResult = Result<Result<PodUsage, String>, AutotuneError>;

fn series(
    s: &Json,
    i: usize,
    result_type: &str,
    file_metric: Option<Metric>,
    f: &Fields<'_, '_>,
) -> SeriesResult {
    let sink = f.sink;
    let path = |k: &str| format!("data.result[{i}].{k}");
    if s.as_object().is_none() {
        return Err(sink.error(
            ErrorCode::WrongType,
            s.line,
            format!(
                "field `data.result[{i}]` should be an object, found {}",
                s.type_name()
            ),
        ));
    }
    let metric_obj = f.req_obj(s, "metric", &path("metric"))?;
    let mut labels = BTreeMap::new();
    for (k, v) in metric_obj.as_object().unwrap_or(&[]) {
        let text = v.as_str().ok_or_else(|| {
            sink.error(
                ErrorCode::WrongType,
                v.line,
                format!("label `{k}` should be a string, found {}", v.type_name()),
            )
        })?;
        labels.insert(k.clone(), text.to_string());
    }
    let metric = match labels.get("__name__") {
        Some(name) => Metric::from_name(name).ok_or_else(|| {
            sink.error(
                ErrorCode::UnknownMetric,
                metric_obj.line,
                format!("unsupported metric `{name}`"),
            )
        })?,
        None => file_metric.ok_or_else(|| {
            sink.error(
                ErrorCode::UnknownMetric,
                metric_obj.line,
                "series has no `__name__` label and the file name names no known metric",
            )
        })?,
    };
    let container = labels
        .get("container")
        .or_else(|| labels.get("container_name"))
        .map(String::as_str);
    if matches!(container, Some("" | "POD" | "wait" | "init")) {
        return Ok(Err(
            "Prometheus series of a pod-level or sidecar container".to_string()
        ));
    }
    let pod = ["pod", "pod_name", "exported_pod"]
        .iter()
        .find_map(|k| labels.get(*k))
        .cloned();
    let Some(pod) = pod else {
        return Err(sink.error(
            ErrorCode::MissingField,
            metric_obj.line,
            format!("missing label `pod` in `{}`", path("metric")),
        ));
    };
    let namespace = ["namespace", "exported_namespace"]
        .iter()
        .find_map(|k| labels.get(*k))
        .cloned();
    let samples: Vec<(i64, f64)> = if result_type == "vector" {
        let v = f.req(s, "value", &path("value"))?;
        vec![sample(v, &path("value"), f)?]
    } else {
        let values = f.req_arr(s, "values", &path("values"))?;
        values
            .iter()
            .map(|v| sample(v, &path("values[]"), f))
            .collect::<Result<_, _>>()?
    };
    let finite: Vec<(i64, f64)> = samples.into_iter().filter(|(_, v)| v.is_finite()).collect();
    let (Some(first), Some(last)) = (finite.first(), finite.last()) else {
        return Ok(Err("Prometheus series without samples".to_string()));
    };
    let mut usage = PodUsage {
        namespace,
        pod,
        labels,
        peak_memory_bytes: None,
        cpu_seconds: None,
        gpu_util: None,
        first_ms: first.0,
        last_ms: last.0,
        source: Provenance {
            file: sink.file.to_string(),
            line: s.line,
        },
    };
    match metric {
        Metric::MemoryWorkingSet => {
            let peak = finite.iter().map(|(_, v)| *v).fold(0.0, f64::max);
            usage.peak_memory_bytes = Some(peak.round().max(0.0) as u64);
        }
        Metric::CpuSeconds => {
            // Counter increase; a drop is a reset, after which the counter restarts from zero.
            let mut total = 0.0;
            for w in finite.windows(2) {
                let d = w[1].1 - w[0].1;
                total += if d >= 0.0 { d } else { w[1].1 };
            }
            usage.cpu_seconds = Some(total);
        }
        Metric::GpuUtilPercent | Metric::GpuEngineActive => {
            let scale = if metric == Metric::GpuUtilPercent {
                100.0
            } else {
                1.0
            };
            let mean = finite.iter().map(|(_, v)| *v).sum::<f64>() / finite.len() as f64 / scale;
            usage.gpu_util = Some(mean.clamp(0.0, 1.0));
        }
    }
    Ok(Ok(usage))
}

/// One `[timestamp, "value"]` pair.
fn sample(v: &Json, path: &str, f: &Fields<'_, '_>) -> Result<(i64, f64), AutotuneError> {
    let sink = f.sink;
    let bad = |msg: &str| {
        sink.error(
            ErrorCode::WrongType,
            v.line,
            format!("field `{path}` should be {msg}, found {}", v.type_name()),
        )
    };
    let pair = v
        .as_array()
        .ok_or_else(|| bad("a [timestamp, \"value\"] pair"))?;
    let [ts, val] = pair else {
        return Err(sink.error(
            ErrorCode::InvalidValue,
            v.line,
            format!(
                "field `{path}` should have 2 elements, found {}",
                pair.len()
            ),
        ));
    };
    let ts = ts.as_f64().ok_or_else(|| {
        sink.error(
            ErrorCode::WrongType,
            ts.line,
            format!(
                "sample time in `{path}` should be a number, found {}",
                ts.type_name()
            ),
        )
    })?;
    let text = val.as_str().ok_or_else(|| {
        sink.error(
            ErrorCode::WrongType,
            val.line,
            format!(
                "sample value in `{path}` should be a string, found {}",
                val.type_name()
            ),
        )
    })?;
    let value = match text {
        "NaN" => f64::NAN,
        "+Inf" | "-Inf" => f64::INFINITY,
        t => t.parse::<f64>().map_err(|_| {
            sink.error(
                ErrorCode::InvalidValue,
                val.line,
                format!("sample value `{t}` in `{path}` is not a number"),
            )
        })?,
    };
    Ok(((ts * 1000.0).round() as i64, value))
}
