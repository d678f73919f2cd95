//! The compiled pipelines of `shared/reference/kfp/` (beside the repository, as for the
//! emitter tests): each converts, has a reviewed snapshot, checks without errors, builds for
//! Kubeflow again, and the rebuilt YAML describes the same pipeline as the original: the same
//! executor tasks with the same images, commands, wired inputs and dependencies, compared
//! structurally as tests/emit_kfp.rs does, every difference being a documented one.

mod common;
#[path = "../../tests/shared.rs"]
mod shared;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::{check, check_spec, check_yaml11, data_files, obj, render, tests_dir};
use flowc_compiler::plan::build_plan;
use flowc_compiler::{analyze, MemoryLoader};
use flowc_targets::{kfp, EmitOptions};
use serde_json::Value as Json;

/// The reference pipelines, failing clearly when `shared/` is not beside the repository.
fn references() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = shared::shared_files("reference/kfp", "yaml")
        .into_iter()
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
    assert!(
        out.len() >= 5,
        "expected the five reference pipelines, found {}",
        out.len()
    );
    // And this crate's own compiled pipelines, for what the references do not show.
    out.extend(data_files("pipelines"));
    out
}

/// The YAML documents of a file, as JSON.
fn documents(text: &str) -> Vec<Json> {
    text.split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Json>(d).unwrap_or_else(|e| panic!("{e}\n{d}")))
        .collect()
}

/// Builds `source` for Kubeflow, as `flowc build --target kfp` does.
fn build(name: &str, source: &str) -> String {
    let path = PathBuf::from(format!("{}.flow", name.trim_end_matches(".yaml")));
    let analysis = analyze(&MemoryLoader::new().with(path.clone(), source), &[path]);
    assert!(!analysis.has_errors(), "{name}: {:?}", analysis.diagnostics);
    let plan = build_plan(&analysis, None, Some("1.2.0")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let e = kfp::emit(&plan, &EmitOptions::default());
    let problems: Vec<String> = e
        .issues
        .iter()
        .map(|i| i.diagnostic.message.clone())
        .collect();
    assert!(
        problems.is_empty(),
        "{name}: the build reports {problems:?}"
    );
    e.text
}

#[test]
fn reference_pipelines_convert_check_and_snapshot() {
    for (name, text) in references() {
        let c = flowc_import::convert(&name, &text);
        assert!(!c.has_errors(), "{name}:\n{}", render(&name, &c));
        let diagnostics = check(&name, &c.source);
        assert!(
            !diagnostics.iter().any(|d| d.starts_with("error")),
            "{name}: {diagnostics:?}\n{}",
            c.source
        );
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/pipelines");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| {
            insta::assert_snapshot!(
                name.trim_end_matches(".yaml").to_string(),
                format!(
                    "{}\n----- IMPORT PROBLEMS\n{}----- CHECK\n{}\n",
                    c.source,
                    render(&name, &c),
                    diagnostics.join("\n")
                )
            );
        });
    }
}

/// With modules asked for, the lightweight Python components of `python_components.yaml` (kfp's
/// own compilation) become Python steps whose functions are modules of a package, their kfp
/// imports pointed at flowc's stand-ins; the container component stays a container step.
/// (`cli/tests/import.rs` writes and runs them with a real interpreter.)
#[test]
fn lightweight_components_become_python_steps_and_modules() {
    let (name, text) = data_files("pipelines")
        .into_iter()
        .find(|(n, _)| n == "python_components.yaml")
        .expect("the fixture");
    let c = flowc_import::convert_with_modules(&name, &text, "python_components_kfp");
    assert!(!c.has_errors(), "{}", render(&name, &c));
    let paths: Vec<&str> = c.modules.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "python_components_kfp/__init__.py",
            "python_components_kfp/clean.py",
            "python_components_kfp/fit.py",
            "python_components_kfp/make_panel.py",
        ]
    );
    let diagnostics = check(&name, &c.source);
    assert!(
        !diagnostics.iter().any(|d| d.starts_with("error")),
        "{diagnostics:?}\n{}",
        c.source
    );
    let modules: String = c
        .modules
        .iter()
        .map(|m| format!("----- {}\n{}", m.path, m.text))
        .collect();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/pipelines");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(
            "python_components_as_python_steps",
            format!(
                "{}\n{modules}----- IMPORT PROBLEMS\n{}----- CHECK\n{}\n",
                c.source,
                render(&name, &c),
                diagnostics.join("\n")
            )
        );
    });
}

// ---------------------------------------------------------------------------------------------
// The round trip.

/// A task name as both sides can spell it: `make-data` and `make_data` are `make_data`.
fn role(key: &str) -> String {
    key.replace('-', "_")
}

/// Placeholders by the input or output they name, whatever its spelling.
fn normalize_command(v: &Json) -> String {
    let mut s = v.to_string();
    for (from, to) in [
        ("{{$.inputs.parameters['", "{in:"),
        ("{{$.inputs.artifacts['", "{in:"),
        ("{{$.outputs.artifacts['", "{out:"),
        ("{{$.outputs.parameters['", "{out:"),
    ] {
        s = s.replace(from, to);
    }
    s.replace("'].path}}", "}")
        .replace("'].output_file}}", "}")
        .replace("']}}", "}")
        .replace('-', "_")
}

/// A number-insensitive rendering of JSON (`2.0` and `2` are the same), keys sorted.
fn norm(v: &Json) -> String {
    match v {
        Json::Number(n) => format!("{}", n.as_f64().unwrap_or_default()),
        Json::Array(a) => format!("[{}]", a.iter().map(norm).collect::<Vec<_>>().join(",")),
        Json::Object(m) => {
            let mut items: Vec<String> =
                m.iter().map(|(k, v)| format!("{k}:{}", norm(v))).collect();
            items.sort();
            format!("{{{}}}", items.join(","))
        }
        other => other.to_string(),
    }
}

/// What the comparison looks at, by task then facet.
type Facets = BTreeMap<String, BTreeMap<String, String>>;

/// The executor tasks of a spec, walked through its groups, with their facets.
struct Walk<'a> {
    components: BTreeMap<String, Json>,
    executors: BTreeMap<String, Json>,
    platform: BTreeMap<String, Json>,
    out: &'a mut Facets,
}

impl Walk<'_> {
    /// The executor tasks under task `key` of `tasks` (itself, or every task of its group).
    fn under(&self, tasks: &BTreeMap<String, Json>, key: &str, out: &mut BTreeSet<String>) {
        let Some(t) = tasks.get(key) else { return };
        let comp = self
            .components
            .get(t["componentRef"]["name"].as_str().unwrap_or_default());
        match comp.filter(|c| c.get("dag").is_some()) {
            Some(c) => {
                let inner = obj(&c["dag"]["tasks"]);
                for k in inner.keys() {
                    self.under(&inner, k, out);
                }
            }
            None => {
                out.insert(role(key));
            }
        }
    }

    fn walk(&mut self, comp: &Json, upstream: &BTreeSet<String>, groups: &[String]) {
        let tasks = obj(&comp["dag"]["tasks"]);
        for (key, t) in &tasks {
            let mut deps = upstream.clone();
            for d in t["dependentTasks"].as_array().into_iter().flatten() {
                self.under(&tasks, d.as_str().unwrap_or_default(), &mut deps);
            }
            let callee = self
                .components
                .get(t["componentRef"]["name"].as_str().unwrap_or_default())
                .cloned()
                .unwrap_or_default();
            if callee.get("dag").is_some() {
                let mut g = groups.to_vec();
                if let Some(it) = t.get("parameterIterator").or(t.get("artifactIterator")) {
                    let items = match it["items"]["raw"].as_str() {
                        Some(raw) => norm(&serde_json::from_str(raw).unwrap_or(Json::Null)),
                        None => "param".into(),
                    };
                    g.push(format!(
                        "for[{items},limit={}]",
                        norm(&t["iteratorPolicy"]["parallelismLimit"])
                    ));
                } else if t["triggerPolicy"].get("condition").is_some() {
                    g.push("if".into());
                }
                self.walk(&callee, &deps, &g);
                continue;
            }
            let mut f = BTreeMap::new();
            f.insert("group".into(), groups.join("/"));
            f.insert("cache".into(), norm(&t["cachingOptions"]));
            f.insert("retry".into(), norm(&t["retryPolicy"]));
            let label = callee["executorLabel"].as_str().unwrap_or_default();
            let exec = self.executors.get(label).cloned().unwrap_or_default();
            if let Some(c) = exec.get("container") {
                f.insert("image".into(), c["image"].to_string());
                let mut argv: Vec<Json> = c["command"].as_array().cloned().unwrap_or_default();
                argv.extend(c["args"].as_array().cloned().unwrap_or_default());
                f.insert("command".into(), normalize_command(&Json::Array(argv)));
                f.insert("env".into(), c["env"].to_string());
                f.insert("resources".into(), norm(&c["resources"]));
            }
            if exec.get("importer").is_some() {
                f.insert(
                    "importer".into(),
                    exec["importer"]["typeSchema"].to_string(),
                );
            }
            let mut inputs: Vec<String> = Vec::new();
            for kind in ["parameters", "artifacts"] {
                inputs.extend(
                    obj(&t["inputs"][kind])
                        .keys()
                        .map(|k| format!("{kind}.{}", role(k))),
                );
            }
            inputs.sort();
            f.insert("inputs".into(), inputs.join(","));
            deps.remove(&role(key));
            f.insert(
                "deps".into(),
                deps.iter().cloned().collect::<Vec<_>>().join(","),
            );
            for (k, v) in obj(self.platform.get(label).unwrap_or(&Json::Null)) {
                f.insert(format!("k8s.{k}"), v.to_string());
            }
            self.out.insert(role(key), f);
        }
    }
}

fn facets(docs: &[Json]) -> Facets {
    let spec = &docs[0];
    let platform = docs.get(1).map_or_else(BTreeMap::new, |p| {
        obj(&p["platforms"]["kubernetes"]["deploymentSpec"]["executors"])
    });
    let mut out = Facets::new();
    let mut w = Walk {
        components: obj(&spec["components"]),
        executors: obj(&spec["deploymentSpec"]["executors"]),
        platform,
        out: &mut out,
    };
    w.walk(&spec["root"], &BTreeSet::new(), &[]);
    let root = &spec["root"];
    let mut p = BTreeMap::new();
    for (facet, defs) in [
        ("params", &root["inputDefinitions"]),
        ("outputs", &root["outputDefinitions"]),
    ] {
        let mut list: Vec<String> = Vec::new();
        for kind in ["parameters", "artifacts"] {
            for (n, d) in obj(&defs[kind]) {
                let ty = d["parameterType"]
                    .as_str()
                    .or(d["artifactType"]["schemaTitle"].as_str());
                list.push(format!(
                    "{}:{}={}",
                    role(&n),
                    ty.unwrap_or_default(),
                    norm(&d["defaultValue"])
                ));
            }
        }
        p.insert(facet.to_string(), list.join(","));
    }
    out.insert("pipeline".into(), p);
    out
}

/// Tasks flowc names otherwise: (pipeline, flowc's task, kfp's task). The branches of an `if`
/// that bind one name (`dsl.OneOf`) are named after it: `big`, `big-2`, `big-3`.
const ROLES: &[(&str, &str, &str)] = &[("one_of", "big_2", "medium"), ("one_of", "big_3", "small")];

/// The expected differences: (reference, task or `*`, facet prefix, why).
const DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "*",
        "*",
        "k8s.podMetadata",
        "flowc labels every pod with the pipeline version",
    ),
    (
        "p3_secrets_k8s",
        "fetch_data",
        "k8s.imagePullSecret",
        "flowc has no image pull secrets",
    ),
    (
        "p3_secrets_k8s",
        "fetch_data",
        "k8s.secretAsEnv",
        "`optional: false` is left out by flowc's emitter (kubeflow/pipelines#12495)",
    ),
    (
        "p3_secrets_k8s",
        "fetch_data",
        "k8s.secretAsVolume",
        "`optional: false` is left out by flowc's emitter (kubeflow/pipelines#12495)",
    ),
    (
        "p5_exit_handler",
        "importer",
        "",
        "flowc's importer task is named after the parameter it imports (`importer-uri`)",
    ),
    (
        "p5_exit_handler",
        "importer_uri",
        "",
        "flowc's importer task is named after the parameter it imports (`importer-uri`)",
    ),
    (
        "p5_exit_handler",
        "cleanup",
        "inputs",
        "flowc exit handlers take no run status",
    ),
    ("p5_exit_handler", "pipeline", "params", "an artifact parameter of a flowc pipeline has no default, so its URI is a required run parameter"),
    (
        "p5_exit_handler",
        "*",
        "deps",
        "flowc's importer task is named after the parameter it imports (`importer-uri`)",
    ),
];

#[test]
fn reference_pipelines_build_back_to_the_same_pipeline() {
    let mut unexpected = Vec::new();
    let mut used = vec![false; DIFFERENCES.len()];
    for (name, text) in references() {
        let stem = name.trim_end_matches(".yaml");
        let c = flowc_import::convert(&name, &text);
        let rebuilt = build(&name, &c.source);
        let errs = check_spec(&documents(&rebuilt));
        assert!(
            errs.is_empty(),
            "{name}: the rebuilt spec is inconsistent:\n{}",
            errs.join("\n")
        );
        check_yaml11(&name, &rebuilt);
        let a = facets(&documents(&text));
        let mut b = facets(&documents(&rebuilt));
        let roles: BTreeMap<&str, &str> = ROLES
            .iter()
            .filter(|(p, _, _)| *p == stem)
            .map(|(_, f, k)| (*f, *k))
            .collect();
        b = b
            .into_iter()
            .map(|(task, mut f)| {
                if let Some(d) = f.get_mut("deps") {
                    let mut deps: Vec<&str> = d
                        .split(',')
                        .map(|x| roles.get(x).copied().unwrap_or(x))
                        .collect();
                    deps.sort_unstable();
                    *d = deps.join(",");
                }
                (
                    roles
                        .get(task.as_str())
                        .map_or(task.clone(), |k| k.to_string()),
                    f,
                )
            })
            .collect();
        let roles: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for r in roles {
            let (fa, fb) = (a.get(r), b.get(r));
            let keys: BTreeSet<&String> = fa.into_iter().chain(fb).flat_map(|m| m.keys()).collect();
            for k in keys {
                let va = fa.and_then(|m| m.get(k)).map_or("(absent)", String::as_str);
                let vb = fb.and_then(|m| m.get(k)).map_or("(absent)", String::as_str);
                if va == vb {
                    continue;
                }
                let known = DIFFERENCES.iter().position(|(p, t, f, _)| {
                    (*p == "*" || *p == stem) && (*t == "*" || t == r) && k.starts_with(f)
                });
                match known {
                    Some(i) => used[i] = true,
                    None => unexpected.push(format!("{stem} {r} {k}:\n  kfp   {va}\n  flowc {vb}")),
                }
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "undocumented differences:\n{}",
        unexpected.join("\n")
    );
    for (i, (p, t, f, _)) in DIFFERENCES.iter().enumerate() {
        assert!(
            used[i],
            "the documented difference {p} {t} {f} no longer exists"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The structural checks of tests/emit_kfp.rs, on the rebuilt YAML.

#[test]
fn the_structural_checks_find_problems() {
    let (name, text) = references().swap_remove(0);
    let c = flowc_import::convert(&name, &text);
    let mut docs = documents(&build(&name, &c.source));
    let tasks = docs[0]["root"]["dag"]["tasks"]
        .as_object_mut()
        .expect("tasks");
    let key = tasks.keys().next_back().cloned().unwrap_or_default();
    tasks[&key]["dependentTasks"] = serde_json::json!(["zz-missing", "a-missing"]);
    tasks[&key]["componentRef"]["name"] = "comp-nothing".into();
    let errs = check_spec(&docs).join("\n");
    assert!(errs.contains("`comp-nothing` does not exist"), "{errs}");
}

#[test]
fn the_worked_example_of_docs_migrating_is_what_the_importer_writes() {
    let doc = std::fs::read_to_string(tests_dir().join("../../docs/migrating.md"))
        .expect("docs/migrating.md");
    let (name, text) = references()
        .into_iter()
        .find(|(n, _)| n == "p3_secrets_k8s.yaml")
        .expect("the reference p3");
    let c = flowc_import::convert(&name, &text);
    let start = doc
        .find("//! Imported from `p3_secrets_k8s.yaml`")
        .expect("the example's source");
    let end = start + doc[start..].find("```").expect("the end of the block");
    assert_eq!(doc[start..end].trim(), c.source.trim());
    for p in &c.problems {
        let line = p.render(&name);
        let first = line.lines().next().unwrap_or_default();
        assert!(doc.contains(first), "docs/migrating.md lacks `{first}`");
    }
}

#[test]
fn the_component_example_of_docs_migrating_is_what_the_importer_writes() {
    let doc = std::fs::read_to_string(tests_dir().join("../../docs/migrating.md"))
        .expect("docs/migrating.md");
    let block = |fence: &str| -> String {
        let start = doc.find(fence).expect("the block") + fence.len();
        let end = start + doc[start..].find("```").expect("its end");
        doc[start..end].to_string()
    };
    let c = flowc_import::convert("xgb.yaml", &block("```yaml\n"));
    assert!(!c.has_errors(), "{:?}", c.problems);
    assert_eq!(block("```flow\n"), c.source);
}
