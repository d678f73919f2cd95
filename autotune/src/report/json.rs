//! The JSON of `flowc autotune recommend --format json` (`flowc.autotune.recommendations/1`,
//! documented in docs/autotune.md): one entry per step of the history, for pipelines not written
//! in flowc and for external evaluation. Keys are written in a fixed order and numbers as the
//! tuner computed them, so the same history gives the same bytes.

use crate::history::History;
use crate::model::{Phase, Recommendation};
use crate::services::Window;
use crate::units::{format_cpu, format_memory_quantity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The format's name and version, the document's `format` member.
pub const FORMAT: &str = "flowc.autotune.recommendations/1";

/// The whole document.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The window the history was read in, when one was given.
    pub window: Option<WindowJson>,
    /// Executions read, over all steps.
    pub executions: usize,
    /// One entry per step, ordered by pipeline then step.
    pub steps: Vec<StepJson<'a>>,
    /// Records skipped or series not joined, with their codes.
    pub warnings: &'a [crate::error::AutotuneError],
    /// Records left out on purpose, by reason.
    pub ignored: &'a BTreeMap<String, usize>,
}

/// `window`: RFC 3339 times.
#[derive(Debug, Serialize)]
pub struct WindowJson {
    /// Start, inclusive (`null`: from the first record).
    pub since: Option<String>,
    /// End, inclusive.
    pub until: String,
}

/// One step's entry.
#[derive(Debug, Serialize)]
pub struct StepJson<'a> {
    /// Pipeline (workflow) name.
    pub pipeline: &'a str,
    /// Step (template, process) name.
    pub step: &'a str,
    /// Executions seen, and how many were OOM-killed.
    pub executions: usize,
    /// Executions killed for memory.
    pub ooms: usize,
    /// Memory limit (and request, which equals it).
    pub memory: MemoryJson,
    /// CPU request.
    pub cpu: CpuJson,
    /// GPU count.
    pub gpu: GpuJson,
    /// `low`, `medium` or `high`, and a score in 0..=1.
    pub confidence: crate::model::Confidence,
    /// GB·h of memory the new limit would have saved over the executions seen.
    pub saved_gb_hours: f64,
    /// Why, in sentences.
    pub reasons: &'a [String],
}

/// `memory`.
#[derive(Debug, Serialize)]
pub struct MemoryJson {
    /// Recommended limit as a Kubernetes quantity (`1536Mi`); `null` without a measured run.
    pub limit: Option<String>,
    /// The same in bytes.
    pub limit_bytes: Option<u64>,
    /// Limit in force in the last run, bytes.
    pub previous_limit_bytes: Option<u64>,
    /// `insufficient`, `constant`, `linear` or `power-law`.
    pub model: crate::model::ModelKind,
    /// Estimated probability that a run exceeds the limit.
    pub oom_risk: Option<f64>,
    /// The input-size rule, for runners that know a run's input size before it starts.
    pub input_scaling: Option<crate::model::InputScaling>,
    /// The retry rule (`first`, `factor`, `min_step`, bytes): an attempt killed at k bytes is
    /// retried at max(first, factor × k, k + min_step); `null` without a measured run.
    pub retry: Option<crate::model::RetryRule>,
}

/// `cpu`.
#[derive(Debug, Serialize)]
pub struct CpuJson {
    /// Recommended request as a quantity (`1100m`); `null`: too few measured runs.
    pub request: Option<String>,
    /// The same in millicores.
    pub request_millis: Option<u64>,
    /// Request in force in the last run, millicores.
    pub previous_request_millis: Option<u64>,
}

/// `gpu`.
#[derive(Debug, Serialize)]
pub struct GpuJson {
    /// Recommended count.
    pub count: u32,
    /// Count in the last run.
    pub previous_count: u32,
}

/// Builds the document.
pub fn document<'a>(
    recs: &'a [Recommendation],
    history: &'a History,
    window: Option<&Window>,
) -> Document<'a> {
    Document {
        format: FORMAT,
        window: window.map(|w| WindowJson {
            since: w.since_ms.map(crate::time::format_timestamp),
            until: crate::time::format_timestamp(w.until_ms),
        }),
        executions: history.len(),
        steps: recs.iter().map(step).collect(),
        warnings: &history.warnings,
        ignored: &history.ignored,
    }
}

fn step(r: &Recommendation) -> StepJson<'_> {
    let measured = r.memory.phase != Phase::NoHistory;
    let limit = measured.then_some(r.memory.new_limit);
    StepJson {
        pipeline: &r.key.pipeline,
        step: &r.key.step,
        executions: r.executions,
        ooms: r.ooms,
        memory: MemoryJson {
            limit: limit.map(format_memory_quantity),
            limit_bytes: limit,
            previous_limit_bytes: r.memory.old_limit,
            model: r.memory.model,
            oom_risk: r.memory.oom_risk,
            input_scaling: r.memory.input_scaling,
            retry: r.memory.retry.filter(|_| measured),
        },
        cpu: CpuJson {
            request: r.cpu.request_millis.map(format_cpu),
            request_millis: r.cpu.request_millis,
            previous_request_millis: r.old_cpu_request,
        },
        gpu: GpuJson {
            count: r.gpu.recommended,
            previous_count: r.gpu.current,
        },
        confidence: r.confidence,
        saved_gb_hours: r.saved_gb_hours,
        reasons: &r.reasons,
    }
}

/// The document as pretty-printed JSON, ending with a newline.
pub fn json(recs: &[Recommendation], history: &History, window: Option<&Window>) -> String {
    let mut text = serde_json::to_string_pretty(&document(recs, history, window))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
