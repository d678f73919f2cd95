//! Compiled KFP v2 pipelines (the IR YAML `kfp dsl compile` writes) as `.flow`: a step per
//! container component, secrets for the platform spec's Kubernetes Secrets, and a pipeline
//! with the root DAG's tasks.

mod cel;
mod dag;
mod lightweight;
mod platform;
mod ports;
mod steps;
mod stmt;

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{self, Names};
use crate::problem::Code;
use crate::yaml::{Node, Pos, Value};
use crate::Ctx;

use dag::{Val, Walker};
use platform::Secrets;
use ports::Ports;
use steps::Source;
use stmt::Param;

/// An empty mapping, for absent sections.
fn empty() -> Node {
    Node {
        pos: Pos::default(),
        value: Value::Map(Vec::new()),
    }
}

/// Converts the PipelineSpec `spec` (and the PlatformSpec document `platform`).
pub fn convert(ctx: &mut Ctx, spec: &Node, platform: Option<&Node>) -> Option<String> {
    let components = spec.get("components").cloned().unwrap_or_else(empty);
    let executors = spec
        .get("deploymentSpec")
        .and_then(|d| d.get("executors"))
        .cloned()
        .unwrap_or_else(empty);
    let k8s = platform
        .and_then(|p| p.get("platforms"))
        .and_then(|p| p.get("kubernetes"))
        .and_then(|k| k.get("deploymentSpec"))
        .and_then(|d| d.get("executors"))
        .cloned()
        .unwrap_or_else(empty);
    let root = spec.get("root").cloned().unwrap_or_else(empty);
    let mut decls = Names::default();
    let mut ports = BTreeMap::new();
    let mut step_names = BTreeMap::new();
    for (k, c) in components.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default().to_string();
        ports.insert(key.clone(), Ports::of(c));
        let label = c.str_of("executorLabel").unwrap_or_default();
        if executors
            .get(label)
            .and_then(|e| e.get("container"))
            .is_some()
        {
            step_names.insert(key.clone(), decls.unique(key.trim_start_matches("comp-")));
        }
    }
    ports::type_looped_lists(&components, &root, &mut ports);
    let info = spec.get("pipelineInfo");
    let pipeline_name = decls.unique(info.and_then(|i| i.str_of("name")).unwrap_or("imported"));
    let (params, scope) = root_params(ctx, &root);
    let mut w = Walker {
        ctx,
        components: &components,
        executors: &executors,
        ports,
        steps: step_names,
        bindings: BTreeMap::new(),
        names: Names::default(),
        used: BTreeSet::new(),
        file_inputs: BTreeMap::new(),
        list_inputs: BTreeMap::new(),
        left_out: BTreeMap::new(),
        first_task: BTreeMap::new(),
        params,
        imported: BTreeMap::new(),
        upstream: Vec::new(),
        decls,
        sub_pipelines: BTreeMap::new(),
        declared: Vec::new(),
        unified: BTreeSet::new(),
    };
    for p in &w.params {
        w.names.reserve(&p.name);
    }
    w.name_tasks("root", &root);
    let body = w.walk("root", &root, &scope, true);
    if w.ctx.failed() {
        return None;
    }
    let mut secrets = Secrets::default();
    let mut out = header(w.ctx, spec);
    let mut step_text = String::new();
    for (key, name) in w.steps.clone() {
        let Some(comp) = components.get(&key) else {
            continue;
        };
        let label = comp.str_of("executorLabel").unwrap_or_default();
        let Some(container) = executors.get(label).and_then(|e| e.get("container")) else {
            continue;
        };
        let none = BTreeSet::new();
        let no_lists = BTreeMap::new();
        let src = Source {
            key: &key,
            ports: &w.ports[&key],
            container,
            platform: k8s.get(label),
            task: w.first_task.get(&key),
            file_inputs: w.file_inputs.get(&key).unwrap_or(&none),
            list_inputs: w.list_inputs.get(&key).unwrap_or(&no_lists),
            left_out: w.left_out.get(&key).unwrap_or(&none),
        };
        let step = steps::build(w.ctx, &src, name, &mut secrets, &mut w.decls);
        step_text.push_str(&step.write());
        step_text.push('\n');
    }
    out.push_str(&secrets.write());
    out.push('\n');
    out.push_str(&step_text);
    for p in &w.declared {
        out.push_str(p);
        out.push('\n');
    }
    let mut outputs = Vec::new();
    for p in &Ports::of(&root).outputs {
        match w.dag_output("root", &root, &p.kfp) {
            Some(v) => {
                if let Some(b) = &v.binding {
                    w.used.insert(b.clone());
                }
                outputs.push((p.name.clone(), v.text));
            }
            None => w.ctx.warn(
                Code::LeftOut,
                p.def.pos,
                format!("the pipeline output `{}` is left out: the task it comes from could not be read", p.kfp),
                "add an `output` to the pipeline by hand",
            ),
        }
    }
    let description = info.and_then(|i| i.str_of("description"));
    out.push_str(&stmt::pipeline(
        &pipeline_name,
        &w.params,
        description,
        &body,
        &w.used,
        &outputs,
    ));
    Some(out)
}

/// Notes for the top-level fields of the spec that flowc has no place for.
fn header(ctx: &mut Ctx, spec: &Node) -> String {
    let mut out = String::new();
    for (k, v) in spec.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        if matches!(
            key,
            "components"
                | "deploymentSpec"
                | "root"
                | "pipelineInfo"
                | "schemaVersion"
                | "sdkVersion"
        ) {
            continue;
        }
        let value = v
            .as_str()
            .map_or_else(|| v.kind().to_string(), str::to_string);
        out.push_str(&names::comment(&format!("left out: `{key}: {value}` (flowc has no equivalent; the backend's default applies)"), ""));
        ctx.warn(
            Code::LeftOut,
            k.pos,
            format!("`{key}` is left out: flowc has no equivalent"),
            "set it on the backend if it matters",
        );
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The root's parameters and the scope they make.
fn root_params(ctx: &mut Ctx, root: &Node) -> (Vec<Param>, BTreeMap<String, Val>) {
    let ports = Ports::of(root);
    let mut params = Vec::new();
    let mut scope = BTreeMap::new();
    for p in &ports.inputs {
        let mapped = p.flow_type();
        if !mapped.known {
            ctx.warn(
                Code::UnknownType,
                p.def.pos,
                format!(
                    "flowc does not know the type `{}` of `{}`; it is a `{}`",
                    p.ir_type(),
                    p.kfp,
                    mapped.ty
                ),
                "check the parameter's type",
            );
        }
        let mut ty = mapped.ty;
        let default = p
            .def
            .get("defaultValue")
            .and_then(|d| names::literal(&d.to_json(), &ty));
        if p.optional() && default.is_none() {
            ty.push('?');
        }
        if p.name != p.kfp {
            ctx.renamed(p.def.pos, "parameter", &p.kfp, &p.name);
        }
        scope.insert(
            p.kfp.clone(),
            Val {
                text: p.name.clone(),
                file: p.artifact,
                ..Val::default()
            },
        );
        params.push(Param {
            name: p.name.clone(),
            ty,
            default,
            note: None,
        });
    }
    (params, scope)
}
