//! `flowc run FILE --step NAME`: one task rerun alone with the inputs of an earlier run
//! (`--inputs-from RUN`, checked by content hash), or with what it needs (`--upstream`), as a
//! run of its own, its sandbox kept with `--keep` and entered with the printed command; and
//! `--out DIR`, the run's outputs under their names.

mod common;
use common::{flowc, run_records, text, write};

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A step writing random bytes, so that a rerun of it would give other content.
const MAKE: &str = r#"
step make(n: Int) -> (data: File) {
  image "debian:12"
  run ["sh", "-c", "head -c 32 /dev/urandom | od -An -tx1 > $1", n, data]
  cache off
}
"#;

/// `make` ([`MAKE`]), `use_it`, which fails until the file `fixed` is in the project folder,
/// and `publish`, which reads what `use_it` wrote.
const PIPELINE: &str = r#"
step use_it(data: File) -> (out: File) {
  image "debian:12"
  run ["sh", "-c", "test -f fixed || { echo not fixed yet >&2; exit 3; }; cp $0 $1", data, out]
  cache off
}

step publish(x: File) -> (o: File) {
  image "debian:12"
  run ["cp", x, o]
  cache off
}

pipeline p(n: Int = 1) {
  d = make(n: n)
  u = use_it(data: d)
  a = publish(x: u)
  output a
}
"#;

/// The run folders of the store, oldest first.
fn runs(dir: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir.join(".flow/runs"))
        .expect("runs")
        .flatten()
        .map(|e| e.path())
        .collect();
    runs.sort();
    runs
}

/// The `instances.ndjson` line of `task` in a run folder.
fn instance(run: &Path, task: &str) -> Value {
    let text = std::fs::read_to_string(run.join("instances.ndjson")).expect("instances.ndjson");
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .find(|v| v["task"] == task)
        .unwrap_or_else(|| panic!("no instance `{task}` in {text}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

#[test]
fn a_failed_step_reruns_alone_with_the_inputs_of_the_earlier_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "p.flow", &format!("{MAKE}{PIPELINE}"));
    let first = flowc(&["run", "p.flow"], dir.path());
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    assert!(
        text(&first).contains("p.u failed: exited with code 3"),
        "{}",
        text(&first)
    );
    let earlier = runs(dir.path()).pop().expect("the first run");
    let run_id = earlier.file_name().and_then(|n| n.to_str()).expect("an id");
    let made = instance(&earlier, "d");
    let object = made["outputs"]["data"]["object"]
        .as_str()
        .expect("an object")
        .to_string();

    // Still failing: `--keep` leaves the step's folder, and its script enters the sandbox
    // with the earlier run's input at the pod's path.
    let kept = flowc(
        &[
            "run",
            "p.flow",
            "--step",
            "u",
            "--inputs-from",
            run_id,
            "--keep",
        ],
        dir.path(),
    );
    assert_eq!(kept.status.code(), Some(1), "{}", text(&kept));
    let t = text(&kept);
    let script = t
        .split("enter its sandbox with `sh ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no command to enter the sandbox: {t}"))
        .to_string();
    assert!(
        script.contains("/sandbox/") && script.ends_with("/enter.sh"),
        "{script}"
    );
    let mut shell = Command::new("sh")
        .arg(&script)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sh runs");
    {
        use std::io::Write;
        let mut stdin = shell.stdin.take().expect("stdin");
        writeln!(
            stdin,
            "sha256sum /tmp/flowc/inputs/data; test -w /tmp/flowc/outputs && echo writable"
        )
        .expect("write");
    }
    let entered = shell.wait_with_output().expect("sh ends");
    let entered = String::from_utf8_lossy(&entered.stdout).into_owned();
    assert!(entered.contains(&object), "{entered}");
    assert!(entered.contains("writable"), "{entered}");
    std::fs::remove_dir_all(runs(dir.path()).pop().expect("the kept run")).expect("rm");

    std::fs::write(dir.path().join("fixed"), "").expect("write");
    let out_dir = dir.path().join("out");
    let rerun = flowc(
        &[
            "run",
            "p.flow",
            "--step",
            "u",
            "--inputs-from",
            run_id,
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));

    // A run of its own, in which exactly one task ran: `u`.
    let all = runs(dir.path());
    assert_eq!(all.len(), 2, "{all:?}");
    let records = run_records(&dir.path().join(".flow"))
        .pop()
        .expect("records");
    let ran: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["task"].as_str().unwrap_or(""),
                r["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(ran, [("u", "ok")], "{records:?}");
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(all[1].join("run.json")).expect("run.json"))
            .expect("JSON");
    assert_eq!(meta["step"], "u");
    assert_eq!(meta["inputs_from"], run_id);

    // Its input is the earlier run's output, by content hash: the object `d` wrote then.
    let used = instance(&all[1], "u");
    assert_eq!(used["inputs"]["data"]["object"], object.as_str());
    let objects = dir.path().join(".flow/objects");
    let bytes = std::fs::read(objects.join(&object[..2]).join(&object)).expect("the object");
    assert_eq!(sha256_hex(&bytes), object, "objects are named by content");
    // `--out` placed the step's output under its name: the same bytes.
    assert_eq!(std::fs::read(out_dir.join("out")).expect("out/out"), bytes);
    assert!(out_dir.join(".flowc-out").exists());
    assert!(!out_dir.join("a").exists(), "`publish` did not run");
}

#[test]
fn without_the_inputs_the_step_does_not_start_and_upstream_runs_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "p.flow", &format!("{MAKE}{PIPELINE}"));
    std::fs::write(dir.path().join("fixed"), "").expect("write");
    // `make` is not cached and there is no earlier run: `u` cannot get its input.
    let alone = flowc(&["run", "p.flow", "--step", "use_it"], dir.path());
    assert_eq!(alone.status.code(), Some(1), "{}", text(&alone));
    let t = text(&alone);
    assert!(
        t.contains("[R034] the outputs of `d` are not in the cache") && t.contains("--upstream"),
        "{t}"
    );
    let records = run_records(&dir.path().join(".flow"))
        .pop()
        .expect("records");
    assert!(records.is_empty(), "nothing ran: {records:?}");

    let upstream = flowc(&["run", "p.flow", "--step", "u", "--upstream"], dir.path());
    assert_eq!(upstream.status.code(), Some(0), "{}", text(&upstream));
    let records = run_records(&dir.path().join(".flow"))
        .pop()
        .expect("records");
    let mut ran: Vec<&str> = records.iter().filter_map(|r| r["task"].as_str()).collect();
    ran.sort_unstable();
    assert_eq!(ran, ["d", "u"], "`publish` did not run");

    let unknown = flowc(&["run", "p.flow", "--step", "nope"], dir.path());
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("[R032] the pipeline has no task `nope`")
            && text(&unknown).contains("its tasks are: d, u, a"),
        "{}",
        text(&unknown)
    );
    let bad_run = flowc(
        &[
            "run",
            "p.flow",
            "--step",
            "u",
            "--inputs-from",
            "20990101T000000.000Z-0000",
        ],
        dir.path(),
    );
    assert_eq!(bad_run.status.code(), Some(2), "{}", text(&bad_run));
    assert!(text(&bad_run).contains("[R033] no run `20990101T000000.000Z-0000`"));
}

#[test]
fn out_refuses_a_folder_it_did_not_write_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "o.flow",
        r#"
step part(i: Int) -> (o: File) {
  image "debian:12"
  run ["sh", "-c", "echo part $0 > $1", i, o]
}

step count(i: Int) -> (n: Int) {
  image "debian:12"
  run ["sh", "-c", "echo $0 > $1", i, n]
}

pipeline o() {
  for i in [0, 1, 2] {
    p = part(i: i)
    c = count(i: i)
  }
  output parts = p
  output counts = c
}
"#,
    );
    std::fs::create_dir(dir.path().join("mine")).expect("mkdir");
    std::fs::write(dir.path().join("mine/notes.txt"), "keep").expect("write");
    let refused = flowc(&["run", "o.flow", "--out", "mine"], dir.path());
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("[R035]") && text(&refused).contains("--force"),
        "{}",
        text(&refused)
    );
    let forced = flowc(&["run", "o.flow", "--out", "mine", "--force"], dir.path());
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    let read = |p: &str| std::fs::read_to_string(dir.path().join("mine").join(p)).expect(p);
    assert_eq!(read("notes.txt"), "keep");
    for i in 0..3 {
        assert_eq!(read(&format!("parts/{i}")), format!("part {i}\n"));
    }
    let counts: Value = serde_json::from_str(&read("counts.json")).expect("JSON");
    assert_eq!(counts, serde_json::json!([0, 1, 2]));
    // Written by `--out` now: a second run replaces its outputs without `--force`.
    let again = flowc(&["run", "o.flow", "--out", "mine"], dir.path());
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn a_task_calling_a_pipeline_runs_that_pipeline_s_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "s.flow",
        &format!(
            "{MAKE}{}",
            r#"
step copy(data: File) -> (out: File) {
  image "debian:12"
  run ["cp", data, out]
}

pipeline inner(data: File) {
  c = copy(data: data)
  output c
}

pipeline outer(n: Int = 1) {
  d = make(n: n)
  i = inner(data: d)
  output i
}
"#
        ),
    );
    let first = flowc(&["run", "s.flow"], dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let earlier = runs(dir.path()).pop().expect("the first run");
    let run_id = earlier.file_name().and_then(|n| n.to_str()).expect("an id");
    let again = flowc(
        &["run", "s.flow", "--step", "i", "--inputs-from", run_id],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    // `copy` ran again (its cached result is not asked), `make` did not.
    let records = run_records(&dir.path().join(".flow"))
        .pop()
        .expect("records");
    let ran: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["pipeline"].as_str().unwrap_or(""),
                r["task"].as_str().unwrap_or(""),
                r["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(ran, [("i/inner", "c", "ok")], "{records:?}");
}
