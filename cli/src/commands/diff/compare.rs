//! The comparison of two plans of a pipeline: steps added and removed, what changed in the
//! steps both have and in the pipeline itself, and which steps will recompute.
//!
//! A step recomputes when what its cache key is made of changes (`runtime/src/task/cache.rs`):
//! its definition (image, command, environment, built-in), its arguments (with parameters at
//! their defaults, as `flowc run` passes them), or the outputs of a step it reads, which
//! change when that step recomputes. This is what `flowc run --explain-cache` reports on the
//! next run, for steps whose outputs follow from their inputs.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use flowc_compiler::plan::{PipelinePlan, Plan, ResourcesPlan, Task, TaskKind};
use flowc_compiler::units::{format_cpu, format_memory};

/// What changed between two plans.
#[derive(Debug, Default, Serialize)]
pub(crate) struct PlanDiff {
    /// The entry pipeline (of the new plan).
    pub(crate) pipeline: String,
    /// Steps only the new version has.
    pub(crate) added: Vec<StepRef>,
    /// Steps only the old version has.
    pub(crate) removed: Vec<StepRef>,
    /// Changes of the pipeline (no step) and of steps both versions have.
    pub(crate) changes: Vec<Change>,
    /// The steps whose cache key changes: what the next run recomputes.
    pub(crate) recompute: Vec<Recompute>,
}

/// A call of the pipeline: its name and the step it calls.
#[derive(Debug, Serialize)]
pub(crate) struct StepRef {
    pub(crate) task: String,
    pub(crate) step: String,
}

/// One change: of a step (`task`) or of the pipeline (no `task`).
#[derive(Debug, Serialize)]
pub(crate) struct Change {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task: Option<String>,
    /// `image`, `command`, `env`, `step`, `arguments`, `resources`, `secrets`, `cache`,
    /// `parameter`, `schedule`.
    pub(crate) what: &'static str,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
}

/// A step the next run recomputes, and why.
#[derive(Debug, Serialize)]
pub(crate) struct Recompute {
    pub(crate) task: String,
    pub(crate) reason: String,
}

/// Compares the entry pipelines of `old` and `new`.
pub(crate) fn compare(old: &Plan, new: &Plan) -> PlanDiff {
    let (Some(o), Some(n)) = (old.entry(), new.entry()) else {
        return PlanDiff::default();
    };
    let mut diff = PlanDiff {
        pipeline: n.name.clone(),
        ..PlanDiff::default()
    };
    pipeline_changes(o, n, &mut diff.changes);
    let old_tasks: HashMap<&str, &Task> = o.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    for t in &n.tasks {
        match old_tasks.get(t.id.as_str()) {
            None => diff.added.push(step_ref(t)),
            Some(before) => step_changes(before, t, old, new, &mut diff.changes),
        }
    }
    let new_ids: Vec<&str> = n.tasks.iter().map(|t| t.id.as_str()).collect();
    for t in o.tasks.iter().filter(|t| !new_ids.contains(&t.id.as_str())) {
        diff.removed.push(step_ref(t));
    }
    diff.recompute = recomputed(old, new, o, n);
    diff
}

fn step_ref(t: &Task) -> StepRef {
    StepRef {
        task: t.id.clone(),
        step: t.step.clone(),
    }
}

/// Parameters (added, removed, type or default changed) and the schedule.
fn pipeline_changes(o: &PipelinePlan, n: &PipelinePlan, out: &mut Vec<Change>) {
    let text = |p: &flowc_compiler::plan::PlanParam| {
        let ty = serde_json::to_string(&p.ty).unwrap_or_default();
        match &p.default {
            Some(d) => format!("{}: {ty} = {d}", p.name),
            None => format!("{}: {ty}", p.name),
        }
    };
    for p in &n.params {
        let before = o.params.iter().find(|q| q.name == p.name).map(text);
        let after = Some(text(p));
        if before != after {
            out.push(change(None, "parameter", before, after));
        }
    }
    for p in o
        .params
        .iter()
        .filter(|p| !n.params.iter().any(|q| q.name == p.name))
    {
        out.push(change(None, "parameter", Some(text(p)), None));
    }
    let schedule = |p: &PipelinePlan| {
        p.schedule.as_ref().map(|s| match &s.timezone {
            Some(tz) => format!("{} ({tz})", s.cron),
            None => format!("{} (UTC)", s.cron),
        })
    };
    if schedule(o) != schedule(n) {
        out.push(change(None, "schedule", schedule(o), schedule(n)));
    }
}

fn change(
    task: Option<&str>,
    what: &'static str,
    before: Option<String>,
    after: Option<String>,
) -> Change {
    Change {
        task: task.map(str::to_string),
        what,
        before,
        after,
    }
}

/// What changed in a step both versions call.
fn step_changes(o: &Task, n: &Task, old: &Plan, new: &Plan, out: &mut Vec<Change>) {
    let id = Some(n.id.as_str());
    let mut push = |what: &'static str, before: String, after: String| {
        if before != after {
            out.push(change(id, what, Some(before), Some(after)));
        }
    };
    match (&o.kind, &n.kind) {
        (
            TaskKind::Container {
                image: i1,
                command: c1,
                env: e1,
                python: p1,
            },
            TaskKind::Container {
                image: i2,
                command: c2,
                env: e2,
                python: p2,
            },
        ) => {
            let function = |p: &Option<flowc_compiler::plan::python::PythonCall>| {
                p.as_ref().map(|c| c.reference()).unwrap_or_default()
            };
            push("python function", function(p1), function(p2));
            push("image", i1.clone(), i2.clone());
            push("command", compact(c1), compact(c2));
            push("env", compact(e1), compact(e2));
        }
        _ => push("step", kind_text(o), kind_text(n)),
    }
    push("arguments", inputs_text(o), inputs_text(n));
    push(
        "resources",
        resources_text(&o.settings.resources.in_force()),
        resources_text(&n.settings.resources.in_force()),
    );
    push("secrets", secrets_text(o, old), secrets_text(n, new));
    push(
        "cache",
        compact(&o.settings.cache),
        compact(&n.settings.cache),
    );
}

fn compact<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn kind_text(t: &Task) -> String {
    match &t.kind {
        TaskKind::Container { image, .. } => format!("{} (image {image})", t.step),
        TaskKind::Builtin { module, name } => format!("{module}.{name}"),
        TaskKind::Pipeline { pipeline } => format!("pipeline {pipeline}"),
    }
}

fn inputs_text(t: &Task) -> String {
    let parts: Vec<String> = t
        .inputs
        .iter()
        .map(|i| format!("{}: {}", i.name, compact(&i.value)))
        .collect();
    parts.join(", ")
}

/// `cpu 2, memory 4Gi, gpu 1 (nvidia-tesla-t4)`, or `none`.
fn resources_text(r: &ResourcesPlan) -> String {
    let mut parts = Vec::new();
    if let Some(c) = r.cpu_millis {
        parts.push(format!("cpu {}", format_cpu(c)));
    }
    if let Some(c) = r.cpu_limit_millis {
        parts.push(format!("cpu limit {}", format_cpu(c)));
    }
    if let Some(m) = r.memory_bytes {
        parts.push(format!("memory {}", format_memory(m)));
    }
    if let Some(m) = r.memory_limit_bytes {
        parts.push(format!("memory limit {}", format_memory(m)));
    }
    if let Some(g) = r.gpu {
        match &r.gpu_type {
            Some(t) => parts.push(format!("gpu {g} ({t})")),
            None => parts.push(format!("gpu {g}")),
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The secrets a step reads: `env TOKEN = api_token (Secret panel-api, key token)`.
fn secrets_text(t: &Task, plan: &Plan) -> String {
    let source = |s: &str| match plan.secrets.get(s) {
        Some(r) => match &r.name_param {
            Some(p) => format!("{s} (Secret named by parameter {p}, key {})", r.key),
            None => format!("{s} (Secret {}, key {})", r.k8s_name, r.key),
        },
        None => s.to_string(),
    };
    let mut parts: Vec<String> = t
        .settings
        .secret_env
        .iter()
        .map(|(var, s)| format!("env {var} = {}", source(s)))
        .collect();
    parts.extend(
        t.settings
            .secret_mounts
            .iter()
            .map(|(path, s)| format!("{} at {path}", source(s))),
    );
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join("; ")
    }
}

/// The steps of `n` whose cache key differs from the same step's in `o`, with the first reason.
fn recomputed(old: &Plan, new: &Plan, o: &PipelinePlan, n: &PipelinePlan) -> Vec<Recompute> {
    let before = identities(old, o);
    let after = identities(new, n);
    let old_tasks: HashMap<&str, &Task> = o.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut out: Vec<Recompute> = Vec::new();
    for t in &n.tasks {
        let Some(prev) = old_tasks.get(t.id.as_str()) else {
            out.push(Recompute {
                task: t.id.clone(),
                reason: "a new step".into(),
            });
            continue;
        };
        let (Some(a), Some(b)) = (before.get(&t.id), after.get(&t.id)) else {
            continue;
        };
        if a.key == b.key {
            continue;
        }
        let upstream = t
            .data_deps
            .iter()
            .find(|d| out.iter().any(|r| &r.task == *d));
        let reason = if prev.definition_sha256 != t.definition_sha256 || a.callee != b.callee {
            "its definition changed (image, command, environment or built-in)".to_string()
        } else if a.arguments != b.arguments {
            "its arguments changed".to_string()
        } else if let Some(d) = upstream {
            format!("it reads `{d}`, which recomputes")
        } else {
            "what it reads changed".to_string()
        };
        out.push(Recompute {
            task: t.id.clone(),
            reason,
        });
    }
    out
}

/// What a task's cache key is made of, as far as the plan knows before running.
struct Identity {
    key: String,
    arguments: String,
    callee: String,
}

/// The identity of every task of pipeline `p`, dependencies first.
fn identities(plan: &Plan, p: &PipelinePlan) -> HashMap<String, Identity> {
    let defaults: HashMap<&str, Json> = p
        .params
        .iter()
        .map(|q| (q.name.as_str(), q.default.clone().unwrap_or(Json::Null)))
        .collect();
    let mut done: HashMap<String, Identity> = HashMap::new();
    // Each pass settles every task whose dependencies are settled; a cycle (none in a checked
    // plan) leaves the rest out rather than looping.
    loop {
        let before = done.len();
        for t in &p.tasks {
            if done.contains_key(&t.id) || !t.data_deps.iter().all(|d| done.contains_key(d)) {
                continue;
            }
            let mut inputs = serde_json::to_value(&t.inputs).unwrap_or(Json::Null);
            with_defaults(&mut inputs, &defaults);
            let loops: Vec<Json> = t
                .loops
                .iter()
                .filter_map(|l| p.loops.get(*l))
                .map(|l| serde_json::to_value(l).unwrap_or(Json::Null))
                .collect();
            let callee = match &t.kind {
                TaskKind::Pipeline { pipeline } => plan
                    .pipelines
                    .get(pipeline)
                    .map(compact)
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let deps: Vec<&str> = t
                .data_deps
                .iter()
                .filter_map(|d| done.get(d).map(|i| i.key.as_str()))
                .collect();
            let arguments = compact(&json!([inputs, loops]));
            let all = json!([t.definition_sha256, arguments, callee, deps]);
            let key = format!("{:x}", Sha256::digest(compact(&all).as_bytes()));
            done.insert(
                t.id.clone(),
                Identity {
                    key,
                    arguments,
                    callee,
                },
            );
        }
        if done.len() == before {
            return done;
        }
    }
}

/// Replaces every parameter reference (`{"kind": "param", "name": N}`) by the parameter's
/// default, the value `flowc run` passes when none is given.
fn with_defaults(v: &mut Json, defaults: &HashMap<&str, Json>) {
    match v {
        Json::Object(m) => {
            if m.get("kind").and_then(Json::as_str) == Some("param") {
                let name = m.get("name").and_then(Json::as_str).unwrap_or_default();
                let value = defaults.get(name).cloned().unwrap_or(Json::Null);
                m.insert("default".into(), value);
                return;
            }
            for x in m.values_mut() {
                with_defaults(x, defaults);
            }
        }
        Json::Array(items) => {
            for x in items {
                with_defaults(x, defaults);
            }
        }
        _ => {}
    }
}
