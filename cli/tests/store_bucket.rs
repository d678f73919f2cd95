//! `flowc runs`, `flowc store verify` and `flowc store gc` on a store in object storage
//! (`--store s3://…`), against a real S3-compatible server on the loopback interface (moto,
//! from the test virtualenv): runs listed and shown from the bucket, a clean store verified,
//! corrupt objects, missing objects and broken entries found and quarantined (after which a run
//! recomputes what was lost and the store verifies clean), retention by number of runs and by
//! age, and the grace period that keeps what a run on another machine may still be writing.

mod common;
#[path = "support/moto.rs"]
mod moto;

use std::path::Path;
use std::process::Output;

use common::{flowc_env as flowc, text, write};
use moto::Moto;

const BUCKET: &str = "flowc-audit";
const STORE: &str = "s3://flowc-audit/team";

/// A file output, a folder output and a value: every kind of object.
const PIPELINE: &str = r#"
step numbers(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "seq 1 $0 > $1", n, out]
}

step split(f: File) -> (out: Dir) {
  image "busybox:1.36"
  run ["sh", "-c", "mkdir -p $1/part && head -n 2 $0 > $1/part/head.txt && tail -n 2 $0 > $1/tail.txt", f, out]
}

step count(d: Dir) -> (n: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "cat $0/part/head.txt $0/tail.txt | wc -l > $1", d, n]
}

pipeline p(n: Int = 5) {
  f = numbers(n: n)
  d = split(f: f)
  c = count(d: d)
  output f
  output d
  output c
}
"#;

/// Runs the pipeline with `n` on the bucket store; it must succeed.
fn run(dir: &Path, env: &[(String, String)], n: u32) -> Output {
    let n = format!("n={n}");
    let args = [
        "run", "p.flow", "--engine", "host", "--store", STORE, "--param", &n,
    ];
    let out = flowc(&args, dir, env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    out
}

/// `flowc store verify` on the bucket: exit code and output.
fn verify(dir: &Path, env: &[(String, String)], extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["store", "verify", "--store", STORE];
    args.extend(extra);
    let out = flowc(&args, dir, env);
    (out.status.code(), text(&out))
}

/// A project folder with the pipeline, a server with an empty bucket, and its variables.
fn setup() -> (Moto, tempfile::TempDir, Vec<(String, String)>) {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    let env = moto.env();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "p.flow", PIPELINE);
    (moto, dir, env)
}

/// The keys under `team/objects/` whose content is a folder manifest, and the others.
fn objects_by_kind(moto: &Moto) -> (Vec<String>, Vec<String>) {
    moto.list(BUCKET, "team/objects/")
        .into_iter()
        .map(|(k, _)| k)
        .partition(|k| {
            moto.get(BUCKET, k)
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| v.get("flowc.dir").is_some())
        })
}

#[test]
fn runs_are_listed_and_shown_from_the_bucket_and_a_clean_store_verifies() {
    let (_moto, dir, env) = setup();
    run(dir.path(), &env, 5);
    run(dir.path(), &env, 7);
    let list = flowc(&["runs", "--store", STORE], dir.path(), &env);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list));
    let listed = text(&list);
    let rows: Vec<&str> = listed.lines().filter(|l| l.contains(" p ")).collect();
    assert_eq!(rows.len(), 2, "{}", text(&list));
    assert!(rows.iter().all(|r| r.contains("succeeded")), "{rows:?}");
    let id = rows[1].split_whitespace().next().expect("a run id");
    let show = flowc(&["runs", id, "--store", STORE], dir.path(), &env);
    assert_eq!(show.status.code(), Some(0), "{}", text(&show));
    assert!(text(&show).contains("\"c\": 4"), "{}", text(&show));
    assert!(
        text(&show).contains(&format!("records: {STORE}/runs/{id}/records.jsonl")),
        "{}",
        text(&show)
    );
    let missing = flowc(
        &["runs", "20990101-nope", "--store", STORE],
        dir.path(),
        &env,
    );
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(
        text(&missing).contains("no run `20990101-nope`"),
        "{}",
        text(&missing)
    );

    let (code, out) = verify(dir.path(), &env, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("2 runs (0 unfinished) checked: 0 problem(s)"),
        "{out}"
    );
    // 2 numbers files, 2 folders (manifests) of 2 files each (`head.txt` is the same in both,
    // `tail.txt` differs), 2 counts stored once (both 4): 8 objects; 3 entries a run.
    assert!(out.starts_with("8 objects, 6 cache entries"), "{out}");
}

#[test]
fn corrupt_and_missing_objects_and_broken_entries_are_found_quarantined_and_recomputed() {
    let (moto, dir, env) = setup();
    run(dir.path(), &env, 5);
    let (folders, files) = objects_by_kind(&moto);
    assert_eq!(folders.len(), 1, "{folders:?}");
    // A file of the folder rewritten, the folder's manifest removed... the numbers file
    // rewritten with other bytes, and an entry that is not JSON.
    let numbers = files
        .iter()
        .find(|k| moto.get(BUCKET, k).as_deref() == Some(b"1\n2\n3\n4\n5\n".as_slice()))
        .expect("the numbers file")
        .clone();
    moto.put(BUCKET, &numbers, b"tampered\n");
    moto.delete(BUCKET, &folders[0]);
    moto.put(BUCKET, "team/cache/0000.json", b"{ not an entry");
    moto.put(BUCKET, "team/objects/zz/stray", b"x");

    let (code, out) = verify(dir.path(), &env, &[]);
    assert_eq!(code, Some(1), "{out}");
    for line in [
        format!("corrupt_object: {}", numbers.trim_start_matches("team/")),
        "stray_object: objects/zz/stray".to_string(),
        "broken_entry: cache/0000.json".to_string(),
    ] {
        assert!(out.contains(&line), "no `{line}` in:\n{out}");
    }
    // The entries of `numbers` (its object is corrupt) and `split` (its folder is gone).
    assert_eq!(
        out.matches("entry_missing_object: cache/").count(),
        2,
        "{out}"
    );
    assert!(out.contains("run_missing_object: runs/"), "{out}");

    let (code, out) = verify(dir.path(), &env, &["--quarantine"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(out.matches("(moved to quarantine/").count(), 5, "{out}");
    assert!(
        moto.get(BUCKET, &numbers).is_none(),
        "the corrupt object was moved"
    );
    let quarantined = moto.list(BUCKET, "team/quarantine/");
    assert_eq!(quarantined.len(), 5, "{quarantined:?}");

    // Nothing a run could reuse is wrong now: the old run's summary still names what is gone,
    // and that is all verify reports.
    let (code, out) = verify(dir.path(), &env, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("run_missing_object: runs/"), "{out}");
    assert!(out.contains("checked: 1 problem(s)"), "{out}");

    // From an empty local folder, a run recomputes the two steps whose entries were moved
    // aside (putting their objects back) and reuses `count`; the store verifies clean.
    std::fs::remove_dir_all(dir.path().join(".flow")).expect("remove the local folder");
    let again = run(dir.path(), &env, 5);
    assert!(text(&again).contains("c = 4"), "{}", text(&again));
    let records = common::run_records(&local_folder(dir.path()));
    let reasons: Vec<&str> = records
        .last()
        .expect("the new run's records")
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "cached").count(),
        1,
        "{reasons:?}"
    );
    let (code, out) = verify(dir.path(), &env, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("2 runs (0 unfinished) checked: 0 problem(s)"),
        "{out}"
    );
}

/// The local folder of the bucket store (`.flow/remote/<hash>/`).
fn local_folder(project: &Path) -> std::path::PathBuf {
    std::fs::read_dir(project.join(".flow/remote"))
        .expect("the store's local folder")
        .flatten()
        .map(|e| e.path())
        .next()
        .expect("one local folder")
}

#[test]
fn gc_keeps_what_retention_and_the_grace_period_keep_and_removes_the_rest() {
    let (moto, dir, env) = setup();
    run(dir.path(), &env, 5);
    run(dir.path(), &env, 7);
    run(dir.path(), &env, 9);
    let gc = |extra: &[&str]| {
        let mut args = vec!["store", "gc", "--store", STORE];
        args.extend(extra);
        let out = flowc(&args, dir.path(), &env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        text(&out)
    };
    // Finished runs beyond the newest go; every entry stays, and so every object.
    let out = gc(&["--keep-runs", "1"]);
    assert!(
        out.contains("removed 2 run(s), 0 cache entr(y/ies), 0 object(s)"),
        "{out}"
    );
    let runs = flowc(&["runs", "--store", STORE], dir.path(), &env);
    let listed = text(&runs);
    let kept: Vec<&str> = listed.lines().filter(|l| l.contains("succeeded")).collect();
    assert_eq!(kept.len(), 1, "{listed}");
    let id = kept[0].split_whitespace().next().expect("a run id");
    // A run with a `keep` file stays whatever its age, with its cache entries; an object
    // nothing names but written within the grace period (a day by default) stays too: it may
    // be the upload of a run whose entry is not written yet.
    moto.put(BUCKET, &format!("team/runs/{id}/keep"), b"");
    let orphan = format!("team/objects/ab/ab{}", "0".repeat(62));
    moto.put(BUCKET, &orphan, b"in flight");
    let out = gc(&["--older-than", "0s"]);
    assert!(
        out.contains("removed 0 run(s), 6 cache entr(y/ies), 0 object(s)"),
        "{out}"
    );
    // Without the grace period, the objects only the removed entries named go, and the
    // orphan: a dry run says so and removes nothing, then the collection does it.
    let objects = moto.list(BUCKET, "team/objects/").len();
    let out = gc(&["--older-than", "0s", "--grace", "0s", "--dry-run"]);
    assert!(
        out.contains("would remove 0 run(s), 0 cache entr(y/ies), 7 object(s)"),
        "{out}"
    );
    assert_eq!(moto.list(BUCKET, "team/objects/").len(), objects);
    let out = gc(&["--older-than", "0s", "--grace", "0s"]);
    assert!(
        out.contains("removed 0 run(s), 0 cache entr(y/ies), 7 object(s)"),
        "{out}"
    );
    assert!(moto.get(BUCKET, &orphan).is_none());
    let (code, out) = verify(dir.path(), &env, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("5 objects, 3 cache entries, 1 runs (0 unfinished) checked: 0 problem(s)"),
        "{out}"
    );
    // The kept run comes back whole from an empty local folder.
    std::fs::remove_dir_all(dir.path().join(".flow")).expect("remove the local folder");
    let again = run(dir.path(), &env, 9);
    assert!(text(&again).contains("c = 4"), "{}", text(&again));
    let records = common::run_records(&local_folder(dir.path()));
    let last = records.last().expect("the new run's records");
    assert!(last.iter().all(|r| r["reason"] == "cached"), "{last:?}");
}

#[test]
fn an_unreachable_endpoint_and_a_missing_bucket_have_their_codes() {
    let (_moto, dir, env) = setup();
    let nowhere = vec![
        (
            "AWS_ENDPOINT_URL".to_string(),
            format!("http://127.0.0.1:{}", moto::free_port()),
        ),
        ("AWS_ACCESS_KEY_ID".to_string(), "k".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "s".to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
    ];
    let commands = |store: &'static str| -> [Vec<&'static str>; 3] {
        [
            vec!["store", "verify", "--store", store],
            vec!["store", "gc", "--store", store, "--keep-runs", "1"],
            vec!["runs", "--store", store],
        ]
    };
    for args in commands(STORE) {
        let out = flowc(&args, dir.path(), &nowhere);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("R020"), "{args:?}: {}", text(&out));
    }
    for args in commands("s3://no-such-bucket/x") {
        let out = flowc(&args, dir.path(), &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("R022"), "{args:?}: {}", text(&out));
    }
}

/// A step whose output differs on every run.
const CLOCK: &str = r#"
step now() -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "cat /proc/sys/kernel/random/uuid > $0", out]
}

pipeline t() {
  n = now()
  output n
}
"#;

#[test]
fn an_entry_whose_object_is_gone_is_replaced_by_the_next_run() {
    let (moto, dir, env) = setup();
    write(dir.path(), "t.flow", CLOCK);
    let args = ["run", "t.flow", "--engine", "host", "--store", STORE];
    let first = flowc(&args, dir.path(), &env);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let objects = moto.list(BUCKET, "team/objects/");
    assert_eq!(objects.len(), 1, "{objects:?}");
    moto.delete(BUCKET, &objects[0].0);
    // From an empty local folder: the entry cannot be used, the step runs again, and its new
    // result's entry replaces the broken one, which the run after uses.
    let reason = |project: &Path| {
        let records = common::run_records(&local_folder(project));
        records[0][0]["reason"].as_str().map(str::to_string)
    };
    for expected in ["ran", "cached"] {
        std::fs::remove_dir_all(dir.path().join(".flow")).expect("remove the local folder");
        let again = flowc(&args, dir.path(), &env);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        let got = reason(dir.path());
        assert_eq!(
            got.as_deref() == Some("cached"),
            expected == "cached",
            "{got:?}"
        );
    }
    // Only the first run's summary still names the object that was deleted.
    let (code, out) = verify(dir.path(), &env, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("1 cache entries, 3 runs (0 unfinished) checked: 1 problem(s)"),
        "{out}"
    );
    assert!(
        out.contains(&objects[0].0.rsplit('/').next().unwrap_or("?").to_string()),
        "{out}"
    );
}
