//! `import kfp "FILE" (name)` in a `.flow` file, through the real binary: `check`, `build` and
//! `run` read the component file the same way, report its problems at the YAML's line and
//! column, and treat its bytes as source (the plan's hash and the step's cache key).

mod common;

use std::path::Path;

use common::{flowc, ok, run_records, stdout, text, write};
use serde_json::Value;

/// A runnable component: writes its greeting to its output.
const COMPONENT: &str = r#"name: Say hello
inputs:
- {name: greeting, type: String, default: hello}
outputs:
- {name: said}
implementation:
  container:
    image: busybox:1.36
    command: [sh, -c, 'mkdir -p "$(dirname "$1")" && echo "$0" > "$1"']
    args: [{inputValue: greeting}, {outputPath: said}]
"#;

const MAIN: &str = r#"import kfp "./components/hello.yaml" (say_hello)

pipeline greet(greeting: Str = "bonjour") {
  said = say_hello(greeting: greeting)
  output said = said.said
}
"#;

fn project(component: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("components")).expect("mkdir");
    write(dir.path(), "components/hello.yaml", component);
    write(dir.path(), "main.flow", MAIN);
    dir
}

/// The plan `flowc build` writes: its source hash and the one task's definition hash.
fn hashes(dir: &Path) -> (String, String) {
    let out = ok(&["build", "main.flow", "--target", "plan"], dir);
    let plan: Value = serde_json::from_str(&stdout(&out)).expect("the plan is JSON");
    let task = &plan["pipelines"]["greet"]["tasks"][0];
    assert_eq!(task["step"], "say_hello", "{plan}");
    (
        plan["source_sha256"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        task["definition_sha256"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn last_reasons(dir: &Path) -> Vec<String> {
    let runs = run_records(&dir.join(".flow"));
    let last = runs.last().expect("a run");
    last.iter()
        .map(|r| r["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn check_build_and_run_use_the_component_file_as_a_step() {
    let dir = project(COMPONENT);
    let out = ok(&["check", "main.flow"], dir.path());
    assert!(text(&out).contains("no problems"), "{}", text(&out));
    let argo = stdout(&ok(&["build", "main.flow", "--target", "argo"], dir.path()));
    assert!(argo.contains("busybox:1.36"), "{argo}");
    let kfp = stdout(&ok(&["build", "main.flow", "--target", "kfp"], dir.path()));
    assert!(kfp.contains("{{$.inputs.parameters['greeting']}}"), "{kfp}");

    let run = ok(&["run", "main.flow"], dir.path());
    assert_eq!(last_reasons(dir.path()), vec!["ok"], "{}", text(&run));
    ok(&["run", "main.flow"], dir.path());
    assert_eq!(last_reasons(dir.path()), vec!["cached"]);

    // A change to the component file, even one that changes no argument, is a change to the
    // source: the plan's hash and the step's cache key change, and the step runs again.
    let (source, definition) = hashes(dir.path());
    write(
        dir.path(),
        "components/hello.yaml",
        &format!("# reviewed\n{COMPONENT}"),
    );
    let (source2, definition2) = hashes(dir.path());
    assert_ne!(source, source2);
    assert_ne!(definition, definition2);
    ok(&["run", "main.flow"], dir.path());
    assert_eq!(last_reasons(dir.path()), vec!["ok"]);
}

#[test]
fn problems_of_the_component_file_are_reported_at_its_line_by_every_command() {
    let broken = COMPONENT.replace("{inputValue: greeting}", "{inputValu: greeting}");
    let dir = project(&broken);
    let expected = "components/hello.yaml:10:13: error[I003]";
    let out = flowc(&["check", "main.flow", "--format", "short"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(expected), "{}", text(&out));
    for args in [
        vec!["build", "main.flow", "--target", "argo"],
        vec!["run", "main.flow"],
    ] {
        let out = flowc(&args, dir.path());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("components/hello.yaml:10:13") && text(&out).contains("I003"),
            "{args:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn problems_of_the_import_are_reported_in_the_flow_file() {
    let dir = project(COMPONENT);
    write(
        dir.path(),
        "main.flow",
        "import kfp \"./components/hello.yaml\" (hello)\nimport kfp \"./components/gone.yaml\" (x)\nimport kubeflow \"./components/hello.yaml\" (y)\n",
    );
    let out = flowc(&["check", "main.flow", "--format", "short"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let printed = text(&out);
    for line in [
        "main.flow:1:39: error[E420]: `hello` is not declared by `./components/hello.yaml`",
        "main.flow:2:12: error[E419]: cannot read the imported file `components/gone.yaml`: no such file",
        "main.flow:3:8: error[E422]: flowc cannot import files of kind `kubeflow`",
    ] {
        assert!(printed.contains(line), "{line}\n{printed}");
    }
    // The formatter keeps the kind.
    let out = ok(&["fmt", "--check", "main.flow"], dir.path());
    assert!(out.status.success());
}

#[test]
fn warnings_of_the_component_file_are_reported_at_the_import() {
    let renamed = COMPONENT
        .replace("name: greeting,", "name: the greeting,")
        .replace("{inputValue: greeting}", "{inputValue: the greeting}");
    let dir = project(&renamed);
    write(
        dir.path(),
        "main.flow",
        &MAIN.replace("greeting: greeting", "the_greeting: greeting"),
    );
    let out = flowc(&["check", "main.flow", "--format", "short"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out)
            .contains("main.flow:1:12: warning[IW001]: the input `the greeting` is `the_greeting`"),
        "{}",
        text(&out)
    );
}
