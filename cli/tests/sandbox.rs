//! `flowc run` with the sandbox engine, under the real `bwrap`: a step sees what its pod sees
//! (secrets and configs as bytes at their declared paths, its inputs and outputs at the pod's paths, its
//! declared environment alone, a private `/tmp`, the host read-only, the network unless it is
//! turned off) and Kubernetes' memory semantics (the limit stops a step, the request does not).
//! Without `bwrap` (or namespaces) these tests fail: the sandbox is what they test.

mod common;
use common::{run_records, text, write};

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Runs `flowc` in `dir` with `vars` added to its environment.
fn flowc_with(args: &[&str], dir: &Path, vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(vars.iter().copied())
        .output()
        .expect("flowc runs")
}

/// Runs `flowc run` and insists that it succeeded, in the sandbox (no fallback note).
fn run_ok(args: &[&str], dir: &Path) -> Output {
    let out = flowc_with(args, dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("sandbox engine cannot run"),
        "bwrap must work here: {}",
        text(&out)
    );
    out
}

/// The pipeline outputs a run printed (`  name = value`), by name.
fn outputs(out: &Output) -> BTreeMap<String, String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some((_, list)) = stdout.split_once("\noutputs:\n") else {
        return BTreeMap::new();
    };
    list.lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The text of the file output `name` of a run.
fn output_text(out: &Output, name: &str) -> String {
    let path = outputs(out)
        .remove(name)
        .unwrap_or_else(|| panic!("no output `{name}`: {}", text(out)));
    std::fs::read_to_string(PathBuf::from(&path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

const KEYTAB: &[u8] = b"\x05\x02\x00\x00\x00\x3fKRB5\xff\xfe\x00binary-keytab-bytes-7731\x00\n\r\n";

#[test]
fn a_binary_secret_is_at_its_declared_path_byte_for_byte_and_nowhere_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hdfs.keytab"), KEYTAB).expect("write");
    write(
        dir.path(),
        "k.flow",
        r#"
secret keytab = k8s("hdfs-keytab", key: "hdfs.keytab")

step kinit(n: Int) -> (digest: File) {
  image "debian:12"
  run ["sh", "-c", "cat /etc/security/keytabs/hdfs.keytab; sha256sum /etc/security/keytabs/hdfs.keytab | cut -d' ' -f1 > $1; ls -l /etc/security/keytabs >&2", n, digest]
  mount keytab at "/etc/security/keytabs/hdfs.keytab"
}

pipeline k(n: Int = 1) {
  d = kinit(n: n)
  output d
}
"#,
    );
    let out = run_ok(
        &["run", "k.flow", "--secret", "keytab=hdfs.keytab"],
        dir.path(),
    );
    let want = format!("{:x}\n", Sha256::digest(KEYTAB));
    assert_eq!(
        output_text(&out, "d"),
        want,
        "the step read the exact bytes"
    );
    // The step printed the keytab: its log has `***` instead, and no byte of it is kept
    // anywhere in the store (logs, records, outputs, summary).
    let secret = &KEYTAB[..KEYTAB.len() - 3]; // without its last line break
    let store = dir.path().join(".flow");
    let mut logs = 0;
    for f in files_under(&store) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(!contains(&bytes, secret), "secret in {}", f.display());
        assert!(
            !contains(&bytes, b"binary-keytab-bytes-7731"),
            "{}",
            f.display()
        );
        if f.extension().is_some_and(|x| x == "log") {
            logs += 1;
            assert!(
                contains(&bytes, b"***"),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    assert_eq!(logs, 1);
    assert!(!contains(&out.stdout, secret) && !contains(&out.stderr, secret));
}

#[test]
fn a_secret_the_run_was_not_given_fails_its_step_before_it_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "m.flow",
        r#"
secret api = k8s("api-token", key: "token")

step call(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo started > $1", n, out]
  env API_TOKEN = api
}

step other(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", n, out]
}

pipeline m(n: Int = 1) {
  c = call(n: n)
  o = other(n: n)
  output c
  output o
}
"#,
    );
    let out = flowc_with(&["run", "m.flow"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("[R009] the step needs secret `api`, which the run was not given")
            && t.contains("pass its file with `--secret api=PATH`"),
        "{t}"
    );
    let records = run_records(&dir.path().join(".flow")).pop().expect("a run");
    let tasks: Vec<&str> = records.iter().filter_map(|r| r["task"].as_str()).collect();
    assert_eq!(tasks, ["o"], "the step without its secret never started");
}

#[test]
fn a_step_writes_only_its_outputs_and_its_private_tmp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host_tmp = tempfile::Builder::new()
        .prefix("flowc-sandbox-host-")
        .tempfile_in("/tmp")
        .expect("a file in the host's /tmp");
    let host_name = host_tmp
        .path()
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_string();
    write(dir.path(), "data.txt", "1\n2\n3\n");
    let src = format!(
        r#"
step probe(data: File) -> (report: File, copy: File) {{
  image "busybox:1.36"
  run ["sh", "-c", "for p in $PWD/written /etc/written /usr/written; do if touch $p 2>/dev/null; then echo wrote $p; else echo denied $p; fi; done > $1; (echo more >> $0) 2>/dev/null || echo input-read-only >> $1; echo input=$0 >> $1; test -e /tmp/{host_name} || echo host-tmp-hidden >> $1; echo scratch > /tmp/{host_name}-inner && echo tmp-writable >> $1; cp $0 $2", data, report, copy]
}}

pipeline w(data: File) {{
  p = probe(data: data)
  output report = p.report
  output copy = p.copy
}}
"#
    );
    write(dir.path(), "w.flow", &src);
    let out = run_ok(&["run", "w.flow", "--param", "data=data.txt"], dir.path());
    let report = output_text(&out, "report");
    let pwd = std::fs::canonicalize(dir.path()).expect("canonical");
    let want = format!(
        "denied {pwd}/written\ndenied /etc/written\ndenied /usr/written\ninput-read-only\n\
         input=/tmp/flowc/inputs/data\nhost-tmp-hidden\ntmp-writable\n",
        pwd = pwd.display()
    );
    assert_eq!(report, want);
    assert_eq!(output_text(&out, "copy"), "1\n2\n3\n");
    assert!(!dir.path().join("written").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data.txt")).unwrap_or_default(),
        "1\n2\n3\n"
    );
    let inner = format!("/tmp/{host_name}-inner");
    assert!(!Path::new(&inner).exists(), "the step's /tmp is its own");
}

#[test]
fn a_step_sees_only_its_declared_environment_and_what_is_passed_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "e.flow",
        r#"
step show(greeting: Str) -> (vars: File) {
  image "busybox:1.36"
  run ["sh", "-c", "env | cut -d= -f1 | sort | tr '\\n' ' ' > $0; echo >> $0; echo $GREETING >> $0", vars]
  env GREETING = greeting
}

pipeline e(greeting: Str = "hello") {
  s = show(greeting: greeting)
  output s
}
"#,
    );
    let leak = [
        ("FLOWC_TEST_LEAK", "leaked"),
        ("FLOWC_TEST_PASSED", "passed"),
    ];
    let plain = flowc_with(&["run", "e.flow"], dir.path(), &leak);
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain));
    assert_eq!(
        output_text(&plain, "s"),
        "FLOWC_RUN_ID FLOWC_TASK GREETING HOME PATH PWD \nhello\n"
    );
    let passed = flowc_with(
        &[
            "run",
            "e.flow",
            "--param",
            "greeting=hi",
            "--pass-env",
            "FLOWC_TEST_PASSED",
        ],
        dir.path(),
        &leak,
    );
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed));
    assert_eq!(
        output_text(&passed, "s"),
        "FLOWC_RUN_ID FLOWC_TASK FLOWC_TEST_PASSED GREETING HOME PATH PWD \nhi\n"
    );
}

/// A step that connects to `port` on this machine's loopback and says whether it could.
fn network_pipeline(port: u16) -> String {
    format!(
        r#"
step dial(port: Int) -> (result: File) {{
  image "python:3.12-slim"
  run ["python3", "-c", "import socket, sys\ntry:\n    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3).close(); r = 'connected'\nexcept OSError as e:\n    r = 'refused'\nopen(sys.argv[2], 'w').write(r)", port, result]
  cache off
}}

pipeline n(port: Int = {port}) {{
  d = dial(port: port)
  output d
}}
"#
    )
}

#[test]
fn the_network_is_on_by_default_and_off_when_the_user_or_the_step_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    // Accept (and answer) whatever connects, so that a connection surely completes.
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let _ = s.read(&mut [0u8; 16]);
        }
    });
    write(dir.path(), "n.flow", &network_pipeline(port));
    let on = run_ok(&["run", "n.flow"], dir.path());
    assert_eq!(output_text(&on, "d"), "connected");
    let off = run_ok(&["run", "n.flow", "--network", "off"], dir.path());
    assert_eq!(output_text(&off, "d"), "refused");
    // The step's own `network off` cuts it off too, with the user's default.
    let hermetic = network_pipeline(port).replace("  cache off\n", "  cache off\n  network off\n");
    assert!(hermetic.contains("network off"));
    write(dir.path(), "n.flow", &hermetic);
    let off = run_ok(&["run", "n.flow"], dir.path());
    assert_eq!(output_text(&off, "d"), "refused");
    // So do the pipeline's `defaults`, and a call's own `with { network on }` wins over them.
    let defaults = network_pipeline(port).replace(
        "  d = dial(port: port)\n",
        "  defaults { network off }\n  d = dial(port: port)\n",
    );
    assert!(defaults.contains("defaults { network off }"));
    write(dir.path(), "n.flow", &defaults);
    let off = run_ok(&["run", "n.flow"], dir.path());
    assert_eq!(output_text(&off, "d"), "refused");
    let with_on = defaults.replace(
        "  d = dial(port: port)\n",
        "  d = dial(port: port) with { network on }\n",
    );
    write(dir.path(), "n.flow", &with_on);
    let on = run_ok(&["run", "n.flow"], dir.path());
    assert_eq!(output_text(&on, "d"), "connected");
    write(dir.path(), "n.flow", &hermetic);
    // A host process cannot be cut off: such a run is refused before anything runs.
    let host = flowc_with(&["run", "n.flow", "--engine", "host"], dir.path(), &[]);
    assert_eq!(host.status.code(), Some(2), "{}", text(&host));
    assert!(
        text(&host).contains(
            "[R007] step `dial` (`network off`) needs an engine that can turn the network off"
        ),
        "{}",
        text(&host)
    );
}

const CORE_SITE: &[u8] = b"<configuration>\n  <property><name>fs.defaultFS</name><value>hdfs://nn-4417:8020</value></property>\n</configuration>\n";

#[test]
fn a_config_is_at_its_declared_path_and_a_variable_and_is_not_copied_into_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("core-site.xml"), CORE_SITE).expect("write");
    std::fs::write(dir.path().join("realm.txt"), "EXAMPLE.ORG\n").expect("write");
    write(
        dir.path(),
        "c.flow",
        r#"
config hadoop = k8s_configmap("hadoop-conf", key: "core-site.xml")
config realm = k8s_configmap("kerberos", key: "realm")

step read_conf(n: Int) -> (digest: File) {
  image "debian:12"
  run ["sh", "-c", "cat /etc/hadoop/conf/core-site.xml; echo realm=$KRB5_REALM; sha256sum /etc/hadoop/conf/core-site.xml | cut -d' ' -f1 > $1; echo x > /etc/hadoop/conf/core-site.xml || echo read-only", n, digest]
  mount hadoop at "/etc/hadoop/conf/core-site.xml"
  env KRB5_REALM = realm
}

pipeline c(n: Int = 1) {
  d = read_conf(n: n)
  output d
}
"#,
    );
    let out = run_ok(
        &[
            "run",
            "c.flow",
            "--config",
            "hadoop=core-site.xml",
            "--config",
            "realm=realm.txt",
        ],
        dir.path(),
    );
    let want = format!("{:x}\n", Sha256::digest(CORE_SITE));
    assert_eq!(
        output_text(&out, "d"),
        want,
        "the step read the exact bytes"
    );
    assert_eq!(
        std::fs::read(dir.path().join("core-site.xml")).expect("read"),
        CORE_SITE,
        "the step could not write the file"
    );
    // Unlike a secret, a config may appear in the step's log; no other file of the store
    // holds it (it is not copied into the store).
    let store = dir.path().join(".flow");
    let mut logs = 0;
    for f in files_under(&store) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        if f.extension().is_some_and(|x| x == "log") {
            logs += 1;
            let log = String::from_utf8_lossy(&bytes);
            assert!(log.contains("hdfs://nn-4417:8020"), "{log}");
            assert!(log.contains("realm=EXAMPLE.ORG"), "{log}");
            assert!(log.contains("read-only"), "{log}");
        } else {
            assert!(!contains(&bytes, b"nn-4417"), "config in {}", f.display());
        }
    }
    assert_eq!(logs, 1);
}

#[test]
fn a_config_the_run_was_not_given_fails_its_step_before_it_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "m.flow",
        r#"
config krb5 = k8s_configmap("kerberos", key: "krb5.conf")

step kinit(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo started > $1", n, out]
  mount krb5 at "/etc/krb5.conf"
}

pipeline m(n: Int = 1) {
  k = kinit(n: n)
  output k
}
"#,
    );
    let out = flowc_with(&["run", "m.flow"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("[R030] the step needs config `krb5`, which the run was not given")
            && t.contains("pass its file with `--config krb5=PATH`"),
        "{t}"
    );
    let records = run_records(&dir.path().join(".flow")).pop().expect("a run");
    assert!(records.is_empty(), "the step never started: {records:?}");
}

const MEMORY: &str = r#"
step hold(mb: Int) -> (out: File) {
  image "python:3.12-slim"
  run ["python3", "-c", "import sys, time; b = bytearray(int(sys.argv[1]) << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.5); open(sys.argv[2], 'w').write('held')", mb, out]
  resources { memory: 64Mi, memory_limit: 256Mi }
  cache off
}

step requested(mb: Int) -> (out: File) {
  image "python:3.12-slim"
  run ["python3", "-c", "import sys, time; b = bytearray(int(sys.argv[1]) << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.5); open(sys.argv[2], 'w').write('held')", mb, out]
  resources { memory: 64Mi }
  cache off
}

pipeline mem(over_request: Int = 150, over_limit: Int = 400) {
  a = hold(mb: over_request)
  b = hold(mb: over_limit)
  c = requested(mb: over_request)
  output a
  output b
  output c
}
"#;

/// The record of task `task` in the newest run of `dir`'s store.
fn record(dir: &Path, task: &str) -> Value {
    let records = run_records(&dir.join(".flow")).pop().expect("a run");
    records
        .into_iter()
        .find(|r| r["task"] == task)
        .unwrap_or_else(|| panic!("no record of `{task}`"))
}

#[test]
fn the_memory_limit_stops_a_step_and_the_request_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "mem.flow", MEMORY);
    let out = flowc_with(&["run", "mem.flow"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (a, b, c) = (
        record(dir.path(), "a"),
        record(dir.path(), "b"),
        record(dir.path(), "c"),
    );
    assert_eq!(a["reason"], "ok", "over its request, under its limit: {a}");
    assert_eq!(b["reason"], "oom", "over its limit: {b}");
    assert_eq!(c["reason"], "ok", "a request alone stops nothing: {c}");
    for r in [&a, &b] {
        assert_eq!(r["requests"]["memory_bytes"], 64 << 20, "{r}");
        assert_eq!(r["limits"]["memory_bytes"], 256 << 20, "{r}");
    }
    assert_eq!(c["requests"]["memory_bytes"], 64 << 20, "{c}");
    assert_eq!(c["limits"]["memory_bytes"], Value::Null, "{c}");
    assert!(a["peak_rss_bytes"].as_u64().unwrap_or(0) > 150 << 20, "{a}");
    assert!(
        text(&out)
            .contains("mem.b failed: out of memory: exceeded its memory limit (268435456 bytes)"),
        "{}",
        text(&out)
    );
    // `--strict-memory`: a request without a limit stops the step, as the run's limit.
    let strict = flowc_with(&["run", "mem.flow", "--strict-memory"], dir.path(), &[]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    let c = record(dir.path(), "c");
    assert_eq!(c["reason"], "oom", "{c}");
    assert_eq!(c["limits"]["memory_bytes"], 64 << 20, "{c}");
}

#[test]
fn without_bwrap_the_run_says_so_once_and_runs_host_processes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A PATH with the steps' tools and without `bwrap`.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    for tool in ["sh", "seq", "awk"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("`{tool}` on this machine"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("link");
    }
    write(
        dir.path(),
        "h.flow",
        r#"
step make(n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "seq 1 $0 > $1", n, out]
}

step total(data: File) -> (sum: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", data, sum]
}

pipeline h(n: Int = 3) {
  a = make(n: n)
  t = total(data: a)
  output t
}
"#,
    );
    let path = bin.to_string_lossy().into_owned();
    let out = flowc_with(&["run", "h.flow"], dir.path(), &[("PATH", &path)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert_eq!(
        t.matches("note: the sandbox engine cannot run here (`bwrap` is not installed)")
            .count(),
        1,
        "{t}"
    );
    // A host process sees this machine's path of its input, not the pod's.
    assert!(!output_text(&out, "t").starts_with("/tmp/flowc/"), "{t}");
    // Asked for a hermetic run, the run refuses rather than run with the network.
    let off = flowc_with(
        &["run", "h.flow", "--network", "off"],
        dir.path(),
        &[("PATH", &path)],
    );
    assert_eq!(off.status.code(), Some(2), "{}", text(&off));
    assert!(
        text(&off).contains("[R007] `--network off` needs an engine"),
        "{}",
        text(&off)
    );
}

#[test]
fn a_timeout_stops_the_sandboxed_step_and_what_it_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.flow",
        r#"
step slow(x: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 30 & sleep 30; echo $0 > $1", x, out]
  timeout 1s
  cache off
}

pipeline t() {
  s = slow(x: 1)
  output s
}
"#,
    );
    let started = std::time::Instant::now();
    let out = flowc_with(&["run", "t.flow"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the run did not wait for the step's background process"
    );
    assert_eq!(record(dir.path(), "s")["reason"], "timeout");
}
