//! Reader for Nextflow trace files (CSV or the default tab-separated form).
//!
//! One row is one execution: step = `process`, peak = `peak_rss`, runtime = `realtime`,
//! start = `start`, input size = `rchar` (else `read_bytes`; measured while the task ran, so it
//! is recorded as known only after the start and no policy sizes a run with it), memory
//! requested = `memory`
//! (Nextflow's Kubernetes executor sets it as both request and limit). Raw values (`trace.raw`)
//! and Nextflow's human forms (`1.5 GB`, `3m 2s`, `95.2%`) are both read; `-` is "not measured".
//! `FAILED` with exit 137 (SIGKILL, what the OOM killer sends) or 247 is an OOM kill.

use super::{ReadOutput, Sink};
use crate::error::{AutotuneError, ErrorCode};
use crate::history::{Execution, Outcome, Provenance};

/// Column positions found in the header.
struct Columns {
    process: usize,
    start: usize,
    optional: std::collections::BTreeMap<&'static str, usize>,
}

const OPTIONAL: [&str; 16] = [
    "status",
    "exit",
    "attempt",
    "name",
    "realtime",
    "duration",
    "complete",
    "peak_rss",
    "rchar",
    "read_bytes",
    "memory",
    "cpus",
    "%cpu",
    "native_id",
    "hash",
    "workflow",
];

/// Reads a trace. A header without `process` and `start` is a file-level A008.
pub fn read(text: &str, sink: &mut Sink<'_>) -> Result<ReadOutput, AutotuneError> {
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            sink.error(
                ErrorCode::InvalidCsv,
                1,
                format!("unreadable trace header: {e}"),
            )
        })?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(process), Some(start)) = (find("process"), find("start")) else {
        return Err(sink.error(
            ErrorCode::InvalidCsv,
            1,
            "trace header lacks the `process` and `start` columns",
        ));
    };
    let mut optional = std::collections::BTreeMap::new();
    for name in OPTIONAL {
        if let Some(i) = find(name) {
            optional.insert(name, i);
        }
    }
    let cols = Columns {
        process,
        start,
        optional,
    };
    let pipeline = pipeline_name(sink.file);
    let mut out = ReadOutput::default();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                sink.record(sink.error(
                    ErrorCode::InvalidCsv,
                    line,
                    format!("malformed trace row: {}", csv_reason(&e)),
                ));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        match row(&record, &cols, &pipeline, line, sink) {
            Ok(Ok(e)) => out.executions.push(e),
            Ok(Err(reason)) => out.ignored.push(reason),
            Err(e) => sink.record(e),
        }
    }
    Ok(out)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

/// The pipeline name from the file name: `trace_chipseq.csv` → `chipseq`.
pub fn pipeline_name(file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    let name = stem
        .strip_prefix("trace_")
        .or_else(|| stem.strip_prefix("trace-"))
        .unwrap_or(stem);
    if name.is_empty() || name == "trace" {
        "nextflow".to_string()
    } else {
        name.to_string()
    }
}

/// Nextflow memory: raw bytes or `1.5 GB` (Nextflow uses 1024 multiples).
fn memory(text: &str) -> Option<u64> {
    let t = text.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Some(v);
    }
    let (num, unit) = t.split_once(' ')?;
    let v: f64 = num.trim().parse().ok()?;
    let mult = match unit.trim() {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024f64.powi(2),
        "GB" => 1024f64.powi(3),
        "TB" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = v * mult;
    (bytes.is_finite() && bytes >= 0.0).then(|| bytes.round() as u64)
}

/// Nextflow duration in ms: raw ms or `1h 3m 2s`, `500ms`, `2.5s`.
fn duration_ms(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(v) = t.parse::<f64>() {
        return (v >= 0.0 && v.is_finite()).then_some(v);
    }
    let mut total = 0.0;
    for part in t.split_whitespace() {
        let idx = part.find(|c: char| c.is_ascii_alphabetic())?;
        let (n, unit) = part.split_at(idx);
        let v: f64 = n.parse().ok()?;
        total += v * match unit {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
    }
    Some(total)
}

/// Start: epoch milliseconds, or a `YYYY-MM-DD HH:MM:SS[.fff]` date taken as UTC.
fn timestamp_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    crate::time::parse_timestamp(&format!("{t}Z"))
}

type Row = Result<Result<Execution, String>, AutotuneError>;

fn row(r: &csv::StringRecord, c: &Columns, pipeline: &str, line: usize, sink: &Sink<'_>) -> Row {
    let get = |name: &str| -> Option<&str> {
        let i = *c.optional.get(name)?;
        r.get(i)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    };
    let bad = |col: &str, v: &str| {
        sink.error(
            ErrorCode::InvalidValue,
            line,
            format!("column `{col}` has an unreadable value `{v}`"),
        )
    };
    let process = r.get(c.process).map(str::trim).unwrap_or("");
    if process.is_empty() || process == "-" {
        return Err(sink.error(ErrorCode::MissingField, line, "column `process` is empty"));
    }
    let status = get("status").unwrap_or("COMPLETED");
    let exit = match get("exit") {
        Some(v) => Some(v.parse::<i64>().map_err(|_| bad("exit", v))?),
        None => None,
    };
    let outcome = match status {
        "COMPLETED" => Outcome::Ok,
        "FAILED" if matches!(exit, Some(137) | Some(247)) => Outcome::Oom,
        "FAILED" => Outcome::Failed,
        "ABORTED" => Outcome::Cancelled,
        "CACHED" => return Ok(Err("cached Nextflow task (did not run)".to_string())),
        _ => return Ok(Err(format!("unfinished Nextflow task (status {status})"))),
    };
    let start_text = r.get(c.start).map(str::trim).unwrap_or("");
    if start_text.is_empty() || start_text == "-" {
        return Err(sink.error(ErrorCode::MissingField, line, "column `start` is empty"));
    }
    let start_ms = timestamp_ms(start_text).ok_or_else(|| bad("start", start_text))?;
    let runtime_ms = match get("realtime").or_else(|| get("duration")) {
        Some(v) => duration_ms(v).ok_or_else(|| bad("realtime", v))?,
        None => match get("complete") {
            Some(v) => timestamp_ms(v)
                .ok_or_else(|| bad("complete", v))?
                .saturating_sub(start_ms)
                .max(0) as f64,
            None => {
                return Err(sink.error(
                    ErrorCode::MissingField,
                    line,
                    "row has neither `realtime` nor `complete`",
                ))
            }
        },
    };
    let mut e = Execution::new(pipeline, process, start_ms, runtime_ms / 1000.0);
    e.outcome = outcome;
    e.task = get("name").unwrap_or(process).to_string();
    e.run_id = get("workflow")
        .map(str::to_string)
        .unwrap_or_else(|| pipeline.to_string());
    e.attempt = match get("attempt") {
        Some(v) => v.parse::<u32>().map_err(|_| bad("attempt", v))?.max(1),
        None => 1,
    };
    e.peak_memory_bytes = match get("peak_rss") {
        Some(v) => Some(memory(v).ok_or_else(|| bad("peak_rss", v))?),
        None => None,
    };
    let input = get("rchar")
        .map(|v| (v, "rchar"))
        .or_else(|| get("read_bytes").map(|v| (v, "read_bytes")));
    e.input_bytes = match input {
        Some((v, col)) => Some(memory(v).ok_or_else(|| bad(col, v))?),
        None => None,
    };
    if let Some(v) = get("memory") {
        let m = memory(v).ok_or_else(|| bad("memory", v))?;
        e.memory_request_bytes = Some(m);
        e.memory_limit_bytes = Some(m);
    }
    if let Some(v) = get("cpus") {
        let cpus: f64 = v.parse().map_err(|_| bad("cpus", v))?;
        e.cpu_request_millis = Some((cpus * 1000.0).round().max(0.0) as u64);
    }
    if let Some(v) = get("%cpu") {
        let pct: f64 = v
            .trim_end_matches('%')
            .parse()
            .map_err(|_| bad("%cpu", v))?;
        e.cpu_seconds = Some(pct.max(0.0) / 100.0 * e.wall_seconds);
    }
    e.pod = get("native_id").map(str::to_string);
    e.source = Provenance {
        file: sink.file.to_string(),
        line,
    };
    Ok(Ok(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "task_id,hash,native_id,process,tag,name,status,exit,cpus,memory,attempt,start,realtime,%cpu,peak_rss,rchar,read_bytes";

    #[test]
    fn reads_rows() {
        let text = format!(
            "{HEAD}\n1,ab/cd,nf-1,ALIGN,s1,ALIGN (s1),COMPLETED,0,2,4294967296,1,1719302573000,12291,119.6,274485248,145215827,0\n\
             2,ab/ce,nf-2,ALIGN,s2,ALIGN (s2),FAILED,137,2,4294967296,1,1719302574000,1000,50,-,-,-\n\
             3,ab/cf,nf-3,QC,s3,QC (s3),FAILED,1,1,1 GB,1,1719302575000,2s,-,-,-,-\n"
        );
        let mut sink = Sink::new("data/trace_eager.csv", false);
        let out = read(&text, &mut sink).unwrap();
        assert!(sink.problems.is_empty(), "{:?}", sink.problems);
        assert_eq!(out.executions.len(), 3);
        let a = &out.executions[0];
        assert_eq!((a.pipeline.as_str(), a.step.as_str()), ("eager", "ALIGN"));
        assert_eq!(a.peak_memory_bytes, Some(274_485_248));
        assert_eq!(a.input_bytes, Some(145_215_827));
        assert!((a.wall_seconds - 12.291).abs() < 1e-9);
        assert_eq!(out.executions[1].outcome, Outcome::Oom);
        assert_eq!(out.executions[2].outcome, Outcome::Failed);
        assert_eq!(out.executions[2].memory_limit_bytes, Some(1 << 30));
        assert_eq!(out.executions[2].wall_seconds, 2.0);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let text = format!("{HEAD}\n1,a,n,P,t,n,COMPLETED,0,1,100,1,x,5,1,1,1,1\n2,a,n,P,t,n\n");
        let mut sink = Sink::new("t.csv", false);
        let out = read(&text, &mut sink).unwrap();
        assert!(out.executions.is_empty());
        let got: Vec<_> = sink
            .problems
            .iter()
            .map(|p| (p.code.as_str(), p.line))
            .collect();
        assert_eq!(got, [("A006", Some(2)), ("A008", Some(3))]);
    }

    #[test]
    fn header_without_process_is_fatal() {
        let mut sink = Sink::new("t.csv", false);
        assert_eq!(
            read("a,b\n1,2\n", &mut sink).unwrap_err().code,
            ErrorCode::InvalidCsv
        );
    }

    #[test]
    fn names() {
        assert_eq!(pipeline_name("x/trace_chipseq.csv"), "chipseq");
        assert_eq!(pipeline_name("trace.txt"), "nextflow");
        assert_eq!(duration_ms("1m 2s"), Some(62_000.0));
        assert_eq!(memory("1.5 GB"), Some(1_610_612_736));
    }
}
