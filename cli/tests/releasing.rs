//! docs/releasing.md, followed: every `flowc` and `mkdir -p` line of its `sh` blocks runs, in
//! order, in a Git repository holding `examples/daily_weighting.flow` as
//! `pipelines/daily_weighting.flow` (committed on `main`, then changed as a merge request
//! would), and what they write is what the document says. `argo`, `kubectl` and `curl` lines
//! need a cluster or a registry and are not run.

mod common;

use std::path::Path;
use std::process::Command;

use common::{example, flowc, text};
use serde_json::Value;

/// The command lines of the `sh` blocks of a Markdown document, in order.
fn sh_lines(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in md.lines() {
        if line.starts_with("```") {
            inside = line == "```sh";
            continue;
        }
        if inside && !line.trim().is_empty() {
            out.push(line.to_string());
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
}

fn documents(path: &Path) -> Vec<Value> {
    let t = std::fs::read_to_string(path).expect("written");
    t.split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).expect("YAML"))
        .collect()
}

fn names(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            format!(
                "{} {}",
                d["kind"].as_str().unwrap_or_default(),
                d["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn the_commands_of_the_release_guide_run_and_write_what_it_says() {
    let md =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/releasing.md"))
            .expect("docs/releasing.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("pipelines")).expect("mkdir");
    let source = std::fs::read_to_string(example("daily_weighting.flow")).expect("example");
    std::fs::write(d.join("pipelines/daily_weighting.flow"), &source).expect("write");
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "1.2.0"]);
    // The merge request: a looser cap on the weights.
    let changed = source.replacen("cap: 5", "cap: 6", 1);
    assert_ne!(changed, source, "the example has a cap to change");
    std::fs::write(d.join("pipelines/daily_weighting.flow"), &changed).expect("write");

    let mut ran = Vec::new();
    for line in sh_lines(&md) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&"flowc") => {
                let o = flowc(&words[1..], d);
                assert_eq!(o.status.code(), Some(0), "`{line}`:\n{}", text(&o));
                ran.push((line.clone(), o));
            }
            Some(&"mkdir") => {
                std::fs::create_dir_all(d.join(words[words.len() - 1])).expect("mkdir")
            }
            Some(&("argo" | "kubectl" | "curl")) => {}
            _ => panic!("a command the guide's test does not know: `{line}`"),
        }
    }
    assert!(ran.len() >= 5, "{} flowc commands", ran.len());

    // The diff names the changed step and what recomputes.
    let (_, diff) = ran
        .iter()
        .find(|(l, _)| l.starts_with("flowc diff"))
        .expect("a diff");
    let shown = String::from_utf8_lossy(&diff.stdout);
    assert!(shown.contains("| `weights` | arguments |"), "{shown}");
    assert!(shown.contains("### Recomputed on the next run"), "{shown}");

    // The files the guide describes.
    assert_eq!(
        names(&documents(&d.join("release/daily_weighting-argo.yaml"))),
        [
            "WorkflowTemplate daily-weighting-v1-2-1",
            "CronWorkflow daily-weighting"
        ]
    );
    let prod = documents(&d.join("release/daily_weighting-argo-prod.yaml"));
    assert_eq!(
        names(&prod),
        [
            "WorkflowTemplate daily-weighting-v1-2-1",
            "WorkflowTemplate daily-weighting-prod",
            "CronWorkflow daily-weighting-prod"
        ]
    );
    assert_eq!(
        prod[2]["spec"]["workflowSpec"]["workflowTemplateRef"]["name"],
        "daily-weighting-prod"
    );
    assert_eq!(
        prod[1]["spec"]["templates"][0]["dag"]["tasks"][0]["templateRef"]["name"],
        "daily-weighting-v1-2-1"
    );
    assert!(d.join("release/daily_weighting-kfp.yaml").is_file());
    for name in [
        "argo template create",
        "kubectl apply --namespace pipelines -f release/daily_weighting-argo-prod.yaml",
    ] {
        assert!(md.contains(name), "the guide says `{name}`");
    }
}
