//! The documents: the `WorkflowTemplate` (and a `CronWorkflow` for scheduled pipelines).
//!
//! The template's name carries the major and minor version (`daily-weighting-v1-2` for
//! `1.2.0`) so that versions coexist in a namespace; the full version, the pipeline and a hash
//! of the sources are labels and annotations. Templates are ordered by a depth-first walk from
//! the entrypoint, so each DAG is followed by what it calls. Argo's limit of 200 templates per
//! spec is kept here: beyond it, the step templates move into `WorkflowTemplate`s of their own
//! (`<name>-steps-N`), called with `templateRef`.

use indexmap::IndexMap;
use serde_json::{json, Map, Value as Json};

use super::resolve::Ref;
use super::text::{text_form, Text};
use super::{WorkflowEmitter, MAX_TEMPLATES};

use crate::diagnostics;
use crate::names::dns_label;
use crate::obj;
use flowc_compiler::plan::{PipelinePlan, Schedule, TypeRepr};

/// The longest CronWorkflow name (Argo appends a suffix to it).
const CRON_NAME_MAX: usize = 52;

/// The name suffix of a version: `-v1-2` for `1.2.0`, `-v3` for `3`.
pub(crate) fn version_suffix(v: &str) -> Result<String, String> {
    let label_ok = !v.is_empty()
        && v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !label_ok {
        return Err(format!(
            "version `{v}` cannot be a Kubernetes label value (at most 63 letters, digits, `.`, \
             `_` or `-`, starting and ending with a letter or digit)"
        ));
    }
    let core = v.strip_prefix('v').unwrap_or(v);
    let core = core.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    if parts.len() > 3 || !parts.iter().all(numeric) {
        return Err(format!(
            "version `{v}` is not of the form MAJOR.MINOR.PATCH (with an optional `-suffix`)"
        ));
    }
    let num = |p: &str| {
        p.parse::<u64>()
            .map_or_else(|_| p.to_string(), |n| n.to_string())
    };
    let mut s = format!("-v{}", num(parts[0]));
    if let Some(minor) = parts.get(1) {
        s.push('-');
        s.push_str(&num(minor));
    }
    Ok(s)
}

/// Templates in depth-first order from the entrypoint (then the exit handler).
/// Keeps the DAG templates in the workflow's own spec and moves the step templates, in order,
/// into `WorkflowTemplate`s of at most [`MAX_TEMPLATES`] each (`<name>-steps-N`), which the
/// DAG tasks call with `templateRef`: Argo accepts at most 200 templates in one spec.
fn split_templates(templates: Vec<Json>, name: &str) -> (Vec<Json>, Vec<(String, Vec<Json>)>) {
    let (mut own, steps): (Vec<Json>, Vec<Json>) =
        templates.into_iter().partition(|t| t.get("dag").is_some());
    let mut libraries: Vec<(String, Vec<Json>)> = Vec::new();
    let mut home: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (i, chunk) in steps.chunks(MAX_TEMPLATES).enumerate() {
        let lib = dns_label(&format!("{name}-steps-{}", i + 1), 63);
        for t in chunk {
            if let Some(n) = t["name"].as_str() {
                home.insert(n.to_string(), lib.clone());
            }
        }
        libraries.push((lib, chunk.to_vec()));
    }
    let to_ref = |call: &mut Json| {
        let Some(obj) = call.as_object_mut() else {
            return;
        };
        let Some(lib) = obj
            .get("template")
            .and_then(Json::as_str)
            .and_then(|t| home.get(t))
        else {
            return;
        };
        if let Some(t) = obj.remove("template") {
            obj.insert("templateRef".into(), obj_ref(lib, t));
        }
    };
    for t in &mut own {
        if let Some(tasks) = t.pointer_mut("/dag/tasks").and_then(Json::as_array_mut) {
            for task in tasks {
                if let Some(exit) = task.pointer_mut("/hooks/exit") {
                    to_ref(exit);
                }
                to_ref(task);
            }
        }
    }
    (own, libraries)
}

/// `templateRef`: the template `template` of the WorkflowTemplate `lib`.
fn obj_ref(lib: &str, template: Json) -> Json {
    obj([("name", json!(lib)), ("template", template)])
}

fn ordered(all: IndexMap<String, Json>, starts: &[String]) -> Vec<Json> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<String> = starts.iter().rev().cloned().collect();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(t) = all.get(&name) else { continue };
        let mut called = Vec::new();
        if let Some(tasks) = t.pointer("/dag/tasks").and_then(Json::as_array) {
            for task in tasks {
                if let Some(n) = task.get("template").and_then(Json::as_str) {
                    called.push(n.to_string());
                }
                if let Some(n) = task.pointer("/hooks/exit/template").and_then(Json::as_str) {
                    called.push(n.to_string());
                }
            }
        }
        for c in called.into_iter().rev() {
            if !seen.contains(&c) {
                stack.push(c);
            }
        }
        out.push(t.clone());
    }
    for (name, t) in &all {
        if !seen.contains(name) {
            out.push(t.clone());
        }
    }
    out
}

/// The documents of the plan.
pub(crate) fn documents(ctx: &mut WorkflowEmitter<'_>, version: Option<&str>) -> Vec<Json> {
    let entry = ctx.entry;
    let p = ctx.pipes[entry];
    let pipeline_label = dns_label(&p.name, 63);

    let suffix = match version {
        None => None,
        Some(v) => match version_suffix(v) {
            Ok(s) => Some((s, v.to_string())),
            Err(message) => {
                let at = ctx.place(entry, None);
                ctx.issues
                    .report(diagnostics::argo_invalid_version(at, message));
                None
            }
        },
    };
    let name = match &suffix {
        Some((s, _)) => format!("{}{s}", dns_label(&p.name, 63 - s.len())),
        None => pipeline_label.clone(),
    };

    let mut labels = Map::new();
    labels.insert("app.kubernetes.io/name".into(), json!(pipeline_label));
    if let Some((_, v)) = &suffix {
        labels.insert("app.kubernetes.io/version".into(), json!(v));
    }
    labels.insert("app.kubernetes.io/managed-by".into(), json!("flowc"));
    labels.insert("flowc.dev/pipeline".into(), json!(pipeline_label));
    let title = match &suffix {
        Some((_, v)) => format!("{} {v}", p.name),
        None => p.name.clone(),
    };
    let description = p
        .description
        .clone()
        .unwrap_or_else(|| format!("The flowc pipeline `{}`.", p.name));
    let annotations = json!({
        "flowc.dev/source-sha256": ctx.plan.source_sha256,
        "workflows.argoproj.io/title": title,
        "workflows.argoproj.io/description": description,
    });
    let mut run_labels = Map::new();
    run_labels.insert("flowc.dev/pipeline".into(), json!(pipeline_label));
    if let Some((_, v)) = &suffix {
        run_labels.insert("app.kubernetes.io/version".into(), json!(v));
    }

    let root = ctx.g.pipes[entry].root;
    let arguments = workflow_arguments(p, &pipeline_label);
    report_unpassable_entry_inputs(ctx);

    // Templates.
    let mut all: IndexMap<String, Json> = IndexMap::new();
    for f in 0..ctx.g.frames.len() {
        let t = ctx.frame_template(f);
        all.insert(ctx.g.frames[f].name.clone(), t);
    }
    for (n, t) in &ctx.leaves {
        all.insert(n.clone(), t.clone());
    }
    let main = ctx.g.frames[root].name.clone();
    let mut starts = vec![main.clone()];
    let exit = ctx.g.pipes[entry]
        .exit
        .map(|e| ctx.g.frames[e].name.clone());
    if let Some(e) = &exit {
        starts.push(e.clone());
    }
    let mut templates = ordered(all, &starts);
    let mut libraries = Vec::new();
    if templates.len() > MAX_TEMPLATES {
        (templates, libraries) = split_templates(templates, &name);
    }
    if templates.len() > MAX_TEMPLATES {
        let at = ctx.place(entry, None);
        ctx.issues.report(diagnostics::argo_too_many_templates(
            at,
            templates.len(),
            MAX_TEMPLATES,
        ));
    }

    let mut spec = Map::new();
    spec.insert("entrypoint".into(), json!(main));
    if let Some(n) = p.parallelism {
        spec.insert("parallelism".into(), json!(n));
    }
    if let Some(e) = exit {
        spec.insert("onExit".into(), json!(e));
    }
    if !arguments.is_empty() {
        spec.insert("arguments".into(), Json::Object(arguments));
    }
    spec.insert(
        "workflowMetadata".into(),
        json!({"labels": Json::Object(run_labels.clone())}),
    );
    if !ctx.volumes.is_empty() {
        let vols: Vec<Json> = ctx
            .volumes
            .iter()
            .map(|(secret, vol)| json!({"name": vol, "secret": {"secretName": secret}}))
            .collect();
        spec.insert("volumes".into(), Json::Array(vols));
    }
    spec.insert("templates".into(), Json::Array(templates));

    let metadata = obj([
        ("name", json!(name)),
        ("labels", Json::Object(labels.clone())),
        ("annotations", annotations),
    ]);
    let mut docs = vec![obj([
        ("apiVersion", json!("argoproj.io/v1alpha1")),
        ("kind", json!("WorkflowTemplate")),
        ("metadata", metadata),
        ("spec", Json::Object(spec)),
    ])];

    for (lib, lib_templates) in libraries {
        let mut lib_labels = labels.clone();
        lib_labels.insert("flowc.dev/templates-of".into(), json!(name));
        docs.push(obj([
            ("apiVersion", json!("argoproj.io/v1alpha1")),
            ("kind", json!("WorkflowTemplate")),
            (
                "metadata",
                obj([("name", json!(lib)), ("labels", Json::Object(lib_labels))]),
            ),
            ("spec", obj([("templates", Json::Array(lib_templates))])),
        ]));
    }

    if let Some(s) = &p.schedule {
        docs.push(json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "CronWorkflow",
            "metadata": {
                "name": dns_label(&name, CRON_NAME_MAX),
                "labels": Json::Object(labels),
            },
            "spec": cron_spec(s, run_labels, &name),
        }));
    }
    docs
}

/// The spec of a `CronWorkflow`: the schedule, its options and the template it starts.
fn cron_spec(s: &Schedule, run_labels: Map<String, Json>, template: &str) -> Json {
    let mut spec = Map::new();
    spec.insert("schedules".into(), json!([s.cron]));
    spec.insert(
        "timezone".into(),
        json!(s.timezone.clone().unwrap_or_else(|| "UTC".into())),
    );
    if let Some(c) = &s.concurrency {
        let policy = match c.as_str() {
            "forbid" => "Forbid",
            "replace" => "Replace",
            _ => "Allow",
        };
        spec.insert("concurrencyPolicy".into(), json!(policy));
    }
    if let Some(ms) = s.starting_deadline_ms {
        spec.insert("startingDeadlineSeconds".into(), json!(ms.div_ceil(1000)));
    }
    if let Some(n) = s.succeeded_history {
        spec.insert("successfulJobsHistoryLimit".into(), json!(n));
    }
    if let Some(n) = s.failed_history {
        spec.insert("failedJobsHistoryLimit".into(), json!(n));
    }
    spec.insert(
        "workflowMetadata".into(),
        json!({"labels": Json::Object(run_labels)}),
    );
    spec.insert(
        "workflowSpec".into(),
        json!({"workflowTemplateRef": {"name": template}}),
    );
    Json::Object(spec)
}

/// The workflow's arguments: the entry pipeline's parameters, as strings (values) or as S3
/// keys under `flowc-inputs/<pipeline>/` (artifacts).
fn workflow_arguments(p: &PipelinePlan, pipeline_label: &str) -> Map<String, Json> {
    let mut params = Vec::new();
    let mut arts = Vec::new();
    for param in &p.params {
        if param.ty.is_artifact() {
            let mut a = Map::new();
            a.insert("name".into(), json!(param.name));
            a.insert(
                "s3".into(),
                json!({"key": format!("flowc-inputs/{pipeline_label}/{}", param.name)}),
            );
            if matches!(param.ty, TypeRepr::Optional { .. }) {
                a.insert("optional".into(), json!(true));
            }
            arts.push(Json::Object(a));
            continue;
        }
        let mut x = Map::new();
        x.insert("name".into(), json!(param.name));
        match &param.default {
            // Argo substitutes the parameters' values where templates read them, so a literal
            // `{{` is escaped as in every other field (docs/targets.md).
            Some(d) => {
                x.insert("value".into(), json!(Text::lit(text_form(d)).simple()));
            }
            None if matches!(param.ty, TypeRepr::Optional { .. }) => {
                x.insert("value".into(), json!(""));
            }
            None => {}
        }
        params.push(Json::Object(x));
    }
    let mut arguments = Map::new();
    if !params.is_empty() {
        arguments.insert("parameters".into(), Json::Array(params));
    }
    if !arts.is_empty() {
        arguments.insert("artifacts".into(), Json::Array(arts));
    }
    arguments
}

/// Reports what the entry DAG or the exit handler would need and nothing passes them.
fn report_unpassable_entry_inputs(ctx: &mut WorkflowEmitter<'_>) {
    let entry = ctx.entry;
    let root = ctx.g.pipes[entry].root;
    let unexpected: Vec<String> = ctx.ports[root]
        .imports
        .keys()
        .filter(|r| !matches!(r, Ref::Param(n) if ctx.param_is_artifact(entry, n)))
        .map(|r| format!("{r:?}"))
        .collect();
    for r in unexpected {
        let at = ctx.place(entry, None);
        ctx.issues
            .report(diagnostics::argo_internal_entry_input(at, &r));
    }
    if let Some(exit) = ctx.g.pipes[entry].exit {
        if !ctx.ports[exit].imports.is_empty() {
            let at = ctx.place(entry, None);
            ctx.issues
                .report(diagnostics::argo_exit_reads_artifacts(at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(version_suffix("1.2.0"), Ok("-v1-2".into()));
        assert_eq!(version_suffix("3"), Ok("-v3".into()));
        assert_eq!(version_suffix("v2.10.1-rc.1"), Ok("-v2-10".into()));
        assert!(version_suffix("1.2.0+build.5").is_err());
        assert!(version_suffix("latest").is_err());
        assert!(version_suffix("").is_err());
        assert!(version_suffix("1.2.3.4").is_err());
    }
}
