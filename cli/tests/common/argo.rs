//! Playing the Argo controller in tests: the entry DAG of a built `WorkflowTemplate` run task by
//! task in dependency order, each with the command line of its template (parameters
//! substituted as Argo does, `/tmp/flowc/...` moved into a folder per task under `pods/`, input
//! artifacts copied from the producing task's output paths). Tasks in loops or under `when`
//! are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value as Json;

use super::text;

/// Replaces every `{{prefix.NAME}}` by its value; None when one has no value.
pub fn substitute(s: &str, prefix: &str, values: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    let open = format!("{{{{{prefix}.");
    while let Some(i) = rest.find(&open) {
        out.push_str(&rest[..i]);
        let after = &rest[i + open.len()..];
        let end = after.find("}}")?;
        out.push_str(values.get(&after[..end])?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

pub fn copy_into(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst.parent().expect("a parent")).expect("mkdir");
    if src.is_dir() {
        std::fs::create_dir_all(dst).expect("mkdir");
        for e in std::fs::read_dir(src).expect("read_dir").flatten() {
            copy_into(&e.path(), &dst.join(e.file_name()));
        }
    } else {
        std::fs::copy(src, dst).expect("copy");
    }
}

/// What running the DAG did.
pub struct Played {
    /// Tasks run with `flowc exec`, by name.
    pub ran: BTreeSet<String>,
    /// Tasks left out: not the runtime image, or inputs from a task left out.
    pub skipped: BTreeSet<String>,
}

/// The workflow's parameters with their values, and `workflow.uid` as the controller sets it.
pub fn workflow_parameters(spec: &Json) -> BTreeMap<String, String> {
    let mut wf_params: BTreeMap<String, String> = spec["arguments"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().expect("a name").to_string(),
                p["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    wf_params.insert("uid".into(), "0000-test".into());
    wf_params
}

/// Plays the Argo controller for the entry DAG of `workflow` in `cwd` (see the module's
/// documentation): `run` runs a task's container with its substituted arguments, or returns
/// `None` for a container it does not run (the task is then skipped, and so are its
/// dependents).
pub fn play_argo(
    workflow: &Json,
    cwd: &Path,
    run: &dyn Fn(&Json, &[String]) -> Option<Output>,
) -> Played {
    let spec = &workflow["spec"];
    let wf_params = workflow_parameters(spec);
    let templates: BTreeMap<&str, &Json> = spec["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|t| (t["name"].as_str().expect("a template name"), t))
        .collect();
    let entry = templates[spec["entrypoint"].as_str().expect("an entry point")];
    let tasks = entry["dag"]["tasks"].as_array().expect("a DAG");
    let deps = |t: &Json| -> Vec<String> {
        t["depends"]
            .as_str()
            .unwrap_or_default()
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
            .filter(|w| !w.is_empty())
            .map(|w| w.split('.').next().unwrap_or(w).to_string())
            .collect()
    };
    let mut produced: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    let mut played = Played {
        ran: BTreeSet::new(),
        skipped: BTreeSet::new(),
    };
    let mut pending: Vec<&Json> = tasks.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|task| {
            let name = task["name"].as_str().expect("a task name").to_string();
            let ds = deps(task);
            if ds
                .iter()
                .any(|d| !played.ran.contains(d) && !played.skipped.contains(d))
            {
                return true;
            }
            let template = templates[task["template"].as_str().expect("a template")];
            let container = &template["container"];
            let blocked = ds.iter().any(|d| played.skipped.contains(d));
            let fanned = task.get("withItems").is_some() || task.get("withParam").is_some();
            if blocked || fanned || task.get("when").is_some() {
                played.skipped.insert(name);
                return false;
            }
            // Parameters: the template's defaults, then the task's arguments.
            let mut inputs: BTreeMap<String, String> = BTreeMap::new();
            for p in template["inputs"]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(v) = p["value"].as_str() {
                    inputs.insert(p["name"].as_str().expect("name").into(), v.into());
                }
            }
            for p in task["arguments"]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let v = p["value"].as_str().unwrap_or_default();
                // `{{=…}}` expressions (cache keys) are not passed to containers.
                if let Some(v) = substitute(v, "workflow.parameters", &wf_params)
                    .and_then(|v| substitute(&v, "workflow", &wf_params))
                {
                    inputs.insert(p["name"].as_str().expect("name").into(), v);
                }
            }
            let pod = cwd.join("pods").join(&name);
            let local = |path: &str| path.replace("/tmp/flowc/", &format!("{}/", pod.display()));
            // Input artifacts: copied from the producer's output path.
            for a in task["arguments"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let from = a["from"].as_str().expect("an artifact source");
                let inner = from.trim_start_matches("{{tasks.").trim_end_matches("}}");
                let (producer, output) = inner
                    .split_once(".outputs.artifacts.")
                    .expect("a task output");
                let src = &produced[&(producer.to_string(), output.to_string())];
                let at = template["inputs"]["artifacts"]
                    .as_array()
                    .expect("template input artifacts")
                    .iter()
                    .find(|t| t["name"] == a["name"])
                    .expect("the template declares the input");
                copy_into(src, Path::new(&local(at["path"].as_str().expect("a path"))));
            }
            let args: Vec<String> = container["args"]
                .as_array()
                .expect("args")
                .iter()
                .map(|a| {
                    let a = a.as_str().expect("a string");
                    local(
                        &substitute(a, "inputs.parameters", &inputs).unwrap_or_else(|| {
                            panic!("task {name}: an unresolved parameter in `{a}`")
                        }),
                    )
                })
                .collect();
            std::fs::create_dir_all(pod.join("outputs")).expect("the outputs volume");
            let Some(o) = run(container, &args) else {
                played.skipped.insert(name);
                return false;
            };
            assert!(o.status.success(), "task {name}: {args:?}\n{}", text(&o));
            for out in template["outputs"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let path = PathBuf::from(local(out["path"].as_str().expect("a path")));
                assert!(
                    path.exists(),
                    "task {name} did not write {}",
                    path.display()
                );
                produced.insert(
                    (name.clone(), out["name"].as_str().expect("a name").into()),
                    path,
                );
            }
            played.ran.insert(name);
            false
        });
        assert!(
            pending.len() < before,
            "the DAG has a cycle or unknown dependency"
        );
    }
    played
}
