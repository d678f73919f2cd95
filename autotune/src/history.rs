//! The normalized history every reader produces: one [`Execution`] per attempt of a task,
//! grouped by (pipeline, step).
//!
//! Invariant: a [`History`] is ordered deterministically (steps by key, executions by start time,
//! then task, attempt and source line), whatever the order of the input files.

use crate::error::AutotuneError;
use serde::Serialize;
use std::collections::BTreeMap;

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Finished successfully.
    Ok,
    /// Killed for exceeding its memory limit.
    Oom,
    /// Failed for another reason.
    Failed,
    /// Killed by a deadline.
    Timeout,
    /// Cancelled before finishing.
    Cancelled,
    /// Not run: the result came from the cache.
    Cached,
}

impl Outcome {
    /// Whether the execution really ran to an end that measured its peak memory.
    pub fn measured(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Failed | Outcome::Timeout)
    }
}

/// When an execution's [`Execution::input_bytes`] became known, relative to its start.
///
/// Only a measure known before a run starts can size that run: a runner has nothing else when
/// it sets the limit. Readers set [`InputTiming::BeforeStart`] for sizes of inputs that exist
/// before the run (flowc's input artifacts, a WfCommons task's input files); anything else, such
/// as bytes a task read while it ran (Nextflow's `rchar`), stays [`InputTiming::DuringRun`] and
/// is never given to the input model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InputTiming {
    /// Known before the run started (sizes of its input artifacts or files).
    BeforeStart,
    /// Measured while the run ran, or not known to be available before it started.
    #[default]
    DuringRun,
}

/// The (pipeline, step) a resource setting belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct StepKey {
    /// Pipeline (or workflow) name.
    pub pipeline: String,
    /// Step (or process / task type) name.
    pub step: String,
}

impl StepKey {
    /// Builds a key.
    pub fn new(pipeline: impl Into<String>, step: impl Into<String>) -> Self {
        StepKey {
            pipeline: pipeline.into(),
            step: step.into(),
        }
    }
}

impl std::fmt::Display for StepKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.pipeline, self.step)
    }
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
pub struct Provenance {
    /// File as the caller named it.
    pub file: String,
    /// 1-based line of the record.
    pub line: usize,
}

/// One attempt of one task, normalized from any input format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Execution {
    /// Pipeline / workflow name.
    pub pipeline: String,
    /// Pipeline version, when known.
    pub version: Option<String>,
    /// Step (task type).
    pub step: String,
    /// Task instance inside the pipeline run (`rake[3]` for fan-out), or the step name.
    pub task: String,
    /// Run identifier (one pipeline run).
    pub run_id: String,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Start, epoch milliseconds.
    pub start_ms: i64,
    /// End, epoch milliseconds.
    pub end_ms: i64,
    /// Wall-clock runtime in seconds (the time the memory was held).
    pub wall_seconds: f64,
    /// CPU time in seconds, when measured.
    pub cpu_seconds: Option<f64>,
    /// Peak memory (RSS / working set), when measured.
    pub peak_memory_bytes: Option<u64>,
    /// Input size in bytes, when known (see `input_timing` for whether a runner could know it).
    pub input_bytes: Option<u64>,
    /// When `input_bytes` became known; only [`InputTiming::BeforeStart`] sizes reach the model.
    pub input_timing: InputTiming,
    /// Memory request in force.
    pub memory_request_bytes: Option<u64>,
    /// Memory limit in force.
    pub memory_limit_bytes: Option<u64>,
    /// CPU request in force, millicores.
    pub cpu_request_millis: Option<u64>,
    /// CPU limit in force, millicores.
    pub cpu_limit_millis: Option<u64>,
    /// GPUs attached.
    pub gpu_count: u32,
    /// Mean GPU utilisation over the run, 0..=1, when measured.
    pub gpu_util: Option<f64>,
    /// How it ended.
    pub outcome: Outcome,
    /// Kubernetes pod name, when known (used to join Prometheus series).
    pub pod: Option<String>,
    /// Where the record came from.
    pub source: Provenance,
}

impl Execution {
    /// A minimal successful execution; readers and tests fill in the rest.
    pub fn new(pipeline: &str, step: &str, start_ms: i64, wall_seconds: f64) -> Self {
        Execution {
            pipeline: pipeline.to_string(),
            version: None,
            step: step.to_string(),
            task: step.to_string(),
            run_id: String::new(),
            attempt: 1,
            start_ms,
            end_ms: start_ms.saturating_add((wall_seconds * 1000.0).round() as i64),
            wall_seconds,
            cpu_seconds: None,
            peak_memory_bytes: None,
            input_bytes: None,
            input_timing: InputTiming::DuringRun,
            memory_request_bytes: None,
            memory_limit_bytes: None,
            cpu_request_millis: None,
            cpu_limit_millis: None,
            gpu_count: 0,
            gpu_util: None,
            outcome: Outcome::Ok,
            pod: None,
            source: Provenance::default(),
        }
    }

    /// The step this execution belongs to.
    pub fn key(&self) -> StepKey {
        StepKey::new(&self.pipeline, &self.step)
    }

    /// The input size a runner knows before this execution starts: `input_bytes` when it was
    /// known before the start, else nothing. The tuner and the replay read inputs only here.
    pub fn input_before_start(&self) -> Option<u64> {
        match self.input_timing {
            InputTiming::BeforeStart => self.input_bytes,
            InputTiming::DuringRun => None,
        }
    }

    /// The limit the execution ran under, else its request.
    pub fn memory_in_force(&self) -> Option<u64> {
        self.memory_limit_bytes.or(self.memory_request_bytes)
    }

    fn sort_key(&self) -> (i64, i64, &str, u32, &str, usize) {
        (
            self.start_ms,
            self.end_ms,
            &self.task,
            self.attempt,
            &self.source.file,
            self.source.line,
        )
    }
}

/// Everything loaded from the history files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    /// Executions per step, each list ordered by start time.
    pub steps: BTreeMap<StepKey, Vec<Execution>>,
    /// Problems that were skipped (lenient mode) or are informational (unmatched series).
    pub warnings: Vec<AutotuneError>,
    /// Records left out on purpose, by reason (e.g. nodes still running), with counts.
    pub ignored: BTreeMap<String, usize>,
}

impl History {
    /// Builds a history from executions, ordering everything deterministically.
    pub fn from_executions(executions: Vec<Execution>) -> Self {
        let mut h = History::default();
        h.extend(executions);
        h
    }

    /// Adds executions, keeping the ordering invariant.
    pub fn extend(&mut self, executions: Vec<Execution>) {
        for e in executions {
            self.steps.entry(e.key()).or_default().push(e);
        }
        for list in self.steps.values_mut() {
            list.sort_by(|a, b| {
                a.sort_key()
                    .partial_cmp(&b.sort_key())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
    }

    /// All executions in step order.
    pub fn executions(&self) -> impl Iterator<Item = &Execution> {
        self.steps.values().flatten()
    }

    /// Number of executions.
    pub fn len(&self) -> usize {
        self.steps.values().map(Vec::len).sum()
    }

    /// True when nothing was loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pipelines present, sorted.
    pub fn pipelines(&self) -> Vec<String> {
        let mut names: Vec<String> = self.steps.keys().map(|k| k.pipeline.clone()).collect();
        names.dedup();
        names
    }

    /// Counts a deliberately ignored record.
    pub fn ignore(&mut self, reason: &str) {
        *self.ignored.entry(reason.to_string()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_deterministically() {
        let mut a = Execution::new("p", "s", 2000, 1.0);
        a.task = "b".into();
        let b = Execution::new("p", "s", 1000, 1.0);
        let c = Execution::new("p", "a", 5000, 1.0);
        let h = History::from_executions(vec![a, b, c]);
        let keys: Vec<_> = h.steps.keys().map(|k| k.step.clone()).collect();
        assert_eq!(keys, ["a", "s"]);
        assert_eq!(h.steps[&StepKey::new("p", "s")][0].start_ms, 1000);
        assert_eq!(h.len(), 3);
        assert_eq!(h.pipelines(), ["p"]);
    }

    #[test]
    fn only_inputs_known_before_start_are_given_out() {
        let mut e = Execution::new("p", "s", 0, 1.0);
        e.input_bytes = Some(42);
        assert_eq!(e.input_timing, InputTiming::DuringRun);
        assert_eq!(e.input_before_start(), None);
        e.input_timing = InputTiming::BeforeStart;
        assert_eq!(e.input_before_start(), Some(42));
    }
}
