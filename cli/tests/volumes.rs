//! `flowc run` with volumes: a claim is a folder under the store (`.flow/volumes/`), mounted
//! writable at its path in the sandbox (the real `bwrap`) and written for its path in the
//! command on the host engine. An existing claim keeps its files across runs; a claim created
//! for the run is shared by the run's steps and removed when the run ends.

mod common;
use common::{ok, text, write};

use std::path::Path;

const PIPELINE: &str = r#"
volume shared = k8s_pvc("team-data")
volume scratch = k8s_pvc(size: 1Gi)

step fill(tag: Str) {
  image "debian:12"
  run ["sh", "-c", "echo $0 >> /shared/runs.txt && echo from-fill > /scratch/note.txt", tag]
  mount shared at "/shared"
  mount scratch at "/scratch"
}

step report(tag: Str) -> (o: File) {
  image "debian:12"
  run ["sh", "-c", "cat /scratch/note.txt /shared/runs.txt > $1", tag, o]
  env NOTE = "/scratch/note.txt"
  mount shared at "/shared"
  mount scratch at "/scratch"
}

pipeline v(tag: Str = "one") {
  f = fill(tag: tag)
  r = report(tag: tag) after f
  output r
}
"#;

/// The text of the run's output `r` (the path the run printed).
fn output_r(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("r = "))
        .unwrap_or_else(|| panic!("no output `r`: {}", text(out)));
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The entries of `.flow/volumes`, sorted.
fn volume_folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(".flow/volumes"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn runs_twice(engine: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "v.flow", PIPELINE);
    let first = ok(
        &["run", "v.flow", "--engine", engine, "--param", "tag=one"],
        dir.path(),
    );
    assert!(
        !text(&first).contains("sandbox engine cannot run"),
        "{}",
        text(&first)
    );
    assert_eq!(output_r(&first), "from-fill\none\n", "{}", text(&first));
    // The created claim is gone; the existing one is kept, by its claim name.
    assert_eq!(volume_folders(dir.path()), vec!["team-data".to_string()]);
    let second = ok(
        &["run", "v.flow", "--engine", engine, "--param", "tag=two"],
        dir.path(),
    );
    assert_eq!(
        output_r(&second),
        "from-fill\none\ntwo\n",
        "{}",
        text(&second)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".flow/volumes/team-data/runs.txt"))
            .expect("the existing claim's file"),
        "one\ntwo\n"
    );
    assert_eq!(volume_folders(dir.path()), vec!["team-data".to_string()]);
}

#[test]
fn volumes_in_the_sandbox_are_folders_at_their_mount_paths() {
    runs_twice("sandbox");
}

#[test]
fn volumes_on_the_host_are_their_folders_written_into_the_command() {
    runs_twice("host");
}

const EXPORT: &str = r#"
import std.synth (panel)
import std.io (write_csv)

volume results = k8s_pvc("panel-results")

pipeline export(day: Date = "2024-06-03") {
  p = panel(day: day, n: 50, seed: 1)
  write_csv(table: p, path: "out/panel.csv")
  write_csv(table: p, path: "/results/panel.csv") with { mount results at "/results" }
}
"#;

#[test]
fn a_local_path_of_std_io_is_refused_for_the_cluster_and_written_here() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "export.flow", EXPORT);
    let check = common::flowc(
        &[
            "check",
            "--target",
            "argo,kfp",
            "--format",
            "short",
            "export.flow",
        ],
        dir.path(),
    );
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let t = text(&check);
    assert!(
        t.contains("export.flow:9:3: error[E432]: `out/panel.csv` is a local path: in the pod of `write_csv` on Argo"),
        "{t}"
    );
    assert_eq!(
        t.matches("[E432]").count(),
        2,
        "one per target, none for the volume: {t}"
    );
    // The local target takes both paths: one in the project, one on the claim's folder.
    let run = ok(&["run", "export.flow"], dir.path());
    let here = std::fs::read(dir.path().join("out/panel.csv")).expect("out/panel.csv");
    let on_claim = std::fs::read(dir.path().join(".flow/volumes/panel-results/panel.csv"))
        .unwrap_or_else(|e| panic!("the claim's file: {e}: {}", text(&run)));
    assert!(here.len() > 100);
    assert_eq!(here, on_claim);
}
