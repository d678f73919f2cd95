//! The Airflow DAG of `examples/airflow/` is read with Python's `ast` (the test virtualenv's
//! interpreter; Airflow itself is not installed: it does not fit CI's budget), and what it
//! calls is checked against what flowc builds: the template it submits is the `prod` alias of
//! `flowc build --channel prod`, the parameter it passes is one of the pipeline's, and the
//! output it reads is one the workflow exports.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ok, test_python};
use serde_json::Value;

/// Reads the DAG file with `ast` and prints what the checks need as JSON.
const READ_DAG: &str = r#"
import ast, json, sys

tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
out = {"imports": [], "constants": {}, "dag": {}, "tasks": [], "chain": None, "strings": [], "calls": []}
for node in ast.walk(tree):
    if isinstance(node, ast.ImportFrom):
        out["imports"] += [f"{node.module}.{a.name}" for a in node.names]
    elif isinstance(node, ast.Import):
        out["imports"] += [a.name for a in node.names]
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
        for t in node.targets:
            if isinstance(t, ast.Name):
                out["constants"][t.id] = node.value.value
    elif isinstance(node, ast.FunctionDef):
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "dag":
                out["dag"] = {k.arg: ast.literal_eval(k.value) for k in d.keywords if isinstance(k.value, ast.Constant)}
                out["dag"]["function"] = node.name
            if isinstance(d, ast.Name) and d.id == "task":
                out["tasks"].append(node.name)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        out["strings"].append(node.value)
    elif isinstance(node, ast.Dict):
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        if "resourceKind" in keys:
            out["submit_body"] = {k.value: ast.unparse(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Call):
        out["calls"].append(ast.unparse(node.func))
# The task chain: the outermost call of nested task calls in the DAG function's body.
for node in ast.walk(tree):
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        def chain(c):
            names = []
            while isinstance(c, ast.Call) and isinstance(c.func, ast.Name):
                names.append(c.func.id)
                c = c.args[0] if c.args else None
            return names
        names = chain(node.value)
        if len(names) > 1:
            out["chain"] = names
print(json.dumps(out))
"#;

fn read_dag(file: &Path) -> Value {
    let o = Command::new(test_python())
        .args(["-c", READ_DAG])
        .arg(file)
        .output()
        .expect("python runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn the_airflow_dag_submits_the_prod_alias_and_reads_an_output_back() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dag = read_dag(&repo.join("examples/airflow/daily_weighting_dag.py"));
    let imports: Vec<&str> = dag["imports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for i in [
        "airflow.decorators.dag",
        "airflow.decorators.task",
        "requests",
    ] {
        assert!(imports.contains(&i), "{i} in {imports:?}");
    }
    assert_eq!(dag["dag"]["dag_id"], "daily_weighting", "{dag}");
    assert_eq!(dag["dag"]["schedule"], "0 6 * * *");
    assert_eq!(
        dag["tasks"],
        serde_json::json!(["submit", "wait", "read_outputs"])
    );
    assert_eq!(
        dag["chain"],
        serde_json::json!(["read_outputs", "wait", "submit"]),
        "submit, then wait, then read"
    );
    let calls: Vec<&str> = dag["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        calls.contains(&"requests.post") && calls.contains(&"requests.get"),
        "{calls:?}"
    );
    let body = &dag["submit_body"];
    assert_eq!(body["resourceKind"], "'WorkflowTemplate'");
    assert_eq!(body["resourceName"], "WORKFLOW_TEMPLATE");
    let strings: Vec<&str> = dag["strings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        strings.contains(&"/submit"),
        "the Argo Server's submit endpoint"
    );

    // What flowc builds: the alias it submits, the parameter it passes, the output it reads.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("prod.yaml");
    let example = repo.join("examples/daily_weighting.flow");
    ok(
        &[
            "build",
            example.to_str().expect("utf-8"),
            "--target",
            "argo",
            "--version",
            "1.2.1",
            "--channel",
            "prod",
            "-o",
            out.to_str().expect("utf-8"),
        ],
        tmp.path(),
    );
    let text = std::fs::read_to_string(&out).expect("built");
    let docs: Vec<Value> = text
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).expect("YAML"))
        .collect();
    let alias = docs
        .iter()
        .find(|d| {
            d["metadata"]["labels"]["flowc.dev/channel"] == "prod"
                && d["kind"] == "WorkflowTemplate"
        })
        .expect("the alias");
    assert_eq!(
        alias["metadata"]["name"],
        dag["constants"]["WORKFLOW_TEMPLATE"]
    );
    let params: Vec<&str> = alias["spec"]["arguments"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(params.contains(&"day"), "{params:?}");
    assert!(
        strings.contains(&"quality"),
        "the DAG reads the `quality` output"
    );
    let main = alias["spec"]["templates"][0]["outputs"]["artifacts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        main.iter().any(|a| a["globalName"] == "quality"),
        "the alias exports `quality` as a workflow output: {main:?}"
    );
}
