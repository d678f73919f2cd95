//! Reader for Argo Workflows status JSON: `argo get -o json`, `kubectl get workflow -o json`, or
//! a list of them (`kubectl get workflows -o json`).
//!
//! Every finished `Pod` node is one execution. The step is the template's `flowc.dev/step` pod
//! label when the template carries one, else the template name, mapped back to a flowc
//! identifier (`load-panel` → `load_panel`). The pipeline is the workflow's
//! `app.kubernetes.io/name` label, else its WorkflowTemplate, else its `generateName`. An
//! `OOMKilled` message is an OOM kill; a deadline message is a timeout. Memory, CPU and GPU
//! requests and limits come from the template's container. Argo's status carries no peak memory:
//! that comes from Prometheus, joined by pod name (see [`super::join`]).

use super::{flowc_ident, Fields, ReadOutput, Sink};
use crate::error::{AutotuneError, ErrorCode};
use crate::history::{Execution, Outcome, Provenance};
use crate::json::Json;
use crate::units;

/// Reads a workflow or a list of workflows.
pub fn read(doc: &Json, sink: &mut Sink<'_>) -> Result<ReadOutput, AutotuneError> {
    let f = Fields { sink };
    let mut out = ReadOutput::default();
    match f.opt(doc, "items") {
        Some(items) => {
            let list = items.as_array().ok_or_else(|| {
                sink.error(
                    ErrorCode::WrongType,
                    items.line,
                    format!(
                        "field `items` should be an array, found {}",
                        items.type_name()
                    ),
                )
            })?;
            for wf in list {
                workflow(wf, sink, &mut out)?;
            }
        }
        None => workflow(doc, sink, &mut out)?,
    }
    Ok(out)
}

/// The template named `name`, looked up in the spec, the stored templates and the stored
/// WorkflowTemplate spec.
fn find_template<'j>(wf: &'j Json, name: &str) -> Option<&'j Json> {
    let by_name = |list: Option<&'j Json>| -> Option<&'j Json> {
        list?
            .as_array()?
            .iter()
            .find(|t| t.get("name").and_then(Json::as_str) == Some(name))
    };
    let spec = wf.get("spec");
    let status = wf.get("status");
    by_name(spec.and_then(|s| s.get("templates")))
        .or_else(|| {
            by_name(
                status
                    .and_then(|s| s.get("storedWorkflowTemplateSpec"))
                    .and_then(|s| s.get("templates")),
            )
        })
        .or_else(|| {
            status?
                .get("storedTemplates")?
                .as_object()?
                .iter()
                .map(|(_, t)| t)
                .find(|t| t.get("name").and_then(Json::as_str) == Some(name))
        })
}

fn label<'j>(obj: Option<&'j Json>, key: &str) -> Option<&'j str> {
    obj?.get("metadata")?.get("labels")?.get(key)?.as_str()
}

fn workflow(wf: &Json, sink: &mut Sink<'_>, out: &mut ReadOutput) -> Result<(), AutotuneError> {
    let f = Fields { sink };
    let meta = f.req_obj(wf, "metadata", "metadata")?;
    let wf_name = f.req_str(meta, "name", "metadata.name")?;
    let status = f.req_obj(wf, "status", "status")?;
    let pipeline_raw = label(Some(wf), "app.kubernetes.io/name")
        .or_else(|| label(Some(wf), "workflows.argoproj.io/workflow-template"))
        .or_else(|| {
            wf.get("spec")?
                .get("workflowTemplateRef")?
                .get("name")?
                .as_str()
        })
        .or_else(|| meta.get("generateName")?.as_str())
        .unwrap_or(wf_name);
    let pipeline = flowc_ident(pipeline_raw);
    let version = label(Some(wf), "app.kubernetes.io/version").map(str::to_string);
    let Some(nodes) = f.opt(status, "nodes") else {
        out.ignored.push("Argo workflow without nodes".to_string());
        return Ok(());
    };
    let nodes = nodes.as_object().ok_or_else(|| {
        sink.error(
            ErrorCode::WrongType,
            nodes.line,
            format!(
                "field `status.nodes` should be an object, found {}",
                nodes.type_name()
            ),
        )
    })?;
    let ctx = WorkflowCtx {
        wf,
        wf_name,
        pipeline: &pipeline,
        version: version.as_deref(),
    };
    for (id, node) in nodes {
        match pod_node(&ctx, id, node, &Fields { sink }) {
            Ok(Ok(e)) => out.executions.push(e),
            Ok(Err(reason)) => {
                if let Some(reason) = reason {
                    out.ignored.push(reason);
                }
            }
            Err(e) => sink.record(e),
        }
    }
    Ok(())
}

struct WorkflowCtx<'j> {
    wf: &'j Json,
    wf_name: &'j str,
    pipeline: &'j str,
    version: Option<&'j str>,
}

/// Splits Argo's display name into the task name and attempt: `rake(0:a)(1)` → (`rake[0]`, 2).
fn task_and_attempt(display: &str) -> (String, u32) {
    let mut name = display.to_string();
    let mut attempt = 1;
    // `(` is one byte, so `open + 1` is a character boundary; the `)` is stripped, never cut at
    // a byte offset (a name ending in `(` or in a multi-byte character once panicked here: a
    // finding of the `autotune` fuzz target).
    if let Some(open) = name.rfind('(') {
        let inner = name[open + 1..].strip_suffix(')').unwrap_or_default();
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
            attempt = inner
                .parse::<u32>()
                .map(|n| n.saturating_add(1))
                .unwrap_or(1);
            name.truncate(open);
        }
    }
    if let Some(open) = name.find('(') {
        if let Some(inner) = name[open + 1..].strip_suffix(')') {
            let index = inner.split(':').next().unwrap_or(inner).to_string();
            name = format!("{}[{}]", &name[..open], index);
        }
    }
    (name, attempt)
}

type NodeResult = Result<Result<Execution, Option<String>>, AutotuneError>;

fn pod_node(ctx: &WorkflowCtx<'_>, id: &str, node: &Json, f: &Fields<'_, '_>) -> NodeResult {
    let sink = f.sink;
    if node.as_object().is_none() {
        return Err(sink.error(
            ErrorCode::WrongType,
            node.line,
            format!(
                "node `{id}` should be an object, found {}",
                node.type_name()
            ),
        ));
    }
    let kind = f.req_str(node, "type", &format!("status.nodes.{id}.type"))?;
    if kind == "Skipped" {
        return Ok(Err(Some("Argo node skipped or omitted".to_string())));
    }
    if kind != "Pod" {
        return Ok(Err(None));
    }
    let path = |k: &str| format!("status.nodes.{id}.{k}");
    let phase = f.req_str(node, "phase", &path("phase"))?;
    let message = f.opt_str(node, "message", &path("message"))?.unwrap_or("");
    let exit_code = match f.opt_obj(node, "outputs", &path("outputs"))? {
        Some(outputs) => match f.opt(outputs, "exitCode") {
            Some(v) => match v
                .as_str()
                .map(str::parse::<i64>)
                .or_else(|| v.as_i64().map(Ok))
            {
                Some(Ok(c)) => Some(c),
                _ => {
                    return Err(sink.error(
                        ErrorCode::InvalidValue,
                        v.line,
                        format!("field `{}` is not an exit code", path("outputs.exitCode")),
                    ))
                }
            },
            None => None,
        },
        None => None,
    };
    let lower = message.to_ascii_lowercase();
    let outcome = match phase {
        "Succeeded" => Outcome::Ok,
        "Failed" | "Error" if message.contains("OOMKilled") => Outcome::Oom,
        "Failed" | "Error" if lower.contains("deadline") || lower.contains("timeout") => {
            Outcome::Timeout
        }
        "Failed" | "Error" if exit_code.is_some() || !message.is_empty() => Outcome::Failed,
        "Failed" | "Error" => Outcome::Failed,
        "Skipped" | "Omitted" => return Ok(Err(Some("Argo node skipped or omitted".to_string()))),
        "Pending" | "Running" => return Ok(Err(Some("Argo node not finished".to_string()))),
        other => {
            return Err(sink.error(
                ErrorCode::InvalidValue,
                node.get("phase").map_or(node.line, |v| v.line),
                format!("node `{id}` has unknown phase `{other}`"),
            ))
        }
    };
    let template = f
        .opt_str(node, "templateName", &path("templateName"))?
        .or_else(|| node.get("templateRef")?.get("template")?.as_str());
    let Some(template) = template else {
        return Err(sink.error(
            ErrorCode::MissingField,
            node.line,
            format!("missing field `{}`", path("templateName")),
        ));
    };
    let start_ms = f.req_time(node, "startedAt", &path("startedAt"))?;
    let end_ms = f.req_time(node, "finishedAt", &path("finishedAt"))?;
    if end_ms < start_ms {
        return Err(sink.error(
            ErrorCode::InvalidValue,
            node.line,
            format!("node `{id}` finished before it started"),
        ));
    }
    let tmpl = find_template(ctx.wf, template);
    let step_raw = label(tmpl, "flowc.dev/step").unwrap_or(template);
    let display = f
        .opt_str(node, "displayName", &path("displayName"))?
        .unwrap_or(template);
    let (task, attempt) = task_and_attempt(display);
    let mut e = Execution::new(
        ctx.pipeline,
        &flowc_ident(step_raw),
        start_ms,
        end_ms.saturating_sub(start_ms) as f64 / 1000.0,
    );
    e.end_ms = end_ms;
    e.version = ctx.version.map(str::to_string);
    e.task = task.replace('-', "_");
    e.attempt = attempt;
    e.run_id = ctx.wf_name.to_string();
    e.outcome = outcome;
    // Pod name: v2 naming is `<workflow>-<template>-<hash>`, v1 is the node id.
    let hash = id.rsplit('-').next().unwrap_or(id);
    e.pod = Some(if id.starts_with(ctx.wf_name) && hash != id {
        format!("{}-{}-{}", ctx.wf_name, template, hash)
    } else {
        id.to_string()
    });
    if let Some(resources) = tmpl
        .and_then(|t| t.get("container"))
        .and_then(|c| c.get("resources"))
    {
        let get =
            |section: &str, key: &str| resources.get(section)?.get(key).and_then(quantity_text);
        e.memory_limit_bytes = get("limits", "memory").and_then(|q| units::parse_memory(&q));
        e.memory_request_bytes = get("requests", "memory")
            .and_then(|q| units::parse_memory(&q))
            .or(e.memory_limit_bytes);
        e.cpu_limit_millis = get("limits", "cpu").and_then(|q| units::parse_cpu_millis(&q));
        e.cpu_request_millis = get("requests", "cpu")
            .and_then(|q| units::parse_cpu_millis(&q))
            .or(e.cpu_limit_millis);
        e.gpu_count = get("limits", "nvidia.com/gpu")
            .and_then(|q| q.parse::<u32>().ok())
            .unwrap_or(0);
    }
    e.source = Provenance {
        file: sink.file.to_string(),
        line: node.line,
    };
    Ok(Ok(e))
}

/// A quantity written as a string (`"4Gi"`) or a bare number (`2`).
fn quantity_text(v: &Json) -> Option<String> {
    match &v.kind {
        crate::json::JsonKind::String(s) => Some(s.clone()),
        crate::json::JsonKind::Number(n) => Some(n.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(
            task_and_attempt("load-panel"),
            ("load-panel".to_string(), 1)
        );
        assert_eq!(
            task_and_attempt("load-panel(1)"),
            ("load-panel".to_string(), 2)
        );
        assert_eq!(task_and_attempt("rake(3:a)"), ("rake[3]".to_string(), 1));
        assert_eq!(task_and_attempt("rake(3:a)(0)"), ("rake[3]".to_string(), 1));
    }
}

#[cfg(test)]
mod display_name_tests {
    use super::task_and_attempt;

    #[test]
    fn display_names_split_into_task_and_attempt_whatever_they_end_with() {
        assert_eq!(task_and_attempt("rake(0:a)(1)"), ("rake[0]".into(), 2));
        assert_eq!(task_and_attempt("load"), ("load".into(), 1));
        // Inputs the `autotune` fuzz target found (they panicked), and their relatives.
        for name in [
            "rake(0:north)(0\u{fffd}",
            "rake(0:north)(0(",
            "(",
            "x(é",
            "é(",
            "a()",
        ] {
            let (task, attempt) = task_and_attempt(name);
            assert!(!task.is_empty() || name == "(", "{name}");
            assert_eq!(attempt, 1, "{name}");
        }
    }
}
