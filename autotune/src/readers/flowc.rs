//! Reader for flowc's own run records: `<store>/runs/<run_id>/records.jsonl`, one JSON object per
//! line, `schema: "flowc.run-record/1"`. The format is documented in `docs/metrics.md`.
//!
//! Unknown fields are ignored (forward compatible); a different major schema is A007. Each line
//! is one record, so every problem is record-level: strict mode reports all of them, lenient mode
//! skips the bad lines and counts them as warnings.

use super::{Fields, ReadOutput, Sink};
use crate::error::{AutotuneError, ErrorCode};
use crate::history::{Execution, Outcome, Provenance};
use crate::json::{self, Json};

/// The schema family and the major version this reader understands.
pub const SCHEMA_PREFIX: &str = "flowc.run-record/";
/// Supported major version.
pub const SCHEMA_MAJOR: u32 = 1;

/// Reads all records; bad lines go to the sink.
pub fn read(text: &str, sink: &mut Sink<'_>) -> ReadOutput {
    let mut out = ReadOutput::default();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed = json::parse(raw, line).map_err(|e| {
            sink.error(
                ErrorCode::InvalidJson,
                line,
                format!("invalid JSON: {}", e.message),
            )
        });
        match parsed.and_then(|v| record(&v, line, sink)) {
            Ok(Some(e)) => out.executions.push(e),
            Ok(None) => out
                .ignored
                .push("cached flowc record (did not run)".to_string()),
            Err(e) => sink.record(e),
        }
    }
    out
}

fn outcome(reason: &str) -> Option<Outcome> {
    Some(match reason {
        "ok" => Outcome::Ok,
        "failed" => Outcome::Failed,
        "oom" => Outcome::Oom,
        "timeout" => Outcome::Timeout,
        "cancelled" => Outcome::Cancelled,
        "cached" => Outcome::Cached,
        _ => return None,
    })
}

/// Parses one record; `Ok(None)` for cached records, which carry no measurement.
fn record(v: &Json, line: usize, sink: &Sink<'_>) -> Result<Option<Execution>, AutotuneError> {
    let f = Fields { sink };
    if v.as_object().is_none() {
        return Err(sink.error(
            ErrorCode::WrongType,
            line,
            format!("a run record should be an object, found {}", v.type_name()),
        ));
    }
    let schema = f.req_str(v, "schema", "schema")?;
    let major = schema
        .strip_prefix(SCHEMA_PREFIX)
        .and_then(|rest| rest.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    if major != Some(SCHEMA_MAJOR) {
        return Err(sink.error(
            ErrorCode::UnsupportedSchema,
            line,
            format!("unsupported record schema `{schema}` (this reader understands `{SCHEMA_PREFIX}{SCHEMA_MAJOR}`)"),
        ));
    }
    let pipeline = f.req_str(v, "pipeline", "pipeline")?;
    let step = f.req_str(v, "step", "step")?;
    let run_id = f.req_str(v, "run_id", "run_id")?;
    let reason = f.req_str(v, "reason", "reason")?;
    let Some(outcome) = outcome(reason) else {
        return Err(sink.error(
            ErrorCode::InvalidValue,
            line,
            format!("field `reason` has unknown value `{reason}` (expected ok, failed, oom, timeout, cancelled or cached)"),
        ));
    };
    let attempt = f.req_u64(v, "attempt", "attempt")?;
    let start_ms = f.req_time(v, "start", "start")?;
    let end_ms = f.req_time(v, "end", "end")?;
    if end_ms < start_ms {
        return Err(sink.error(
            ErrorCode::InvalidValue,
            line,
            "field `end` is before `start`",
        ));
    }
    let wall = f
        .opt_f64(v, "wall_seconds", "wall_seconds")?
        .unwrap_or(end_ms.saturating_sub(start_ms) as f64 / 1000.0);
    let peak = f.opt_u64(v, "peak_rss_bytes", "peak_rss_bytes")?;
    if outcome == Outcome::Ok && peak.is_none() {
        return Err(sink.error(
            ErrorCode::MissingField,
            line,
            "missing field `peak_rss_bytes` (required when `reason` is `ok`)",
        ));
    }
    if outcome == Outcome::Cached {
        return Ok(None);
    }
    let version = f.opt_str(v, "version", "version")?.map(str::to_string);
    let task = f.opt_str(v, "task", "task")?.unwrap_or(step).to_string();
    let mut e = Execution::new(pipeline, step, start_ms, wall);
    e.end_ms = end_ms;
    e.version = version;
    e.task = task;
    e.run_id = run_id.to_string();
    e.attempt = u32::try_from(attempt).unwrap_or(u32::MAX).max(1);
    e.cpu_seconds = f.opt_f64(v, "cpu_seconds", "cpu_seconds")?;
    // A process tree always has resident memory: 0 means the run ended before it was sampled
    // (a few milliseconds), not that it needed none.
    e.peak_memory_bytes = peak.filter(|p| *p > 0);
    e.input_bytes = f.opt_u64(v, "input_bytes", "input_bytes")?;
    // The attempt's input artifacts exist before it starts.
    e.input_timing = crate::history::InputTiming::BeforeStart;
    e.outcome = outcome;
    if let Some(req) = f.opt_obj(v, "requests", "requests")? {
        e.cpu_request_millis = f.opt_u64(req, "cpu_millis", "requests.cpu_millis")?;
        e.memory_request_bytes = f.opt_u64(req, "memory_bytes", "requests.memory_bytes")?;
        e.gpu_count = gpu(&f, req, "requests.gpu")?.unwrap_or(0);
    }
    if let Some(lim) = f.opt_obj(v, "limits", "limits")? {
        e.cpu_limit_millis = f.opt_u64(lim, "cpu_millis", "limits.cpu_millis")?;
        e.memory_limit_bytes = f.opt_u64(lim, "memory_bytes", "limits.memory_bytes")?;
        e.gpu_count = e.gpu_count.max(gpu(&f, lim, "limits.gpu")?.unwrap_or(0));
    }
    e.gpu_util = f
        .opt_f64(v, "gpu_util", "gpu_util")?
        .map(|u| u.clamp(0.0, 1.0));
    e.source = Provenance {
        file: sink.file.to_string(),
        line,
    };
    Ok(Some(e))
}

fn gpu(f: &Fields<'_, '_>, obj: &Json, path: &str) -> Result<Option<u32>, AutotuneError> {
    Ok(f.opt_u64(obj, "gpu", path)?
        .map(|g| u32::try_from(g).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"schema":"flowc.run-record/1","pipeline":"daily_weights","version":"1.2.0","step":"load_panel","task":"load_panel","run_id":"20261128T101500Z-3f2a","attempt":1,"start":"2026-11-28T10:15:00.123Z","end":"2026-11-28T10:15:12.623Z","wall_seconds":12.5,"cpu_seconds":20.1,"peak_rss_bytes":536870912,"exit_code":0,"signal":null,"reason":"ok","input_bytes":123,"output_bytes":456,"requests":{"cpu_millis":500,"memory_bytes":1073741824,"gpu":0},"limits":{"cpu_millis":null,"memory_bytes":2147483648,"gpu":0},"host":{"name":"dev","cpus":2,"memory_bytes":8589934592},"future_field":{"x":1}}"#;

    #[test]
    fn reads_a_full_record() {
        let mut sink = Sink::new("records.jsonl", false);
        let out = read(OK, &mut sink);
        assert!(sink.problems.is_empty(), "{:?}", sink.problems);
        let e = &out.executions[0];
        assert_eq!(e.pipeline, "daily_weights");
        assert_eq!(e.peak_memory_bytes, Some(536_870_912));
        assert_eq!(e.memory_limit_bytes, Some(2_147_483_648));
        assert_eq!(e.cpu_request_millis, Some(500));
        assert_eq!(e.version.as_deref(), Some("1.2.0"));
        assert_eq!(e.wall_seconds, 12.5);
    }

    #[test]
    fn a_zero_peak_is_not_a_measurement() {
        let text = OK.replace("\"peak_rss_bytes\":536870912", "\"peak_rss_bytes\":0");
        let mut sink = Sink::new("r.jsonl", false);
        let out = read(&text, &mut sink);
        assert!(sink.problems.is_empty(), "{:?}", sink.problems);
        assert_eq!(out.executions.len(), 1);
        assert_eq!(out.executions[0].peak_memory_bytes, None);
    }

    #[test]
    fn reports_each_bad_line() {
        let text = format!(
            "{OK}\n{}\n{{\"schema\":\"flowc.run-record/2\"}}\n{{\"schema\":\"flowc.run-record/1\",\"pipeline\":1}}\n{{\"truncated\":",
            OK.replace("\"reason\":\"ok\"", "\"reason\":\"boom\"")
        );
        let mut sink = Sink::new("r.jsonl", false);
        let out = read(&text, &mut sink);
        assert_eq!(out.executions.len(), 1);
        let got: Vec<(&str, Option<usize>)> = sink
            .problems
            .iter()
            .map(|p| (p.code.as_str(), p.line))
            .collect();
        assert_eq!(
            got,
            [
                ("A006", Some(2)),
                ("A007", Some(3)),
                ("A005", Some(4)),
                ("A003", Some(5))
            ]
        );
    }

    #[test]
    fn cached_records_are_ignored_not_errors() {
        let text = OK.replace("\"reason\":\"ok\"", "\"reason\":\"cached\"");
        let mut sink = Sink::new("r.jsonl", false);
        let out = read(&text, &mut sink);
        assert!(out.executions.is_empty() && sink.problems.is_empty());
        assert_eq!(out.ignored.len(), 1);
    }
}
