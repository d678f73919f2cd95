//! A small stand-in for the Argo controller and the kubelet, for the tests that run what the
//! Argo emitter writes through `flowc exec`: the entry DAG's tasks whose container is the flowc
//! runtime image run in dependency order, with their template's command line.
//!
//! The model of substitution is the one the emitter is written against (docs/targets.md): each
//! field is substituted once, `{{NAME}}` by a variable's value and `{{=...}}` by an expression's
//! value (only the string literals flowc writes to escape a brace, `{{='{'}}`, are evaluated
//! here; other expressions are kept as written and never reach a container the tests run), and
//! substituted text is not read again. A workflow parameter's value is its field in
//! `spec.arguments` after that substitution. The kubelet then expands `$(NAME)` and `$$` in the
//! container's arguments ([`flowc_targets::kube::expand`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value as Json;

use super::flowc;
use super::text;

/// The value of an `expr` string literal (`'...'` or `"..."` with `\` escapes), if `e` is one.
fn string_literal(e: &str) -> Option<String> {
    let e = e.trim();
    let quote = e.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let body = e.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => out.push(c),
            },
            c if c == quote => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// One substitution of the tags of `s`: variables from `values` (full names such as
/// `workflow.parameters.day`), flowc's string-literal expressions evaluated. An unknown variable
/// is kept as written when `keep`, and makes the result None otherwise; any other expression
/// (which Argo would evaluate) and a `{{` without its `}}` (which Argo refuses) make it None.
pub fn substitute(s: &str, values: &BTreeMap<String, String>, keep: bool) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find("}}")?;
        let tag = after[..end].trim();
        let value = match tag.strip_prefix('=') {
            Some(e) => string_literal(e),
            None => values.get(tag).cloned(),
        };
        match value {
            Some(v) => out.push_str(&v),
            None if keep && !tag.starts_with('=') => out.push_str(&rest[i..i + 2 + end + 2]),
            None => return None,
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

/// What the kubelet makes of a container string, with the container's environment.
pub fn kubelet(s: &str, env: &BTreeMap<String, String>) -> String {
    flowc_targets::kube::expand(s, &|name| env.get(name).cloned())
}

/// The workflow's parameters as the controller holds them (`workflow.parameters.NAME`, each
/// value substituted once), and `workflow.uid`.
pub fn workflow_parameters(spec: &Json) -> BTreeMap<String, String> {
    let mut globals = BTreeMap::from([
        ("workflow.uid".to_string(), "0000-test".to_string()),
        ("workflow.name".to_string(), "literals-x1y2z".to_string()),
    ]);
    for p in spec["arguments"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let raw = p["value"].as_str().unwrap_or_default();
        let value = substitute(raw, &globals, true).unwrap_or_else(|| {
            panic!("Argo refuses the value of parameter {}: `{raw}`", p["name"])
        });
        globals.insert(
            format!(
                "workflow.parameters.{}",
                p["name"].as_str().expect("a name")
            ),
            value,
        );
    }
    globals
}

/// What running the DAG did.
pub struct Played {
    /// Tasks run with `flowc exec`, by name.
    pub ran: BTreeSet<String>,
    /// Tasks left out: not the runtime image, or inputs from a task left out.
    pub skipped: BTreeSet<String>,
    /// Tasks whose `flowc exec` exited 1 (a check that does not hold), with its output.
    pub failed: BTreeMap<String, String>,
}

/// A task's input parameters (`inputs.parameters.NAME`): the template's defaults, then the
/// task's arguments, substituted once. An argument that is an `expr` expression (a cache key)
/// is left out: it is never passed to a container.
fn task_inputs(
    template: &Json,
    task: &Json,
    globals: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut inputs = BTreeMap::new();
    let defaults = template["inputs"]["parameters"]
        .as_array()
        .into_iter()
        .flatten();
    for p in defaults {
        if let Some(v) = p["value"].as_str() {
            inputs.insert(
                format!("inputs.parameters.{}", p["name"].as_str().expect("name")),
                v.into(),
            );
        }
    }
    for p in task["arguments"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let v = p["value"].as_str().unwrap_or_default();
        if let Some(v) = substitute(v, globals, true) {
            inputs.insert(
                format!("inputs.parameters.{}", p["name"].as_str().expect("name")),
                v,
            );
        }
    }
    inputs
}

/// Runs the runtime-image tasks of the entry DAG of an Argo `WorkflowTemplate`, with `cwd` as
/// every container's working folder and `pods/<task>` in place of `/tmp/flowc`.
pub fn play_argo(workflow: &Json, cwd: &Path) -> Played {
    play_argo_with(workflow, cwd, &|container, args| {
        run_exec(container, args, cwd)
    })
}

/// Whether the workflow's volume `name` is a persistent volume claim (existing or created).
fn is_claim(spec: &Json, name: &str) -> bool {
    let named = |list: &Json, pointer: &str| {
        list.as_array()
            .into_iter()
            .flatten()
            .any(|v| v.pointer(pointer).and_then(Json::as_str) == Some(name))
    };
    let existing = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|v| v["name"].as_str() == Some(name) && v.get("persistentVolumeClaim").is_some());
    existing || named(&spec["volumeClaimTemplates"], "/metadata/name")
}

/// Runs a container of the runtime image (`flowc exec ...`); None for another container.
pub fn run_exec(container: &Json, args: &[String], cwd: &Path) -> Option<Output> {
    if container["command"] != serde_json::json!(["flowc", "exec"]) {
        return None;
    }
    let mut argv = vec!["exec"];
    argv.extend(args.iter().map(String::as_str));
    Some(flowc(&argv, cwd))
}

/// [`play_argo`] with the containers run by `run` (their substituted arguments in, their
/// output out), which returns None for a container it does not run: the task is then left out,
/// and so are the tasks reading its outputs.
pub fn play_argo_with(
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
        failed: BTreeMap::new(),
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
            let inputs = task_inputs(template, task, &wf_params);
            let pod = cwd.join("pods").join(&name);
            // Volumes (persistent volume claims) are folders of `cwd/volumes/`, by volume name.
            let claims: Vec<(String, String)> = container["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| is_claim(spec, m["name"].as_str().unwrap_or_default()))
                .map(|m| {
                    let name = m["name"].as_str().unwrap_or_default();
                    let dir = cwd.join("volumes").join(name);
                    std::fs::create_dir_all(&dir).expect("the volume's folder");
                    let at = m["mountPath"].as_str().expect("a mount path");
                    (format!("{at}/"), format!("{}/", dir.display()))
                })
                .collect();
            let local = |path: &str| {
                let mut p = path.replace("/tmp/flowc/", &format!("{}/", pod.display()));
                for (at, dir) in &claims {
                    p = p.replace(at.as_str(), dir);
                }
                p
            };
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
                super::copy_tree(src, Path::new(&local(at["path"].as_str().expect("a path"))));
            }
            let args: Vec<String> = container["args"]
                .as_array()
                .expect("args")
                .iter()
                .map(|a| {
                    let a = a.as_str().expect("a string");
                    local(&kubelet(
                        &substitute(a, &inputs, false).unwrap_or_else(|| {
                            panic!("task {name}: an unresolved parameter in `{a}`")
                        }),
                        &BTreeMap::new(),
                    ))
                })
                .collect();
            std::fs::create_dir_all(pod.join("outputs")).expect("the outputs volume");
            let Some(o) = run(container, &args) else {
                played.skipped.insert(name);
                return false;
            };
            if o.status.code() == Some(1) && args.first().is_some_and(|a| a == "--check") {
                played.failed.insert(name.clone(), text(&o));
                played.ran.insert(name);
                return false;
            }
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

/// Builds `file` (relative to `dir`, or absolute) for Argo into `dir/wf.yaml` and returns its
/// `WorkflowTemplate` document.
pub fn build_workflow(file: &str, dir: &Path) -> Json {
    super::ok(&["build", file, "--target", "argo", "-o", "wf.yaml"], dir);
    let yaml = std::fs::read_to_string(dir.join("wf.yaml")).expect("the YAML");
    yaml.split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Json>(d).expect("YAML"))
        .find(|d| d["kind"] == "WorkflowTemplate")
        .expect("a WorkflowTemplate")
}
