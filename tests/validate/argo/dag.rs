//! DAG consistency of Argo WorkflowTemplates: unique task names, every dependency and every
//! `{{tasks.X...}}` reference names a task of the same DAG that exists and is a dependency, no
//! cycles, every template referenced exists, every `{{inputs...}}` names a declared input, and
//! every `tasks.X.outputs.parameters.Y` (or `artifacts`) names an output X's template declares.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::validate::{documents, strings};

/// Task references in a string: `{{tasks.X.` → `X`.
fn task_refs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("tasks.") {
        let after = &rest[i + "tasks.".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if rest[..i].ends_with("{{") && after[name.len()..].starts_with('.') {
            out.push(name.clone());
        }
        rest = &after[name.len()..];
    }
    out
}

/// Task output references in a string: `tasks.X.outputs.parameters.Y` → (`X`, `parameters`,
/// `Y`), in `{{…}}` tags and in expressions alike.
fn task_output_refs(s: &str) -> Vec<(String, String, String)> {
    let word = |x: &str| -> String {
        x.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("tasks.") {
        let after = &rest[i + "tasks.".len()..];
        let task = word(after);
        let tail = &after[task.len()..];
        for kind in ["parameters", "artifacts"] {
            if let Some(o) = tail.strip_prefix(&format!(".outputs.{kind}.")) {
                out.push((task.clone(), kind.to_string(), word(o)));
            }
        }
        rest = &after[task.len()..];
    }
    out
}

/// The template a DAG task (or its exit hook) calls: in this spec, or by `templateRef` in
/// another WorkflowTemplate of the same file.
fn called_template(call: &Json, own: &BTreeMap<String, &Json>, file: &[Json]) -> Option<Json> {
    if let Some(t) = call["template"].as_str() {
        return own.get(t).map(|x| (*x).clone());
    }
    let lib = call["templateRef"]["name"].as_str()?;
    let t = call["templateRef"]["template"].as_str()?;
    file.iter()
        .filter(|d| d["kind"] == "WorkflowTemplate" && d["metadata"]["name"] == lib)
        .flat_map(|d| {
            d["spec"]["templates"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|x| x["name"] == t)
}

/// Every `tasks.X.outputs.KIND.Y` read in `strings` names an output `Y` that the template of
/// task `X` declares.
fn check_output_refs(
    name: &str,
    at: &str,
    strings: &[String],
    tasks: &[Json],
    own: &BTreeMap<String, &Json>,
    file: &[Json],
) {
    for s in strings {
        for (task, kind, out) in task_output_refs(s) {
            let Some(call) = tasks.iter().find(|x| x["name"] == task.as_str()) else {
                continue;
            };
            let Some(template) = called_template(call, own, file) else {
                continue;
            };
            let declared = template["outputs"][kind.as_str()]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == out.as_str());
            assert!(
                declared,
                "{name}: {at} reads {kind} `{out}` of task `{task}`, which its template `{}` does not declare",
                template["name"]
            );
        }
    }
}

/// Input references in a string: `{{inputs.parameters.X}}` → (`parameters`, `X`).
fn input_refs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{inputs.") {
        let after = &rest[i + "{{inputs.".len()..];
        let end = after.find("}}").unwrap_or(after.len());
        let mut parts = after[..end].splitn(2, '.');
        let kind = parts.next().unwrap_or_default().to_string();
        let name = parts.next().unwrap_or_default();
        let name = name.trim_end_matches(".path").to_string();
        out.push((kind, name));
        rest = &after[end..];
    }
    out
}

/// The names listed in a `depends` expression.
fn depends_names(d: &str) -> BTreeSet<String> {
    d.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .filter(|w| !w.is_empty())
        .map(|w| w.split('.').next().unwrap_or(w).to_string())
        .collect()
}

/// Whether `call` (a DAG task, or its exit hook) names an existing template: `template` in
/// this spec, or `templateRef` into another WorkflowTemplate of the same file.
fn calls_existing(call: &Json, own: &BTreeMap<String, &Json>, file: &[Json]) -> bool {
    if let Some(t) = call["template"].as_str() {
        return own.contains_key(t);
    }
    let (Some(lib), Some(t)) = (
        call["templateRef"]["name"].as_str(),
        call["templateRef"]["template"].as_str(),
    ) else {
        return false;
    };
    file.iter()
        .filter(|d| d["kind"] == "WorkflowTemplate" && d["metadata"]["name"] == lib)
        .flat_map(|d| {
            d["spec"]["templates"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .any(|x| x["name"] == t)
}

pub fn check_dag_consistency(name: &str, doc: &Json, file: &[Json]) {
    let templates = doc["spec"]["templates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by_name: BTreeMap<String, &Json> = templates
        .iter()
        .map(|t| (t["name"].as_str().unwrap_or_default().to_string(), t))
        .collect();
    assert_eq!(
        by_name.len(),
        templates.len(),
        "{name}: duplicate template names"
    );
    for start in ["entrypoint", "onExit"] {
        if let Some(t) = doc["spec"][start].as_str() {
            assert!(
                by_name.contains_key(t),
                "{name}: {start} `{t}` does not exist"
            );
        }
    }
    for t in &templates {
        let tname = t["name"].as_str().unwrap_or_default();
        // Inputs used are declared.
        let mut declared: BTreeSet<(String, String)> = BTreeSet::new();
        for kind in ["parameters", "artifacts"] {
            for p in t["inputs"][kind].as_array().into_iter().flatten() {
                declared.insert((kind.into(), p["name"].as_str().unwrap_or_default().into()));
            }
        }
        let mut all = Vec::new();
        strings(t, &mut all);
        for s in &all {
            for r in input_refs(s) {
                assert!(
                    declared.contains(&r),
                    "{name}: template {tname} uses undeclared input {r:?}"
                );
            }
        }
        let Some(tasks) = t["dag"]["tasks"].as_array() else {
            continue;
        };
        let names: Vec<&str> = tasks
            .iter()
            .map(|x| x["name"].as_str().unwrap_or_default())
            .collect();
        let set: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(
            set.len(),
            names.len(),
            "{name}: duplicate task names in {tname}"
        );
        let mut deps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for task in tasks {
            let tn = task["name"].as_str().unwrap_or_default();
            assert!(
                tn.len() <= 63
                    && tn.starts_with(|c: char| c.is_ascii_lowercase())
                    && tn
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !tn.ends_with('-'),
                "{name}: bad task name `{tn}`"
            );
            assert!(
                calls_existing(task, &by_name, file),
                "{name}: {tname}/{tn} calls a missing template: {task}"
            );
            let hook = &task["hooks"]["exit"];
            if !hook.is_null() {
                assert!(
                    calls_existing(hook, &by_name, file),
                    "{name}: {tname}/{tn} hooks a missing template: {hook}"
                );
            }
            let d = task["depends"]
                .as_str()
                .map(depends_names)
                .unwrap_or_default();
            for x in &d {
                assert!(
                    set.contains(x.as_str()),
                    "{name}: {tname}/{tn} depends on missing `{x}`"
                );
            }
            // Every task output it reads is a (transitive) dependency of this DAG.
            let mut all = Vec::new();
            strings(&task["arguments"], &mut all);
            if let Some(w) = task["when"].as_str() {
                all.push(w.to_string());
            }
            if let Some(w) = task["withParam"].as_str() {
                all.push(w.to_string());
            }
            check_output_refs(name, &format!("{tname}/{tn}"), &all, tasks, &by_name, file);
            for s in &all {
                for r in task_refs(s) {
                    assert!(
                        set.contains(r.as_str()),
                        "{name}: {tname}/{tn} reads missing task `{r}`"
                    );
                    assert!(
                        d.contains(&r),
                        "{name}: {tname}/{tn} reads `{r}` without depending on it"
                    );
                }
            }
            deps.insert(tn, d);
        }
        // No cycles.
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while done.len() < names.len() {
            let ready: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| !done.contains(n))
                .filter(|n| deps[n].iter().all(|d| done.contains(d.as_str())))
                .collect();
            assert!(!ready.is_empty(), "{name}: cycle in {tname}");
            done.extend(ready);
        }
        // Exported outputs point at tasks of this DAG.
        let mut outs = Vec::new();
        strings(&t["outputs"], &mut outs);
        check_output_refs(name, tname, &outs, tasks, &by_name, file);
        for s in &outs {
            for r in task_refs(s) {
                assert!(
                    set.contains(r.as_str()),
                    "{name}: {tname} exports from missing task `{r}`"
                );
            }
        }
    }
}

/// The DAGs of every `WorkflowTemplate` of `files` (name, text) are consistent, and every
/// `CronWorkflow` starts a `WorkflowTemplate` of the same file.
pub fn dags_are_consistent(files: &[(String, String)]) {
    for (name, text) in files {
        let docs = documents(text);
        for doc in &docs {
            if doc["kind"] == "WorkflowTemplate" {
                check_dag_consistency(name, doc, &docs);
            }
            if doc["kind"] == "CronWorkflow" {
                let started = &doc["spec"]["workflowSpec"]["workflowTemplateRef"]["name"];
                assert!(
                    docs.iter()
                        .any(|d| d["kind"] == "WorkflowTemplate"
                            && d["metadata"]["name"] == *started),
                    "{name}: the CronWorkflow starts {started}, which the file does not define"
                );
            }
        }
    }
}
