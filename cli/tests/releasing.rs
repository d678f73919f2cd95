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

#[test]
fn the_runtime_image_comes_from_the_flag_or_the_project_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("pipelines")).expect("mkdir");
    let source = std::fs::read_to_string(example("daily_weighting.flow")).expect("example");
    std::fs::write(d.join("pipelines/daily_weighting.flow"), source).expect("write");
    std::fs::write(
        d.join("flowc.toml"),
        "[build]\nruntime_image = \"registry.example.com/platform/flowc-runtime:0.1.0\"\n",
    )
    .expect("write");
    let build = |extra: &[&str]| {
        let mut args = vec![
            "build",
            "pipelines/daily_weighting.flow",
            "--target",
            "argo",
        ];
        args.extend_from_slice(extra);
        flowc(&args, d)
    };
    let from_settings = build(&[]);
    assert_eq!(
        from_settings.status.code(),
        Some(0),
        "{}",
        text(&from_settings)
    );
    let yaml = String::from_utf8_lossy(&from_settings.stdout).into_owned();
    assert!(yaml.contains("registry.example.com/platform/flowc-runtime:0.1.0"));
    assert!(!yaml.contains("ghcr.io/flowc-dev/flowc-runtime"));
    let from_flag = build(&["--runtime-image", "mirror.example.com/rt:2"]);
    let yaml = String::from_utf8_lossy(&from_flag.stdout).into_owned();
    assert!(
        yaml.contains("mirror.example.com/rt:2") && !yaml.contains("registry.example.com/platform")
    );

    // A broken setting, a channel without a version or for Kubeflow: usage errors.
    std::fs::write(d.join("flowc.toml"), "[build]\nruntime_image = 3\n").expect("write");
    let broken = build(&[]);
    assert_eq!(broken.status.code(), Some(2), "{}", text(&broken));
    assert!(text(&broken).contains("flowc.toml"), "{}", text(&broken));
    std::fs::remove_file(d.join("flowc.toml")).expect("rm");
    let no_version = build(&["--channel", "prod"]);
    assert_eq!(no_version.status.code(), Some(2), "{}", text(&no_version));
    let kfp = flowc(
        &[
            "build",
            "pipelines/daily_weighting.flow",
            "--target",
            "kfp",
            "--version",
            "1.0.0",
            "--channel",
            "prod",
        ],
        d,
    );
    assert_eq!(kfp.status.code(), Some(2), "{}", text(&kfp));
    assert!(text(&kfp).contains("--target argo"), "{}", text(&kfp));
    // An invalid channel is a located E502.
    let bad = build(&["--version", "1.0.0", "--channel", "Prod"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        text(&bad).contains("[E502]") && text(&bad).contains("channel `Prod`"),
        "{}",
        text(&bad)
    );
}
