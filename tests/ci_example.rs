//! `examples/ci/.gitlab-ci.yml` against GitLab's CI JSON schema (vendored in
//! `tests/schemas/gitlab-ci/`, with its source and licence), the jobs the release workflow
//! needs (docs/releasing.md), and every `flowc` command of its scripts parsed by flowc's own
//! command line.

use clap::Parser;
use flowc::args::Cli;
use flowc_tests::{repo_root, tests_dir};
use serde_json::Value as Json;

fn ci_file() -> Json {
    let text = std::fs::read_to_string(repo_root().join("examples/ci/.gitlab-ci.yml"))
        .expect("the CI example");
    serde_saphyr::from_str(&text).expect("the CI example is YAML")
}

fn gitlab_schema() -> Json {
    let text = std::fs::read_to_string(tests_dir().join("schemas/gitlab-ci/gitlab-ci.json"))
        .expect("the vendored schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}

#[test]
fn the_ci_example_is_valid_for_gitlab() {
    let schema = gitlab_schema();
    let v = jsonschema::validator_for(&schema).expect("the GitLab schema compiles");
    let ci = ci_file();
    let errors: Vec<String> = v
        .iter_errors(&ci)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema does reject what GitLab rejects.
    let mut bad = ci.clone();
    bad["publish"]["when"] = Json::from("sometimes");
    assert!(!v.is_valid(&bad), "an unknown `when` is refused");
    let mut bad = ci;
    bad["check"]["scirpt"] = Json::from(["flowc check"]);
    assert!(!v.is_valid(&bad), "an unknown job key is refused");
}

#[test]
fn the_release_jobs_are_there() {
    let ci = ci_file();
    for job in [
        "check",
        "diff",
        "runtime-image",
        "build",
        "publish",
        "deploy",
        "promote-to-prod",
        "autotune",
    ] {
        assert!(ci[job]["script"].is_array(), "job `{job}`");
    }
    for manual in ["deploy", "promote-to-prod"] {
        assert_eq!(ci[manual]["rules"][0]["when"], "manual", "{manual}");
    }
    assert_eq!(
        ci["check"]["artifacts"]["reports"]["codequality"],
        "gl-code-quality.json"
    );
    let scripts = |job: &str| -> String {
        ci[job]["script"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        scripts("publish").contains("/packages/generic/")
            || ci["variables"]["PACKAGE_URL"]
                .as_str()
                .unwrap_or_default()
                .contains("/packages/generic/")
    );
    assert!(scripts("deploy").contains("argo template create"));
    assert!(scripts("promote-to-prod").contains("-argo-prod.yaml"));
    assert!(scripts("build").contains("--channel prod"));
    assert!(scripts("build").contains("--runtime-image"));
}

/// The words of a shell command line: split at spaces outside double quotes, quotes removed.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_flowc_command_of_the_example_parses() {
    let ci = ci_file();
    let mut seen = 0;
    for (_, job) in ci.as_object().into_iter().flatten() {
        for line in job["script"].as_array().into_iter().flatten() {
            let Some(line) = line.as_str().filter(|l| l.starts_with("flowc ")) else {
                continue;
            };
            if let Err(e) = Cli::try_parse_from(words(line)) {
                panic!("`{line}` does not parse:\n{e}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 9, "{seen} flowc commands");
}
