//! The documents: the `WorkflowTemplate` (and a `CronWorkflow` for scheduled pipelines).
//!
//! The template's name carries the whole version (`daily-weighting-v1-2-1` for `1.2.1`, see
//! [`super::release`]) so that versions coexist in a namespace; the version, the pipeline and a
//! hash of the sources are labels and annotations. With a channel, the alias template follows. Templates are ordered by a depth-first walk from
//! the entrypoint, so each DAG is followed by what it calls. Argo's limit of 200 templates per
//! spec is kept here: beyond it, the step templates move into `WorkflowTemplate`s of their own
//! (`<name>-steps-N`), called with `templateRef`.

use indexmap::IndexMap;
use serde_json::{json, Map, Value as Json};

use super::release::{alias_document, alias_name, check_channel, version_suffix, versioned_name};
use super::resolve::Ref;
use super::text::{text_form, Text};
use super::{WorkflowEmitter, MAX_TEMPLATES};

use crate::diagnostics;
use crate::names::{dns_label, DNS_LABEL_MAX};
use crate::obj;
use flowc_compiler::plan::{PipelinePlan, Schedule, TypeRepr};

/// The workflow's volumes: Secrets, ConfigMaps and existing claims in `volumes`, claims
/// created for the run in `volumeClaimTemplates` (deleted when the workflow completes,
/// `volumeClaimGC`).
fn insert_volumes(ctx: &WorkflowEmitter<'_>, spec: &mut Map<String, Json>) {
    // The outputs volume: declared once here rather than in every template that mounts it;
    // Argo adds a workflow volume to each pod whose containers mount it, and an `emptyDir`
    // belongs to its pod, so every step still writes into a folder of its own.
    let outputs = ctx
        .outputs_volume
        .then(|| json!({"name": super::leaf::OUTPUTS_VOLUME, "emptyDir": {}}));
    let secrets = ctx
        .volumes
        .iter()
        .map(|(secret, vol)| json!({"name": vol, "secret": {"secretName": secret}}));
    let configs = ctx
        .config_volumes
        .iter()
        .map(|(config, vol)| json!({"name": vol, "configMap": {"name": config}}));
    let claims = ctx.pvc_volumes.iter().filter_map(|(v, vol)| {
        let claim = ctx.plan.volumes.get(v)?.claim.as_ref()?;
        Some(json!({"name": vol, "persistentVolumeClaim": {"claimName": claim}}))
    });
    let volumes: Vec<Json> = outputs
        .into_iter()
        .chain(secrets)
        .chain(configs)
        .chain(claims)
        .collect();
    if !volumes.is_empty() {
        spec.insert("volumes".into(), Json::Array(volumes));
    }
    let templates: Vec<Json> = ctx
        .pvc_volumes
        .iter()
        .filter_map(|(v, vol)| {
            let r = ctx.plan.volumes.get(v).filter(|r| r.created())?;
            let mut claim = Map::new();
            claim.insert(
                "accessModes".into(),
                json!([r.access.as_deref().unwrap_or("ReadWriteOnce")]),
            );
            claim.insert(
                "resources".into(),
                json!({"requests": {"storage": r.size.as_deref().unwrap_or("1Gi")}}),
            );
            if let Some(sc) = &r.storage_class {
                claim.insert("storageClassName".into(), json!(sc));
            }
            Some(json!({"metadata": {"name": vol}, "spec": Json::Object(claim)}))
        })
        .collect();
    if !templates.is_empty() {
        spec.insert("volumeClaimTemplates".into(), Json::Array(templates));
        spec.insert(
            "volumeClaimGC".into(),
            json!({"strategy": "OnWorkflowCompletion"}),
        );
    }
}

/// The longest CronWorkflow name (Argo appends a suffix to it).
const CRON_NAME_MAX: usize = 52;

/// Templates in depth-first order from the entrypoint (then the exit handler).
/// Keeps the DAG templates in the workflow's own spec and moves the step templates, in order,
/// into `WorkflowTemplate`s of at most [`MAX_TEMPLATES`] each (`<name>-steps-N`), which the
/// DAG tasks call with `templateRef`: Argo accepts at most 200 templates in one spec.
fn split_templates(templates: Vec<Json>, name: &str) -> (Vec<Json>, Vec<(String, Vec<Json>)>) {
    let (mut own, steps): (Vec<Json>, Vec<Json>) =
        templates.into_iter().partition(|t| t.get("dag").is_some());
    let mut libraries: Vec<(String, Vec<Json>)> = Vec::new();
    let mut home: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut steps = steps.into_iter().peekable();
    while steps.peek().is_some() {
        let lib = dns_label(&format!("{name}-steps-{}", libraries.len() + 1), 63);
        let chunk: Vec<Json> = steps.by_ref().take(MAX_TEMPLATES).collect();
        for t in &chunk {
            if let Some(n) = t["name"].as_str() {
                home.insert(n.to_string(), lib.clone());
            }
        }
        libraries.push((lib, chunk));
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
    let mut order = Vec::with_capacity(all.len());
    let mut seen = vec![false; all.len()];
    let mut stack: Vec<&str> = starts.iter().rev().map(String::as_str).collect();
    while let Some(name) = stack.pop() {
        let Some((i, _, t)) = all.get_full(name) else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let mut called = Vec::new();
        if let Some(tasks) = t.pointer("/dag/tasks").and_then(Json::as_array) {
            for task in tasks {
                if let Some(n) = task.get("template").and_then(Json::as_str) {
                    called.push(n);
                }
                if let Some(n) = task.pointer("/hooks/exit/template").and_then(Json::as_str) {
                    called.push(n);
                }
            }
        }
        let unseen = |c: &&str| all.get_index_of(*c).is_none_or(|j| !seen[j]);
        stack.extend(called.into_iter().rev().filter(unseen));
        order.push(i);
    }
    order.extend((0..all.len()).filter(|&i| !seen[i]));
    // Every template is moved out once, in that order.
    let mut slots: Vec<Option<Json>> = all.into_values().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The names of one build: the pipeline's label, the versioned template, the version, and
/// the channel with its alias.
struct Release {
    pipeline_label: String,
    name: String,
    version: Option<String>,
    alias: Option<(String, String)>,
}

impl Release {
    /// The names of the entry pipeline at `version` on `channel`, reporting an invalid version
    /// or channel (the documents are then written without it).
    fn of(ctx: &mut WorkflowEmitter<'_>, version: Option<&str>, channel: Option<&str>) -> Release {
        let entry = ctx.entry;
        let p = ctx.pipes[entry];
        let pipeline_label = dns_label(&p.name, DNS_LABEL_MAX);
        let suffix = match version.map(|v| (v, version_suffix(v))) {
            None => None,
            Some((v, Ok(s))) => Some((s, v.to_string())),
            Some((_, Err(message))) => {
                let at = ctx.place(entry, None);
                ctx.issues
                    .report(diagnostics::argo_invalid_version(at, message));
                None
            }
        };
        let alias = match channel.map(|c| (c, check_channel(c))) {
            None => None,
            Some((c, Ok(()))) => Some((c.to_string(), alias_name(&p.name, c))),
            Some((_, Err(message))) => {
                let at = ctx.place(entry, None);
                ctx.issues
                    .report(diagnostics::argo_invalid_channel(at, message));
                None
            }
        };
        Release {
            name: match &suffix {
                Some((s, _)) => versioned_name(&p.name, s),
                None => pipeline_label.clone(),
            },
            pipeline_label,
            version: suffix.map(|(_, v)| v),
            alias,
        }
    }

    /// The labels of the documents (`channel` adds `flowc.dev/channel`).
    fn labels(&self, channel: bool) -> Map<String, Json> {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/name".into(), json!(self.pipeline_label));
        if let Some(v) = &self.version {
            labels.insert("app.kubernetes.io/version".into(), json!(v));
        }
        labels.insert("app.kubernetes.io/managed-by".into(), json!("flowc"));
        labels.insert("flowc.dev/pipeline".into(), json!(self.pipeline_label));
        if let Some((c, _)) = self.alias.as_ref().filter(|_| channel) {
            labels.insert("flowc.dev/channel".into(), json!(c));
        }
        labels
    }

    /// The labels of every run (`spec.workflowMetadata`).
    fn run_labels(&self) -> Map<String, Json> {
        let mut run_labels = Map::new();
        run_labels.insert("flowc.dev/pipeline".into(), json!(self.pipeline_label));
        if let Some(v) = &self.version {
            run_labels.insert("app.kubernetes.io/version".into(), json!(v));
        }
        run_labels
    }

    /// The labels of the runs the schedule starts: those of every run, and the channel.
    fn cron_run_labels(&self, mut run_labels: Map<String, Json>) -> Map<String, Json> {
        if let Some((c, _)) = &self.alias {
            run_labels.insert("flowc.dev/channel".into(), json!(c));
        }
        run_labels
    }

    /// The name of the `CronWorkflow`: the alias's, or the pipeline's; never a version's, so
    /// that applying another version replaces the schedule instead of adding one.
    fn cron_name(&self) -> String {
        let base = self.alias.as_ref().map_or(&self.pipeline_label, |(_, a)| a);
        dns_label(base, CRON_NAME_MAX)
    }
}

/// The annotations of the versioned template.
fn annotations(ctx: &WorkflowEmitter<'_>, release: &Release) -> Json {
    let p = ctx.pipes[ctx.entry];
    let title = match &release.version {
        Some(v) => format!("{} {v}", p.name),
        None => p.name.clone(),
    };
    let description = p
        .description
        .clone()
        .unwrap_or_else(|| format!("The flowc pipeline `{}`.", p.name));
    let mut a = Map::new();
    a.insert(
        "flowc.dev/source-sha256".into(),
        json!(ctx.plan.source_sha256),
    );
    if !ctx.plan.build_values.is_empty() {
        let values = serde_json::to_string(&ctx.plan.build_values).unwrap_or_default();
        a.insert(crate::BUILD_VALUES_ANNOTATION.into(), json!(values));
    }
    a.insert("workflows.argoproj.io/title".into(), json!(title));
    a.insert(
        "workflows.argoproj.io/description".into(),
        json!(description),
    );
    Json::Object(a)
}

/// The templates of the entry pipeline in order, with the libraries they overflow into, and
/// the names of the entrypoint and of the exit handler.
type Templates = (Vec<Json>, Vec<(String, Vec<Json>)>, String, Option<String>);

fn templates(ctx: &mut WorkflowEmitter<'_>, name: &str) -> Templates {
    let entry = ctx.entry;
    let root = ctx.g.pipes[entry].root;
    let mut all: IndexMap<String, Json> = IndexMap::new();
    for f in 0..ctx.g.frames.len() {
        let t = ctx.frame_template(f);
        all.insert(ctx.g.frames[f].name.clone(), t);
    }
    for (n, t) in std::mem::take(&mut ctx.leaves) {
        all.insert(n, t);
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
        (templates, libraries) = split_templates(templates, name);
    }
    if templates.len() > MAX_TEMPLATES {
        let at = ctx.place(entry, None);
        ctx.issues.report(diagnostics::argo_too_many_templates(
            at,
            templates.len(),
            MAX_TEMPLATES,
        ));
    }
    (templates, libraries, main, exit)
}

/// The documents of the plan: the versioned template, its libraries, the alias of its channel
/// and the `CronWorkflow`.
pub(crate) fn documents(
    ctx: &mut WorkflowEmitter<'_>,
    version: Option<&str>,
    channel: Option<&str>,
) -> Vec<Json> {
    let release = Release::of(ctx, version, channel);
    let p = ctx.pipes[ctx.entry];
    let labels = release.labels(false);
    let run_labels = release.run_labels();
    let arguments = workflow_arguments(p, &release.pipeline_label);
    report_unpassable_entry_inputs(ctx);
    let (templates, libraries, main, exit) = templates(ctx, &release.name);

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
    insert_volumes(ctx, &mut spec);
    spec.insert("templates".into(), Json::Array(templates));

    let metadata = obj([
        ("name", json!(release.name)),
        ("labels", Json::Object(labels.clone())),
        ("annotations", annotations(ctx, &release)),
    ]);
    let alias = release.alias.as_ref().map(|(channel, alias)| {
        let mut annotations = Map::new();
        annotations.insert("flowc.dev/template".into(), json!(release.name));
        annotations.insert(
            "workflows.argoproj.io/title".into(),
            json!(format!("{} ({channel})", p.name)),
        );
        let metadata = (release.labels(true), Json::Object(annotations));
        alias_document(alias, &release.name, &spec, metadata)
    });
    let mut docs = vec![obj([
        ("apiVersion", json!("argoproj.io/v1alpha1")),
        ("kind", json!("WorkflowTemplate")),
        ("metadata", metadata),
        ("spec", Json::Object(spec)),
    ])];
    for (lib, lib_templates) in libraries {
        let mut lib_labels = labels.clone();
        lib_labels.insert("flowc.dev/templates-of".into(), json!(release.name));
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
    docs.extend(alias);
    if let Some(s) = &p.schedule {
        let started = release.alias.as_ref().map_or(&release.name, |(_, a)| a);
        docs.push(json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "CronWorkflow",
            "metadata": {
                "name": release.cron_name(),
                "labels": Json::Object(release.labels(true)),
            },
            "spec": cron_spec(s, release.cron_run_labels(run_labels), started),
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
