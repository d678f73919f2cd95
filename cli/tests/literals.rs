//! Literals arrive unchanged: every string an author writes reaches the step byte for byte, on
//! every target, in every place a user string is emitted (docs/reliability.md).
//!
//! Table-driven: each string of [`TABLE`] is written as a step's `run` argument, an `env` value,
//! a call's argument, a pipeline parameter's default and a check's text. Then
//! - `flowc run` runs it (the container step writes what it received; the check must hold);
//! - the Argo build is read as the controller and the kubelet read it (`common::argo`): every
//!   field gives back the string, and the check runs through `flowc exec` and holds;
//! - the Kubeflow build is read as the launcher and the kubelet read it: the same.
//!
//! One place is a known limit, asserted as such so that this test notices when it is lifted: a
//! value that reaches a container through an Argo or Kubeflow parameter at run time (a call's
//! argument, a pipeline parameter) is expanded by the kubelet (`$$` becomes `$`, `$(NAME)` the
//! variable's value when the container defines `NAME`), and no literal escape can prevent it.

mod common;
use common::argo::{kubelet, play_argo, substitute, workflow_parameters};
use common::{flowc, text, write};

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;

/// (as written in a `.flow` string, the bytes it stands for).
const TABLE: &[(&str, &str)] = &[
    ("{{x}}", "{{x}}"),
    ("{{='a'}} {{workflow.uid}}", "{{='a'}} {{workflow.uid}}"),
    ("{{=1 + 1}}", "{{=1 + 1}}"),
    ("a {{workflow.name}} b", "a {{workflow.name}} b"),
    ("{{inputs.parameters.arg}}", "{{inputs.parameters.arg}}"),
    ("{{ open and }} close }}{{", "{{ open and }} close }}{{"),
    ("{{{x}}}", "{{{x}}}"),
    ("{{$.pipeline_job_name}}", "{{$.pipeline_job_name}}"),
    ("$(LIT) and $(HOME)", "$(LIT) and $(HOME)"),
    ("$$ costs $1 $", "$$ costs $1 $"),
    ("\\${day} ${", "${day} ${"),
    ("it's \\\"quoted\\\" `x`", "it's \"quoted\" `x`"),
    ("back\\\\slash \\\\n \\\\", "back\\slash \\n \\"),
    ("two\\nlines\\ttab\\r", "two\nlines\ttab\r"),
    ("été ✓ 😀 \\u{1F600}", "été ✓ 😀 😀"),
];

/// The program that writes `lit` in every place.
fn program(lit: &str) -> String {
    format!(
        r#"step show(arg: Str) -> (out: File) {{
  image "busybox:1.36"
  run ["sh", "-c", "printf '%s\\037%s\\037%s' \"$1\" \"$2\" \"$LIT\" > \"$3\"", "sh", "{lit}", arg, out]
  env LIT = "{lit}"
}}

pipeline literals(v: Str = "{lit}") {{
  shown = show(arg: "{lit}")
  check v == "{lit}"
  output shown
}}
"#
    )
}

/// Whether the kubelet leaves `s` as it is in a container that defines `env`.
fn kubelet_keeps(s: &str, env: &BTreeMap<String, String>) -> bool {
    kubelet(s, env) == s
}

/// A value that reaches a container through a parameter at run time: unchanged, or changed
/// exactly as the kubelet changes it (the known limit of the module documentation).
fn check_runtime_value(place: &str, got: &str, want: &str, env: &BTreeMap<String, String>) {
    if kubelet_keeps(want, env) {
        assert_eq!(got, want, "{place}");
    } else {
        assert_eq!(got, kubelet(want, env), "{place}: the kubelet's expansion");
    }
}

fn yaml_docs(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .expect("the YAML")
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Json>(d).expect("YAML"))
        .collect()
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|a| a.as_str().expect("a string").to_string())
        .collect()
}

/// `flowc run`: the step receives the literal three ways, and the check holds.
fn local(d: &Path, want: &str) {
    let o = flowc(&["run", "literals.flow", "--engine", "host"], d);
    assert!(o.status.success(), "{}", text(&o));
    let summary = common::last_summary(d);
    let shown = summary["outputs"]["shown"].as_str().expect("a path");
    let got = std::fs::read_to_string(shown).expect("the step's output");
    assert_eq!(got, [want, want, want].join("\u{1f}"), "flowc run");
}

/// The Argo build, read as the controller and the kubelet read it, and its check run.
fn argo(d: &Path, want: &str, source: &str) {
    let o = flowc(
        &[
            "build",
            "literals.flow",
            "--target",
            "argo",
            "-o",
            "wf.yaml",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let wf = yaml_docs(&d.join("wf.yaml"))
        .into_iter()
        .find(|x| x["kind"] == "WorkflowTemplate")
        .expect("a WorkflowTemplate");
    let spec = &wf["spec"];
    let globals = workflow_parameters(spec);
    assert_eq!(
        globals["workflow.parameters.v"], want,
        "argo: the parameter's default"
    );
    let templates = spec["templates"].as_array().expect("templates");
    let show = templates
        .iter()
        .find(|t| t["container"]["image"] == "busybox:1.36")
        .expect("the step's template");
    let name = show["name"].as_str().expect("a name");
    let task = templates
        .iter()
        .flat_map(|t| t["dag"]["tasks"].as_array().into_iter().flatten())
        .find(|t| t["template"] == name)
        .expect("the call");
    let arg = task["arguments"]["parameters"]
        .as_array()
        .expect("arguments")
        .iter()
        .find(|p| p["name"] == "arg")
        .expect("the argument `arg`");
    let arg = substitute(arg["value"].as_str().expect("a value"), &globals, false)
        .expect("the argument resolves");
    assert_eq!(arg, want, "argo: the call's argument");
    let inputs = BTreeMap::from([("inputs.parameters.arg".to_string(), arg)]);
    let container = &show["container"];
    let mut env = BTreeMap::new();
    for e in container["env"].as_array().into_iter().flatten() {
        let v = substitute(e["value"].as_str().expect("a value"), &inputs, false).expect("env");
        let v = kubelet(&v, &env);
        env.insert(e["name"].as_str().expect("a name").to_string(), v);
    }
    assert_eq!(env["LIT"], want, "argo: the env value");
    let args: Vec<String> = strings(&container["args"])
        .iter()
        .map(|a| kubelet(&substitute(a, &inputs, false).expect("an argument"), &env))
        .collect();
    assert_eq!(args[3], want, "argo: the run argument");
    check_runtime_value("argo: the argument in the command", &args[4], want, &env);
    let check = templates
        .iter()
        .find(|t| strings(&t["container"]["args"]).first().map(String::as_str) == Some("--check"))
        .expect("the check's template");
    let cargs: Vec<String> = strings(&check["container"]["args"])
        .iter()
        .map(|a| {
            kubelet(
                &substitute(a, &BTreeMap::new(), true).expect("an argument"),
                &BTreeMap::new(),
            )
        })
        .collect();
    assert_eq!(cargs[3], source, "argo: the check's text");
    assert!(
        cargs[1].contains(&serde_json::to_string(want).expect("JSON")),
        "argo: {}",
        cargs[1]
    );
    let played = play_argo(&wf, d);
    assert!(
        played.ran.iter().any(|t| t.starts_with("check")),
        "{:?}",
        played.ran
    );
    if kubelet_keeps(want, &BTreeMap::new()) {
        assert!(
            played.failed.is_empty(),
            "argo: the check fails: {:?}",
            played.failed
        );
    } else {
        assert_eq!(
            played.failed.len(),
            1,
            "argo: the kubelet changes the parameter"
        );
    }
}

/// The Kubeflow build, read as the launcher (placeholders) and the kubelet read it.
fn kfp(d: &Path, want: &str, source: &str) {
    let o = flowc(
        &[
            "build",
            "literals.flow",
            "--target",
            "kfp",
            "-o",
            "kfp.yaml",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let docs = yaml_docs(&d.join("kfp.yaml"));
    let spec = &docs[0];
    let root = &spec["root"];
    let default = &root["inputDefinitions"]["parameters"]["v"]["defaultValue"];
    assert_eq!(default, want, "kfp: the parameter's default");
    let constant = root["dag"]["tasks"]
        .as_object()
        .expect("tasks")
        .values()
        .find_map(|t| t["inputs"]["parameters"].get("arg"))
        .expect("the call");
    assert_eq!(
        constant["runtimeValue"]["constant"], want,
        "kfp: the call's argument"
    );
    let executors = spec["deploymentSpec"]["executors"]
        .as_object()
        .expect("executors");
    let show = executors
        .values()
        .map(|e| &e["container"])
        .find(|c| c["image"] == "busybox:1.36")
        .expect("the step's executor");
    let mut env = BTreeMap::new();
    for e in show["env"].as_array().into_iter().flatten() {
        let v = kubelet(e["value"].as_str().expect("a value"), &env);
        env.insert(e["name"].as_str().expect("a name").to_string(), v);
    }
    assert_eq!(env["LIT"], want, "kfp: the env value");
    let placeholder = "{{$.inputs.parameters['arg']}}";
    let args: Vec<String> = strings(&show["args"])
        .iter()
        .map(|a| kubelet(&a.replace(placeholder, want), &env))
        .collect();
    assert_eq!(args[3], want, "kfp: the run argument");
    check_runtime_value("kfp: the argument in the command", &args[4], want, &env);
    let check = executors
        .values()
        .map(|e| strings(&e["container"]["args"]))
        .find(|a| a.iter().any(|x| x == "--check"))
        .expect("the check's executor");
    let at = check
        .iter()
        .position(|x| x == "--message")
        .expect("--message");
    let none = BTreeMap::new();
    assert_eq!(
        kubelet(&check[at + 1], &none),
        source,
        "kfp: the check's text"
    );
    let expr = kubelet(&check[at - 1], &none);
    assert!(
        expr.contains(&serde_json::to_string(want).expect("JSON")),
        "kfp: {expr}"
    );
}

#[test]
fn every_literal_reaches_every_place_unchanged_on_every_target() {
    for (written, want) in TABLE {
        let dir = tempfile::tempdir().expect("a folder");
        let d = dir.path();
        write(d, "literals.flow", &program(written));
        let source = format!("v == \"{written}\"");
        local(d, want);
        argo(d, want, &source);
        kfp(d, want, &source);
    }
}
