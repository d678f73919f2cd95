//! `flowc run` driven as a user drives it: caching, parameters, failures and their reasons,
//! a run killed with SIGKILL and resumed, concurrent runs on one store, secrets, bad input.

mod common;
use common::{copy_tree, example_secrets, flowc, last_summary, run_records, text, write};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The records of the newest run in `store`.
fn last_records(store: &Path) -> Vec<Value> {
    run_records(store).pop().expect("a run")
}

fn reasons(records: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["task"].as_str().unwrap_or("").to_string(),
                r["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

const CHAIN: &str = r#"
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

pipeline chain(n: Int = 10, name: Str = "x") {
  a = make(n: n)
  t = total(data: a)
  l = label(text: name)
  check t > 5
  output t
  output l
}
"#;

#[test]
fn second_run_is_all_cache_hits_and_a_parameter_reruns_only_downstream() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "chain.flow", CHAIN);
    let store = dir.path().join(".flow");
    let first = flowc(&["run", "chain.flow"], dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(text(&first).contains("t = 55"), "{}", text(&first));
    assert_eq!(
        reasons(&last_records(&store)),
        vec![
            ("a".into(), "ok".into()),
            ("l".into(), "ok".into()),
            ("t".into(), "ok".into())
        ]
    );

    let second = flowc(&["run", "chain.flow"], dir.path());
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(
        reasons(&last_records(&store)),
        vec![
            ("a".into(), "cached".into()),
            ("l".into(), "cached".into()),
            ("t".into(), "cached".into())
        ]
    );

    let third = flowc(
        &["run", "chain.flow", "--param", "n=20", "--explain-cache"],
        dir.path(),
    );
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert_eq!(
        reasons(&last_records(&store)),
        vec![
            ("a".into(), "ok".into()),
            ("l".into(), "cached".into()),
            ("t".into(), "ok".into())
        ]
    );
    assert!(
        text(&third).contains("parameter `n` changed from 10 to 20"),
        "{}",
        text(&third)
    );
    assert!(text(&third).contains("t = 210"));
}

#[test]
fn failures_timeouts_retries_and_out_of_memory_are_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("flaky-marker");
    let src = format!(
        r#"
step broken(x: Int) -> (out: File) {{
  image "busybox:1.36"
  run ["sh", "-c", "exit 3", x, out]
  cache off
}}

step flaky(x: Int) -> (out: File) {{
  image "busybox:1.36"
  run ["sh", "-c", "if [ -f {marker} ]; then echo ok > $1; else touch {marker}; exit 1; fi", x, out]
  retries 2 backoff 50ms
  cache off
}}

step slow(x: Int) -> (out: File) {{
  image "busybox:1.36"
  run ["sh", "-c", "sleep 30; echo $0 > $1", x, out]
  timeout 1s
  cache off
}}

step hog(mb: Int) -> (out: File) {{
  image "python:3.12-slim"
  run ["python3", "-c", "import sys, time; b = bytearray(int(sys.argv[1]) << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1); open(sys.argv[2], 'w').write('ok')", mb, out]
  resources {{ memory: 50Mi, memory_limit: 100Mi }}
  cache off
}}

step after_broken(f: File) -> (out: File) {{
  image "busybox:1.36"
  run ["cp", f, out]
}}

pipeline p() {{
  b = broken(x: 1)
  f = flaky(x: 1)
  s = slow(x: 1)
  h = hog(mb: 400)
  d = after_broken(f: b)
  output f
  output s
  output h
  output d
}}
"#,
        marker = marker.display()
    );
    write(dir.path(), "p.flow", &src);
    let started = Instant::now();
    // Host processes: the flaky step keeps its marker beside the pipeline, which a sandboxed
    // step cannot write.
    let out = flowc(&["run", "p.flow", "--engine", "host"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the timeout stopped the sleeping step"
    );
    let records = last_records(&dir.path().join(".flow"));
    let got = reasons(&records);
    assert!(got.contains(&("b".into(), "failed".into())), "{got:?}");
    assert!(
        got.contains(&("f".into(), "failed".into())) && got.contains(&("f".into(), "ok".into())),
        "a retry that succeeds: {got:?}"
    );
    assert!(got.contains(&("s".into(), "timeout".into())), "{got:?}");
    assert!(got.contains(&("h".into(), "oom".into())), "{got:?}");
    assert!(
        !got.iter().any(|(t, _)| t == "d"),
        "a dependent of a failed step does not run: {got:?}"
    );
    let broken = records
        .iter()
        .find(|r| r["task"] == "b")
        .expect("b's record");
    assert_eq!(broken["exit_code"], 3);
    let hog = records
        .iter()
        .find(|r| r["task"] == "h")
        .expect("h's record");
    assert!(
        hog["peak_rss_bytes"].as_u64().unwrap_or(0) > 100 << 20,
        "{hog}"
    );
    assert_eq!(hog["limits"]["memory_bytes"], 100 << 20);
    assert_eq!(hog["requests"]["memory_bytes"], 50 << 20);
    let t = text(&out);
    assert!(
        t.contains("skipped") && t.contains("`b` did not succeed"),
        "{t}"
    );
}

/// Every object's name is the hash of its content: nothing partial or corrupted.
fn assert_store_consistent(store: &Path) {
    for prefix in std::fs::read_dir(store.join("objects"))
        .expect("objects")
        .flatten()
    {
        for obj in std::fs::read_dir(prefix.path()).expect("prefix").flatten() {
            let p = obj.path();
            if p.is_file() {
                let hash = flowc_runtime::store::hash_file(&p).expect("hash");
                assert_eq!(
                    p.file_name().and_then(|n| n.to_str()),
                    Some(hash.as_str()),
                    "corrupted object {}",
                    p.display()
                );
            }
        }
    }
    for e in std::fs::read_dir(store.join("cache"))
        .expect("cache")
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(e.path()).expect("read"))
                .expect("a complete cache entry");
            assert!(v["outputs"].is_object());
        }
    }
}

#[test]
fn a_run_killed_with_sigkill_resumes_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "k.flow",
        r#"
step quick(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "seq 1 $0 > $1", n, out]
}

step long(data: File) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 2; cp $0 $1", data, out]
}

pipeline k(n: Int = 1000) {
  a = quick(n: n)
  b = long(data: a)
  output b
}
"#,
    );
    let store = dir.path().join(".flow");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["run", "k.flow"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until `a` is recorded, then kill the runner mid-way through `b`.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(store.join("runs"))
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| e.ok())
            .map(|e| std::fs::read_to_string(e.path().join("records.jsonl")).unwrap_or_default())
            .is_some_and(|t| t.contains("\"task\":\"a\""));
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_store_consistent(&store);
    let listed = flowc(&["runs", "--store", ".flow"], dir.path());
    assert!(text(&listed).contains("interrupted"), "{}", text(&listed));
    let again = flowc(&["run", "k.flow"], dir.path());
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(
        reasons(&last_records(&store)),
        vec![("a".into(), "cached".into()), ("b".into(), "ok".into())]
    );
    assert_store_consistent(&store);
}

#[test]
fn two_concurrent_runs_on_one_store_both_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "chain.flow", CHAIN);
    let spawn = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_flowc"))
            .args(["run", "chain.flow", "--param", &format!("name={name}")])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (one, two) = (spawn("one"), spawn("two"));
    let (one, two) = (
        one.wait_with_output().expect("wait"),
        two.wait_with_output().expect("wait"),
    );
    assert_eq!(one.status.code(), Some(0), "{}", text(&one));
    assert_eq!(two.status.code(), Some(0), "{}", text(&two));
    assert!(text(&one).contains("t = 55") && text(&two).contains("t = 55"));
    assert_store_consistent(&dir.path().join(".flow"));
}

#[test]
fn secret_values_never_reach_the_store_or_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "token.txt", "s3cr3t-value-42\n");
    write(
        dir.path(),
        "s.flow",
        r#"
secret api = k8s("api-token", key: "token")

step call(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo token=$API_TOKEN; echo token=$API_TOKEN >&2; echo file=$(cat /etc/flowc-test/api/token); echo $0 | sha256sum > $1", n, out]
  env API_TOKEN = api
  mount api at "/etc/flowc-test/api/token"
}

pipeline s(n: Int = 1) {
  c = call(n: n)
  output c
}
"#,
    );
    let out = flowc(&["run", "s.flow", "--secret", "api=token.txt"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("s3cr3t-value-42"));
    let mut stack = vec![dir.path().join(".flow")];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap_or_default();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains("s3cr3t-value-42"),
                    "secret found in {}",
                    p.display()
                );
            }
        }
    }
    assert!(files > 3);
    let logs = std::fs::read_dir(dir.path().join(".flow/runs"))
        .expect("runs")
        .flatten()
        .next()
        .expect("run")
        .path()
        .join("logs");
    let log = std::fs::read_to_string(logs.join("s.c.log")).unwrap_or_default();
    assert!(log.contains("token=***"), "{log}");
    assert!(
        log.contains("file=***"),
        "the mounted file holds the value: {log}"
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "b.flow",
        r#"
step count(data: File) -> (n: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "wc -l < $0 > $1", data, n]
}

step missing_tool(x: Int) -> (out: File) {
  image "busybox:1.36"
  run ["no-such-tool-flowc", x, out]
}

pipeline b(data: File, x: Int = 1) {
  c = count(data: data)
  m = missing_tool(x: x)
  output c
  output m
}
"#,
    );
    let missing = flowc(&["run", "b.flow", "--param", "data=nope.csv"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("[R004]") && text(&missing).contains("nope.csv"),
        "{}",
        text(&missing)
    );
    let unknown = flowc(&["run", "b.flow", "--param", "dta=x.csv"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown).contains("[R001]") && text(&unknown).contains("its parameters are: data, x"),
        "{}",
        text(&unknown)
    );
    write(dir.path(), "in.csv", "a\nb\n");
    let wrong = flowc(
        &[
            "run",
            "b.flow",
            "--param",
            "data=in.csv",
            "--param",
            "x=many",
        ],
        dir.path(),
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong).contains("[R002]") && text(&wrong).contains("not an integer"),
        "{}",
        text(&wrong)
    );
    let no_param = flowc(&["run", "b.flow"], dir.path());
    assert!(text(&no_param).contains("[R003]"), "{}", text(&no_param));
    let unwritable = flowc(
        &[
            "run",
            "b.flow",
            "--param",
            "data=in.csv",
            "--store",
            "/proc/flowc-store",
        ],
        dir.path(),
    );
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(
        text(&unwritable).contains("[R005]"),
        "{}",
        text(&unwritable)
    );
    let run = flowc(&["run", "b.flow", "--param", "data=in.csv"], dir.path());
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("command `no-such-tool-flowc` not found"),
        "{}",
        text(&run)
    );
    assert!(
        text(&run).contains("ok       b.c"),
        "the independent step finished: {}",
        text(&run)
    );
    assert!(
        std::fs::read_to_string(dir.path().join("in.csv")).unwrap_or_default() == "a\nb\n",
        "inputs are never modified"
    );
}

#[test]
fn every_example_runs_end_to_end_and_a_second_run_is_all_cache_hits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    copy_tree(&examples, &dir.path().join("examples"));
    let mut ran = 0;
    for rel in common::example_files(dir.path()) {
        // The Python steps run with the test virtualenv (pandas, polars, pyarrow).
        let python = common::test_python().to_string_lossy().into_owned();
        let mut args = vec!["run".to_string(), rel.clone(), "--python".into(), python];
        args.extend(example_secrets(&rel, dir.path()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = flowc(&args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{rel}:\n{}", text(&out));
        assert!(
            !text(&out).contains("sandbox engine cannot run"),
            "the examples run in the sandbox: {}",
            text(&out)
        );
        // Re-executed with the cache bypassed, every step gives the outputs it cached.
        let mut verify = args.clone();
        verify.push("--verify");
        let out = flowc(&verify, dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{rel} --verify:\n{}",
            text(&out)
        );
        assert!(text(&out).contains(", 0 differ,"), "{rel}: {}", text(&out));
        ran += 1;
    }
    assert!(ran >= 13, "ran {ran} examples");
    let mut args = vec![
        "run".to_string(),
        "examples/daily_weighting.flow".to_string(),
    ];
    args.extend(example_secrets("examples/daily_weighting.flow", dir.path()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = flowc(&args, dir.path());
    assert_eq!(again.status.code(), Some(0));
    let store = dir.path().join("examples/.flow");
    let records = last_records(&store);
    for r in &records {
        let cached = r["reason"] == "cached";
        let side_effect = r["step"] == "publish_weights"; // `cache off`: publishing always runs
        assert!(cached || side_effect, "not a cache hit: {r}");
    }
}

#[test]
fn a_built_in_step_runs_in_its_own_process_under_its_timeout() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "big.flow",
        r#"
import std.synth (panel)

pipeline big(n: Int = 20000000) {
  defaults {
    timeout 1s
    cache off
  }
  people = panel(n: n, seed: 1, day: "2024-06-03")
  output people
}
"#,
    );
    let started = Instant::now();
    let o = flowc(&["run", "big.flow"], d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the timeout stopped the built-in step"
    );
    assert!(text(&o).contains("exceeded its timeout"), "{}", text(&o));
    let records = last_records(&d.join(".flow"));
    assert!(
        reasons(&records).contains(&("people".into(), "timeout".into())),
        "{:?}",
        reasons(&records)
    );
    // A small one finishes, and its record has its own time and memory.
    let o = flowc(&["run", "big.flow", "--param", "n=1000"], d);
    assert!(o.status.success(), "{}", text(&o));
    let records = last_records(&d.join(".flow"));
    let people = records
        .iter()
        .find(|r| r["task"] == "people")
        .expect("the record");
    assert_eq!(people["reason"], "ok");
    assert!(
        people["peak_rss_bytes"].as_u64().unwrap_or(0) > 0,
        "{people}"
    );
    assert!(
        people["cpu_seconds"].as_f64().unwrap_or(0.0) > 0.0,
        "{people}"
    );
}

#[test]
fn built_in_steps_read_and_write_relative_paths_beside_the_pipeline() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    std::fs::create_dir_all(d.join("sub")).expect("mkdir");
    write(&d.join("sub"), "data.csv", "x\n1\n2\n");
    // The same copy, in this process and in a process of its own (a timeout).
    for (name, defaults) in [("here", ""), ("own", "timeout 60s")] {
        write(
            &d.join("sub"),
            &format!("{name}.flow"),
            &format!(
                r#"
import std.io (read_csv, write_csv)

schema Row {{ x: Int }}

pipeline {name}() {{
  defaults {{
    {defaults}
  }}
  rows = read_csv(path: "data.csv") as Table<Row>
  copy = write_csv(table: rows, path: "out/{name}.csv")
  output copy
}}
"#
            ),
        );
        // Run from the folder above: relative paths are the pipeline's folder's.
        let o = flowc(&["run", &format!("sub/{name}.flow")], d);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let copied = std::fs::read_to_string(d.join(format!("sub/out/{name}.csv")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(copied.starts_with('x'), "{name}: {copied}");
        assert!(!d.join("out").exists(), "{name} wrote beside the caller");
    }
}

#[test]
fn a_check_in_a_for_loop_is_made_for_every_iteration() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "per_item.flow",
        r#"
step note(text: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", text, out]
}

pipeline per_item(limits: List<Float> = [1.0, 2.0]) {
  for limit in limits {
    n = note(text: "${limit}")
    check limit < 5.0
  }
}
"#,
    );
    let passing = flowc(&["run", "per_item.flow"], d);
    assert!(passing.status.success(), "{}", text(&passing));
    let failing = flowc(
        &["run", "per_item.flow", "--param", "limits=[1.0, 7.0, 9.0]"],
        d,
    );
    assert_eq!(failing.status.code(), Some(1), "{}", text(&failing));
    let out = text(&failing);
    assert!(out.contains("limit < 5.0 (iteration [1])"), "{out}");
    assert!(out.contains("limit < 5.0 (iteration [2])"), "{out}");
    assert!(!out.contains("iteration [0]"), "{out}");
}

#[test]
fn a_check_in_an_if_branch_is_made_only_when_the_branch_runs() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "branch.flow",
        r#"
step note(text: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", text, out]
}

pipeline branch(full: Bool = false, limit: Float = 1.0) {
  if full {
    n = note(text: "full")
    check limit > 5.0
  } else {
    check limit < 5.0
  }
}
"#,
    );
    let skipped = flowc(&["run", "branch.flow"], d);
    assert!(skipped.status.success(), "{}", text(&skipped));
    let taken = flowc(&["run", "branch.flow", "--param", "full=true"], d);
    assert_eq!(taken.status.code(), Some(1), "{}", text(&taken));
    assert!(text(&taken).contains("limit > 5.0"), "{}", text(&taken));
    let other = flowc(&["run", "branch.flow", "--param", "limit=7"], d);
    assert_eq!(other.status.code(), Some(1), "{}", text(&other));
    assert!(text(&other).contains("limit < 5.0"), "{}", text(&other));
}

#[test]
fn value_outputs_steer_conditions_arguments_and_loops() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    // The producers sleep, so that a reader that did not wait for them would see no value.
    write(
        d,
        "values.flow",
        r#"
step flip() -> (side: Str) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 0.3; echo heads > $0", side]
}
step shards() -> (ids: List<Int>) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 0.3; echo '[1, 2, 3]' > $0", ids]
}
step note(text: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "printf %s \"$0\" > $1", text, out]
}
pipeline values() {
  f = flip()
  if f == "heads" {
    yes = note(text: "${f} won")
  }
  if f != "heads" {
    no = note(text: "tails won")
  }
  s = shards()
  for id in s {
    per = note(text: "shard ${id}")
  }
  output side = f
  output greeting = yes
}
"#,
    );
    let out = flowc(&["run", "values.flow"], d);
    assert!(out.status.success(), "{}", text(&out));
    let summary = last_summary(d);
    // `echo` ends the value with a newline, which is not part of it (as on Argo).
    assert_eq!(summary["outputs"]["side"], "heads", "{summary}");
    let greeting = summary["outputs"]["greeting"].as_str().expect("a path");
    assert_eq!(
        std::fs::read_to_string(greeting).expect("the greeting"),
        "heads won"
    );
    let status = |task: &str| -> Vec<String> {
        summary["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| {
                let name = t["task"].as_str().unwrap_or_default();
                name == task || name.starts_with(&format!("{task}["))
            })
            .map(|t| t["status"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(status("values.yes"), ["ok"], "{summary}");
    assert_eq!(status("values.no"), ["skipped"], "{summary}");
    assert_eq!(status("values.per"), ["ok", "ok", "ok"], "{summary}");
}

#[test]
fn per_call_settings_apply_to_their_call_only() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "per_call.flow",
        r#"
step nap(secs: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep $0; echo done > $1", secs, out]
  timeout 1m
}
pipeline per_call() {
  quick = nap(secs: 0)
  slow = nap(secs: 5) with {
    timeout 1s
    cache off
  }
  output quick
  output slow
}
"#,
    );
    let started = Instant::now();
    let out = flowc(&["run", "per_call.flow"], d);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // The call's own timeout stopped it, not the step's minute.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{}",
        text(&out)
    );
    let records = last_records(&d.join(".flow"));
    let reasons = reasons(&records);
    assert!(
        reasons.iter().any(|(t, r)| t == "quick" && r == "ok"),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|(t, r)| t == "slow" && r == "timeout"),
        "{reasons:?}"
    );
}

#[test]
fn a_parameters_file_gives_typed_values_and_param_wins() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "job.flow",
        r#"
step note(text: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "printf %s \"$0\" > $1", text, out]
}
pipeline job(day: Date, regions: List<Str> = ["all"], label: Str = "x") {
  for r in regions {
    n = note(text: "${day} ${r} ${label}")
  }
  output n
}
"#,
    );
    write(
        d,
        "job.json",
        r#"{"day": "2024-06-03", "regions": ["north", "south"], "label": "from-file"}"#,
    );
    let out = flowc(
        &[
            "run",
            "job.flow",
            "--params",
            "job.json",
            "--param",
            "label=cli",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
    let summary = last_summary(d);
    let notes: Vec<String> = summary["outputs"]["n"]
        .as_array()
        .expect("a list of files")
        .iter()
        .map(|p| std::fs::read_to_string(p.as_str().expect("a path")).expect("a note"))
        .collect();
    assert_eq!(notes, ["2024-06-03 north cli", "2024-06-03 south cli"]);

    // A JSON job is typed; unknown names, non-objects and broken JSON are refused.
    let cases = [
        (r#"{"day": 20240603}"#, "R002", "expected a date string"),
        (
            r#"{"day": "2024-06-03", "regions": "north"}"#,
            "R002",
            "expected a list",
        ),
        (
            r#"{"day": "2024-06-03", "region": ["x"]}"#,
            "R001",
            "no parameter `region`",
        ),
        (r#"["2024-06-03"]"#, "", "must be a JSON object"),
        (r#"{"day": "2024-06-03""#, "", "is not JSON"),
    ];
    for (json, code, words) in cases {
        write(d, "bad.json", json);
        let out = flowc(&["run", "job.flow", "--params", "bad.json"], d);
        assert_ne!(out.status.code(), Some(0), "{json}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains(code) && t.contains(words), "{json}: {t}");
    }
    let missing = flowc(&["run", "job.flow", "--params", "nowhere.json"], d);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("cannot read the parameters file"));
}

#[test]
fn an_exit_handler_reads_how_the_run_ended() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "ending.flow",
        r#"
step work(fail: Bool) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "if [ \"$0\" = true ]; then exit 3; fi; echo ok > $1", fail, out]
}
step notify(status: Str, name: Str) {
  image "busybox:1.36"
  run ["sh", "-c", "echo \"$1 $0\" >> notifications.log", status, name]
  cache off
}
pipeline ending(fail: Bool = false) {
  w = work(fail: fail)
  output w
  finally notify(status: run.status, name: run.name)
}
"#,
    );
    // The host engine: the notifying step appends to a file of the project, which a
    // sandboxed step may not write.
    let ok = flowc(&["run", "ending.flow", "--engine", "host"], d);
    assert!(ok.status.success(), "{}", text(&ok));
    let failed = flowc(
        &[
            "run",
            "ending.flow",
            "--engine",
            "host",
            "--param",
            "fail=true",
        ],
        d,
    );
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let log = std::fs::read_to_string(d.join("notifications.log")).expect("notifications");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    // Each line names its run (the run's folder under the store) and how it ended.
    let runs: Vec<String> = std::fs::read_dir(d.join(".flow/runs"))
        .expect("runs")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for (line, status) in lines.iter().zip(["succeeded", "failed"]) {
        let (name, got) = line.split_once(' ').expect("name and status");
        assert_eq!(got, status, "{log}");
        assert!(runs.iter().any(|r| r == name), "{name} not in {runs:?}");
    }
}

#[test]
fn parallel_limits_the_steps_of_a_pipeline_at_once() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "limited.flow",
        r#"
step nap(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 0.4; echo $0 > $1", n, out]
}
pipeline limited(ns: List<Int> = [1, 2, 3, 4, 5]) {
  parallel 2
  for n in ns {
    w = nap(n: n)
  }
  output w
}
"#,
    );
    let out = flowc(&["run", "limited.flow", "--jobs", "8"], d);
    assert!(out.status.success(), "{}", text(&out));
    let records = last_records(&d.join(".flow"));
    assert_eq!(records.len(), 5, "{records:?}");
    let times = |key: &str| -> Vec<String> {
        records
            .iter()
            .map(|r| r[key].as_str().expect("a time").to_string())
            .collect()
    };
    let (starts, ends) = (times("start"), times("end"));
    // At every start, at most one other step is between its start and its end.
    for s in &starts {
        let overlapping = starts
            .iter()
            .zip(&ends)
            .filter(|(a, b)| *a <= s && s < *b)
            .count();
        assert!(
            overlapping <= 2,
            "{overlapping} at once at {s}: {records:?}"
        );
    }
}

#[test]
fn a_fan_in_reaches_a_container_step_in_iteration_order() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    // The first iteration takes longest, so iterations end out of order.
    write(
        d,
        "fan_in.flow",
        r#"
step shard(region: Str) -> (rows: File) {
  image "busybox:1.36"
  run ["sh", "-c", "if [ $0 = north ]; then sleep 0.5; fi; echo $0 > $1", region, rows]
}
step combine(parts: List<File>) -> (all: File) {
  image "busybox:1.36"
  run ["sh", "-c", "cat $0/* > $1", parts, all]
}
pipeline fan_in() {
  for item in ["north", "south", "east"] {
    s = shard(region: item)
  }
  all = combine(parts: s)
  output all
}
"#,
    );
    // The sandbox gives the list as a folder of numbered entries, as Argo and Kubeflow do.
    let out = flowc(&["run", "fan_in.flow"], d);
    assert!(out.status.success(), "{}", text(&out));
    let summary = last_summary(d);
    let all = summary["outputs"]["all"].as_str().expect("a path");
    assert_eq!(
        std::fs::read_to_string(all).expect("the combined file"),
        "north\nsouth\neast\n"
    );
}

#[test]
fn retries_within_a_time_stop_when_the_time_is_up() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "flaky.flow",
        r#"
step flaky() -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "exit 1", out]
  retries 5 backoff 1s within 1500ms
}
pipeline flaky_run() {
  f = flaky()
  output f
}
"#,
    );
    let out = flowc(&["run", "flaky.flow"], d);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // The first attempt, and a retry one second later; a third would start past 1.5 s.
    let records = last_records(&d.join(".flow"));
    assert_eq!(records.len(), 2, "{records:?}");
}

#[test]
fn quiet_prints_nothing_on_success_and_only_the_failure_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "chain.flow", CHAIN);
    let out = flowc(
        &["run", "chain.flow", "--engine", "host", "--quiet"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out), "", "a quiet run that succeeds prints nothing");
    // The run is recorded as always.
    let records = last_records(&dir.path().join(".flow"));
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(last_summary(dir.path())["status"], "succeeded");

    // A failed step: its line, its reason and log, the run's status; nothing about the others.
    let failing = CHAIN.replace("awk '{s+=$1} END {print s}' $0 > $1", "exit 4");
    write(dir.path(), "failing.flow", &failing);
    let out = flowc(
        &[
            "run",
            "failing.flow",
            "--engine",
            "host",
            "-q",
            "--param",
            "n=11",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("FAILED   chain.t: exited with code 4"),
        "{shown}"
    );
    assert!(
        shown.contains("chain.t failed: exited with code 4\n  log: "),
        "{shown}"
    );
    assert!(shown.contains(" failed ("), "{shown}");
    assert!(!shown.contains("start "), "no progress lines: {shown}");
    assert!(
        !shown.contains("chain.a"),
        "nothing about the steps that succeeded: {shown}"
    );
    assert!(!shown.contains("attempts"), "no summary table: {shown}");
}

/// As on Argo, where a bare `depends: a` waits for `a` to succeed or to be skipped for its own
/// condition (`Omitted`, a task not run because its dependency failed, stops its dependents
/// too): a failure stops the whole chain after it, not just the next step, and a step skipped
/// for its false condition does not stop the step after it.
#[test]
fn a_failure_stops_the_whole_chain_after_it_and_a_false_condition_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flow = r#"
step ok(i: Int) {
  image "busybox:1.36"
  run ["true", "${i}"]
}

step fail() {
  image "busybox:1.36"
  run ["false"]
}

pipeline p(go: Bool = false) {
  a = fail()
  b = ok(i: 1) after a
  c = ok(i: 2) after b
  d = ok(i: 3) after c
  if go {
    e = ok(i: 4)
  }
  f = ok(i: 5) after e
}
"#;
    write(dir.path(), "p.flow", flow);
    let out = flowc(&["run", "p.flow", "--engine", "host"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let summary = last_summary(dir.path());
    let tasks = summary["tasks"].as_array().expect("the summary's tasks");
    let status = |task: &str| {
        let t = tasks
            .iter()
            .find(|t| t["task"] == format!("p.{task}"))
            .unwrap_or_else(|| panic!("no {task} in {summary}"));
        (
            t["status"].as_str().unwrap_or_default().to_string(),
            t["detail"].as_str().unwrap_or_default().to_string(),
        )
    };
    let skipped = |detail: &str| ("skipped".to_string(), detail.to_string());
    assert_eq!(status("a").0, "failed");
    assert_eq!(status("b"), skipped("`a` did not succeed"));
    assert_eq!(status("c"), skipped("`b` did not run"));
    assert_eq!(status("d"), skipped("`c` did not run"));
    assert_eq!(status("e"), skipped("its condition is false"));
    assert_eq!(status("f").0, "ok", "{summary}");
    let ran: Vec<String> = reasons(&last_records(&dir.path().join(".flow")))
        .into_iter()
        .map(|(task, _)| task)
        .collect();
    assert_eq!(ran, ["a", "f"], "only a and f started");
}

/// A step's end line is held back to be written with the next line, and written as soon as
/// the runner waits for a step: it is on the output while a longer step still runs.
#[test]
fn a_steps_end_line_is_written_while_a_longer_step_still_runs() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let flow = r#"
step quick() {
  image "busybox:1.36"
  run ["true"]
}

step slow() {
  image "busybox:1.36"
  run ["sleep", "4"]
}

pipeline p() {
  a = quick()
  b = slow()
}
"#;
    write(dir.path(), "p.flow", flow);
    let started = Instant::now();
    let mut child = common::flowc_command(&["run", "p.flow", "--engine", "host"], dir.path(), &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flowc starts");
    let out = child.stdout.take().expect("its output");
    let mut lines = std::io::BufReader::new(out).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        let done = line.contains("ok       p.a");
        seen.push(line);
        if done {
            break;
        }
    }
    let at = started.elapsed();
    assert!(
        seen.last().is_some_and(|l| l.contains("ok       p.a")),
        "{seen:?}"
    );
    assert!(
        at < Duration::from_secs(3),
        "a's end line came after {at:?}: {seen:?}"
    );
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "b was still running"
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().expect("flowc ends").success(), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("ok       p.b")), "{rest:?}");
}
