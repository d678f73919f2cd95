//! Tests of the Argo Workflows emitter (`flowc_targets::argo`).
//!
//! - Snapshots of the YAML of every example and of every emitter fixture in `fixtures/emit/`
//!   (except the `kfp_*` ones), each with the issues the emitter reported.
//! - Every emitted document validates against Argo's JSON schema (`shared/schemas/`, next to
//!   the repository; the test fails and says so when it is absent), with the schema closed
//!   (unknown fields rejected) and `IntOrString`/`Quantity` accepting integers, as the full
//!   CRDs do.
//! - DAG consistency: unique task names, every dependency and every `{{tasks.X...}}` reference
//!   names a task of the same DAG that exists and is a dependency, no cycles, every template
//!   referenced exists, every `{{inputs...}}` names a declared input, every
//!   `tasks.X.outputs.parameters.Y` (or `artifacts`) names an output X's template declares.
//! - A YAML 1.1 reading of every emitted file: every plain scalar resolves to a boolean,
//!   number or null, and every value that is a string in the JSON form is quoted.
//! - A generated 1,000-step pipeline: no DAG over 200 tasks, at most 200 templates, under
//!   1.5 MB, valid and stable names.

use std::collections::BTreeSet;
use std::path::Path;

use flowc_compiler::plan::build_plan;
use flowc_targets::{argo, EmitOptions, Emitted};
use flowc_tests::validate::argo as argo_validate;
use flowc_tests::{analyze_at, generate, tests_dir, trial};
use serde_json::Value as Json;

mod emit_common;

use argo_validate::dag::{check_dag_consistency, dags_are_consistent};
use argo_validate::schema::{argo_schema, kind_definition, validate_against_the_argo_schema};
use argo_validate::yaml11::{
    check_yaml11, plain_scalars, resolve_yaml11, yaml11_problem, yaml_reads_the_same_in_yaml_1_1,
    Yaml11,
};
use emit_common::{
    assert_enough_inputs, assert_snapshot_of, documents, examples, file_trials, fixtures,
    named_trials, plan_at, Input, VERSION,
};

/// Emits the pipeline of `rel` (a path under `root`).
fn emit_at(root: &Path, rel: &Path) -> Emitted {
    argo::emit(
        &plan_at(root, rel),
        &EmitOptions {
            version: Some(VERSION.into()),
            ..EmitOptions::default()
        },
    )
}

/// Every file to emit: the examples declaring a pipeline, and the emitter fixtures.
fn inputs() -> Vec<Input> {
    let mut out = examples();
    out.extend(fixtures("fixtures/emit", "fixture", |stem, rel| {
        !stem.starts_with("kfp_") && !rel.starts_with("fixtures/emit/lib")
    }));
    out
}

/// One test per example and fixture (so that one failing file hides no other, and
/// `cargo test --test emit_argo -- fixture_x` runs one), then the tests of the whole emitter.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let mut tests = file_trials(inputs(), check_file);
    tests.push(trial("there_are_examples_and_fixtures", || {
        assert_enough_inputs(&inputs())
    }));
    tests.push(trial(
        "generated_pipelines_validate_and_are_consistent",
        || {
            let files = vec![
                ("generated_1000".to_string(), emit_generated(1000).text),
                ("distinct_250".to_string(), emit_distinct(250).text),
            ];
            validate_against_the_argo_schema(&files);
            dags_are_consistent(&files);
            yaml_reads_the_same_in_yaml_1_1(&files[..1]);
        },
    ));
    tests.extend(named_trials(&[
        (
            "the_yaml_1_1_reader_sees_the_traps",
            the_yaml_1_1_reader_sees_the_traps,
        ),
        (
            "more_than_200_step_templates_move_into_workflow_templates_of_their_own",
            more_than_200_step_templates_move_into_workflow_templates_of_their_own,
        ),
        (
            "a_thousand_steps_fit_argo_limits",
            a_thousand_steps_fit_argo_limits,
        ),
        (
            "a_thousand_distinct_steps_build_with_the_run_size_warning",
            a_thousand_distinct_steps_build_with_the_run_size_warning,
        ),
        (
            "the_schema_check_rejects_what_argo_rejects",
            the_schema_check_rejects_what_argo_rejects,
        ),
        (
            "invalid_versions_are_reported",
            invalid_versions_are_reported,
        ),
        (
            "large_dags_are_split_into_chunks",
            large_dags_are_split_into_chunks,
        ),
        (
            "tuned_steps_that_retry_get_a_valid_memory_patch",
            tuned_steps_that_retry_get_a_valid_memory_patch,
        ),
        (
            "tuned_steps_read_their_memory_from_a_configmap",
            tuned_steps_read_their_memory_from_a_configmap,
        ),
        (
            "the_autotune_jobs_are_valid_cron_workflows",
            the_autotune_jobs_are_valid_cron_workflows,
        ),
    ]));
    libtest_mimic::run(&args, tests).exit();
}

/// Everything checked of one file: its snapshot (with its issues), the same bytes twice, the
/// Argo schema, consistent DAGs and the YAML 1.1 reading.
fn check_file(name: &str, root: &Path, rel: &Path) {
    let e = emit_at(root, rel);
    assert_snapshot_of("emit_argo", "ARGO", name, rel, &e);
    assert_eq!(
        e,
        emit_at(root, rel),
        "{} emits differently twice",
        rel.display()
    );
    argo_validate::validate_file(name, &e.text);
}

fn the_yaml_1_1_reader_sees_the_traps() {
    for s in ["yes", "No", "on", "OFF", "y", "n"] {
        assert_eq!(resolve_yaml11(s), Yaml11::Bool, "{s}");
    }
    for s in ["1_000", "0o17", "0755", "12:30", "0x1f", "-3"] {
        assert_eq!(resolve_yaml11(s), Yaml11::Int, "{s}");
    }
    for s in ["1.5", "1.0e3", ".inf", "-2.5e-3"] {
        assert_eq!(resolve_yaml11(s), Yaml11::Float, "{s}");
    }
    assert_eq!(resolve_yaml11("~"), Yaml11::Null);
    assert_eq!(resolve_yaml11("2024-01-01"), Yaml11::Timestamp);
    assert_eq!(resolve_yaml11("busybox"), Yaml11::Str);
    let plain = plain_scalars("a: yes\n\"b\": \"x\"\n- 3\nc:\n  - on\n");
    assert_eq!(
        plain,
        vec![
            (1, "key a".into()),
            (1, "yes".into()),
            (3, "3".into()),
            (4, "key c".into()),
            (5, "on".into())
        ]
    );
    let flow = plain_scalars("a: {b: [x, \"y, z\", 3], c: {}}\n- {d: /tmp/x, e: -m}\n");
    let expected: Vec<(usize, String)> = [
        (1, "key a"),
        (1, "key b"),
        (1, "x"),
        (1, "3"),
        (1, "key c"),
        (2, "key d"),
        (2, "/tmp/x"),
        (2, "key e"),
        (2, "-m"),
    ]
    .into_iter()
    .map(|(n, s)| (n, s.to_string()))
    .collect();
    assert_eq!(flow, expected);
    check_yaml11(
        "plain",
        "a: [x, -m, --out, /tmp/x, 3, true]\nb: {c.d/e: f_g}\n",
    );
    for bad in [
        "a: [yes]\n",
        "a: {b: 1e3}\n",
        "a: 2024-01-01\n",
        "- {on: x}\n",
        "a: -1x\n",
    ] {
        assert!(
            yaml11_problem("bad", bad).is_some(),
            "the YAML 1.1 check accepts {bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scale.

fn emit_generated(n: usize) -> Emitted {
    let dir = std::env::temp_dir().join(format!("flowc-emit-argo-{n}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("big.flow"), generate::pipeline(n)).expect("write");
    let e = emit_at(&dir, Path::new("big.flow"));
    let _ = std::fs::remove_dir_all(&dir);
    e
}

/// A pipeline of `n` calls of `n` different steps (each its own image), chained.
fn emit_distinct(n: usize) -> Emitted {
    let mut src = String::new();
    for i in 0..n {
        src.push_str(&format!(
            "step s{i}(x: Int, prev: File?) -> (out: File) {{\n  image \"registry.example.com/s{i}:1.0\"\n  run [\"run\", x, out]\n}}\n\n"
        ));
    }
    src.push_str("pipeline distinct() {\n  r0 = s0(x: 0)\n");
    for i in 1..n {
        src.push_str(&format!("  r{i} = s{i}(x: {i}, prev: r{})\n", i - 1));
    }
    src.push_str(&format!("  output last = r{}\n}}\n", n - 1));
    let dir = std::env::temp_dir().join(format!("flowc-emit-distinct-{n}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("distinct.flow"), src).expect("write");
    let e = emit_at(&dir, Path::new("distinct.flow"));
    let _ = std::fs::remove_dir_all(&dir);
    e
}

fn more_than_200_step_templates_move_into_workflow_templates_of_their_own() {
    let e = emit_distinct(250);
    assert!(e.issues.is_empty(), "issues: {:?}", e.issues);
    let docs = documents(&e.text);
    assert_eq!(docs.len(), 3, "the workflow and two templates of steps");
    let main = docs[0]["metadata"]["name"].as_str().unwrap_or_default();
    let own = docs[0]["spec"]["templates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(own.iter().all(|t| t.get("dag").is_some()), "only DAGs stay");
    let mut steps = 0;
    for (i, lib) in docs[1..].iter().enumerate() {
        assert_eq!(lib["kind"], "WorkflowTemplate");
        let name = lib["metadata"]["name"].as_str().unwrap_or_default();
        assert_eq!(name, format!("{main}-steps-{}", i + 1));
        assert!(is_dns_label(name));
        assert_eq!(lib["metadata"]["labels"]["flowc.dev/templates-of"], main);
        let n = lib["spec"]["templates"].as_array().map_or(0, Vec::len);
        assert!(n <= 200, "{name}: {n} templates");
        steps += n;
    }
    assert_eq!(steps, 250, "every step template is in one of them");
    let refs: usize = own
        .iter()
        .flat_map(|t| t["dag"]["tasks"].as_array().cloned().unwrap_or_default())
        .filter(|task| task.get("templateRef").is_some())
        .count();
    assert_eq!(refs, 250, "every step is called through templateRef");
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn a_thousand_steps_fit_argo_limits() {
    let a = emit_generated(1000);
    let b = emit_generated(1000);
    assert_eq!(a, b, "the 1,000-step pipeline emits differently twice");
    assert!(a.issues.is_empty(), "issues: {:?}", a.issues);
    assert!(a.text.len() < 1_500_000, "{} bytes", a.text.len());
    let docs = documents(&a.text);
    let wft = &docs[0];
    assert!(is_dns_label(
        wft["metadata"]["name"].as_str().unwrap_or_default()
    ));
    let templates = wft["spec"]["templates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(templates.len() <= 200, "{} templates", templates.len());
    let mut names = BTreeSet::new();
    let mut steps = 0;
    for t in &templates {
        let n = t["name"].as_str().unwrap_or_default();
        assert!(is_dns_label(n), "template name `{n}`");
        assert!(names.insert(n.to_string()), "duplicate template `{n}`");
        if let Some(tasks) = t["dag"]["tasks"].as_array() {
            assert!(tasks.len() <= 200, "{n} has {} tasks", tasks.len());
            steps += tasks
                .iter()
                .filter(|x| {
                    !x["template"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("-part-")
                })
                .count();
        }
    }
    assert_eq!(steps, 1000, "every step is a task exactly once");
    check_dag_consistency("generated_1000", wft, &docs);
}

/// The 1,000 distinct cached steps of the build benchmark: over the Argo controller's 1 MiB
/// (`W503`, with the size Kubernetes stores: compact JSON), under etcd's 1.5 MB, and valid.
fn a_thousand_distinct_steps_build_with_the_run_size_warning() {
    let dir = std::env::temp_dir().join(format!("flowc-emit-w503-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = generate::distinct(1000, generate::Shape::Chain);
    std::fs::write(dir.join("distinct.flow"), source).expect("write");
    let e = emit_at(&dir, Path::new("distinct.flow"));
    let _ = std::fs::remove_dir_all(&dir);
    let codes: Vec<&str> = e
        .issues
        .iter()
        .map(|i| i.diagnostic.code.as_str())
        .collect();
    assert_eq!(codes, ["W503"], "{:?}", e.issues);
    let stored: usize = documents(&e.text)
        .iter()
        .map(|d| serde_json::to_string(d).map_or(0, |j| j.len()))
        .sum();
    assert!(
        (1024 * 1024..1_500_000).contains(&stored),
        "{stored} bytes as JSON"
    );
    let message = &e.issues[0].diagnostic.message;
    assert!(
        message.contains(&format!("{stored}-byte spec")),
        "{message}"
    );
    argo_validate::validate_file("distinct_1000", &e.text);
}

fn the_schema_check_rejects_what_argo_rejects() {
    let Some(schema) = argo_schema() else {
        return;
    };
    let mut s = schema.clone();
    if let Some(obj) = s.as_object_mut() {
        obj.remove("oneOf");
        obj.remove("type");
        obj.insert(
            "$ref".into(),
            Json::String(kind_definition("WorkflowTemplate")),
        );
    }
    let v = jsonschema::validator_for(&s).expect("the Argo schema compiles");
    let good = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "x"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox:1.36"}}]},
    });
    assert!(v.is_valid(&good));
    let mut unknown = good.clone();
    unknown["spec"]["templates"][0]["contianer"] = serde_json::json!({});
    assert!(!v.is_valid(&unknown), "unknown fields are rejected");
    let mut number = good.clone();
    number["spec"]["arguments"] = serde_json::json!({"parameters": [{"name": "n", "value": 3}]});
    assert!(!v.is_valid(&number), "parameter values must be strings");
}

fn invalid_versions_are_reported() {
    let rel = Path::new("fixtures/emit/argo_schedule_utc.flow");
    let analysis = analyze_at(&tests_dir(), rel);
    let plan = build_plan(&analysis, None, None).expect("plan");
    let e = argo::emit(
        &plan,
        &EmitOptions {
            version: Some("1.2.0+build.5".into()),
            ..EmitOptions::default()
        },
    );
    let codes: Vec<&str> = e
        .issues
        .iter()
        .map(|i| i.diagnostic.code.as_str())
        .collect();
    assert_eq!(codes, ["E502"], "{:?}", e.issues);
    // The documents are still written, without a version.
    let docs = documents(&e.text);
    assert_eq!(docs[0]["metadata"]["name"], "hourly");
    assert!(docs[0]["metadata"]["labels"]
        .get("app.kubernetes.io/version")
        .is_none());
    // Without any version, the name is the pipeline's.
    let e = argo::emit(&plan, &EmitOptions::default());
    assert!(e.issues.is_empty());
    assert_eq!(documents(&e.text)[1]["metadata"]["name"], "hourly");
}

fn large_dags_are_split_into_chunks() {
    let e = emit_generated(450);
    assert!(e.issues.is_empty(), "{:?}", e.issues);
    let docs = documents(&e.text);
    let templates = docs[0]["spec"]["templates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let main = templates
        .iter()
        .find(|t| t["name"] == "main")
        .expect("main");
    let parts: Vec<&str> = main["dag"]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["template"].as_str())
        .collect();
    assert_eq!(parts, ["main-part-1", "main-part-2", "main-part-3"]);
    // Later chunks wait for the chunks they read from, and read through their outputs.
    let p2 = &main["dag"]["tasks"][1];
    assert!(p2["depends"]
        .as_str()
        .unwrap_or_default()
        .contains("part-1"));
    let from: Vec<String> = p2["arguments"]["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["from"].as_str().map(str::to_string))
        .collect();
    assert!(
        from.iter()
            .all(|f| f.starts_with("{{tasks.part-1.outputs.artifacts.")),
        "{from:?}"
    );
    assert!(!from.is_empty());
}

/// The daily weighting example with every step tuned at 512 MiB and a retry rule (first retry
/// 900 MiB), as a lock file would give them.
fn tuned_example() -> flowc_compiler::plan::Plan {
    use flowc_compiler::plan::{MemoryRetry, ResourcesPlan};
    let mut plan = plan_at(
        &flowc_tests::repo_root(),
        Path::new("examples/daily_weighting.flow"),
    );
    for pipeline in plan.pipelines.values_mut() {
        for task in pipeline.tasks.iter_mut() {
            if !matches!(task.kind, flowc_compiler::plan::TaskKind::Container { .. }) {
                continue;
            }
            task.settings.resources = ResourcesPlan {
                auto: true,
                memory_bytes: Some(512 << 20),
                memory_limit_bytes: Some(512 << 20),
                tuned: true,
                memory_retry: Some(MemoryRetry {
                    first_bytes: 900 << 20,
                    factor_permille: 1400,
                    min_step_bytes: 100 << 20,
                }),
                ..ResourcesPlan::default()
            };
        }
    }
    plan
}

/// With `--memory-from-configmap`, each tuned step declares the input parameter `flowc-memory`
/// read from the ConfigMap (key `PIPELINE.STEP`, the lock file's ladder as default), its
/// `podSpecPatch` picks the attempt's entry, a step without `retries` is retried on OOM kills
/// only, and the workflow validates against Argo's schema.
fn tuned_steps_read_their_memory_from_a_configmap() {
    let plan = tuned_example();
    let emitted = argo::emit(
        &plan,
        &EmitOptions {
            version: Some(VERSION.into()),
            memory_configmap: Some("flowc-memory".into()),
            ..EmitOptions::default()
        },
    );
    let docs = flowc_tests::validate::documents(&emitted.text);
    let templates: Vec<&Json> = docs
        .iter()
        .flat_map(|d| d["spec"]["templates"].as_array().into_iter().flatten())
        .filter(|t| t.get("container").is_some() && t.get("podSpecPatch").is_some())
        .collect();
    assert!(!templates.is_empty(), "{}", emitted.text);
    let mut keys = BTreeSet::new();
    for t in templates {
        let params = t["inputs"]["parameters"].as_array().expect("inputs");
        let p = params
            .iter()
            .find(|p| p["name"] == "flowc-memory")
            .unwrap_or_else(|| panic!("no flowc-memory parameter in {t}"));
        let from = &p["valueFrom"];
        assert_eq!(from["configMapKeyRef"]["name"], "flowc-memory");
        let key = from["configMapKeyRef"]["key"].as_str().unwrap_or_default();
        assert!(key.starts_with("daily_weighting."), "{key}");
        keys.insert(key.to_string());
        let retries: u32 = t["retryStrategy"]["limit"]
            .as_str()
            .and_then(|l| l.parse().ok())
            .expect("a retry limit");
        assert!(retries >= argo::OOM_RETRIES, "{t}");
        let ladder: Vec<&str> = from["default"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .collect();
        assert_eq!(ladder.len() as u32, retries + 1, "{t}");
        assert_eq!(&ladder[..3], ["512Mi", "900Mi", "1260Mi"]);
        if t["retryStrategy"].get("expression").is_some() {
            assert_eq!(
                t["retryStrategy"]["expression"],
                "asInt(lastRetry.exitCode) == 137"
            );
            assert_eq!(t["retryStrategy"]["limit"], "5");
        }
        let patch = t["podSpecPatch"].as_str().unwrap_or_default();
        assert!(
            patch.contains(
                "sprig.splitList(' ', inputs.parameters['flowc-memory'])[asInt(retries)]"
            ),
            "{patch}"
        );
    }
    validate_against_the_argo_schema(&[("configmap".to_string(), emitted.text.clone())]);
    // The ConfigMap a job writes from the same plan holds the same ladders under the same keys.
    let cm = argo::memory_configmap(&[&plan], "flowc-memory");
    let cm = &flowc_tests::validate::documents(&cm)[0];
    assert_eq!(
        cm["metadata"]["labels"]["workflows.argoproj.io/configmap-type"],
        "Parameter"
    );
    let data = cm["data"].as_object().expect("data");
    assert_eq!(data.keys().cloned().collect::<BTreeSet<_>>(), keys);
    for ladder in data.values() {
        assert!(ladder
            .as_str()
            .unwrap_or_default()
            .starts_with("512Mi 900Mi 1260Mi"));
    }
}

/// The CronWorkflows of `docs/nightly` (the first document of each file) validate against
/// Argo's schema.
fn the_autotune_jobs_are_valid_cron_workflows() {
    let dir = flowc_tests::repo_root().join("docs/nightly");
    let mut files = Vec::new();
    for name in ["argo-cronworkflow.yaml", "argo-configmap-job.yaml"] {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("docs/nightly/{name}: {e}"));
        let first = text.split("\n---\n").next().unwrap_or_default().to_string();
        assert!(first.contains("kind: CronWorkflow"), "{name}");
        files.push((name.to_string(), first));
    }
    validate_against_the_argo_schema(&files);
}

/// A step tuned by `flowc autotune` with a retry rule in the lock file, which retries, gets a
/// `podSpecPatch` setting its memory by `{{retries}}`; the workflow still validates against
/// Argo's schema.
fn tuned_steps_that_retry_get_a_valid_memory_patch() {
    use flowc_compiler::plan::{MemoryRetry, ResourcesPlan};
    let mut plan = plan_at(
        &flowc_tests::repo_root(),
        Path::new("examples/daily_weighting.flow"),
    );
    let mut tuned = 0;
    for pipeline in plan.pipelines.values_mut() {
        for task in pipeline.tasks.iter_mut().filter(|t| t.settings.retries > 0) {
            task.settings.resources = ResourcesPlan {
                auto: true,
                memory_bytes: Some(512 << 20),
                memory_limit_bytes: Some(512 << 20),
                tuned: true,
                memory_retry: Some(MemoryRetry {
                    first_bytes: 900 << 20,
                    factor_permille: 1400,
                    min_step_bytes: 100 << 20,
                }),
                ..ResourcesPlan::default()
            };
            tuned += 1;
        }
    }
    assert!(tuned > 0, "the example has steps that retry");
    let emitted = argo::emit(
        &plan,
        &EmitOptions {
            version: Some(VERSION.into()),
            ..EmitOptions::default()
        },
    );
    assert!(
        emitted
            .text
            .contains("asInt(retries) == 0 ? '512Mi' : asInt(retries) == 1 ? '900Mi'"),
        "{}",
        emitted.text
    );
    validate_against_the_argo_schema(&[("tuned_retries".to_string(), emitted.text)]);
}
