//! `flowc replay WORKFLOW.json STEP`: one step of an Argo workflow run, reproduced here.
//!
//! The workflow's status JSON (what `argo get -o json` prints) records, for every node, the
//! template it ran, its input parameters' values and its input artifacts with their keys in the
//! artifact repository (the keys flowc's build gave them, docs/targets.md). Replay finds the
//! step's node, downloads its input artifacts from the repository's bucket (object storage, with
//! the credentials and endpoint of docs/storage.md) into `--out DIR/inputs/`, and runs the
//! template's command with the run's parameter values and `/tmp/flowc/` moved to `DIR/`: a
//! built-in step (the runtime image's `flowc exec`) with this binary, a container step as a
//! process of this machine. Its outputs are left in `DIR/outputs/`. Problems are `R043`
//! (not a workflow's status), `R044` (no such step) and `R045` (what the step needs is missing),
//! and `R020`–`R024` for the artifact repository.

use std::path::{Path, PathBuf};

use flowc_runtime::store::s3::S3;
use flowc_runtime::{RunCode, RunError};
use serde_json::Value as Json;

use crate::args::ReplayArgs;

/// Where the pod's `/tmp/flowc/` folder is.
const POD_ROOT: &str = "/tmp/flowc/";

/// Runs `flowc replay`.
pub fn run(args: &ReplayArgs) -> u8 {
    match replay(args) {
        Ok(code) => code,
        Err(e) => super::fail(e),
    }
}

/// An `R045` error: the status lacks what the step needs.
fn unreplayable(why: impl Into<String>) -> RunError {
    RunError::new(RunCode::Unreplayable, why)
}

fn replay(args: &ReplayArgs) -> Result<u8, RunError> {
    let text = match std::fs::read_to_string(&args.workflow) {
        Ok(t) => t,
        Err(e) => {
            let why = crate::loader::why_unreadable(&e);
            return Ok(crate::loader::unreadable(&args.workflow, &why));
        }
    };
    let wf: Json = serde_json::from_str(&text).map_err(|e| {
        RunError::new(
            RunCode::NotWorkflowStatus,
            format!("`{}` is not JSON: {e}", args.workflow.display()),
        )
        .hint("give the workflow's status as `argo get NAME -o json` prints it")
    })?;
    let node = find_node(&wf, &args.step)?;
    let template_name = node["templateName"].as_str().unwrap_or_default();
    let template = find_template(&wf, template_name)?;
    let bucket = match &args.bucket {
        Some(b) => b.clone(),
        None => wf["status"]["artifactRepositoryRef"]["artifactRepository"]["s3"]["bucket"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                unreplayable("the status names no S3 artifact repository")
                    .hint("pass the repository's bucket with `--bucket BUCKET`")
            })?,
    };
    let out = std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone());
    std::fs::create_dir_all(out.join("outputs")).map_err(|e| {
        RunError::new(
            RunCode::BadOutFolder,
            format!("cannot create `{}`: {e}", out.display()),
        )
    })?;
    let moved = format!("{}/", out.display());
    let local = |p: &str| p.replace(POD_ROOT, &moved);
    download_inputs(node, &bucket, &local)?;
    let params: Vec<(String, String)> = node["inputs"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let container = &template["container"];
    let mut argv: Vec<String> = Vec::new();
    for part in strings(&container["command"])
        .into_iter()
        .chain(strings(&container["args"]))
    {
        argv.push(local(&substitute(&part, &params)?));
    }
    if argv.first().is_some_and(|c| c == "flowc") {
        argv[0] = std::env::current_exe()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "flowc".into());
    }
    let Some((program, rest)) = argv.split_first() else {
        return Err(unreplayable(format!(
            "template `{template_name}` has no command"
        )));
    };
    eprintln!(
        "replaying `{}` ({template_name}): {}",
        args.step,
        argv.join(" ")
    );
    let status = std::process::Command::new(program)
        .args(rest)
        .status()
        .map_err(|e| unreplayable(format!("cannot start `{program}`: {e}")))?;
    println!("outputs: {}", out.join("outputs").display());
    Ok(status
        .code()
        .map_or(crate::EXIT_ERRORS, |c| c.clamp(0, 255) as u8))
}

/// The node of `step`: its display name (the DAG task's name) or its own name's last part.
fn find_node<'a>(wf: &'a Json, step: &str) -> Result<&'a Json, RunError> {
    let nodes = wf["status"]["nodes"].as_object().ok_or_else(|| {
        RunError::new(
            RunCode::NotWorkflowStatus,
            "the file has no `status.nodes`: it is not a workflow's status",
        )
        .hint("give the workflow's status as `argo get NAME -o json` prints it")
    })?;
    let dns = step.replace('_', "-");
    let found: Vec<&Json> = nodes
        .values()
        .filter(|n| n["type"] == "Pod")
        .filter(|n| {
            let name = n["displayName"].as_str().unwrap_or_default();
            name == step || name == dns
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut names: Vec<&str> = nodes
                .values()
                .filter(|n| n["type"] == "Pod")
                .filter_map(|n| n["displayName"].as_str())
                .collect();
            names.sort_unstable();
            Err(RunError::new(
                RunCode::UnknownReplayStep,
                format!("the workflow ran no step `{step}`"),
            )
            .hint(format!("its steps are: {}", names.join(", "))))
        }
        _ => Err(RunError::new(
            RunCode::UnknownReplayStep,
            format!("the workflow ran `{step}` {} times (a loop)", found.len()),
        )
        .hint(format!("name one instance, such as `{step}(0:…)`"))),
    }
}

/// The template called `name`: from `status.storedTemplates` (a workflow made from a
/// `WorkflowTemplate`) or `spec.templates`.
fn find_template<'a>(wf: &'a Json, name: &str) -> Result<&'a Json, RunError> {
    let stored = wf["status"]["storedTemplates"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values());
    let spec = wf["spec"]["templates"].as_array().into_iter().flatten();
    stored
        .chain(spec)
        .find(|t| t["name"] == name)
        .ok_or_else(|| {
            unreplayable(format!(
                "the status has no template `{name}` (status.storedTemplates or spec.templates)"
            ))
        })
}

/// Downloads the node's input artifacts from `bucket` to their paths (moved by `local`).
fn download_inputs(
    node: &Json,
    bucket: &str,
    local: &dyn Fn(&str) -> String,
) -> Result<(), RunError> {
    for a in node["inputs"]["artifacts"].as_array().into_iter().flatten() {
        let name = a["name"].as_str().unwrap_or_default();
        let Some(key) = a["s3"]["key"].as_str() else {
            continue;
        };
        let dest = PathBuf::from(local(a["path"].as_str().unwrap_or_default()));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| unreplayable(format!("cannot create `{}`: {e}", parent.display())))?;
        }
        let s3 = S3::connect(&format!("s3://{bucket}"))?;
        if !s3.get_file(key, &dest)? {
            download_folder(&s3, key, &dest).map_err(|why| {
                unreplayable(format!("input `{name}` (`s3://{bucket}/{key}`): {why}"))
            })?;
        }
    }
    Ok(())
}

/// Downloads every object under `key/` into the folder `dest` (a folder or list artifact).
fn download_folder(s3: &S3, key: &str, dest: &Path) -> Result<(), String> {
    let keys = s3.list(&format!("{key}/")).map_err(|e| e.to_string())?;
    if keys.is_empty() {
        return Err("no such object in the artifact repository".into());
    }
    for k in keys {
        let rel = k.strip_prefix(&format!("{key}/")).unwrap_or(&k);
        if rel.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        let path = dest.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        s3.get_file(&k, &path).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The strings of a JSON list.
fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// `text` with every `{{inputs.parameters.NAME}}` replaced by the node's value.
fn substitute(text: &str, params: &[(String, String)]) -> Result<String, RunError> {
    let mut out = String::new();
    let mut rest = text;
    const OPEN: &str = "{{inputs.parameters.";
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + OPEN.len()..];
        let end = after
            .find("}}")
            .ok_or_else(|| unreplayable(format!("an unclosed `{{{{` in `{text}`")))?;
        let name = &after[..end];
        let value = params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| unreplayable(format!("the node has no value of parameter `{name}`")))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
