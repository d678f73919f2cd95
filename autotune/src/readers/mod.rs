//! History readers: format detection, one reader per format, and the join of Prometheus series
//! to executions.
//!
//! Readers are pure: they take a file's name and text and return executions (or pod usage for
//! Prometheus). Problems go through a [`Sink`], which in strict mode collects errors and in
//! lenient mode turns record-level problems into counted warnings. A reader never panics.

pub mod argo;
pub mod flowc;
pub mod join;
pub mod nextflow;
pub mod prometheus;
pub mod wfcommons;

use crate::error::{AutotuneError, ErrorCode};
use crate::history::Execution;
use crate::json::{self, Json};
use prometheus::PodUsage;

/// The input formats the autotuner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Format {
    /// flowc run records, one JSON object per line (`schema: flowc.run-record/1`).
    FlowcRecords,
    /// Argo Workflows status (`argo get -o json`, `kubectl get workflow(s) -o json`).
    ArgoStatus,
    /// Prometheus `query_range` API response (matrix).
    PrometheusRange,
    /// Nextflow trace file (CSV/TSV with a `process` column).
    NextflowTrace,
    /// WfCommons WfFormat instance (1.5).
    WfCommons,
}

/// What one file yielded.
#[derive(Debug, Default)]
pub struct ReadOutput {
    /// Executions read.
    pub executions: Vec<Execution>,
    /// Per-pod usage from Prometheus exports, joined later.
    pub pods: Vec<PodUsage>,
    /// Records left out on purpose (e.g. a node still running), by reason.
    pub ignored: Vec<String>,
}

/// Collects problems: errors in strict mode, counted warnings in lenient mode.
#[derive(Debug)]
pub struct Sink<'a> {
    /// File name as given by the caller.
    pub file: &'a str,
    /// Whether record-level problems are warnings.
    pub lenient: bool,
    /// Record-level errors (strict) or warnings (lenient).
    pub problems: Vec<AutotuneError>,
}

impl<'a> Sink<'a> {
    /// A sink for one file.
    pub fn new(file: &'a str, lenient: bool) -> Self {
        Sink {
            file,
            lenient,
            problems: Vec::new(),
        }
    }

    /// Builds an error for this file.
    pub fn error(&self, code: ErrorCode, line: usize, message: impl Into<String>) -> AutotuneError {
        AutotuneError::new(code, self.file, Some(line), message)
    }

    /// Records a record-level problem (the record is skipped either way).
    pub fn record(&mut self, e: AutotuneError) {
        self.problems.push(e);
    }
}

/// Recognises a file's format from its name and first bytes.
pub fn detect(file: &str, text: &str) -> Option<Format> {
    let lower = file.to_ascii_lowercase();
    let first_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt") {
        let header = first_line.to_ascii_lowercase();
        if header.split([',', '\t']).any(|c| c.trim() == "process") {
            return Some(Format::NextflowTrace);
        }
        return None;
    }
    if !first_line.starts_with('{') {
        return None;
    }
    if first_line.contains("\"flowc.run-record/") || lower.ends_with(".jsonl") {
        return Some(Format::FlowcRecords);
    }
    // Look at the top-level keys without parsing the whole document.
    let head: String = text.chars().take(4096).collect();
    if head.contains("\"resultType\"")
        || (head.contains("\"status\"")
            && (head.contains("\"data\"") || head.contains("\"errorType\"")))
    {
        return Some(Format::PrometheusRange);
    }
    if head.contains("\"workflow\"") && head.contains("\"schemaVersion\"") {
        return Some(Format::WfCommons);
    }
    if head.contains("argoproj.io") || head.contains("\"Workflow") || text.contains("\"nodes\"") {
        return Some(Format::ArgoStatus);
    }
    if head.contains("\"resultType\"") || text.contains("\"resultType\"") {
        return Some(Format::PrometheusRange);
    }
    None
}

/// Reads one file's text. File-level problems are the `Err`; record-level problems land in the
/// sink.
pub fn read_text(file: &str, text: &str, sink: &mut Sink<'_>) -> Result<ReadOutput, AutotuneError> {
    let format = detect(file, text).ok_or_else(|| {
        AutotuneError::new(
            ErrorCode::UnknownFormat,
            file,
            None,
            "cannot tell the format: expected flowc run records, Argo workflow status, a \
             Prometheus query_range export, a Nextflow trace or a WfCommons instance",
        )
    })?;
    read_as(format, text, sink)
}

/// Reads text known to be in `format`.
pub fn read_as(
    format: Format,
    text: &str,
    sink: &mut Sink<'_>,
) -> Result<ReadOutput, AutotuneError> {
    match format {
        Format::FlowcRecords => Ok(flowc::read(text, sink)),
        Format::NextflowTrace => nextflow::read(text, sink),
        Format::ArgoStatus => argo::read(&parse_document(text, sink.file)?, sink),
        Format::PrometheusRange => prometheus::read(&parse_document(text, sink.file)?, sink),
        Format::WfCommons => wfcommons::read(&parse_document(text, sink.file)?, sink),
    }
}

/// Parses a whole JSON document; a syntax error is a file-level A003.
pub fn parse_document(text: &str, file: &str) -> Result<Json, AutotuneError> {
    json::parse(text, 1).map_err(|e| {
        AutotuneError::new(
            ErrorCode::InvalidJson,
            file,
            Some(e.line),
            format!("invalid JSON: {}", e.message),
        )
    })
}

/// Field access with errors that name the field path and line.
pub(crate) struct Fields<'s, 'a> {
    pub sink: &'s Sink<'a>,
}

impl Fields<'_, '_> {
    /// A required member; missing (or `null`) is A004 at the object's line.
    pub fn req<'j>(&self, obj: &'j Json, key: &str, path: &str) -> Result<&'j Json, AutotuneError> {
        match obj.get(key) {
            Some(v) if !v.is_null() => Ok(v),
            _ => Err(self.sink.error(
                ErrorCode::MissingField,
                obj.line,
                format!("missing field `{path}`"),
            )),
        }
    }

    /// An optional member; `null` counts as absent.
    pub fn opt<'j>(&self, obj: &'j Json, key: &str) -> Option<&'j Json> {
        obj.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, v: &Json, path: &str, expected: &str) -> AutotuneError {
        self.sink.error(
            ErrorCode::WrongType,
            v.line,
            format!(
                "field `{path}` should be {expected}, found {}",
                v.type_name()
            ),
        )
    }

    /// A required string.
    pub fn req_str<'j>(
        &self,
        obj: &'j Json,
        key: &str,
        path: &str,
    ) -> Result<&'j str, AutotuneError> {
        let v = self.req(obj, key, path)?;
        v.as_str().ok_or_else(|| self.wrong(v, path, "a string"))
    }

    /// An optional string.
    pub fn opt_str<'j>(
        &self,
        obj: &'j Json,
        key: &str,
        path: &str,
    ) -> Result<Option<&'j str>, AutotuneError> {
        match self.opt(obj, key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.wrong(v, path, "a string")),
        }
    }

    /// A required object.
    pub fn req_obj<'j>(
        &self,
        obj: &'j Json,
        key: &str,
        path: &str,
    ) -> Result<&'j Json, AutotuneError> {
        let v = self.req(obj, key, path)?;
        v.as_object()
            .map(|_| v)
            .ok_or_else(|| self.wrong(v, path, "an object"))
    }

    /// An optional object.
    pub fn opt_obj<'j>(
        &self,
        obj: &'j Json,
        key: &str,
        path: &str,
    ) -> Result<Option<&'j Json>, AutotuneError> {
        match self.opt(obj, key) {
            None => Ok(None),
            Some(v) => v
                .as_object()
                .map(|_| Some(v))
                .ok_or_else(|| self.wrong(v, path, "an object")),
        }
    }

    /// A required array.
    pub fn req_arr<'j>(
        &self,
        obj: &'j Json,
        key: &str,
        path: &str,
    ) -> Result<&'j [Json], AutotuneError> {
        let v = self.req(obj, key, path)?;
        v.as_array().ok_or_else(|| self.wrong(v, path, "an array"))
    }

    /// A required non-negative number.
    pub fn req_f64(&self, obj: &Json, key: &str, path: &str) -> Result<f64, AutotuneError> {
        let v = self.req(obj, key, path)?;
        self.num(v, path)
    }

    /// An optional non-negative number.
    pub fn opt_f64(&self, obj: &Json, key: &str, path: &str) -> Result<Option<f64>, AutotuneError> {
        self.opt(obj, key).map(|v| self.num(v, path)).transpose()
    }

    fn num(&self, v: &Json, path: &str) -> Result<f64, AutotuneError> {
        let x = v.as_f64().ok_or_else(|| self.wrong(v, path, "a number"))?;
        if x < 0.0 {
            return Err(self.sink.error(
                ErrorCode::InvalidValue,
                v.line,
                format!("field `{path}` is negative"),
            ));
        }
        Ok(x)
    }

    /// An optional non-negative integer.
    pub fn opt_u64(&self, obj: &Json, key: &str, path: &str) -> Result<Option<u64>, AutotuneError> {
        match self.opt(obj, key) {
            None => Ok(None),
            Some(v) => self.int(v, path).map(Some),
        }
    }

    /// A required non-negative integer.
    pub fn req_u64(&self, obj: &Json, key: &str, path: &str) -> Result<u64, AutotuneError> {
        let v = self.req(obj, key, path)?;
        self.int(v, path)
    }

    fn int(&self, v: &Json, path: &str) -> Result<u64, AutotuneError> {
        match v.as_u64() {
            Some(x) => Ok(x),
            None if v.as_f64().is_some() => Err(self.sink.error(
                ErrorCode::InvalidValue,
                v.line,
                format!("field `{path}` should be a non-negative integer"),
            )),
            None => Err(self.wrong(v, path, "an integer")),
        }
    }

    /// A required timestamp (RFC 3339 string), as epoch milliseconds.
    pub fn req_time(&self, obj: &Json, key: &str, path: &str) -> Result<i64, AutotuneError> {
        let v = self.req(obj, key, path)?;
        let s = v
            .as_str()
            .ok_or_else(|| self.wrong(v, path, "a timestamp string"))?;
        crate::time::parse_timestamp(s).ok_or_else(|| {
            self.sink.error(
                ErrorCode::InvalidValue,
                v.line,
                format!("field `{path}` is not a timestamp: `{s}`"),
            )
        })
    }
}

/// Maps a Kubernetes-style name back to a flowc identifier (`load-panel` → `load_panel`).
pub fn flowc_ident(name: &str) -> String {
    name.trim_matches('-').replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(
            detect("t.csv", "task_id,process,peak_rss\n1,a,2\n"),
            Some(Format::NextflowTrace)
        );
        assert_eq!(detect("x.csv", "a,b\n"), None);
        assert_eq!(
            detect("r.jsonl", "{\"schema\":\"flowc.run-record/1\"}\n"),
            Some(Format::FlowcRecords)
        );
        assert_eq!(
            detect(
                "p.json",
                "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}"
            ),
            Some(Format::PrometheusRange)
        );
        assert_eq!(
            detect(
                "w.json",
                "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Workflow\"}"
            ),
            Some(Format::ArgoStatus)
        );
        assert_eq!(
            detect(
                "i.json",
                "{\"name\":\"x\",\"schemaVersion\":\"1.5\",\"workflow\":{}}"
            ),
            Some(Format::WfCommons)
        );
        assert_eq!(detect("n.json", "[1,2]"), None);
    }

    #[test]
    fn idents() {
        assert_eq!(flowc_ident("load-panel"), "load_panel");
    }
}
