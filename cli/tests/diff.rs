//! `flowc diff`: pairs of versions of a pipeline, each kind of change, Markdown and JSON, Git
//! revisions, and the steps it says will recompute checked against what `flowc run
//! --explain-cache` recomputes on the same pair.

mod common;

use std::path::Path;
use std::process::Command;

use common::{flowc, ok, run_records, stdout, text, write};
use serde_json::Value;

const V1: &str = r#"
secret token = k8s("panel-api", key: "token")

step make(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "seq 1 $0 > $1", n, out]
}

step total(data: File) -> (sum: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "awk '{s+=$1} END {print s}' $0 > $1", data, sum]
}

step label(text: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", text, out]
}

step publish(text: Str) {
  image "busybox:1.36"
  run ["echo", text]
  resources { cpu: 1, memory: 1Gi }
  env TOKEN = token
}

pipeline chain(n: Int = 10, name: Str = "x") {
  schedule "0 6 * * *"
  a = make(n: n)
  t = total(data: a)
  l = label(text: name)
  publish(text: name)
  output t
  output l
}
"#;

/// The JSON diff of two files written in `dir`.
fn json_diff(dir: &Path, old: &str, new: &str) -> Value {
    write(dir, "old.flow", old);
    write(dir, "new.flow", new);
    let o = ok(&["diff", "old.flow", "new.flow", "--format", "json"], dir);
    serde_json::from_slice(&o.stdout).expect("JSON")
}

/// The changes of a diff as (where, what) pairs.
fn changes(d: &Value) -> Vec<(String, String)> {
    d["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["task"].as_str().unwrap_or("pipeline").to_string(),
                c["what"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn recomputed(d: &Value) -> Vec<String> {
    let mut v: Vec<String> = d["recompute"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["task"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

#[test]
fn the_same_pipeline_has_no_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = json_diff(dir.path(), V1, V1);
    assert_eq!(changes(&d), Vec::<(String, String)>::new());
    assert_eq!(recomputed(&d), Vec::<String>::new());
    let md = ok(&["diff", "old.flow", "new.flow"], dir.path());
    assert!(stdout(&md).contains("No change."), "{}", stdout(&md));
}

#[test]
fn each_kind_of_change_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v2 = V1
        .replace(
            "busybox:1.36\"\n  run [\"sh\", \"-c\", \"seq",
            "busybox:1.37\"\n  run [\"sh\", \"-c\", \"seq",
        )
        .replace("echo $0 > $1", "printf '%s\\n' $0 > $1")
        .replace(
            "resources { cpu: 1, memory: 1Gi }",
            "resources { cpu: 2, memory: 1Gi }",
        )
        .replace("env TOKEN = token", "mount token at \"/etc/token\"")
        .replace("name: Str = \"x\"", "name: Str = \"y\", limit: Int = 3")
        .replace(
            "schedule \"0 6 * * *\"",
            "schedule \"0 7 * * *\" timezone \"Europe/Paris\"",
        )
        .replace(
            "  publish(text: name)\n",
            "  publish(text: name)\n  extra = label(text: \"more\")\n",
        )
        .replace("a = make(n: n)", "a = make(n: 5)")
        .replace("  t = total(data: a)\n", "");
    let v2 = v2.replace("  output t\n", "");
    let d = json_diff(dir.path(), V1, &v2);
    let c = changes(&d);
    for expected in [
        ("pipeline", "parameter"),
        ("pipeline", "schedule"),
        ("a", "image"),
        ("l", "command"),
        ("a", "arguments"),
        ("publish", "resources"),
        ("publish", "secrets"),
    ] {
        assert!(
            c.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {c:?}"
        );
    }
    assert_eq!(d["added"][0]["task"], "extra", "{d}");
    assert_eq!(d["removed"][0]["task"], "t", "{d}");
    let md = stdout(&ok(&["diff", "old.flow", "new.flow"], dir.path()));
    for part in [
        "## flowc diff: `chain`",
        "| added | `extra` | `label` |",
        "| removed | `t` | `total` |",
        "| `a` | image | `busybox:1.36` | `busybox:1.37` |",
        "| pipeline | schedule | `0 6 * * * (UTC)` | `0 7 * * * (Europe/Paris)` |",
        "| `publish` | resources | `cpu 1, memory 1Gi` | `cpu 2, memory 1Gi` |",
        "### Recomputed on the next run",
    ] {
        assert!(md.contains(part), "{part}\n{md}");
    }
}

/// The tasks of the newest run that ran rather than reused the cache.
fn ran_in_last_run(store: &Path) -> Vec<String> {
    let mut v: Vec<String> = run_records(store)
        .pop()
        .expect("a run")
        .iter()
        .filter(|r| r["reason"] != "cached")
        .filter_map(|r| r["task"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn the_steps_it_says_recompute_are_those_the_next_run_recomputes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Without the step that reads a secret, so that `flowc run` needs none.
    let v1 = V1.replace("  publish(text: name)\n", "");
    // `make` writes other numbers: it recomputes, and so does `total`, which reads them;
    // `label` does not.
    let v2 = v1.replace("seq 1 $0", "seq 2 $0");
    let d = json_diff(dir.path(), &v1, &v2);
    assert_eq!(recomputed(&d), ["a", "t"], "{d}");
    assert_eq!(
        d["recompute"][0]["reason"],
        "its definition changed (image, command, environment or built-in)"
    );
    assert_eq!(
        d["recompute"][1]["reason"],
        "it reads `a`, which recomputes"
    );

    let store = dir.path().join(".flow");
    ok(&["run", "old.flow"], dir.path());
    let second = ok(&["run", "new.flow", "--explain-cache"], dir.path());
    assert_eq!(ran_in_last_run(&store), recomputed(&d), "{}", text(&second));
    assert!(
        text(&second).contains("definition changed"),
        "{}",
        text(&second)
    );

    // A parameter's default: its readers recompute, the others are reused.
    let v3 = v2.replace("name: Str = \"x\"", "name: Str = \"z\"");
    write(dir.path(), "old.flow", &v2);
    write(dir.path(), "new.flow", &v3);
    let d = serde_json::from_slice::<Value>(
        &ok(
            &["diff", "old.flow", "new.flow", "--format", "json"],
            dir.path(),
        )
        .stdout,
    )
    .expect("JSON");
    assert_eq!(recomputed(&d), ["l"], "{d}");
    ok(&["run", "new.flow", "--explain-cache"], dir.path());
    assert_eq!(ran_in_last_run(&store), ["l"]);
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

#[test]
fn git_revisions_are_read_with_their_imports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("pipelines")).expect("mkdir");
    let lib = "step hello(who: Str) -> (out: File) {\n  image \"busybox:1.36\"\n  run [\"sh\", \"-c\", \"echo $0 > $1\", who, out]\n}\n";
    write(&d.join("pipelines"), "lib.flow", lib);
    let main = "import \"lib.flow\" (hello)\n\npipeline greet(who: Str = \"world\") {\n  h = hello(who: who)\n  output h\n}\n";
    write(&d.join("pipelines"), "greet.flow", main);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "v1"]);
    write(
        &d.join("pipelines"),
        "lib.flow",
        &lib.replace("1.36", "1.37"),
    );
    let o = ok(
        &[
            "diff",
            "main:pipelines/greet.flow",
            "pipelines/greet.flow",
            "--format",
            "json",
        ],
        d,
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(changes(&v), [("h".to_string(), "image".to_string())], "{v}");
    assert_eq!(recomputed(&v), ["h"]);
    // A revision that does not exist is a usage error.
    let bad = flowc(
        &["diff", "nope:pipelines/greet.flow", "pipelines/greet.flow"],
        d,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("nope:pipelines/greet.flow: error[E008]: cannot read the file"),
        "{}",
        text(&bad)
    );
}
