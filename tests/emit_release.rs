//! Releases on Argo (issue 16): versions side by side, the channel alias and the schedule.
//!
//! - Patch releases and pre-releases get names of their own (`-v1-2-1`, `-v1-2-0-rc-1`),
//!   DNS labels within 63 characters even for long pipeline names and long pre-release tags.
//! - `--channel prod` adds an alias `WorkflowTemplate` whose templates call the versioned ones
//!   by `templateRef` (resolved by the validator within the file), and the `CronWorkflow`
//!   starts the alias; without a channel it starts the version but is named after the
//!   pipeline, so applying another version replaces the schedule instead of adding one.
//! - Every file validates against Argo's JSON schema and the DAG consistency checks.

use std::path::Path;

use flowc_compiler::plan::build_plan;
use flowc_targets::{argo, EmitOptions, Emitted};
use flowc_tests::validate::argo as argo_validate;
use flowc_tests::validate::documents;
use flowc_tests::{analyze_at, repo_root, tests_dir};
use serde_json::Value as Json;

// The emitter suites' shared helpers; this suite uses the snapshot of one file.
#[allow(dead_code)]
mod emit_common;

/// Builds `rel` (under `root`) for Argo at `version`, on `channel` if given.
fn emit(root: &Path, rel: &str, version: &str, channel: Option<&str>) -> Emitted {
    let analysis = analyze_at(root, Path::new(rel));
    assert!(!analysis.has_errors(), "{rel} must check");
    let plan = build_plan(&analysis, None, Some(version)).expect("plan");
    argo::emit(
        &plan,
        &EmitOptions {
            version: Some(version.into()),
            channel: channel.map(str::to_string),
            ..EmitOptions::default()
        },
    )
}

/// The release fixture at `version` on `channel`, checked clean and valid.
fn release(version: &str, channel: Option<&str>) -> Vec<Json> {
    let e = emit(
        &tests_dir(),
        "fixtures/emit/argo_release.flow",
        version,
        channel,
    );
    assert!(e.issues.is_empty(), "{:?}", e.issues);
    argo_validate::validate_file(&format!("release {version} {channel:?}"), &e.text);
    documents(&e.text)
}

fn names(docs: &[Json]) -> Vec<(String, String)> {
    docs.iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap_or_default().to_string(),
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[test]
fn patch_releases_and_pre_releases_live_side_by_side() {
    let mut templates = Vec::new();
    for (version, expected) in [
        ("1.2.0", "release-v1-2-0"),
        ("1.2.1", "release-v1-2-1"),
        ("1.2.0-rc.1", "release-v1-2-0-rc-1"),
        ("v2.0.0", "release-v2-0-0"),
    ] {
        let docs = release(version, None);
        assert_eq!(
            names(&docs),
            [
                ("WorkflowTemplate".to_string(), expected.to_string()),
                ("CronWorkflow".to_string(), "release".to_string()),
            ],
            "{version}"
        );
        assert_eq!(
            docs[0]["metadata"]["labels"]["app.kubernetes.io/version"],
            version
        );
        // Without a channel the schedule starts this version; its name is the pipeline's,
        // so applying the next version moves the schedule instead of adding a second one.
        assert_eq!(
            docs[1]["spec"]["workflowSpec"]["workflowTemplateRef"]["name"],
            expected
        );
        templates.push(expected);
    }
    templates.dedup();
    assert_eq!(templates.len(), 4);
}

#[test]
fn long_names_keep_the_whole_version_within_63_characters() {
    let root = tests_dir();
    let rel = "fixtures/emit/argo_names_and_quoting.flow";
    let mut seen = Vec::new();
    for version in [
        "1.2.0",
        "1.2.1",
        "1.2.0-rc.1",
        "1.0.0-alpha.with.a.very.long.tag.name.1",
    ] {
        let e = emit(&root, rel, version, Some("staging"));
        argo_validate::validate_file(version, &e.text);
        let docs = documents(&e.text);
        let name = docs[0]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(is_dns_label(&name), "{name}");
        assert!(
            !seen.contains(&name),
            "{version}: {name} is another version's"
        );
        for d in &docs {
            let n = d["metadata"]["name"].as_str().unwrap_or_default();
            assert!(is_dns_label(n), "{version}: {n}");
        }
        seen.push(name);
    }
    assert!(seen[0].ends_with("-v1-2-0"), "{}", seen[0]);
    assert!(seen[1].ends_with("-v1-2-1"), "{}", seen[1]);
    assert!(seen[2].ends_with("-v1-2-0-rc-1"), "{}", seen[2]);
    assert_eq!(
        seen[0].len(),
        63,
        "the pipeline's name is cut with its hash"
    );
    // The pipeline's part of the name is the same for every short version.
    assert_eq!(seen[0][..52], seen[1][..52]);
}

#[test]
fn a_channel_adds_an_alias_that_the_schedule_runs() {
    let docs = release("1.2.1", Some("prod"));
    assert_eq!(
        names(&docs),
        [
            ("WorkflowTemplate".to_string(), "release-v1-2-1".to_string()),
            ("WorkflowTemplate".to_string(), "release-prod".to_string()),
            ("CronWorkflow".to_string(), "release-prod".to_string()),
        ]
    );
    let (version, alias, cron) = (&docs[0], &docs[1], &docs[2]);
    // The schedule starts the alias only.
    assert_eq!(
        cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"],
        "release-prod"
    );
    // The alias runs what the version runs: the same arguments, exit handler and volumes.
    for key in ["entrypoint", "onExit", "arguments", "volumes"] {
        assert_eq!(alias["spec"][key], version["spec"][key], "{key}");
    }
    assert_eq!(alias["metadata"]["labels"]["flowc.dev/channel"], "prod");
    assert_eq!(
        alias["metadata"]["annotations"]["flowc.dev/template"],
        "release-v1-2-1"
    );
    // Each of its templates is one task calling the template of the same name by templateRef,
    // which exists in the versioned template (the validator resolved it too).
    let own: Vec<&str> = version["spec"]["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for t in alias["spec"]["templates"].as_array().into_iter().flatten() {
        let tasks = t["dag"]["tasks"].as_array().cloned().unwrap_or_default();
        assert_eq!(tasks.len(), 1, "{t}");
        let r = &tasks[0]["templateRef"];
        assert_eq!(r["name"], "release-v1-2-1");
        assert_eq!(r["template"], t["name"]);
        assert!(own.contains(&r["template"].as_str().unwrap_or_default()));
    }
    emit_common::assert_snapshot_of(
        "emit_release",
        "ARGO --version 1.2.1 --channel prod",
        "channel_prod",
        Path::new("fixtures/emit/argo_release.flow"),
        &emit(
            &tests_dir(),
            "fixtures/emit/argo_release.flow",
            "1.2.1",
            Some("prod"),
        ),
    );
}

#[test]
fn promoting_is_applying_another_versions_alias() {
    let old = release("1.2.0", Some("prod"));
    let new = release("1.2.1", Some("prod"));
    // Same alias and schedule names: applying one replaces the other.
    assert_eq!(old[1]["metadata"]["name"], new[1]["metadata"]["name"]);
    assert_eq!(old[2]["metadata"]["name"], new[2]["metadata"]["name"]);
    // Different versioned templates, so the old one stays to roll back to.
    assert_ne!(old[0]["metadata"]["name"], new[0]["metadata"]["name"]);
    assert_eq!(
        old[1]["spec"]["templates"][0]["dag"]["tasks"][0]["templateRef"]["name"],
        "release-v1-2-0"
    );
}

#[test]
fn invalid_channels_are_reported() {
    let e = emit(
        &tests_dir(),
        "fixtures/emit/argo_release.flow",
        "1.2.1",
        Some("Prod!"),
    );
    let codes: Vec<&str> = e
        .issues
        .iter()
        .map(|i| i.diagnostic.code.as_str())
        .collect();
    assert_eq!(codes, ["E502"]);
    assert!(e.issues[0].diagnostic.message.contains("channel `Prod!`"));
    assert!(!e.issues[0].diagnostic.labels.is_empty(), "located");
}

#[test]
fn gpu_models_select_nodes_by_a_configurable_label() {
    let root = repo_root();
    let rel = Path::new("examples/features/resources.flow");
    let plan = build_plan(&analyze_at(&root, rel), None, None).expect("plan");
    let gpu_selector = |opts: &EmitOptions| -> Json {
        let e = argo::emit(&plan, opts);
        assert!(e.issues.is_empty(), "{:?}", e.issues);
        argo_validate::validate_file("resources", &e.text);
        documents(&e.text)[0]["spec"]["templates"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == "train-on-gpu")
            .map(|t| t["nodeSelector"].clone())
            .unwrap_or_default()
    };
    let default = gpu_selector(&EmitOptions::default());
    assert_eq!(default["nvidia.com/gpu.product"], "nvidia-tesla-t4");
    assert_eq!(default["cloud.google.com/gke-nodepool"], "gpu-pool");
    let gke = gpu_selector(&EmitOptions {
        gpu_label: Some("cloud.google.com/gke-accelerator".into()),
        ..EmitOptions::default()
    });
    assert_eq!(gke["cloud.google.com/gke-accelerator"], "nvidia-tesla-t4");
    assert!(gke.get("nvidia.com/gpu.product").is_none());
}

#[test]
fn the_runtime_image_can_be_replaced() {
    let e = emit(&repo_root(), "examples/daily_weighting.flow", "1.2.1", None);
    assert!(e.text.contains("ghcr.io/flowc-dev/flowc-runtime:"));
    let analysis = analyze_at(&repo_root(), Path::new("examples/daily_weighting.flow"));
    let plan = build_plan(&analysis, None, None).expect("plan");
    let image = "registry.example.com/mirror/flowc-runtime:0.1.0";
    for text in [
        argo::emit(
            &plan,
            &EmitOptions {
                runtime_image: Some(image.into()),
                ..EmitOptions::default()
            },
        )
        .text,
        flowc_targets::kfp::emit(
            &plan,
            &EmitOptions {
                runtime_image: Some(image.into()),
                ..EmitOptions::default()
            },
        )
        .text,
    ] {
        assert!(text.contains(image));
        assert!(!text.contains("ghcr.io/flowc-dev/flowc-runtime"));
    }
}

#[test]
fn entry_outputs_are_workflow_outputs_and_metrics_are_gauges() {
    let docs = release("1.2.1", Some("prod"));
    for doc in &docs[..2] {
        let main = doc["spec"]["templates"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == doc["spec"]["entrypoint"])
            .cloned()
            .unwrap_or_default();
        let global = |kind: &str| -> Vec<String> {
            main["outputs"][kind]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["globalName"].as_str().map(str::to_string))
                .collect()
        };
        assert_eq!(global("parameters"), ["auc"], "{}", doc["metadata"]["name"]);
        assert_eq!(global("artifacts"), ["scores", "quality"]);
    }
    let score = docs[0]["spec"]["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == "score")
        .cloned()
        .unwrap_or_default();
    let gauges = score["metrics"]["prometheus"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = gauges.iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, ["flowc_quality_auc", "flowc_quality_rows"]);
    for g in &gauges {
        let labels: Vec<(&str, &str)> = g["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| Some((l["key"].as_str()?, l["value"].as_str()?)))
            .collect();
        assert_eq!(
            labels,
            [
                ("pipeline", "release"),
                ("version", "1.2.1"),
                ("step", "score")
            ]
        );
        let value = g["gauge"]["value"].as_str().unwrap_or_default();
        assert!(value.contains("flowc-metrics-quality"), "{value}");
    }
    // The value is read from an output parameter the template declares.
    assert!(score["outputs"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == "flowc-metrics-quality"));
}

#[test]
fn kubeflow_exports_the_entry_pipelines_outputs() {
    let analysis = analyze_at(&tests_dir(), Path::new("fixtures/emit/argo_release.flow"));
    let plan = build_plan(&analysis, None, Some("1.2.1")).expect("plan");
    let e = flowc_targets::kfp::emit(&plan, &EmitOptions::default());
    flowc_tests::validate::kfp::validate_file("release", &e.text);
    let spec = &documents(&e.text)[0];
    let outputs = &spec["root"]["outputDefinitions"];
    assert_eq!(
        outputs["artifacts"]["quality"]["artifactType"]["schemaTitle"],
        "system.Metrics"
    );
    assert!(outputs["artifacts"]["scores"].is_object(), "{outputs}");
    assert!(outputs["parameters"]["auc"].is_object(), "{outputs}");
    let dag = &spec["root"]["dag"]["outputs"];
    assert!(
        dag["artifacts"]["quality"]["artifactSelectors"].is_array(),
        "{dag}"
    );
    assert!(dag["parameters"]["auc"].is_object(), "{dag}");
}

/// Build values (`--set`) reach the image, the command, the environment and the pipeline's
/// strings on both targets, are recorded as the `flowc.dev/build-values` annotation, and both
/// files stay valid.
#[test]
fn build_values_are_put_and_recorded() {
    let analysis = analyze_at(&tests_dir(), Path::new("fixtures/emit/build_values.flow"));
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    let set = [
        ("image_tag".to_string(), "1.4.2".to_string()),
        ("replicas".to_string(), "3".to_string()),
    ];
    let values = flowc_compiler::build_values::resolve(&analysis, &set).expect("valid values");
    let plan = flowc_compiler::plan::build_plan_with(
        &analysis,
        None,
        Some("1.4.2"),
        &Default::default(),
        &values,
    )
    .expect("plan");
    let opts = EmitOptions {
        version: Some("1.4.2".into()),
        ..EmitOptions::default()
    };
    let recorded = r#"{"image_tag":"1.4.2","replicas":"3"}"#;
    let argo_file = argo::emit(&plan, &opts);
    assert!(argo_file.issues.is_empty(), "{:?}", argo_file.issues);
    argo_validate::validate_file("build values", &argo_file.text);
    let docs = documents(&argo_file.text);
    assert_eq!(
        docs[0]["metadata"]["annotations"]["flowc.dev/build-values"],
        recorded
    );
    let kfp_file = flowc_targets::kfp::emit(&plan, &opts);
    assert!(kfp_file.issues.is_empty(), "{:?}", kfp_file.issues);
    flowc_tests::validate::kfp::validate_file("build values", &kfp_file.text);
    for text in [&argo_file.text, &kfp_file.text] {
        assert!(text.contains("registry.example.com/etl:1.4.2"), "{text}");
        assert!(!text.contains("${build."), "{text}");
        assert!(!text.contains(":dev"), "{text}");
        assert!(text.contains("nightly-1.4.2"), "{text}");
    }
    let kfp_docs = documents(&kfp_file.text);
    let platform = kfp_docs
        .iter()
        .find(|d| d.get("platforms").is_some())
        .expect("a platform spec");
    let pod = &platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
        ["podMetadata"];
    assert_eq!(pod["annotations"]["flowc.dev/build-values"], recorded);
    // The value is part of what the step runs, so it is part of its cache key.
    let defaults = build_plan(&analysis, None, Some("1.4.2")).expect("plan");
    let key =
        |p: &flowc_compiler::plan::Plan| p.pipelines[&p.entry].tasks[0].definition_sha256.clone();
    assert_ne!(key(&plan), key(&defaults));
}
