//! Tests of the Kubeflow Pipelines emitter (`flowc_targets::kfp`).
//!
//! - Snapshots of the YAML of every example, of every `fixtures/emit/` fixture not named
//!   `argo_*` (one per feature; those without a prefix are built for both targets) and of the
//!   `fixtures/kfp_reference/` pipelines, each with the issues reported.
//! - Structural validity: every `componentRef` and `executorLabel` exists, every
//!   `dependentTasks` entry and every producer is a task of the same DAG (and a dependency),
//!   every non-optional input of a component is wired and every wired input is declared,
//!   constants match their `parameterType`, placeholders and CEL conditions name declared inputs,
//!   DAG outputs are declared, PlatformSpec executors exist, task names are valid, no DAG is
//!   empty, and no task depends on itself, on its own outputs or on others in a cycle.
//! - A YAML 1.1 reading of every file: every plain scalar is a boolean or a plain decimal
//!   number, and no plain key reads as anything but a string.
//! - The reference pipelines of `shared/reference/kfp/` (beside the repository; the test
//!   fails and says so when it is absent): flowc's output and the YAML the kfp SDK wrote are
//!   compared structurally, task by task, and every difference must be one of the documented ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use flowc_targets::{kfp, EmitOptions, Emitted};
use flowc_tests::validate::kfp as kfp_validate;
use flowc_tests::{generate, repo_root, tests_dir, trial};
use serde_json::Value as Json;

mod emit_common;

use emit_common::{
    assert_enough_inputs, assert_snapshot_of, documents, examples, file_trials, fixtures,
    named_trials, plan_at, render_issues, Input,
};
use kfp_validate::spec::{check_spec, obj};
use kfp_validate::yaml11::{plain_scalars, resolve_yaml11, Yaml11};

fn emit_source(root: &Path, rel: &Path) -> Emitted {
    kfp::emit(&plan_at(root, rel), &EmitOptions::default())
}

/// Every file to emit: the examples declaring a pipeline, the KFP fixtures, the references.
fn inputs() -> Vec<Input> {
    let mut out = examples();
    out.extend(fixtures("fixtures/emit", "fixture", |stem, rel| {
        !stem.starts_with("argo_") && !rel.starts_with("fixtures/emit/lib")
    }));
    out.extend(fixtures("fixtures/kfp_reference", "reference", |_, _| true));
    out
}

/// One test per example, fixture and reference pipeline (so that one failing file hides no
/// other, and `cargo test --test emit_kfp -- fixture_x` runs one), then the tests of the whole
/// emitter.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let mut tests = file_trials(inputs(), check_file);
    tests.push(trial("there_are_examples_and_fixtures", || {
        assert_enough_inputs(&inputs())
    }));
    tests.extend(named_trials(&[
        (
            "the_consistency_check_finds_problems",
            the_consistency_check_finds_problems,
        ),
        (
            "the_yaml_1_1_reader_sees_the_traps",
            the_yaml_1_1_reader_sees_the_traps,
        ),
        (
            "a_thousand_steps_stay_consistent_and_small",
            a_thousand_steps_stay_consistent_and_small,
        ),
        (
            "reference_pipelines_match_the_kfp_sdk",
            reference_pipelines_match_the_kfp_sdk,
        ),
        (
            "run_status_reaches_the_exit_task_as_a_word",
            run_status_reaches_the_exit_task_as_a_word,
        ),
    ]));
    libtest_mimic::run(&args, tests).exit();
}

/// Everything checked of one file: its snapshot (with its issues), the same bytes twice and
/// from the whole trees (the emitter writes its large mappings' entries as it makes them), a
/// consistent spec and the YAML 1.1 reading.
fn check_file(name: &str, root: &Path, rel: &Path) {
    let e = emit_source(root, rel);
    assert_snapshot_of("emit_kfp", "KFP", name, rel, &e);
    assert_eq!(
        e,
        emit_source(root, rel),
        "{} emits differently twice",
        rel.display()
    );
    assert_eq!(
        e,
        kfp::emit_whole_trees(&plan_at(root, rel), &EmitOptions::default()),
        "{} emits differently from the whole trees",
        rel.display()
    );
    kfp_validate::validate_file(name, &e.text);
}

fn the_consistency_check_finds_problems() {
    let e = emit_source(&repo_root(), Path::new("examples/features/fan_out.flow"));
    let mut docs = documents(&e.text);
    docs[0]["root"]["dag"]["tasks"]["combined"]["dependentTasks"] = Json::Array(vec![]);
    docs[0]["components"]["comp-everyone"]["inputDefinitions"]["parameters"]["n"]
        ["parameterType"] = "BOOLEAN".into();
    docs[0]["root"]["dag"]["tasks"]["halves"]["componentRef"]["name"] = "comp-nothing".into();
    // Two groups, each reading an output of the other.
    for (me, other) in [("group-a", "group-b"), ("group-b", "group-a")] {
        docs[0]["root"]["dag"]["tasks"][me] = serde_json::json!({
            "componentRef": {"name": "comp-nothing"},
            "dependentTasks": [other],
            "inputs": {"artifacts": {"x": {"taskOutputArtifact": {
                "producerTask": other, "outputArtifactKey": "x"}}}},
        });
    }
    let errs = check_spec(&docs).join("\n");
    assert!(errs.contains("is not a dependency"), "{errs}");
    assert!(errs.contains("in a cycle"), "{errs}");
    assert!(errs.contains("does not fit BOOLEAN"), "{errs}");
    assert!(errs.contains("`comp-nothing` does not exist"), "{errs}");
}

fn the_yaml_1_1_reader_sees_the_traps() {
    for (s, r) in [
        ("y", Yaml11::Bool),
        ("off", Yaml11::Bool),
        ("0755", Yaml11::Int),
        ("1_000", Yaml11::Int),
        ("12:30", Yaml11::Int),
        ("1.0e+3", Yaml11::Float),
        ("2024-01-01", Yaml11::Timestamp),
        ("~", Yaml11::Null),
        ("comp-train", Yaml11::Str),
        ("flowc.dev/pipeline-version", Yaml11::Str),
        ("0.0.1", Yaml11::Str),
    ] {
        assert_eq!(resolve_yaml11(s), r, "{s}");
    }
    let scalars = plain_scalars("a:\n  \"n\": 1\n  b: on\n- c: \"x\"\n");
    assert!(scalars.contains(&(3, false, "on".into())), "{scalars:?}");
    assert!(scalars.contains(&(4, true, "c".into())), "{scalars:?}");
    assert!(!scalars.iter().any(|(_, _, s)| s == "n"), "{scalars:?}");
}

// ---------------------------------------------------------------------------------------------
// Scale.

fn a_thousand_steps_stay_consistent_and_small() {
    let src = generate::pipeline(1000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("big.flow"), src).expect("writes the file");
    let e = emit_source(dir.path(), Path::new("big.flow"));
    let docs = documents(&e.text);
    let errs = check_spec(&docs);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    let tasks = docs[0]["root"]["dag"]["tasks"]
        .as_object()
        .map_or(0, |m| m.len());
    assert_eq!(tasks, 1000);
    assert!(
        e.text.len() < kfp::SPEC_SIZE_LIMIT,
        "{} bytes",
        e.text.len()
    );
    let names: BTreeSet<&str> = e
        .issues
        .iter()
        .map(|i| i.diagnostic.code.as_str())
        .collect();
    assert!(!names.contains("E503"), "{names:?}");
}

// ---------------------------------------------------------------------------------------------
// The reference pipelines of the kfp SDK.

/// A number-insensitive rendering of JSON (`100.0` and `100` are the same).
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
        Json::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Facets of a pipeline, by role (task) then facet name.
type Facets = BTreeMap<String, BTreeMap<String, String>>;

struct Viewer<'a> {
    components: BTreeMap<String, Json>,
    executors: BTreeMap<String, Json>,
    platform: BTreeMap<String, Json>,
    /// Task key → role.
    roles: &'a BTreeMap<String, String>,
    out: Facets,
}

impl Viewer<'_> {
    fn role(&self, key: &str) -> String {
        self.roles
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("extra:{key}"))
    }

    /// Where output `key` of task `producer` of a DAG comes from.
    fn output_origin(&self, tasks: &BTreeMap<String, Json>, producer: &str, key: &str) -> String {
        let Some(t) = tasks.get(producer) else {
            return format!("?{producer}.{key}");
        };
        let cref = t["componentRef"]["name"].as_str().unwrap_or_default();
        let comp = self.components.get(cref).cloned().unwrap_or_default();
        if comp.get("dag").is_none() {
            return format!("task:{}.{key}", self.role(producer));
        }
        let inner = obj(&comp["dag"]["tasks"]);
        let out = &comp["dag"]["outputs"];
        let mut sels: Vec<(String, String)> = Vec::new();
        for s in out["artifacts"][key]["artifactSelectors"]
            .as_array()
            .into_iter()
            .flatten()
        {
            sels.push((
                s["producerSubtask"].as_str().unwrap_or_default().into(),
                s["outputArtifactKey"].as_str().unwrap_or_default().into(),
            ));
        }
        for s in out["parameters"][key]["valueFromOneof"]["parameterSelectors"]
            .as_array()
            .into_iter()
            .flatten()
        {
            sels.push((
                s["producerSubtask"].as_str().unwrap_or_default().into(),
                s["outputParameterKey"].as_str().unwrap_or_default().into(),
            ));
        }
        if let Some(s) = out["parameters"][key].get("valueFromParameter") {
            sels.push((
                s["producerSubtask"].as_str().unwrap_or_default().into(),
                s["outputParameterKey"].as_str().unwrap_or_default().into(),
            ));
        }
        let origins: Vec<String> = sels
            .iter()
            .map(|(p, k)| self.output_origin(&inner, p, k))
            .collect();
        let loop_ = t.get("parameterIterator").is_some() || t.get("artifactIterator").is_some();
        let joined = if origins.len() == 1 {
            origins[0].clone()
        } else {
            format!("oneof({})", origins.join("|"))
        };
        if loop_ {
            format!("{joined}[]")
        } else {
            joined
        }
    }

    /// The origin of each wired input of task `t`.
    fn wiring(
        &self,
        t: &Json,
        tasks: &BTreeMap<String, Json>,
        ctx: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for kind in ["parameters", "artifacts"] {
            for (name, w) in obj(&t["inputs"][kind]) {
                let origin = if let Some(n) = w
                    .get("componentInputParameter")
                    .or(w.get("componentInputArtifact"))
                {
                    let n = n.as_str().unwrap_or_default();
                    ctx.get(n).cloned().unwrap_or_else(|| format!("?{n}"))
                } else if let Some(p) = w.get("taskOutputParameter").or(w.get("taskOutputArtifact"))
                {
                    let key = p["outputParameterKey"]
                        .as_str()
                        .or(p["outputArtifactKey"].as_str())
                        .unwrap_or_default();
                    self.output_origin(tasks, p["producerTask"].as_str().unwrap_or_default(), key)
                } else if let Some(c) = w["runtimeValue"].get("constant") {
                    format!("const:{}", norm(c))
                } else if w.get("taskFinalStatus").is_some() {
                    "final-status".into()
                } else {
                    norm(&w)
                };
                out.insert(name, origin);
            }
        }
        // Placeholders of other inputs inside constants read as their origins.
        let snapshot = out.clone();
        for v in out.values_mut() {
            for (n, o) in &snapshot {
                *v = v.replace(
                    &format!("{{{{$.inputs.parameters['{n}']}}}}"),
                    &format!("{{{o}}}"),
                );
            }
        }
        out
    }

    /// Every executor task under task `key` of `tasks` (itself when it is one).
    fn executors_under(
        &self,
        tasks: &BTreeMap<String, Json>,
        key: &str,
        out: &mut BTreeSet<String>,
    ) {
        let Some(t) = tasks.get(key) else { return };
        let cref = t["componentRef"]["name"].as_str().unwrap_or_default();
        let comp = self.components.get(cref).cloned().unwrap_or_default();
        if comp.get("dag").is_some() {
            let inner = obj(&comp["dag"]["tasks"]);
            for k in inner.keys() {
                self.executors_under(&inner, k, out);
            }
        } else {
            out.insert(self.role(key));
        }
    }

    fn walk(
        &mut self,
        comp: &Json,
        ctx: &BTreeMap<String, String>,
        groups: &[String],
        upstream: &BTreeSet<String>,
    ) {
        let tasks = obj(&comp["dag"]["tasks"]);
        for (key, t) in &tasks {
            let wiring = self.wiring(t, &tasks, ctx);
            let mut deps = upstream.clone();
            for d in t["dependentTasks"].as_array().into_iter().flatten() {
                self.executors_under(&tasks, d.as_str().unwrap_or_default(), &mut deps);
            }
            let cref = t["componentRef"]["name"].as_str().unwrap_or_default();
            let callee = self.components.get(cref).cloned().unwrap_or_default();
            if callee.get("dag").is_some() {
                let kind = key
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .trim_end_matches('-')
                    .to_string();
                let mut inner_ctx: BTreeMap<String, String> = wiring.clone();
                let mut desc = kind.clone();
                let iter = t.get("parameterIterator").or(t.get("artifactIterator"));
                if let Some(it) = iter {
                    let items = if let Some(raw) = it["items"]["raw"].as_str() {
                        let parsed: Json = serde_json::from_str(raw).unwrap_or(Json::Null);
                        format!("raw:{}", norm(&parsed))
                    } else {
                        let n = it["items"]["inputParameter"]
                            .as_str()
                            .or(it["items"]["inputArtifact"].as_str())
                            .unwrap_or_default();
                        wiring.get(n).cloned().unwrap_or_else(|| format!("?{n}"))
                    };
                    inner_ctx.insert(
                        it["itemInput"].as_str().unwrap_or_default().into(),
                        format!("item:{items}"),
                    );
                    desc = format!(
                        "for-loop[items={items},limit={}]",
                        norm(&t["iteratorPolicy"]["parallelismLimit"])
                    );
                }
                if let Some(c) = t["triggerPolicy"]["condition"].as_str() {
                    let mut c = c.to_string();
                    for (n, o) in &wiring {
                        c = c.replace(&format!("inputs.parameter_values['{n}']"), o);
                    }
                    desc = format!("condition[{c}]");
                }
                let mut g = groups.to_vec();
                g.push(desc);
                self.walk(&callee, &inner_ctx, &g, &deps);
                continue;
            }
            let role = self.role(key);
            let mut f = BTreeMap::new();
            f.insert("group".to_string(), groups.join("/"));
            for (io, defs) in [
                ("in", &callee["inputDefinitions"]),
                ("out", &callee["outputDefinitions"]),
            ] {
                for (kind, short) in [("parameters", "param"), ("artifacts", "artifact")] {
                    for (n, d) in obj(&defs[kind]) {
                        let mut ty = d["parameterType"]
                            .as_str()
                            .or(d["artifactType"]["schemaTitle"].as_str())
                            .unwrap_or_default()
                            .to_string();
                        if d["isArtifactList"] == true {
                            ty.push_str("[]");
                        }
                        if d["isOptional"] == true {
                            ty.push('?');
                        }
                        if let Some(v) = d.get("defaultValue") {
                            ty.push_str(&format!("={}", norm(v)));
                        }
                        f.insert(format!("{io}.{short}.{n}"), ty);
                    }
                }
            }
            for (n, o) in &wiring {
                if !n.starts_with("pipelinechannel--") {
                    f.insert(format!("wire.{n}"), o.clone());
                }
            }
            f.insert(
                "deps".into(),
                deps.iter().cloned().collect::<Vec<_>>().join(","),
            );
            f.insert("cache".into(), norm(&t["cachingOptions"]));
            f.insert("retry".into(), norm(&t["retryPolicy"]));
            f.insert("trigger".into(), norm(&t["triggerPolicy"]));
            let label = callee["executorLabel"].as_str().unwrap_or_default();
            let exec = self.executors.get(label).cloned().unwrap_or_default();
            if let Some(c) = exec.get("container") {
                f.insert("image".into(), norm(&c["image"]));
                let mut argv: Vec<Json> = c["command"].as_array().cloned().unwrap_or_default();
                argv.extend(c["args"].as_array().cloned().unwrap_or_default());
                f.insert("command".into(), norm(&Json::Array(argv)));
                f.insert("env".into(), norm(&c["env"]));
                f.insert("resources".into(), norm(&c["resources"]));
            }
            if let Some(i) = exec.get("importer") {
                f.insert("importer.type".into(), norm(&i["typeSchema"]));
                let uri = i["artifactUri"]["runtimeParameter"]
                    .as_str()
                    .unwrap_or_default();
                f.insert(
                    "importer.uri".into(),
                    wiring.get(uri).cloned().unwrap_or_default(),
                );
                f.insert("importer.metadata".into(), norm(&i["metadata"]));
            }
            for (k, v) in obj(self.platform.get(label).unwrap_or(&Json::Null)) {
                f.insert(format!("k8s.{k}"), norm(&v));
            }
            self.out.insert(role, f);
        }
    }
}

/// The facets of a KFP file, its tasks named by `roles`.
fn facets(docs: &[Json], roles: &BTreeMap<String, String>) -> Facets {
    let spec = &docs[0];
    let platform = docs.get(1).map_or_else(BTreeMap::new, |p| {
        obj(&p["platforms"]["kubernetes"]["deploymentSpec"]["executors"])
    });
    let mut v = Viewer {
        components: obj(&spec["components"]),
        executors: obj(&spec["deploymentSpec"]["executors"]),
        platform,
        roles,
        out: BTreeMap::new(),
    };
    let root = spec["root"].clone();
    let ctx: BTreeMap<String, String> = obj(&root["inputDefinitions"]["parameters"])
        .keys()
        .chain(obj(&root["inputDefinitions"]["artifacts"]).keys())
        .map(|k| (k.clone(), format!("param:{k}")))
        .collect();
    v.walk(&root, &ctx, &[], &BTreeSet::new());
    let mut p = BTreeMap::new();
    p.insert("name".into(), norm(&spec["pipelineInfo"]["name"]));
    p.insert(
        "description".into(),
        norm(&spec["pipelineInfo"]["description"]),
    );
    p.insert(
        "defaultPipelineRoot".into(),
        norm(&spec["defaultPipelineRoot"]),
    );
    p.insert("schemaVersion".into(), norm(&spec["schemaVersion"]));
    for (kind, short) in [("parameters", "param"), ("artifacts", "artifact")] {
        for (n, d) in obj(&root["inputDefinitions"][kind]) {
            p.insert(format!("in.{short}.{n}"), norm(&d));
        }
        for (n, d) in obj(&root["outputDefinitions"][kind]) {
            p.insert(format!("out.{short}.{n}"), norm(&d));
        }
    }
    v.out.insert("pipeline".into(), p);
    v.out
}

/// One reference pipeline: the flowc task key of each kfp task, and the expected differences
/// as (role, facet prefix, why).
struct Reference {
    name: &'static str,
    roles: &'static [(&'static str, &'static str)],
    differences: &'static [(&'static str, &'static str, &'static str)],
}

const PYTHON: &str = "a kfp Python component runs its embedded source through `kfp.dsl.executor_main`; a flowc step runs its own command";
const VERSION_LABEL: &str =
    "flowc labels every pod with the pipeline version (kfp only with `add_pod_label`)";
const VALUES: &str =
    "a flowc step returns files, not values: a Python return value is a file (or metrics) output";
const HELPER: &str = "KFP conditions read parameters only: a `flowc.eval` task turns the metric value into the Boolean the condition tests";

/// Every reference, with the flowc task of each kfp task and each expected difference.
const REFERENCES: &[Reference] = &[
    Reference {
        name: "p1_dataset_model",
        roles: &[("make-data", "data"), ("train", "trained"), ("evaluate", "metrics"), ("notify", "notify")],
        differences: &[
            ("*", "k8s.podMetadata", VERSION_LABEL),
            ("pipeline", "defaultPipelineRoot", "flowc has no artifact-root setting: the backend's default root applies"),
            ("make-data", "command", PYTHON),
            ("train", "command", PYTHON),
            ("train", "in.param.lr", "flowc passes every argument at the call (defaults included), so components declare no defaults"),
            ("train", "out.", VALUES),
            ("notify", "in.", VALUES),
            ("notify", "wire.message", VALUES),
            ("notify", "command", VALUES),
        ],
    },
    Reference {
        name: "p2_resources_gpu",
        roles: &[("gpu-train", "gpu-train")],
        differences: &[("*", "k8s.podMetadata", VERSION_LABEL)],
    },
    Reference {
        name: "p3_secrets_k8s",
        roles: &[("fetch-data", "fetch-data")],
        differences: &[
            ("fetch-data", "k8s.imagePullSecret", "flowc has no image pull secrets (use the service account's)"),
            ("fetch-data", "k8s.secretAsEnv", "`optional: false` is the default and is left out: backends before kfp-kubernetes 2.15 reject the field (kubeflow/pipelines#12495)"),
            ("fetch-data", "k8s.secretAsVolume", "`optional: false` is the default and is left out: backends before kfp-kubernetes 2.15 reject the field (kubeflow/pipelines#12495)"),
        ],
    },
    Reference {
        name: "p4_condition_parallelfor",
        roles: &[("pick-mode", "mode"), ("score", "scored"), ("summarize", "union"), ("say", "say"), ("say-2", "say-2")],
        differences: &[
            ("*", "k8s.podMetadata", VERSION_LABEL),
            ("extra:condition-2-test", "", HELPER),
            ("pick-mode", "command", PYTHON),
            ("pick-mode", "out.", VALUES),
            ("score", "command", PYTHON),
            ("score", "out.", VALUES),
            ("score", "deps", HELPER),
            ("score", "group", HELPER),
            ("say", "deps", HELPER),
            ("say", "group", HELPER),
            ("summarize", "deps", HELPER),
            ("summarize", "group", HELPER),
            ("summarize", "command", "the fan-in is the built-in `union` over the collected tables: KFP container steps cannot take a list of artifacts as paths"),
            ("summarize", "image", "the fan-in is the built-in `union`, which runs in the flowc runtime image"),
            ("summarize", "in.", VALUES),
            ("summarize", "out.", VALUES),
            ("summarize", "wire.", VALUES),
        ],
    },
    Reference {
        name: "p5_exit_handler",
        roles: &[("cleanup", "cleanup"), ("consume", "consume"), ("importer", "importer-uri")],
        differences: &[
            ("*", "k8s.podMetadata", VERSION_LABEL),
            ("cleanup", "command", PYTHON),
            ("importer", "importer.metadata", "flowc artifact parameters carry no metadata"),
            ("pipeline", "in.param.uri", "an artifact parameter of a flowc pipeline has no default, so its URI is a required run parameter"),
        ],
    },
];

fn reference_pipelines_match_the_kfp_sdk() {
    let dir = flowc_tests::shared::shared_path("reference/kfp");
    let mut unexpected = Vec::new();
    for r in REFERENCES {
        let reference = std::fs::read_to_string(dir.join(format!("{}.yaml", r.name)))
            .unwrap_or_else(|e| panic!("{}: {e}", r.name));
        let kfp_roles: BTreeMap<String, String> = r
            .roles
            .iter()
            .map(|(k, _)| (k.to_string(), k.to_string()))
            .collect();
        let flowc_roles: BTreeMap<String, String> = r
            .roles
            .iter()
            .map(|(k, f)| (f.to_string(), k.to_string()))
            .collect();
        let expected = facets(&documents(&reference), &kfp_roles);
        let rel = format!("fixtures/kfp_reference/{}.flow", r.name);
        let e = emit_source(&tests_dir(), Path::new(&rel));
        assert!(e.issues.is_empty(), "{}: {}", r.name, render_issues(&e));
        let actual = facets(&documents(&e.text), &flowc_roles);
        let mut used = vec![false; r.differences.len()];
        let roles: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
        for role in roles {
            let (a, b) = (expected.get(role), actual.get(role));
            let keys: BTreeSet<&String> = a
                .into_iter()
                .flat_map(|m| m.keys())
                .chain(b.into_iter().flat_map(|m| m.keys()))
                .collect();
            for k in keys {
                let va = a.and_then(|m| m.get(k)).map_or("(absent)", String::as_str);
                let vb = b.and_then(|m| m.get(k)).map_or("(absent)", String::as_str);
                if va == vb {
                    continue;
                }
                let known = r
                    .differences
                    .iter()
                    .position(|(dr, df, _)| (*dr == "*" || dr == role) && k.starts_with(df));
                match known {
                    Some(i) => used[i] = true,
                    None => unexpected.push(format!(
                        "{} {role} {k}:\n  kfp   {va}\n  flowc {vb}",
                        r.name
                    )),
                }
            }
        }
        for (i, (role, facet, _)) in r.differences.iter().enumerate() {
            assert!(
                used[i],
                "{}: the documented difference {role} {facet} no longer exists",
                r.name
            );
        }
    }
    assert!(
        unexpected.is_empty(),
        "undocumented differences:\n{}",
        unexpected.join("\n")
    );
}

/// `run.status` on Kubeflow: the exit task's container, run by a real `sh` with its
/// placeholders replaced as KFP's launcher replaces them (the final status as the JSON the
/// backend writes, with and without the space protojson may add), writes `succeeded` for a
/// `SUCCEEDED` state and `failed` for any other, where the step reads the value.
fn run_status_reaches_the_exit_task_as_a_word() {
    let e = emit_source(
        &tests_dir(),
        Path::new("fixtures/emit/finally_run_info.flow"),
    );
    let docs = documents(&e.text);
    let c = &docs[0]["deploymentSpec"]["executors"]["exec-notify"]["container"];
    let argv: Vec<String> = c["command"]
        .as_array()
        .into_iter()
        .chain(c["args"].as_array())
        .flatten()
        .filter_map(|a| a.as_str().map(String::from))
        .collect();
    assert!(argv.len() > 2, "no command: {c}");
    let cases = [
        (
            r#"{"pipelineJobResourceName":"j","pipelineTaskName":"p","state":"SUCCEEDED"}"#,
            "succeeded",
        ),
        (
            r#"{"error":{"code":9},"state": "SUCCEEDED","pipelineTaskName":"p"}"#,
            "succeeded",
        ),
        (
            r#"{"error":{"message":"\"state\":\"SUCCEEDED\""},"state":"FAILED"}"#,
            "failed",
        ),
        (r#"{"state":"CANCELED"}"#, "failed"),
    ];
    for (json, word) in cases {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let args: Vec<String> = argv
            .iter()
            .map(|a| {
                a.replace("{{$.inputs.parameters['status']}}", json)
                    .replace("{{$.inputs.parameters['name']}}", "job-1")
            })
            .collect();
        let out = std::process::Command::new(&args[0])
            .args(&args[1..])
            .current_dir(dir.path())
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "{json}: {out:?}");
        let log = std::fs::read_to_string(dir.path().join("notifications.log")).unwrap_or_default();
        assert_eq!(log, format!("job-1 ended: {word}\n"), "{json}");
    }
}
