//! Joins Prometheus per-pod usage to executions.
//!
//! A pod joins the execution with the same pod name (Argo nodes know theirs; namespaces must
//! agree when both are known): the execution gets the peak working set, CPU seconds and GPU
//! utilisation it lacks. A pod without such an execution but with step labels (kube-state-metrics
//! pod labels joined into the export: `label_flowc_dev_step` and `label_flowc_dev_pipeline` or
//! `label_app_kubernetes_io_name`) becomes an execution of its own, timed by its first and last
//! samples. Any other pod is an A009 warning: it is never silently dropped.

use super::flowc_ident;
use super::prometheus::PodUsage;
use crate::error::{AutotuneError, ErrorCode};
use crate::history::{Execution, Outcome};
use std::collections::BTreeMap;

const STEP_LABELS: [&str; 3] = ["label_flowc_dev_step", "flowc_dev_step", "step"];
const PIPELINE_LABELS: [&str; 4] = [
    "label_flowc_dev_pipeline",
    "flowc_dev_pipeline",
    "label_app_kubernetes_io_name",
    "pipeline",
];
const RUN_LABELS: [&str; 2] = ["label_workflows_argoproj_io_workflow", "workflow"];

/// Joins `pods` into `executions`; returns A009 warnings for pods that fit nowhere.
pub fn join(executions: &mut Vec<Execution>, pods: Vec<PodUsage>) -> Vec<AutotuneError> {
    // Merge partial views (memory, CPU and GPU usually come from separate exports).
    let mut merged: BTreeMap<(Option<String>, String), PodUsage> = BTreeMap::new();
    for p in pods {
        match merged.get_mut(&(p.namespace.clone(), p.pod.clone())) {
            Some(existing) => existing.merge(&p),
            None => {
                merged.insert((p.namespace.clone(), p.pod.clone()), p);
            }
        }
    }
    let mut by_pod: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in executions.iter().enumerate() {
        if let Some(pod) = &e.pod {
            by_pod.entry(pod.as_str()).or_default().push(i);
        }
    }
    let mut updates: Vec<(usize, PodUsage)> = Vec::new();
    let mut standalone: Vec<Execution> = Vec::new();
    let mut warnings = Vec::new();
    for ((_, pod), usage) in merged {
        if let Some(&i) = by_pod.get(pod.as_str()).and_then(|v| v.first()) {
            updates.push((i, usage));
            continue;
        }
        let label = |keys: &[&str]| keys.iter().find_map(|k| usage.labels.get(*k)).cloned();
        match (label(&STEP_LABELS), label(&PIPELINE_LABELS)) {
            (Some(step), Some(pipeline)) => {
                let wall = usage.last_ms.saturating_sub(usage.first_ms).max(0) as f64 / 1000.0;
                let mut e = Execution::new(&flowc_ident(&pipeline), &flowc_ident(&step), usage.first_ms, wall);
                e.run_id = label(&RUN_LABELS).unwrap_or_else(|| pod.clone());
                e.task = e.step.clone();
                e.outcome = Outcome::Ok;
                e.peak_memory_bytes = usage.peak_memory_bytes;
                e.cpu_seconds = usage.cpu_seconds;
                e.gpu_util = usage.gpu_util;
                e.pod = Some(pod.clone());
                e.source = usage.source.clone();
                standalone.push(e);
            }
            _ => warnings.push(AutotuneError::new(
                ErrorCode::UnmatchedSeries,
                &usage.source.file,
                Some(usage.source.line),
                format!("pod `{pod}` matches no Argo node and has no `label_flowc_dev_step`/`label_flowc_dev_pipeline` labels; its series are not used"),
            )),
        }
    }
    for (i, usage) in updates {
        let e = &mut executions[i];
        if e.peak_memory_bytes.is_none() {
            e.peak_memory_bytes = usage.peak_memory_bytes;
        }
        if e.cpu_seconds.is_none() {
            e.cpu_seconds = usage.cpu_seconds;
        }
        if e.gpu_util.is_none() {
            e.gpu_util = usage.gpu_util;
        }
        // A pod killed for memory shows a working set at (or just under) its limit; the limit is
        // the better lower bound of what it needed.
        if e.outcome == Outcome::Oom {
            if let (Some(peak), Some(limit)) = (e.peak_memory_bytes, e.memory_limit_bytes) {
                e.peak_memory_bytes = Some(peak.max(limit));
            }
        }
    }
    executions.extend(standalone);
    warnings
}
