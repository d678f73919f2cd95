//! Structural validity of a Kubeflow Pipelines v2 spec: every `componentRef` and
//! `executorLabel` exists, every `dependentTasks` entry and every producer is a task of the same
//! DAG (and a dependency), every non-optional input of a component is wired and every wired
//! input is declared, constants match their `parameterType`, placeholders and CEL conditions
//! name declared inputs, DAG outputs are declared, PlatformSpec executors exist, task names are
//! valid, no DAG is empty, and no task depends on itself, on its own outputs or on others in a
//! cycle.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::validate::strings;

pub fn obj(v: &Json) -> BTreeMap<String, Json> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// `{{$.inputs.parameters['x']}}`-style references in `s`: (kind, name).
fn placeholders(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (prefix, kind) in [
        ("{{$.inputs.parameters['", "in.param"),
        ("{{$.inputs.artifacts['", "in.artifact"),
        ("{{$.outputs.artifacts['", "out.artifact"),
        ("{{$.outputs.parameters['", "out.param"),
    ] {
        let mut rest = s;
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            let end = after.find("']").unwrap_or(after.len());
            out.push((kind.to_string(), after[..end].to_string()));
            rest = &after[end..];
        }
    }
    out
}

fn fits(v: &Json, ty: &str) -> bool {
    match ty {
        "STRING" => v.is_string(),
        "NUMBER_INTEGER" => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "NUMBER_DOUBLE" => v.is_number(),
        "BOOLEAN" => v.is_boolean(),
        "LIST" => v.is_array(),
        "STRUCT" => v.is_object(),
        _ => false,
    }
}

/// Checks one PipelineSpec (and its PlatformSpec); returns the problems found.
pub fn check_spec(docs: &[Json]) -> Vec<String> {
    let mut errs = Vec::new();
    let spec = &docs[0];
    if spec["schemaVersion"] != "2.1.0" {
        errs.push("schemaVersion is not 2.1.0".into());
    }
    let name = spec["pipelineInfo"]["name"].as_str().unwrap_or_default();
    let valid_name = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        errs.push(format!("pipelineInfo.name `{name}` is invalid"));
    }
    let components = obj(&spec["components"]);
    let executors = obj(&spec["deploymentSpec"]["executors"]);
    let mut dags: Vec<(String, Json)> = vec![("root".into(), spec["root"].clone())];
    let mut used_execs = BTreeSet::new();
    for (k, c) in &components {
        if c.get("dag").is_some() {
            dags.push((k.clone(), c.clone()));
        } else {
            check_container(&mut errs, k, c, &executors, &mut used_execs);
        }
    }
    for e in executors.keys() {
        if !used_execs.contains(e) {
            errs.push(format!("executor {e} is not used"));
        }
    }
    for (dname, comp) in &dags {
        let tasks = obj(&comp["dag"]["tasks"]);
        if tasks.is_empty() {
            errs.push(format!("{dname}: the DAG has no tasks"));
        }
        for (tname, t) in &tasks {
            let valid = tname.starts_with(|c: char| c.is_ascii_lowercase())
                && tname
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid || t["taskInfo"]["name"].as_str().is_none_or(str::is_empty) {
                errs.push(format!("{dname}: task name `{tname}` is invalid"));
            }
            let dag = Dag {
                name: dname,
                comp,
                tasks: &tasks,
                components: &components,
            };
            check_task(&mut errs, &dag, tname, t);
            if let Some(platform) = docs.get(1) {
                check_secret_name_inputs(&mut errs, dname, comp, t, &components, platform);
            }
        }
        check_dag_outputs(&mut errs, dname, comp, &tasks);
        check_no_cycle(&mut errs, dname, &tasks);
    }
    if let Some(platform) = docs.get(1) {
        for e in obj(&platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]).keys() {
            if !executors.contains_key(e) {
                errs.push(format!("PlatformSpec: executor {e} does not exist"));
            }
        }
    }
    errs
}

/// A Secret named by an input (`secretNameParameter: {componentInputParameter: x}`, as
/// kfp-kubernetes writes a Secret named by a pipeline parameter) reads an input parameter of
/// the DAG holding the task.
fn check_secret_name_inputs(
    errs: &mut Vec<String>,
    dname: &str,
    comp: &Json,
    t: &Json,
    components: &BTreeMap<String, Json>,
    platform: &Json,
) {
    let callee = t["componentRef"]["name"].as_str().unwrap_or_default();
    let Some(label) = components
        .get(callee)
        .and_then(|c| c["executorLabel"].as_str())
    else {
        return;
    };
    let ex = &platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"][label];
    let declared = obj(&comp["inputDefinitions"]["parameters"]);
    for field in ["secretAsEnv", "secretAsVolume"] {
        for entry in ex[field].as_array().into_iter().flatten() {
            let Some(input) = entry["secretNameParameter"]["componentInputParameter"].as_str()
            else {
                continue;
            };
            if !declared.contains_key(input) {
                errs.push(format!(
                    "{dname}: executor {label} names its Secret by `{input}`, not an input of the DAG"
                ));
            }
        }
    }
}

/// A container component: its executor exists and its placeholders name declared inputs and
/// outputs.
fn check_container(
    errs: &mut Vec<String>,
    k: &str,
    c: &Json,
    executors: &BTreeMap<String, Json>,
    used_execs: &mut BTreeSet<String>,
) {
    let label = c["executorLabel"].as_str().unwrap_or_default().to_string();
    if !executors.contains_key(&label) {
        errs.push(format!("{k}: executor `{label}` does not exist"));
    }
    used_execs.insert(label.clone());
    // Placeholders name declared inputs and outputs.
    let mut texts = Vec::new();
    strings(
        &executors.get(&label).cloned().unwrap_or_default(),
        &mut texts,
    );
    for t in texts {
        for (kind, n) in placeholders(&t) {
            let declared = match kind.as_str() {
                "in.param" => &c["inputDefinitions"]["parameters"][&n],
                "in.artifact" => &c["inputDefinitions"]["artifacts"][&n],
                "out.artifact" => &c["outputDefinitions"]["artifacts"][&n],
                _ => &c["outputDefinitions"]["parameters"][&n],
            };
            if declared.is_null() {
                errs.push(format!("{label}: placeholder {kind} `{n}` is not declared"));
            }
        }
    }
}

/// A DAG of the spec, with what its tasks are checked against.
struct Dag<'a> {
    name: &'a str,
    comp: &'a Json,
    tasks: &'a BTreeMap<String, Json>,
    components: &'a BTreeMap<String, Json>,
}

/// One task of a DAG: its component, dependencies, inputs, condition and loop.
fn check_task(errs: &mut Vec<String>, dag: &Dag<'_>, tname: &str, t: &Json) {
    let at = format!("{}/{tname}", dag.name);
    let cref = t["componentRef"]["name"].as_str().unwrap_or_default();
    let Some(callee) = dag.components.get(cref) else {
        errs.push(format!("{at}: component `{cref}` does not exist"));
        return;
    };
    let deps: BTreeSet<String> = t["dependentTasks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(a) = t["dependentTasks"].as_array() {
        let listed: Vec<&str> = a.iter().filter_map(|x| x.as_str()).collect();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        if listed != sorted {
            errs.push(format!("{at}: dependentTasks are not sorted"));
        }
    }
    for d in &deps {
        if !dag.tasks.contains_key(d) {
            errs.push(format!("{at}: dependency `{d}` is not a task of the DAG"));
        }
        if d == tname {
            errs.push(format!("{at}: depends on itself"));
        }
    }
    if t.get("cachingOptions").is_none() && callee.get("executorLabel").is_some() {
        errs.push(format!("{at}: no cachingOptions"));
    }
    let item_input = t["parameterIterator"]["itemInput"]
        .as_str()
        .or_else(|| t["artifactIterator"]["itemInput"].as_str())
        .unwrap_or_default()
        .to_string();
    for kind in ["parameters", "artifacts"] {
        check_task_inputs(errs, dag, &at, t, callee, cref, kind, &deps, &item_input);
    }
    if let Some(cond) = t["triggerPolicy"]["condition"].as_str() {
        let mut rest = cond;
        while let Some(i) = rest.find("inputs.parameter_values['") {
            let after = &rest[i + 25..];
            let end = after.find("']").unwrap_or(after.len());
            let n = &after[..end];
            if t["inputs"]["parameters"][n].is_null() {
                errs.push(format!(
                    "{at}: the condition reads `{n}`, not an input of the task"
                ));
            }
            rest = &after[end..];
        }
    }
    if let Some(items) = t["parameterIterator"]["items"]["inputParameter"].as_str() {
        if callee["inputDefinitions"]["parameters"][items].is_null() {
            errs.push(format!(
                "{at}: loop items `{items}` are not an input of the loop"
            ));
        }
    }
}

/// The inputs of one kind (`parameters` or `artifacts`) of a task: wired, declared, typed, and
/// produced by a dependency.
#[allow(clippy::too_many_arguments)]
fn check_task_inputs(
    errs: &mut Vec<String>,
    dag: &Dag<'_>,
    at: &str,
    t: &Json,
    callee: &Json,
    cref: &str,
    kind: &str,
    deps: &BTreeSet<String>,
    item_input: &str,
) {
    let (tasks, components, my_inputs, dname) = (
        dag.tasks,
        dag.components,
        &dag.comp["inputDefinitions"],
        dag.name,
    );
    let wired = obj(&t["inputs"][kind]);
    let declared = obj(&callee["inputDefinitions"][kind]);
    for (iname, d) in &declared {
        let optional = d["isOptional"] == true;
        if !optional && !wired.contains_key(iname) && *iname != item_input {
            errs.push(format!("{at}: required input {kind}.{iname} is not wired"));
        }
        if let (Some(default), Some(ty)) = (d.get("defaultValue"), d["parameterType"].as_str()) {
            if !fits(default, ty) {
                errs.push(format!("{cref}: default of {iname} does not fit {ty}"));
            }
            if !optional {
                errs.push(format!("{cref}: {iname} has a default but is not optional"));
            }
        }
    }
    // Constants interpolate extra `pipelinechannel--` inputs.
    let mut extra = BTreeSet::new();
    for w in wired.values() {
        if let Some(s) = w["runtimeValue"]["constant"].as_str() {
            for (_, n) in placeholders(s) {
                extra.insert(n);
            }
        }
    }
    for (iname, w) in &wired {
        let decl = declared.get(iname);
        if decl.is_none() && !extra.contains(iname) {
            errs.push(format!("{at}: wired input {kind}.{iname} is not declared"));
        }
        if let Some(c) = w["runtimeValue"].get("constant") {
            let ty = decl
                .and_then(|d| d["parameterType"].as_str())
                .unwrap_or("STRING");
            if !fits(c, ty) {
                errs.push(format!("{at}: constant {c} of {iname} does not fit {ty}"));
            }
        }
        if let Some(p) = w.get("taskFinalStatus") {
            check_final_status(errs, at, t, iname, decl, p, deps, tasks);
        }
        for (src, key_field) in [
            ("taskOutputParameter", "outputParameterKey"),
            ("taskOutputArtifact", "outputArtifactKey"),
        ] {
            if let Some(p) = w.get(src) {
                let producer = p["producerTask"].as_str().unwrap_or_default();
                let key = p[key_field].as_str().unwrap_or_default();
                if at.rsplit('/').next() == Some(producer) {
                    errs.push(format!("{at}: reads {iname} from its own output"));
                }
                if !deps.contains(producer) {
                    errs.push(format!(
                        "{at}: producer `{producer}` of {iname} is not a dependency"
                    ));
                }
                let pcomp = tasks
                    .get(producer)
                    .and_then(|pt| pt["componentRef"]["name"].as_str())
                    .and_then(|c| components.get(c));
                let okind = if src == "taskOutputParameter" {
                    "parameters"
                } else {
                    "artifacts"
                };
                if pcomp.is_none_or(|pc| pc["outputDefinitions"][okind][key].is_null()) {
                    errs.push(format!("{at}: `{producer}` has no output {okind}.{key}"));
                }
            }
        }
        for (src, dkind) in [
            ("componentInputParameter", "parameters"),
            ("componentInputArtifact", "artifacts"),
        ] {
            if let Some(n) = w.get(src).and_then(|n| n.as_str()) {
                if my_inputs[dkind][n].is_null() {
                    errs.push(format!("{at}: {n} is not an input of {dname}"));
                }
            }
        }
    }
}

/// A `taskFinalStatus` input, as the kfp SDK compiles a `PipelineTaskFinalStatus`: declared
/// as `TASK_FINAL_STATUS`, read by an exit task (`ALL_UPSTREAM_TASKS_COMPLETED`) from a task of
/// its DAG it depends on.
#[allow(clippy::too_many_arguments)]
fn check_final_status(
    errs: &mut Vec<String>,
    at: &str,
    t: &Json,
    iname: &str,
    decl: Option<&Json>,
    p: &Json,
    deps: &BTreeSet<String>,
    tasks: &BTreeMap<String, Json>,
) {
    let producer = p["producerTask"].as_str().unwrap_or_default();
    if !deps.contains(producer) || !tasks.contains_key(producer) {
        errs.push(format!(
            "{at}: the final status of `{producer}` is not that of a dependency in the DAG"
        ));
    }
    if decl.and_then(|d| d["parameterType"].as_str()) != Some("TASK_FINAL_STATUS") {
        errs.push(format!(
            "{at}: {iname} reads a final status but is not TASK_FINAL_STATUS"
        ));
    }
    if t["triggerPolicy"]["strategy"] != "ALL_UPSTREAM_TASKS_COMPLETED" {
        errs.push(format!(
            "{at}: reads a final status but is not an exit task"
        ));
    }
}

/// The tasks of a DAG do not depend on each other in a cycle (a group reading a one-of output
/// of its own, directly or through other tasks, is one).
fn check_no_cycle(errs: &mut Vec<String>, dname: &str, tasks: &BTreeMap<String, Json>) {
    let deps = |t: &Json| -> BTreeSet<String> {
        let mut out: BTreeSet<String> = t["dependentTasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(String::from))
            .collect();
        for kind in ["parameters", "artifacts"] {
            for w in obj(&t["inputs"][kind]).values() {
                for src in ["taskOutputParameter", "taskOutputArtifact"] {
                    if let Some(p) = w[src]["producerTask"].as_str() {
                        out.insert(p.to_string());
                    }
                }
            }
        }
        out
    };
    let graph: BTreeMap<&str, BTreeSet<String>> =
        tasks.iter().map(|(n, t)| (n.as_str(), deps(t))).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    loop {
        let ready: Vec<&str> = graph
            .iter()
            .filter(|(n, d)| {
                !done.contains(*n)
                    && d.iter()
                        .all(|x| done.contains(x.as_str()) || !graph.contains_key(x.as_str()))
            })
            .map(|(n, _)| *n)
            .collect();
        if ready.is_empty() {
            break;
        }
        done.extend(ready);
    }
    if done.len() < graph.len() {
        let stuck: Vec<&str> = graph
            .keys()
            .copied()
            .filter(|n| !done.contains(n))
            .collect();
        errs.push(format!(
            "{dname}: tasks depend on each other in a cycle: {stuck:?}"
        ));
    }
}

/// DAG outputs come from tasks of the DAG and are declared.
fn check_dag_outputs(
    errs: &mut Vec<String>,
    dname: &str,
    comp: &Json,
    tasks: &BTreeMap<String, Json>,
) {
    for kind in ["artifacts", "parameters"] {
        for (oname, o) in obj(&comp["dag"]["outputs"][kind]) {
            if comp["outputDefinitions"][kind][&oname].is_null() {
                errs.push(format!("{dname}: output {oname} is not declared"));
            }
            let mut sel: Vec<Json> = o["artifactSelectors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            sel.extend(
                o["valueFromOneof"]["parameterSelectors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            if let Some(v) = o.get("valueFromParameter") {
                sel.push(v.clone());
            }
            for s in sel {
                let p = s["producerSubtask"].as_str().unwrap_or_default();
                if !tasks.contains_key(p) {
                    errs.push(format!(
                        "{dname}: output {oname} comes from `{p}`, not a task of the DAG"
                    ));
                }
            }
        }
    }
}
