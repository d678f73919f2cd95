//! Build variables through the CLI (docs/language.md §8.9): `--set` gives `${build.name}` its
//! value in a local run and a build, a second value recomputes the step that reads it, and
//! every bad value is refused with E430 (or E416 for an image it breaks) before anything is
//! built or run. These are the examples of `flowc explain E430`.

mod common;

use common::{flowc, last_summary, ok, stdout, text, write};

const SOURCE: &str = r#"
/// The tag CI builds from the release tag.
build image_tag: Str
build replicas: Int = 2

step stamp() -> (release: Str) {
  image "registry.example.com/etl:${build.image_tag}"
  run ["sh", "-c", "printf '%s x%s' \"$1\" \"$2\" > $0", release, "${build.image_tag}", "${build.replicas}"]
}

pipeline nightly() {
  s = stamp()
  output release = s
}
"#;

#[test]
fn a_run_takes_the_values_and_a_new_value_recomputes() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    write(d, "nightly.flow", SOURCE);
    ok(&["run", "nightly.flow", "--set", "image_tag=1.4.2"], d);
    assert_eq!(last_summary(d)["outputs"]["release"], "1.4.2 x2");
    // The same values: a cache hit. Another value: the step runs again with it.
    let again = ok(&["run", "nightly.flow", "--set", "image_tag=1.4.2"], d);
    assert!(text(&again).contains("cached"), "{}", text(&again));
    ok(
        &[
            "run",
            "nightly.flow",
            "--set",
            "image_tag=1.4.3",
            "--set",
            "replicas=5",
        ],
        d,
    );
    assert_eq!(last_summary(d)["outputs"]["release"], "1.4.3 x5");
}

#[test]
fn a_build_writes_the_values_and_records_them() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    write(d, "nightly.flow", SOURCE);
    let out = ok(
        &[
            "build",
            "nightly.flow",
            "--target",
            "argo",
            "--version",
            "1.4.2",
            "--set",
            "image_tag=1.4.2",
        ],
        d,
    );
    let yaml = stdout(&out);
    assert!(
        yaml.contains("image: \"registry.example.com/etl:1.4.2\""),
        "{yaml}"
    );
    assert!(
        yaml.contains(r#"flowc.dev/build-values: "{\"image_tag\":\"1.4.2\",\"replicas\":\"2\"}""#),
        "{yaml}"
    );
    assert!(!yaml.contains("${build."), "{yaml}");
}

#[test]
fn bad_values_are_refused_before_anything_is_built() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    write(d, "nightly.flow", SOURCE);
    let build = |set: &[&str]| {
        let mut args = vec!["build", "nightly.flow", "--target", "kfp", "-o", "out.yaml"];
        for s in set {
            args.extend(["--set", s]);
        }
        flowc(&args, d)
    };
    // No value for a variable without a default, and a value that is not an Int.
    let out = build(&["replicas=many"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("[E430] build variable `image_tag` has no value"),
        "{t}"
    );
    assert!(
        t.contains("[E430] `--set replicas=many`: the value is not of type `Int`"),
        "{t}"
    );
    assert!(
        t.contains("nightly.flow:3:7"),
        "the declaration's place: {t}"
    );
    // A name no file declares.
    let out = build(&["image_tag=1.0", "replica=3"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("error[E430]: `--set replica=...` names no build variable; the program declares: image_tag, replicas"),
        "{t}"
    );
    // A value that breaks the image reference.
    let out = build(&["image_tag=Not A Tag"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("[E416] `registry.example.com/etl:Not A Tag` is not a valid image reference"),
        "{t}"
    );
    assert!(!d.join("out.yaml").exists(), "nothing was written");
    // A run is refused the same way, before any step starts.
    let out = flowc(&["run", "nightly.flow"], d);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("nothing was run"), "{}", text(&out));
    assert!(!d.join(".flow/runs").exists(), "no run was started");
}

#[test]
fn check_takes_the_values_a_build_would() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    write(d, "nightly.flow", SOURCE);
    // Without `--set`, `check` (as the editor) checks the program, not a build's values.
    ok(&["check", "nightly.flow"], d);
    let out = flowc(
        &[
            "check",
            "nightly.flow",
            "--format",
            "short",
            "--set",
            "replicas=many",
        ],
        d,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("nightly.flow:3:7: error[E430]: build variable `image_tag` has no value"),
        "{t}"
    );
    assert!(t.contains("nightly.flow:4:7: error[E430]"), "{t}");
    let out = flowc(
        &[
            "check",
            "nightly.flow",
            "--set",
            "image_tag=1.0",
            "--set",
            "nope=1",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("error[E430]: `--set nope=...`"),
        "{}",
        text(&out)
    );
    ok(&["check", "nightly.flow", "--set", "image_tag=1.4.2"], d);
}

#[test]
fn diff_compares_the_builds_of_given_values() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    write(
        d,
        "old.flow",
        &SOURCE.replace("build image_tag: Str\n", "build image_tag: Str = \"dev\"\n"),
    );
    write(
        d,
        "new.flow",
        &SOURCE
            .replace("build image_tag: Str\n", "build image_tag: Str = \"dev\"\n")
            .replace("registry.example.com/etl:", "registry.example.com/etl2:"),
    );
    let out = ok(
        &[
            "diff",
            "old.flow",
            "new.flow",
            "--format",
            "json",
            "--set",
            "image_tag=1.4.2",
        ],
        d,
    );
    let json = stdout(&out);
    assert!(json.contains("registry.example.com/etl:1.4.2"), "{json}");
    assert!(json.contains("registry.example.com/etl2:1.4.2"), "{json}");
    let bad = flowc(&["diff", "old.flow", "new.flow", "--set", "replicas=x"], d);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("[E430]"), "{}", text(&bad));
}
