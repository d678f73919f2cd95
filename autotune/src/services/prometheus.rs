//! A Prometheus server's HTTP API (`--prometheus http://HOST:PORT`).
//!
//! For each metric the file reader understands ([`crate::readers::prometheus`]), one instant
//! query of a range selector over the whole window, `METRIC{container!=""}[Ns]` at
//! `time=until`, through `GET /api/v1/query`. Its answer is a `matrix` of every raw sample in
//! the window, with the `__name__` label kept: the exact peak of each working set and the exact
//! increase of each CPU counter (resets included), where `query_range` would give values at a
//! step (missing peaks between steps), refuse more than 11,000 steps per series, and repeat the
//! last sample for 5 minutes after a pod ended. The answer is read by the same reader as a saved
//! export, then joined to the executions by pod as files are. Series without a `container`
//! label (the node's and pods' own cgroups) are left out by the selector.
//!
//! The client is `ureq`, blocking, plain HTTP, with a 5 s connect timeout and 120 s per query.

use super::{redact, Timeouts, Window};
use crate::error::{AutotuneError, ErrorCode};
use crate::readers::prometheus::PodUsage;
use crate::readers::{self, Sink};

/// The metrics read, in query order.
pub const METRICS: [&str; 4] = [
    "container_memory_working_set_bytes",
    "container_cpu_usage_seconds_total",
    "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
];

/// Largest answer read, in bytes.
const MAX_ANSWER_BYTES: u64 = 1 << 30;

/// What the server yielded: per-pod usage (joined later), ignored series, series-level problems.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Usage per pod and metric.
    pub pods: Vec<PodUsage>,
    /// Series left out on purpose (sidecars, series without samples), by reason.
    pub ignored: Vec<String>,
    /// Problems of single series (e.g. no `pod` label).
    pub problems: Vec<AutotuneError>,
}

/// Reads the container series of `window` (which must have a start) from the server at `base`.
pub fn read(base: &str, window: &Window, timeouts: &Timeouts) -> Result<Fetched, AutotuneError> {
    let service = redact(base.trim_end_matches('/'));
    let fail = |code, message: String| AutotuneError::new(code, &service, None, message);
    let Some(since_ms) = window.since_ms else {
        return Err(fail(
            ErrorCode::InvalidSource,
            "a Prometheus window needs a start; give `--since`".into(),
        ));
    };
    let span_s = (window.until_ms - since_ms) / 1000;
    if span_s < 1 {
        return Err(fail(
            ErrorCode::InvalidSource,
            format!(
                "the window {} is empty; `--since` must be before `--until`",
                window.describe()
            ),
        ));
    }
    if !base.starts_with("http://") {
        return Err(fail(
            ErrorCode::InvalidSource,
            "the address must start with `http://`: flowc reads Prometheus over plain HTTP \
             (inside the cluster, or through `kubectl port-forward`)"
                .into(),
        ));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(timeouts.connect))
        .timeout_global(Some(timeouts.query))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/api/v1/query", base.trim_end_matches('/'));
    let time = format!(
        "{}.{:03}",
        window.until_ms.div_euclid(1000),
        window.until_ms.rem_euclid(1000)
    );
    let mut fetched = Fetched::default();
    for metric in METRICS {
        let query = format!("{metric}{{container!=\"\"}}[{span_s}s]");
        let text = get(&agent, &url, &query, &time, &service)?;
        let label = format!("{service} {metric}");
        let mut sink = Sink::new(&label, false);
        let out = readers::parse_document(&text, &label)
            .map_err(|_| {
                fail(
                    ErrorCode::BadResponse,
                    format!("the answer to `{query}` is not JSON; is this a Prometheus server?"),
                )
            })
            .and_then(|doc| readers::prometheus::read(&doc, &mut sink))?;
        fetched.pods.extend(out.pods);
        fetched.ignored.extend(out.ignored);
        fetched.problems.extend(sink.problems);
    }
    if fetched.pods.is_empty() && fetched.problems.is_empty() {
        return Err(fail(
            ErrorCode::EmptyWindow,
            format!(
                "no container memory, CPU or GPU series in {}; widen `--since`, or check that \
                 the server scrapes the kubelet's cAdvisor metrics",
                window.describe()
            ),
        ));
    }
    Ok(fetched)
}

/// One `GET`, its answer's text; transport failures and HTTP errors with their codes.
fn get(
    agent: &ureq::Agent,
    url: &str,
    query: &str,
    time: &str,
    service: &str,
) -> Result<String, AutotuneError> {
    let fail = |code, message: String| AutotuneError::new(code, service, None, message);
    let mut response = agent
        .get(url)
        .query("query", query)
        .query("time", time)
        .call()
        .map_err(|e| transport(&e, service))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|e| transport(&e, service))?;
    match status {
        200 => Ok(body),
        401 | 403 => Err(fail(
            ErrorCode::AccessDenied,
            format!("the server refused the request (HTTP {status}); flowc sends no credentials: reach Prometheus where it needs none (inside the cluster, or through a proxy)"),
        )),
        _ => Err(fail(
            ErrorCode::BadResponse,
            format!("HTTP {status} for `{query}`: {}", error_detail(&body)),
        )),
    }
}

/// The `error` of a Prometheus error answer, else the start of the body.
fn error_detail(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(str::to_string))
        .unwrap_or_else(|| {
            let head: String = body.chars().take(120).collect();
            if head.trim().is_empty() {
                "empty answer; is this a Prometheus server?".to_string()
            } else {
                format!("`{}`; is this a Prometheus server?", head.trim())
            }
        })
}

/// The stable code and fix of a transport failure.
fn transport(e: &ureq::Error, service: &str) -> AutotuneError {
    let (code, fix) = match e {
        ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Timeout(_) => (
            ErrorCode::Unreachable,
            "check the address and that Prometheus listens there",
        ),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => (
            ErrorCode::InvalidSource,
            "write the address as `http://HOST:PORT`",
        ),
        ureq::Error::Tls(_) => (
            ErrorCode::InvalidSource,
            "flowc reads Prometheus over plain HTTP: use an `http://` address",
        ),
        _ => (
            ErrorCode::BadResponse,
            "the server's answer is not HTTP flowc can read",
        ),
    };
    AutotuneError::new(code, service, None, format!("{e}; {fix}"))
}
