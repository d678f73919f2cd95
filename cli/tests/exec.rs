//! `flowc exec`, the runtime image's command, driven by what the emitters write.
//!
//! The main test plays the part of the Argo controller for the bundled daily weighting example:
//! it builds the `WorkflowTemplate`, then runs each DAG task whose container is the flowc
//! runtime image, in dependency order, with the command line of its template (parameters
//! substituted as Argo does, `/tmp/flowc/...` moved into a folder per task, input artifacts
//! copied from the producing task's output paths). The checks run the same way. The results
//! must be byte-for-byte those of `flowc run` on the same source.

mod common;
use common::argo::play_argo;
use common::{example, flowc, text};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value as Json;

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        out.insert(
            e.file_name().to_string_lossy().into_owned(),
            std::fs::read(e.path()).expect("read"),
        );
    }
    out
}

#[test]
fn the_argo_build_of_the_example_runs_its_built_in_steps_and_checks_through_exec() {
    let src = example("daily_weighting.flow");
    let cluster = tempfile::tempdir().expect("a folder");
    let workflow = common::argo::build_workflow(src.to_str().expect("utf-8"), cluster.path());
    let played = play_argo(&workflow, cluster.path());
    for t in [
        "installed",
        "population",
        "in-tab",
        "weights",
        "quality",
        "audience",
        "weights-csv",
        "write-parquet",
        "write-parquet-2",
        "check-1",
        "check-2",
        "check-3",
    ] {
        assert!(played.ran.contains(t), "{t} did not run: {:?}", played.ran);
    }
    // The publication step is the user's own container.
    assert_eq!(played.skipped, BTreeSet::from(["receipt".to_string()]));

    // The same pipeline run locally writes the same files, byte for byte.
    let local = tempfile::tempdir().expect("a folder");
    std::fs::copy(&src, local.path().join("daily_weighting.flow")).expect("copy");
    // Its publication step is a Python function of the examples' own package.
    let examples = src.parent().expect("the examples folder");
    std::fs::copy(examples.join("flowc.toml"), local.path().join("flowc.toml")).expect("copy");
    common::copy_tree(&examples.join("python"), &local.path().join("python"));
    // The publication step needs its token (a made-up one: it only reports that it has one).
    std::fs::write(local.path().join("token"), "made-up-token\n").expect("write");
    let o = flowc(
        &[
            "run",
            "daily_weighting.flow",
            "--secret",
            "publisher_token=token",
        ],
        local.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    // The results are on the claim `weighting-results`: here its folder in the store, there
    // the folder the controller gave the workflow's volume.
    let here = files_under(&local.path().join(".flow/volumes/weighting-results"));
    let there = files_under(&cluster.path().join("volumes/volume-results"));
    assert_eq!(
        here.keys().collect::<Vec<_>>(),
        there.keys().collect::<Vec<_>>()
    );
    assert!(here.len() >= 3, "{:?}", here.keys());
    for (name, bytes) in &here {
        assert!(
            there[name] == *bytes,
            "{name} differs between flowc run and exec"
        );
    }
}

#[test]
fn a_failing_check_exits_1_with_its_source() {
    let dir = tempfile::tempdir().expect("a folder");
    std::fs::write(dir.path().join("q.json"), r#"{"max_abs_error": 0.01}"#).expect("write");
    let expr = r#"{"kind":"op","op":"<","args":[{"kind":"metric","task":"quality","output":"quality","key":"max_abs_error"},{"kind":"param","name":"max_error"}]}"#;
    let sig = r#"{"params":{"max_error":{"kind":"scalar","name":"Float"}},"items":{}}"#;
    let run = |limit: &str| {
        flowc(
            &[
                "exec",
                "--check",
                expr,
                "--message",
                "quality.max_abs_error < max_error",
                "--signature",
                sig,
                "--param",
                &format!("max_error={limit}"),
                "--metrics",
                "quality.quality=q.json",
            ],
            dir.path(),
        )
    };
    let fail = run("0.001");
    assert_eq!(fail.status.code(), Some(1), "{}", text(&fail));
    assert!(text(&fail).contains("check failed: quality.max_abs_error < max_error"));
    let pass = run("0.1");
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass));
    let bad = run("lots");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("error[X002]"), "{}", text(&bad));
}

#[test]
fn an_evaluation_reads_value_outputs_of_tasks_with_their_types() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    let eval = |text: &str| {
        flowc(
            &[
                "exec",
                "--eval",
                r#"{"kind":"op","op":"+","args":[{"kind":"output","task":"m","output":"n","collected":false},{"kind":"literal","value":1}]}"#,
                "--signature",
                r#"{"params":{},"items":{},"values":{"m.n":{"kind":"scalar","name":"Int"}}}"#,
                "--value",
                &format!("m.n={text}"),
                "--output",
                "value=out/value",
            ],
            d,
        )
    };
    let o = eval("41");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("out/value")).expect("value"),
        "42"
    );
    let bad = eval("many");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("error[X002]"), "{}", text(&bad));
    let unknown = flowc(
        &[
            "exec",
            "--eval",
            r#"{"kind":"literal","value":1}"#,
            "--signature",
            r#"{"params":{},"items":{}}"#,
            "--value",
            "m.n=1",
            "--output",
            "value=out/value",
        ],
        d,
    );
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(text(&unknown).contains("error[X001]"), "{}", text(&unknown));
}

#[test]
fn evaluation_enumeration_and_copy() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    let o = flowc(
        &[
            "exec",
            "--eval",
            r#"{"kind":"op","op":"==","args":[{"kind":"loop_item","loop":0},{"kind":"literal","value":"north"}]}"#,
            "--signature",
            r#"{"params":{},"items":{"0":{"kind":"scalar","name":"Str"}}}"#,
            "--item",
            "0=north",
            "--output",
            "value=out/value",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("out/value")).expect("value"),
        "true"
    );

    let o = flowc(
        &[
            "exec",
            "--enumerate",
            "[3,1,2]",
            "--signature",
            r#"{"items":{"kind":"list","item":{"kind":"scalar","name":"Int"}}}"#,
            "--output",
            "items=items.json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let items: Json =
        serde_json::from_str(&std::fs::read_to_string(d.join("items.json")).expect("items"))
            .expect("JSON");
    assert_eq!(
        items,
        serde_json::json!([{"i":"00000","v":"3"},{"i":"00001","v":"1"},{"i":"00002","v":"2"}])
    );
    let o = flowc(
        &[
            "exec",
            "--enumerate",
            "[1,\"x\"]",
            "--signature",
            r#"{"items":{"kind":"list","item":{"kind":"scalar","name":"Int"}}}"#,
            "--output",
            "items=bad.json",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("error[X002]: item 1"), "{}", text(&o));
    assert!(!d.join("bad.json").exists());

    std::fs::create_dir_all(d.join("src/inner")).expect("mkdir");
    std::fs::write(d.join("src/inner/a.txt"), "a").expect("write");
    let o = flowc(&["exec", "--copy", "src", "dst/copy"], d);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("dst/copy/inner/a.txt")).expect("copied"),
        "a"
    );
    let o = flowc(&["exec", "--copy", "missing", "dst/x"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("error[X003]"), "{}", text(&o));
}

#[test]
fn a_built_in_step_reports_missing_inputs_and_unknown_names() {
    let dir = tempfile::tempdir().expect("a folder");
    let sig = r#"{"params":{"where":{"kind":"scalar","name":"Str"}},"inputs":{"table":{"kind":"table","schema":null,"columns":[{"name":"x","type":"Int","nullable":false}]}},"outputs":{"kept":{"kind":"table","schema":null,"columns":[{"name":"x","type":"Int","nullable":false}]}}}"#;
    let o = flowc(
        &[
            "exec",
            "--step",
            "std.table.filter",
            "--signature",
            sig,
            "--param",
            "where=x > 1",
            "--input",
            "table=nowhere.parquet",
            "--output",
            "kept=out/kept",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("error[X003]: input `table`: `nowhere.parquet` does not exist"),
        "{}",
        text(&o)
    );
    let o = flowc(
        &[
            "exec",
            "--step",
            "std.table.filter",
            "--signature",
            sig,
            "--param",
            "wher=x > 1",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("the signature has no `wher`"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_absent_marker_is_an_absent_optional_input_of_a_built_in_step() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    let table =
        r#"{"kind":"table","schema":null,"columns":[{"name":"x","type":"Int","nullable":false}]}"#;
    std::fs::write(d.join("in.csv"), "x\n1\n2\n3\n").expect("write");
    let read = format!(
        r#"{{"params":{{"path":{{"kind":"scalar","name":"Str"}},"delimiter":{{"kind":"scalar","name":"Str"}}}},"inputs":{{}},"outputs":{{"table":{table}}}}}"#
    );
    let o = flowc(
        &[
            "exec",
            "--step",
            "std.io.read_csv",
            "--signature",
            &read,
            "--param",
            "path=in.csv",
            "--param",
            "delimiter=,",
            "--output",
            "table=a/table",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));

    // The `else` branch's task: the marker as its output.
    let o = flowc(&["exec", "--absent", "--output", "table=none/table"], d);
    assert!(o.status.success(), "{}", text(&o));
    let marker = std::fs::read_to_string(d.join("none/table")).expect("marker");
    assert!(marker.starts_with("flowc: no value"), "{marker}");
    let o = flowc(&["exec", "--absent"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("error[X001]"), "{}", text(&o));

    // An optional input holding the marker is absent: `sql` runs over `a` alone.
    let optional = format!(r#"{{"kind":"optional","inner":{table}}}"#);
    let sql = format!(
        r#"{{"params":{{"query":{{"kind":"scalar","name":"Str"}}}},"inputs":{{"a":{table},"b":{optional},"c":{optional}}},"outputs":{{"result":{table}}}}}"#
    );
    let run_sql = |b: &str, out: &str| {
        flowc(
            &[
                "exec",
                "--step",
                "std.table.sql",
                "--signature",
                &sql,
                "--param",
                "query=SELECT x FROM a WHERE x > 1",
                "--input",
                "a=a/table",
                "--input",
                &format!("b={b}"),
                "--output",
                &format!("result={out}"),
            ],
            d,
        )
    };
    let o = run_sql("none/table", "r/table");
    assert!(o.status.success(), "{}", text(&o));
    assert!(d.join("r/table").is_file());
    // Anything else is read as data: the marker is not a Parquet file.
    std::fs::write(
        d.join("not-marker"),
        "flowc: no value, but not the marker\n",
    )
    .expect("write");
    let o = run_sql("not-marker", "r2/table");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn gather_copies_a_list_of_artifacts_into_numbered_entries() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    // A list folder, as Argo downloads a fan-in.
    std::fs::create_dir_all(d.join("list/00001")).expect("a folder item");
    std::fs::write(d.join("list/00000"), "first").expect("an item");
    std::fs::write(d.join("list/00001/part"), "second").expect("an item");
    let o = flowc(
        &[
            "exec",
            "--gather",
            "--input",
            "items=list",
            "--output",
            "folder=out/folder",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let read = |p: &str| std::fs::read_to_string(d.join(p)).expect("a gathered entry");
    assert_eq!(read("out/folder/00000"), "first");
    assert_eq!(read("out/folder/00001/part"), "second");

    // The Kubeflow executor input names the artifacts of the list, in order (a local URI is
    // read where it is; `minio://`, `s3://` and `gs://` where the launcher mounts them).
    std::fs::write(d.join("a.txt"), "from a").expect("a");
    std::fs::write(d.join("b.txt"), "from b").expect("b");
    let input = serde_json::json!({"inputs": {"artifacts": {"items": {"artifacts": [
        {"uri": d.join("b.txt"), "metadata": {}},
        {"uri": d.join("a.txt"), "metadata": {}},
    ]}}}});
    let o = flowc(
        &[
            "exec",
            "--gather",
            "--input",
            "items=@executor-input:items",
            "--executor-input",
            &input.to_string(),
            "--output",
            "folder=kfp/folder",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read("kfp/folder/00000"), "from b");
    assert_eq!(read("kfp/folder/00001"), "from a");

    let missing = flowc(&["exec", "--gather", "--output", "folder=x"], d);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("error[X001]"), "{}", text(&missing));
}

/// Kubeflow's metrics view: a built-in step's `Metrics` output reaches the executor output
/// the launcher reads (`outputs.outputFile`) as metadata. The KFP build of a small pipeline is
/// played as the launcher would: each executor's placeholders replaced, in DAG order.
#[test]
fn a_kfp_built_in_step_gives_its_metrics_numbers_to_the_launcher() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    std::fs::write(
        d.join("m.flow"),
        r#"import std.synth (panel, targets)
import std.survey (rake)

pipeline p() {
  installed = panel(n: 300, seed: 1, day: "2024-06-03")
  population = targets(seed: 1)
  weights = rake(panel: installed, targets: population, by: [sex, region])
  output report = weights.report
}
"#,
    )
    .expect("write");
    let o = flowc(&["build", "m.flow", "--target", "kfp", "-o", "m.yaml"], d);
    assert!(o.status.success(), "{}", text(&o));
    let yaml = std::fs::read_to_string(d.join("m.yaml")).expect("the YAML");
    let spec: Json = serde_saphyr::from_str(&yaml).expect("one YAML document");
    let art = |task: &str, key: &str| d.join("artifacts").join(task).join(key);
    for task in ["installed", "population", "weights"] {
        let def = &spec["root"]["dag"]["tasks"][task]["inputs"];
        let outputs = d.join("launcher").join(task).join("output_metadata.json");
        let executor_input = serde_json::json!({"outputs": {"outputFile": outputs}});
        let args: Vec<String> = spec["deploymentSpec"]["executors"][format!("exec-{task}")]
            ["container"]["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| {
                let mut a = a.as_str().expect("a string").to_string();
                if a == "{{$}}" {
                    return executor_input.to_string();
                }
                if let Some(params) = def["parameters"].as_object() {
                    for (name, p) in params {
                        let value = match &p["runtimeValue"]["constant"] {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        a = a.replace(&format!("{{{{$.inputs.parameters['{name}']}}}}"), &value);
                    }
                }
                if let Some(arts) = def["artifacts"].as_object() {
                    for (name, v) in arts {
                        let from = &v["taskOutputArtifact"];
                        let path = art(
                            from["producerTask"].as_str().expect("a producer"),
                            from["outputArtifactKey"].as_str().expect("a key"),
                        );
                        a = a.replace(
                            &format!("{{{{$.inputs.artifacts['{name}'].path}}}}"),
                            &path.to_string_lossy(),
                        );
                    }
                }
                for key in ["panel", "targets", "weights", "report"] {
                    a = a.replace(
                        &format!("{{{{$.outputs.artifacts['{key}'].path}}}}"),
                        &art(task, key).to_string_lossy(),
                    );
                }
                a
            })
            .collect();
        // The component defaults the launcher would fill are given by the build as constants.
        assert!(
            !args.iter().any(|a| a.contains("{{$.")),
            "{task}: a placeholder left: {args:?}"
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = flowc(&args, d);
        assert!(o.status.success(), "{task}: {}", text(&o));
    }
    let written: Json = serde_json::from_str(
        &std::fs::read_to_string(d.join("launcher/weights/output_metadata.json"))
            .expect("the executor output of the rake"),
    )
    .expect("JSON");
    let report: Json = serde_json::from_str(
        &std::fs::read_to_string(art("weights", "report")).expect("the report"),
    )
    .expect("JSON");
    let metadata = &written["artifacts"]["report"]["artifacts"][0]["metadata"];
    assert_eq!(metadata["iterations"], report["iterations"], "{written}");
    assert_eq!(
        metadata["max_rel_error"], report["max_rel_error"],
        "{written}"
    );
    // Kubeflow shows numbers: the Boolean is left out, and no URI replaces the artifact's.
    assert!(metadata.get("converged").is_none(), "{written}");
    assert!(written["artifacts"]["report"]["artifacts"][0]
        .get("uri")
        .is_none());
    assert!(written["artifacts"].get("weights").is_none(), "{written}");
    // The steps without metrics are not given the executor input, and write nothing.
    assert!(!d.join("launcher/installed").exists());
}
