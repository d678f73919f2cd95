//! `flowc run --store s3://…` against a real S3-compatible server on the loopback interface
//! (moto, from the test virtualenv): the examples on the store, a second run from an empty
//! local cache all cache hits, two concurrent runs, a run killed with SIGKILL mid-upload, and
//! the errors of an unreachable endpoint, refused credentials and a missing bucket.

mod common;
#[path = "support/moto.rs"]
mod moto;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    copy_tree, example_files, example_secrets, flowc_command as command, flowc_env, text, write,
};
use moto::Moto;
use serde_json::Value;
use sha2::{Digest, Sha256};

const BUCKET: &str = "flowc-test";

/// A copy of the examples in `dir/examples`, with a file for the secret `daily_weighting`
/// uses; the arguments that pass it.
fn examples_in(dir: &Path) -> Vec<String> {
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples"),
        &dir.join("examples"),
    );
    let token = write(dir, "token.secret", "value-of-token\n");
    vec![
        "--secret".into(),
        format!("publisher_token={}", token.display()),
    ]
}

/// The newest run folder of the local folder of the store in `project`.
fn newest_local_run(project: &Path) -> PathBuf {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(project.join(".flow/remote"))
        .expect("the store's local folder")
        .flatten()
        .flat_map(|e| std::fs::read_dir(e.path().join("runs")).expect("runs"))
        .flatten()
        .map(|e| e.path())
        .collect();
    runs.sort();
    runs.pop().expect("a run")
}

/// The records of the newest run whose folder is in `project`.
fn newest_records(project: &Path) -> Vec<Value> {
    std::fs::read_to_string(newest_local_run(project).join("records.jsonl"))
        .expect("records")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

/// Every object under `prefix/objects/` is complete: a file's bytes hash to its name, or it is
/// the manifest of a folder whose files are there; every cache entry names objects that are
/// there. Returns the number of objects.
fn assert_bucket_consistent(moto: &Moto, prefix: &str) -> usize {
    let objects = moto.list(BUCKET, &format!("{prefix}/objects/"));
    let names: std::collections::HashSet<String> = objects
        .iter()
        .filter_map(|(k, _)| k.rsplit('/').next().map(str::to_string))
        .collect();
    for (key, size) in &objects {
        let bytes = moto.get(BUCKET, key).expect("a listed object can be read");
        assert_eq!(bytes.len() as u64, *size, "{key}");
        let hash = format!("{:x}", Sha256::digest(&bytes));
        if key.ends_with(&hash) {
            continue;
        }
        let manifest: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("object {key} is neither whole nor a folder manifest"));
        for f in manifest["files"].as_array().expect("a folder manifest") {
            assert!(names.contains(f["object"].as_str().unwrap_or("")), "{f}");
        }
    }
    for (key, _) in moto.list(BUCKET, &format!("{prefix}/cache/")) {
        if key.contains("/cache/last/") {
            continue;
        }
        let entry: Value =
            serde_json::from_slice(&moto.get(BUCKET, &key).expect("an entry")).expect("JSON");
        for o in entry["outputs"].as_object().expect("outputs").values() {
            assert!(
                names.contains(o["object"].as_str().unwrap_or("")),
                "{key} names a missing object: {o}"
            );
        }
    }
    objects.len()
}

#[test]
fn every_example_runs_on_an_s3_store_and_another_machine_gets_all_cache_hits() {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    let env = moto.env();
    let dir = tempfile::tempdir().expect("tempdir");
    examples_in(dir.path());
    let store = format!("s3://{BUCKET}/team");
    let files = example_files(dir.path());
    assert!(files.len() >= 12, "{files:?}");
    for rel in &files {
        // The Python steps run with the test virtualenv (pandas, polars, pyarrow).
        let python = common::test_python().to_string_lossy().into_owned();
        let mut args = vec![
            "run".to_string(),
            rel.clone(),
            "--store".into(),
            store.clone(),
            "--python".into(),
            python,
        ];
        args.extend(example_secrets(rel, dir.path()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = flowc_env(&args, dir.path(), &env);
        assert_eq!(out.status.code(), Some(0), "{rel}:\n{}", text(&out));
    }
    // Each run's folder is in the bucket, its summary written last.
    let runs = moto.list(BUCKET, "team/runs/");
    let summaries = runs
        .iter()
        .filter(|(k, _)| k.ends_with("/summary.json"))
        .count();
    assert_eq!(summaries, files.len(), "{runs:?}");
    assert!(assert_bucket_consistent(&moto, "team") >= 20);
    // Another machine: no local folder, the store named by `flowc.toml`.
    for local in ["examples/.flow", "examples/features/.flow"] {
        let _ = std::fs::remove_dir_all(dir.path().join(local));
    }
    let examples = dir.path().join("examples");
    // The examples' flowc.toml (their Python path) gains the store.
    let config = std::fs::read_to_string(examples.join("flowc.toml")).unwrap_or_default();
    write(
        &examples,
        "flowc.toml",
        &format!("{config}\n[run]\nstore = \"{store}\"\n"),
    );
    let mut args = vec!["run".to_string(), "daily_weighting.flow".into()];
    args.extend(example_secrets("daily_weighting.flow", &examples));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = flowc_env(&args, &examples, &env);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let records = newest_records(&examples);
    assert!(records.len() >= 8, "{records:?}");
    for r in &records {
        let side_effect = r["step"] == "publish_weights"; // `cache off`
        assert!(
            r["reason"] == "cached" || side_effect,
            "not a cache hit: {r}"
        );
    }
    // The outputs were downloaded into the local cache of objects, whole.
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(newest_local_run(&examples).join("summary.json"))
            .expect("summary"),
    )
    .expect("JSON");
    let weights = summary["outputs"]["weights"].as_str().expect("a path");
    let bytes = std::fs::read(weights).expect("the weights are local");
    assert!(weights.ends_with(&format!("{:x}", Sha256::digest(&bytes))));
}

#[test]
fn two_concurrent_runs_on_one_s3_store_both_succeed() {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    let env = moto.env();
    let (one, two) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let secrets = examples_in(one.path());
    examples_in(two.path());
    let spawn = |dir: &Path| {
        let mut args = vec![
            "run",
            "daily_weighting.flow",
            "--store",
            "s3://flowc-test/shared",
        ];
        args.extend(secrets.iter().map(String::as_str));
        command(&args, &dir.join("examples"), &env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(one.path()), spawn(two.path()));
    let (a, b) = (
        a.wait_with_output().expect("wait"),
        b.wait_with_output().expect("wait"),
    );
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    assert_eq!(b.status.code(), Some(0), "{}", text(&b));
    assert_bucket_consistent(&moto, "shared");
    // A third run finds every result of the two.
    let third = tempfile::tempdir().expect("tempdir");
    examples_in(third.path());
    let mut args = vec![
        "run",
        "daily_weighting.flow",
        "--store",
        "s3://flowc-test/shared",
    ];
    args.extend(secrets.iter().map(String::as_str));
    let out = flowc_env(&args, &third.path().join("examples"), &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cached = newest_records(&third.path().join("examples"))
        .iter()
        .filter(|r| r["reason"] == "cached")
        .count();
    assert!(cached >= 8, "{}", text(&out));
}

/// A step whose output is large enough to be uploaded in parts.
const BIG: &str = r#"
step big(mb: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "yes flowc-object-storage | head -c $(($0 * 1048576)) > $1", mb, out]
}

step size(data: File) -> (n: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "wc -c < $0 > $1", data, n]
}

pipeline p(mb: Int = 96) {
  b = big(mb: mb)
  s = size(data: b)
  output s
}
"#;

#[test]
fn a_run_killed_mid_upload_leaves_no_partial_object_and_a_rerun_completes() {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    let env = moto.env();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "big.flow", BIG);
    let args = [
        "run",
        "big.flow",
        "--engine",
        "host",
        "--store",
        "s3://flowc-test/k",
    ];
    let mut child = command(&args, dir.path(), &env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill the runner as soon as the upload of the big output has started.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while Instant::now() < deadline && !seen {
        seen = moto.uploads_in_progress(BUCKET) > 0;
        if !seen {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(seen, "no multipart upload was seen in progress");
    let big_objects = |moto: &Moto| {
        moto.list(BUCKET, "k/objects/")
            .into_iter()
            .filter(|(_, size)| *size > 1 << 20)
            .count()
    };
    assert_eq!(big_objects(&moto), 0, "a partial object is visible");
    assert!(moto.list(BUCKET, "k/cache/").is_empty());
    assert_bucket_consistent(&moto, "k");
    let again = flowc_env(&args, dir.path(), &env);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("s = 100663296"), "{}", text(&again));
    assert_eq!(big_objects(&moto), 1);
    assert_bucket_consistent(&moto, "k");
}

/// Runs a one-step pipeline on `store` with `env`; asserts it fails within 30 s with `code`
/// and a message containing `words`.
fn assert_store_error(env: &[(String, String)], store: &str, code: &str, words: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "big.flow", BIG);
    let started = Instant::now();
    let out = flowc_env(
        &["run", "big.flow", "--engine", "host", "--store", store],
        dir.path(),
        env,
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("error: [{code}]")) && t.contains(words),
        "{t}"
    );
    assert!(t.contains("hint: "), "{t}");
}

#[test]
fn an_unreachable_endpoint_refused_credentials_and_a_missing_bucket_have_their_codes() {
    let python = common::test_python();
    let moto = Moto::start(&python);
    moto.create_bucket(BUCKET);
    assert_store_error(
        &moto.env(),
        "s3://no-such-bucket/x",
        "R022",
        "bucket `no-such-bucket` does not exist",
    );
    // Nothing listens on the endpoint's port.
    let mut unreachable = moto.env();
    unreachable[0].1 = format!("http://127.0.0.1:{}", moto::free_port());
    assert_store_error(&unreachable, "s3://flowc-test/x", "R020", "did not answer");
    // A server that checks credentials, which knows no key.
    let strict = Moto::start_with(&python, &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    assert_store_error(
        &strict.env(),
        "s3://flowc-test/x",
        "R021",
        "refused the credentials",
    );
    assert_store_error(
        &moto.env(),
        "s3://Bad_Bucket",
        "R023",
        "not an object storage URL",
    );
    // `flowc runs` reads a bucket store too (tests/store_bucket.rs): an empty one has none.
    let runs = flowc_env(
        &["runs", "--store", "s3://flowc-test/x"],
        Path::new("."),
        &moto.env(),
    );
    assert_eq!(runs.status.code(), Some(0), "{}", text(&runs));
    assert!(
        text(&runs).contains("no runs in `s3://flowc-test/x`"),
        "{}",
        text(&runs)
    );
}

#[test]
fn std_io_reads_and_writes_s3_urls_in_this_process_and_in_one_of_its_own() {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    moto.put(BUCKET, "in/data.csv", b"x,y\n1,a\n2,b\n");
    let env = moto.env();
    let dir = tempfile::tempdir().expect("tempdir");
    // The same steps in this process and in a process of their own (a timeout).
    for (name, defaults) in [("here", ""), ("own", "timeout 60s")] {
        write(
            dir.path(),
            &format!("{name}.flow"),
            &format!(
                r#"
import std.io (read_csv, write_csv, read_parquet, write_parquet)

schema Row {{ x: Int, y: Str }}

pipeline {name}() {{
  defaults {{
    {defaults}
  }}
  rows = read_csv(path: "s3://{BUCKET}/in/data.csv") as Table<Row>
  pq = write_parquet(table: rows, path: "s3://{BUCKET}/out/{name}.parquet")
  back = read_parquet(path: "s3://{BUCKET}/out/{name}.parquet") as Table<Row> after pq
  csv = write_csv(table: back, path: "s3://{BUCKET}/out/{name}.csv")
  output csv
}}
"#
            ),
        );
        let out = flowc_env(&["run", &format!("{name}.flow")], dir.path(), &env);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
        let csv = moto
            .get(BUCKET, &format!("out/{name}.csv"))
            .unwrap_or_else(|| panic!("{name}: no CSV written"));
        assert_eq!(String::from_utf8_lossy(&csv), "x,y\n1,a\n2,b\n", "{name}");
        let parquet = moto
            .get(BUCKET, &format!("out/{name}.parquet"))
            .expect("a Parquet file written");
        assert!(parquet.starts_with(b"PAR1"), "{name}");
    }
    // A missing object fails the step with a clear message.
    write(
        dir.path(),
        "missing.flow",
        &format!(
            r#"
import std.io (read_csv)

schema Row {{ x: Int }}

pipeline missing() {{
  rows = read_csv(path: "s3://{BUCKET}/in/nothing.csv") as Table<Row>
  output rows
}}
"#
        ),
    );
    let out = flowc_env(&["run", "missing.flow"], dir.path(), &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("`s3://flowc-test/in/nothing.csv` does not exist"),
        "{}",
        text(&out)
    );
}

/// A step whose output is a folder, and one that reads it.
const TREE: &str = r#"
step tree() -> (out: Dir) {
  image "busybox:1.36"
  run ["sh", "-c", "mkdir -p $0/a/b && echo one > $0/a/b/one.txt && echo two > $0/two.txt", out]
}

step count(d: Dir) -> (n: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "cat $0/a/b/one.txt $0/two.txt | wc -l > $1", d, n]
}

pipeline t() {
  d = tree()
  n = count(d: d)
  output n
  output d
}
"#;

#[test]
fn a_folder_output_is_a_manifest_of_its_files_and_comes_back_whole() {
    let moto = Moto::start(&common::test_python());
    moto.create_bucket(BUCKET);
    let env = moto.env();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "tree.flow", TREE);
    let args = [
        "run",
        "tree.flow",
        "--engine",
        "host",
        "--store",
        "s3://flowc-test/t",
    ];
    let first = flowc_env(&args, dir.path(), &env);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(text(&first).contains("n = 2"), "{}", text(&first));
    let manifests: Vec<Value> = moto
        .list(BUCKET, "t/objects/")
        .iter()
        .filter_map(|(k, _)| serde_json::from_slice(&moto.get(BUCKET, k)?).ok())
        .filter(|v: &Value| v.get("flowc.dir").is_some())
        .collect();
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    let paths: Vec<&str> = manifests[0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, ["a/b/one.txt", "two.txt"]);
    assert_bucket_consistent(&moto, "t");
    // From an empty local folder: both cached, the folder downloaded with its files.
    std::fs::remove_dir_all(dir.path().join(".flow")).expect("remove the local folder");
    let again = flowc_env(&args, dir.path(), &env);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let records = newest_records(dir.path());
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r["reason"] == "cached"),
        "{records:?}"
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(newest_local_run(dir.path()).join("summary.json"))
            .expect("summary"),
    )
    .expect("JSON");
    let folder = PathBuf::from(summary["outputs"]["d"].as_str().expect("a path"));
    assert_eq!(
        std::fs::read_to_string(folder.join("a/b/one.txt")).expect("a file of the folder"),
        "one\n"
    );
    assert_eq!(
        flowc_runtime::store::hash_dir(&folder).expect("hash").0,
        folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    );
}
