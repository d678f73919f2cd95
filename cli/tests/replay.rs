//! `flowc replay`: a step of an Argo run reproduced here from the workflow's status JSON.
//!
//! The test plays the Argo controller for the bundled daily weighting example, as
//! `tests/exec.rs` does, but with the artifact repository in a real S3 server (moto, on the
//! loopback interface): each task's input artifacts are downloaded from the keys the YAML gives
//! their producers' outputs, and its outputs uploaded under theirs. It then writes the status
//! JSON Argo would (`argo get -o json`: nodes with their templates, parameter values and
//! artifact keys; the stored templates; the artifact repository), replays one step from it, and
//! compares the replayed outputs with the stored ones, byte for byte.

mod common;
#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::path::Path;

use common::{example, flowc, text, write};
use moto::Moto;
use serde_json::{json, Value as Json};

const BUCKET: &str = "argo-artifacts";

/// Replaces every `{{prefix.NAME}}` by its value; None when one has no value.
fn substitute(s: &str, prefix: &str, values: &BTreeMap<String, String>) -> Option<String> {
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

/// The controller's state: the workflow, the server, and the status being written.
struct Controller<'a> {
    templates: BTreeMap<String, Json>,
    wf_params: BTreeMap<String, String>,
    moto: &'a Moto,
    cwd: &'a Path,
    /// The key of each task output stored so far.
    keys: BTreeMap<(String, String), String>,
    /// The status's nodes.
    nodes: serde_json::Map<String, Json>,
}

impl Controller<'_> {
    /// The task's parameters: the template's defaults, then its arguments (`{{=…}}` cache-key
    /// expressions are not passed to containers).
    fn parameters(&self, task: &Json, template: &Json) -> BTreeMap<String, String> {
        let mut inputs = BTreeMap::new();
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
            if let Some(v) = substitute(v, "workflow.parameters", &self.wf_params)
                .and_then(|v| substitute(&v, "workflow", &self.wf_params))
            {
                inputs.insert(p["name"].as_str().expect("name").into(), v);
            }
        }
        inputs
    }

    /// Downloads the task's input artifacts from the server; their entries in the status.
    fn inputs(&self, task: &Json, template: &Json, pod: &Path) -> Vec<Json> {
        let mut out = Vec::new();
        for a in task["arguments"]["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let from = a["from"].as_str().expect("an artifact source");
            let inner = from.trim_start_matches("{{tasks.").trim_end_matches("}}");
            let (producer, output) = inner.split_once(".outputs.artifacts.").expect("an output");
            let key = &self.keys[&(producer.to_string(), output.to_string())];
            let at = template["inputs"]["artifacts"]
                .as_array()
                .expect("input artifacts")
                .iter()
                .find(|t| t["name"] == a["name"])
                .expect("the template declares the input");
            let path = at["path"].as_str().expect("a path");
            let local = pod.join(path.trim_start_matches("/tmp/flowc/"));
            std::fs::create_dir_all(local.parent().expect("a parent")).expect("mkdir");
            let bytes = self
                .moto
                .get(BUCKET, key)
                .expect("the input is in the repository");
            std::fs::write(&local, bytes).expect("write the input");
            out.push(json!({"name": a["name"], "path": path, "s3": {"key": key}}));
        }
        out
    }

    /// Runs one DAG task with `flowc exec`, moving its artifacts through the server, and adds
    /// its node to the status.
    fn run_task(&mut self, task: &Json) {
        let name = task["name"].as_str().expect("a task name").to_string();
        let template = self.templates[task["template"].as_str().expect("a template")].clone();
        let params = self.parameters(task, &template);
        let pod = self.cwd.join("pods").join(&name);
        let artifacts = self.inputs(task, &template, &pod);
        let local = |p: &str| p.replace("/tmp/flowc/", &format!("{}/", pod.display()));
        let mut argv = vec!["exec".to_string()];
        for a in template["container"]["args"].as_array().expect("args") {
            let a = a.as_str().expect("a string");
            let a = substitute(a, "inputs.parameters", &params)
                .unwrap_or_else(|| panic!("task {name}: an unresolved parameter in `{a}`"));
            argv.push(local(&a));
        }
        std::fs::create_dir_all(pod.join("outputs")).expect("the outputs volume");
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let o = flowc(&args, self.cwd);
        assert!(o.status.success(), "task {name}: {}", text(&o));
        let mut outputs = Vec::new();
        for out in template["outputs"]["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            // Argo substitutes the inputs, then the workflow's globals (`{{workflow.uid}}` in
            // the key of a template only one task calls), throughout the template.
            let key = substitute(
                out["s3"]["key"].as_str().expect("a key"),
                "inputs.parameters",
                &params,
            )
            .and_then(|k| substitute(&k, "workflow", &self.wf_params))
            .expect("the key's parameters");
            let bytes = std::fs::read(local(out["path"].as_str().expect("a path")))
                .unwrap_or_else(|e| panic!("task {name} wrote no {}: {e}", out["name"]));
            self.moto.put(BUCKET, &key, &bytes);
            let output = out["name"].as_str().expect("a name").to_string();
            self.keys.insert((name.clone(), output), key.clone());
            outputs.push(json!({"name": out["name"], "path": out["path"], "s3": {"key": key}}));
        }
        let parameters: Vec<Json> = params
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
        let id = format!("daily-weighting-x7k2p-{}", self.nodes.len());
        self.nodes.insert(
            id.clone(),
            json!({
                "id": id, "name": format!("daily-weighting-x7k2p.{name}"), "displayName": name,
                "type": "Pod", "templateName": template["name"], "phase": "Succeeded",
                "inputs": {"parameters": parameters, "artifacts": artifacts},
                "outputs": {"artifacts": outputs},
            }),
        );
    }
}

/// The DAG tasks of the entry template in an order that respects their dependencies, up to
/// and including `last`.
fn runtime_tasks_until(workflow: &Json, last: &str) -> Vec<Json> {
    let spec = &workflow["spec"];
    let entry = spec["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .find(|t| t["name"] == spec["entrypoint"])
        .expect("the entry template");
    let tasks = entry["dag"]["tasks"].as_array().expect("a DAG");
    let mut order: Vec<Json> = Vec::new();
    let mut pending: Vec<&Json> = tasks.iter().collect();
    while !order.iter().any(|t| t["name"] == last) {
        let before = pending.len();
        pending.retain(|t| {
            let deps = t["depends"].as_str().unwrap_or_default();
            let ready = deps
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                .filter(|w| !w.is_empty())
                .all(|w| {
                    order
                        .iter()
                        .any(|o| o["name"] == w.split('.').next().unwrap_or(w))
                });
            if ready {
                order.push((*t).clone());
            }
            !ready
        });
        assert!(pending.len() < before, "`{last}` cannot be reached");
    }
    order
}

#[test]
fn a_step_of_an_argo_run_replays_here_with_byte_identical_outputs() {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    let cluster = tempfile::tempdir().expect("a folder");
    let src = example("daily_weighting.flow");
    let workflow = common::argo::build_workflow(src.to_str().expect("utf-8"), cluster.path());
    let templates: BTreeMap<String, Json> = workflow["spec"]["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|t| (t["name"].as_str().expect("a name").to_string(), t.clone()))
        .collect();
    let mut wf_params: BTreeMap<String, String> = workflow["spec"]["arguments"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| {
            let value = p["value"].as_str().unwrap_or_default().to_string();
            (p["name"].as_str().expect("a name").to_string(), value)
        })
        .collect();
    wf_params.insert("uid".into(), "0000-test".into());
    let mut controller = Controller {
        templates: templates.clone(),
        wf_params,
        moto: &moto,
        cwd: cluster.path(),
        keys: BTreeMap::new(),
        nodes: serde_json::Map::new(),
    };
    for task in runtime_tasks_until(&workflow, "weights") {
        let template = &templates[task["template"].as_str().expect("a template")];
        let runtime = template["container"]["command"] == json!(["flowc", "exec"]);
        let plain = ["when", "withItems", "withParam"]
            .iter()
            .all(|k| task.get(k).is_none());
        if runtime && plain {
            controller.run_task(&task);
        }
    }
    let stored: serde_json::Map<String, Json> = templates
        .iter()
        .map(|(name, t)| (format!("namespaced/{name}"), t.clone()))
        .collect();
    let status = json!({
        "metadata": {"name": "daily-weighting-x7k2p", "uid": "0000-test"},
        "spec": {"workflowTemplateRef": {"name": workflow["metadata"]["name"]}},
        "status": {
            "phase": "Failed", "nodes": controller.nodes, "storedTemplates": stored,
            "artifactRepositoryRef": {"artifactRepository": {"s3": {"bucket": BUCKET}}},
        },
    });
    let laptop = tempfile::tempdir().expect("a folder");
    std::fs::write(laptop.path().join("wf.json"), status.to_string()).expect("write the status");
    let env = moto.env();
    let replayed = std::process::Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["replay", "wf.json", "weights", "--out", "replayed"])
        .current_dir(laptop.path())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("flowc runs");
    assert_eq!(replayed.status.code(), Some(0), "{}", text(&replayed));
    let outputs = laptop.path().join("replayed/outputs");
    let mut compared = 0;
    for ((task, output), key) in &controller.keys {
        if task != "weights" {
            continue;
        }
        let here = std::fs::read(outputs.join(output)).expect("a replayed output");
        let there = moto.get(BUCKET, key).expect("the cluster's output");
        assert!(
            here == there,
            "output `{output}` differs from the cluster's"
        );
        compared += 1;
    }
    assert!(compared >= 1, "{:?}", controller.keys);
    // The inputs came from the repository.
    assert!(
        laptop
            .path()
            .join("replayed/inputs")
            .read_dir()
            .expect("inputs")
            .count()
            >= 2
    );
    // An unknown step names the steps there are.
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["replay", "wf.json", "nosuch"])
        .current_dir(laptop.path())
        .output()
        .expect("flowc runs");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown).contains("error: [R044] the workflow ran no step `nosuch`")
            && text(&unknown).contains("its steps are: "),
        "{}",
        text(&unknown)
    );
    // A file that is JSON but not a status, and a status without the step's template.
    write(laptop.path(), "other.json", r#"{"kind": "Pod"}"#);
    let mut hollow: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(laptop.path().join("wf.json")).expect("wf"))
            .expect("JSON");
    hollow["status"]["storedTemplates"] = serde_json::json!({});
    hollow["spec"]["templates"] = serde_json::json!([]);
    write(laptop.path(), "hollow.json", &hollow.to_string());
    for (file, code) in [("other.json", "R043"), ("hollow.json", "R045")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowc"))
            .args(["replay", file, "weights"])
            .current_dir(laptop.path())
            .output()
            .expect("flowc runs");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains(&format!("error: [{code}]")),
            "{file}: {}",
            text(&out)
        );
    }
}
