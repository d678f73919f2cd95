//! Tests of the Argo Workflows emitter (`flowc_targets::argo`).
//!
//! - Snapshots of the YAML of every example and of every emitter fixture in `fixtures/emit/`
//!   (except the `kfp_*` ones), each with the issues the emitter reported.
//! - Every emitted document validates against Argo's JSON schema (`shared/schemas/`, next to
//!   the repository; the test says so and skips when it is absent), with the schema closed
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

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use flowc_compiler::plan::build_plan;
use flowc_targets::{argo, EmitOptions, Emitted};
use flowc_tests::{analyze_at, generate, tests_dir, trial};
use serde_json::Value as Json;

mod emit_common;

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
    let files = [(name.to_string(), e.text)];
    validate_against_the_argo_schema(&files);
    dags_are_consistent(&files);
    yaml_reads_the_same_in_yaml_1_1(&files);
}

// ---------------------------------------------------------------------------------------------
// Schema validation.

/// The Argo schema, closed and patched like `argo lint --strict` and the full CRDs.
fn argo_schema() -> Option<Json> {
    let path = tests_dir().join("../../shared/schemas/argo-workflows-schema.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // CI always provides `shared/` beside the repository: a missing schema is a broken
        // checkout, never a reason to pass without validating.
        Err(e) => panic!(
            "the Argo schema is needed to validate the emitted YAML: {} is not readable ({e}); \
             put the project's `shared/` folder beside the repository",
            path.display()
        ),
    };
    let mut schema: Json = serde_json::from_str(&text).expect("the Argo schema is JSON");
    if let Some(defs) = schema.get_mut("definitions").and_then(Json::as_object_mut) {
        for key in [
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
        ] {
            if let Some(d) = defs.get_mut(key) {
                *d = serde_json::json!({"type": ["string", "integer"]});
            }
        }
        for d in defs.values_mut() {
            close(d);
        }
    }
    Some(schema)
}

/// Rejects unknown fields in every object schema that lists its properties.
fn close(s: &mut Json) {
    if let Some(obj) = s.as_object_mut() {
        if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
            obj.insert("additionalProperties".into(), Json::Bool(false));
        }
        for v in obj.values_mut() {
            close(v);
        }
    } else if let Some(arr) = s.as_array_mut() {
        for v in arr {
            close(v);
        }
    }
}

fn kind_definition(kind: &str) -> String {
    format!("#/definitions/io.argoproj.workflow.v1alpha1.{kind}")
}

/// A validator of each kind of document, compiled once for all the tests of the run.
fn validators() -> Option<&'static BTreeMap<String, jsonschema::Validator>> {
    static VALIDATORS: OnceLock<Option<BTreeMap<String, jsonschema::Validator>>> = OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            let schema = argo_schema()?;
            let mut validators = BTreeMap::new();
            for kind in ["WorkflowTemplate", "CronWorkflow"] {
                let mut s = schema.clone();
                if let Some(obj) = s.as_object_mut() {
                    obj.remove("oneOf");
                    obj.remove("type");
                    obj.insert("$ref".into(), Json::String(kind_definition(kind)));
                }
                let v = jsonschema::validator_for(&s).expect("the Argo schema compiles");
                validators.insert(kind.to_string(), v);
            }
            Some(validators)
        })
        .as_ref()
}

/// Every document of `files` (name, text) is valid for the Argo schema.
fn validate_against_the_argo_schema(files: &[(String, String)]) {
    let Some(validators) = validators() else {
        return;
    };
    let mut checked = 0;
    for (name, text) in files {
        for doc in documents(text) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let v = validators
                .get(&kind)
                .unwrap_or_else(|| panic!("{name}: unexpected kind {kind}"));
            let errors: Vec<String> = v
                .iter_errors(&doc)
                .take(10)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{name}: {kind} is invalid:\n{}",
                errors.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= files.len(), "every file has a document");
}

// ---------------------------------------------------------------------------------------------
// DAG consistency.

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

fn strings(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::String(s) => out.push(s.clone()),
        Json::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Json::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
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

fn check_dag_consistency(name: &str, doc: &Json, file: &[Json]) {
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

/// The DAGs of every `WorkflowTemplate` of `files` (name, text) are consistent.
fn dags_are_consistent(files: &[(String, String)]) {
    for (name, text) in files {
        let docs = documents(text);
        for doc in &docs {
            if doc["kind"] == "WorkflowTemplate" {
                check_dag_consistency(name, doc, &docs);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML 1.1 reading.

/// How a YAML 1.1 reader (go-yaml v2, PyYAML) resolves a plain scalar.
#[derive(Debug, PartialEq)]
enum Yaml11 {
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
    Str,
}

fn resolve_yaml11(s: &str) -> Yaml11 {
    const TRUE_FALSE: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if TRUE_FALSE.contains(&s) {
        return Yaml11::Bool;
    }
    if ["", "~", "null", "Null", "NULL"].contains(&s) {
        return Yaml11::Null;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits_ = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '_');
    if body.starts_with("0b")
        && body[2..].chars().all(|c| matches!(c, '0' | '1' | '_'))
        && body.len() > 2
        || body.starts_with("0x")
            && body.len() > 2
            && body[2..].chars().all(|c| c.is_ascii_hexdigit() || c == '_')
        || body.starts_with("0o")
            && body.len() > 2
            && body[2..].chars().all(|c| c.is_digit(8) || c == '_')
        || digits_(body) && body.starts_with(|c: char| c.is_ascii_digit())
    {
        return Yaml11::Int;
    }
    // Sexagesimal: 12:30, 1:20:30.5
    let sexa: Vec<&str> = body.split(':').collect();
    if sexa.len() > 1
        && sexa[0].starts_with(|c: char| c.is_ascii_digit())
        && sexa.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        })
    {
        return Yaml11::Int;
    }
    let lower = body.to_ascii_lowercase();
    if [".inf", ".nan"].contains(&lower.as_str()) {
        return Yaml11::Float;
    }
    let (mant, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let mant_ok = mant.contains('.')
        && mant
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        && mant.chars().filter(|c| *c == '.').count() == 1
        && mant.chars().any(|c| c.is_ascii_digit());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    if mant_ok && exp_ok {
        return Yaml11::Float;
    }
    let date = |t: &str| {
        let b = t.as_bytes();
        t.len() >= 8 && b[0..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
    };
    if date(s) && s.split('-').count() >= 3 {
        return Yaml11::Timestamp;
    }
    Yaml11::Str
}

/// The plain (unquoted) scalars of a YAML file written by flowc: values after `key: `, after
/// `- `, inside flow sequences, and keys.
fn plain_scalars(yaml: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in yaml.lines().enumerate() {
        let mut rest = line.trim_start();
        if rest == "---" || rest.is_empty() {
            continue;
        }
        while let Some(r) = rest.strip_prefix("- ") {
            rest = r;
        }
        // A key, quoted or plain.
        let value = if rest.starts_with('"') {
            match closing_quote(rest) {
                Some(end) if rest[end + 1..].starts_with(':') => rest[end + 2..].trim_start(),
                _ => rest,
            }
        } else if let Some((k, v)) = rest.split_once(": ") {
            out.push((n + 1, format!("key {k}")));
            v
        } else if let Some(k) = rest.strip_suffix(':') {
            out.push((n + 1, format!("key {k}")));
            ""
        } else {
            rest
        };
        let value = value.trim();
        if value.is_empty() || value.starts_with('"') {
            continue;
        }
        if value == "[]" || value == "{}" {
            continue;
        }
        out.push((n + 1, value.to_string()));
    }
    out
}

fn closing_quote(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Every string of the JSON form of the documents must be a quoted scalar in the YAML: a
/// plain scalar must read (in YAML 1.1) as a boolean, number or null, and be that in JSON.
fn check_yaml11(name: &str, text: &str) {
    assert!(!text.contains('\t'), "{name}: tabs in YAML");
    for (line, scalar) in plain_scalars(text) {
        if let Some(key) = scalar.strip_prefix("key ") {
            assert!(
                resolve_yaml11(key) == Yaml11::Str && !key.contains(['"', '\'', '{', '[']),
                "{name}:{line}: key `{key}` is not read as a string by YAML 1.1"
            );
            continue;
        }
        let r = resolve_yaml11(&scalar);
        assert!(
            matches!(r, Yaml11::Bool | Yaml11::Int | Yaml11::Float | Yaml11::Null),
            "{name}:{line}: plain scalar `{scalar}` would be read as {r:?} by YAML 1.1"
        );
        if r == Yaml11::Bool {
            assert!(
                scalar == "true" || scalar == "false",
                "{name}:{line}: boolean spelled `{scalar}`"
            );
        }
        if matches!(r, Yaml11::Int | Yaml11::Float) {
            assert!(
                !scalar.contains(['_', ':', 'e', 'E', 'x', 'o', 'b']) && !scalar.starts_with("0")
                    || scalar == "0"
                    || scalar.starts_with("0."),
                "{name}:{line}: number `{scalar}` is not plain decimal"
            );
        }
    }
}

/// Every file of `files` (name, text) reads the same with YAML 1.1 rules.
fn yaml_reads_the_same_in_yaml_1_1(files: &[(String, String)]) {
    for (name, text) in files {
        check_yaml11(name, text);
        // And the typed reading agrees: strings stay strings.
        for doc in documents(text) {
            let mut all = Vec::new();
            strings(&doc, &mut all);
            assert!(!all.is_empty());
        }
    }
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
    let e = argo::emit(&plan, &EmitOptions { version: None });
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
