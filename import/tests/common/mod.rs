//! What the importer's tests share: the vendored files, checking a converted source with the
//! compiler, the problems as text, and the structural checks of tests/emit_kfp.rs for the YAML
//! a converted source builds to.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use flowc_compiler::{analyze, MemoryLoader};
use flowc_import::Converted;
use serde_json::Value as Json;

/// The folder of this crate's tests.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The `.yaml` files of `tests/data/<dir>`, sorted, as (file name, text).
pub fn data_files(dir: &str) -> Vec<(String, String)> {
    let dir = tests_dir().join("data").join(dir);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect();
    out.sort();
    out
}

/// The diagnostics of checking `source` (saved as `name`.flow), one `severity[CODE]: message`
/// line each.
pub fn check(name: &str, source: &str) -> Vec<String> {
    let path = PathBuf::from(format!("{}.flow", name.trim_end_matches(".yaml")));
    let loader = MemoryLoader::new().with(path.clone(), source);
    let a = analyze(&loader, &[path]);
    a.diagnostics
        .iter()
        .map(|d| {
            let sev = if d.is_error() { "error" } else { "warning" };
            format!("{sev}[{}]: {}", d.code.as_str(), d.message)
        })
        .collect()
}

/// The problems of a conversion, as the CLI prints them.
pub fn render(name: &str, c: &Converted) -> String {
    c.problems.iter().map(|p| p.render(name)).collect()
}

// The structural checks of tests/emit_kfp.rs, for the YAML the converted sources build to.

/// The entries of a JSON object, sorted.
pub fn obj(v: &Json) -> BTreeMap<String, Json> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// `{{$.inputs.parameters['x']}}`-style references in `s`: (section, name).
pub fn placeholders(s: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (prefix, section) in [
        ("{{$.inputs.parameters['", "inputDefinitions.parameters"),
        ("{{$.inputs.artifacts['", "inputDefinitions.artifacts"),
        ("{{$.outputs.artifacts['", "outputDefinitions.artifacts"),
        ("{{$.outputs.parameters['", "outputDefinitions.parameters"),
    ] {
        let mut rest = s;
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            let end = after.find("']").unwrap_or(after.len());
            out.push((section, after[..end].to_string()));
            rest = &after[end..];
        }
    }
    out
}

pub fn valid_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_lowercase())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Components, executors, tasks, dependencies, wiring and placeholders are consistent.
pub fn check_spec(docs: &[Json]) -> Vec<String> {
    let mut errs = Vec::new();
    let spec = &docs[0];
    if spec["schemaVersion"] != "2.1.0" {
        errs.push("schemaVersion is not 2.1.0".into());
    }
    if !valid_name(spec["pipelineInfo"]["name"].as_str().unwrap_or_default()) {
        errs.push("pipelineInfo.name is invalid".into());
    }
    let components = obj(&spec["components"]);
    let executors = obj(&spec["deploymentSpec"]["executors"]);
    let mut used = BTreeSet::new();
    let mut dags = vec![("root".to_string(), spec["root"].clone())];
    for (k, c) in &components {
        if c.get("dag").is_some() {
            dags.push((k.clone(), c.clone()));
            continue;
        }
        let label = c["executorLabel"].as_str().unwrap_or_default();
        used.insert(label.to_string());
        let Some(exec) = executors.get(label) else {
            errs.push(format!("{k}: executor `{label}` does not exist"));
            continue;
        };
        for (section, n) in placeholders(&exec.to_string()) {
            let (io, kind) = section.split_once('.').unwrap_or_default();
            if c[io][kind][&n].is_null() {
                errs.push(format!(
                    "{label}: placeholder `{n}` is not declared in {section}"
                ));
            }
        }
    }
    for e in executors.keys().filter(|e| !used.contains(*e)) {
        errs.push(format!("executor {e} is not used"));
    }
    for (dname, comp) in &dags {
        check_dag(&mut errs, dname, comp, &components);
    }
    if let Some(p) = docs.get(1) {
        for e in obj(&p["platforms"]["kubernetes"]["deploymentSpec"]["executors"]).keys() {
            if !executors.contains_key(e) {
                errs.push(format!("PlatformSpec: executor {e} does not exist"));
            }
        }
    }
    errs
}

/// One DAG: its tasks exist, are named validly, depend on tasks of the DAG in sorted order,
/// wire every required input and read outputs only of their dependencies.
pub fn check_dag(
    errs: &mut Vec<String>,
    dname: &str,
    comp: &Json,
    components: &BTreeMap<String, Json>,
) {
    let tasks = obj(&comp["dag"]["tasks"]);
    if tasks.is_empty() {
        errs.push(format!("{dname}: the DAG has no tasks"));
    }
    for (tname, t) in &tasks {
        let at = format!("{dname}/{tname}");
        if !valid_name(tname) {
            errs.push(format!("{at}: invalid task name"));
        }
        let cref = t["componentRef"]["name"].as_str().unwrap_or_default();
        let Some(callee) = components.get(cref) else {
            errs.push(format!("{at}: component `{cref}` does not exist"));
            continue;
        };
        let deps: Vec<&str> = t["dependentTasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        let mut sorted = deps.clone();
        sorted.sort_unstable();
        if deps != sorted {
            errs.push(format!("{at}: dependentTasks are not sorted"));
        }
        for d in &deps {
            if !tasks.contains_key(*d) || d == tname {
                errs.push(format!(
                    "{at}: dependency `{d}` is not another task of the DAG"
                ));
            }
        }
        let item = t["parameterIterator"]["itemInput"]
            .as_str()
            .or(t["artifactIterator"]["itemInput"].as_str())
            .unwrap_or_default();
        for kind in ["parameters", "artifacts"] {
            let wired = obj(&t["inputs"][kind]);
            for (n, d) in obj(&callee["inputDefinitions"][kind]) {
                if d["isOptional"] != true && !wired.contains_key(&n) && n != item {
                    errs.push(format!("{at}: required input {kind}.{n} is not wired"));
                }
            }
            for (n, w) in &wired {
                if callee["inputDefinitions"][kind][n].is_null() {
                    errs.push(format!("{at}: wired input {kind}.{n} is not declared"));
                }
                let producer = w["taskOutputParameter"]["producerTask"]
                    .as_str()
                    .or(w["taskOutputArtifact"]["producerTask"].as_str());
                if let Some(p) = producer {
                    if !deps.contains(&p) {
                        errs.push(format!(
                            "{at}: reads an output of `{p}`, which is not a dependency"
                        ));
                    }
                }
            }
        }
    }
}

/// Every plain (unquoted) value of the YAML reads the same in YAML 1.1: only booleans and
/// plain decimal numbers are left unquoted.
pub fn check_yaml11(name: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        let rest = line.trim_start().trim_start_matches("- ");
        if rest.starts_with('#') || rest.starts_with('"') || line == "---" {
            continue;
        }
        let Some((_, value)) = rest.split_once(": ") else {
            continue;
        };
        let v = value.trim();
        let decimal = v
            .strip_prefix('-')
            .unwrap_or(v)
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        assert!(
            v.starts_with('"') || v == "true" || v == "false" || v == "{}" || v == "[]" || decimal,
            "{name}:{}: the plain value `{v}` must be quoted for YAML 1.1 readers",
            i + 1
        );
    }
}
