//! The `flowc` binary driven as a user and a CI job drive it: exit codes, output formats,
//! `explain`, `fmt --check` and `graph`.

mod common;
use common::{flowc, stdout, write};

use std::path::Path;

use serde_json::Value;

const GOOD: &str = "step hello(name: Str) -> (greeting: File) {\n  image \"busybox:1.36\"\n  run [\"sh\", \"-c\", \"echo hello $0 > $1\", name, greeting]\n}\n\npipeline greet(name: Str = \"world\") {\n  g = hello(name: name)\n  output g\n}\n";
const BAD: &str = "schema A { x: Int }\n\nstep s(t: Table<A>) -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"cat\", t, o]\n  resources { memory: 512m }\n}\n\npipeline p() {\n  o = s(t: 3)\n  output o\n}\n";
const WARN: &str = "step s(x: Int) -> (o: File) {\n  image \"busybox\"\n  run [\"echo\", x, o]\n}\n\npipeline p(x: Int = 1) {\n  o = s(x: x)\n  output o\n}\n";

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "good.flow", GOOD);
    write(dir.path(), "bad.flow", BAD);
    write(dir.path(), "warn.flow", WARN);
    assert_eq!(
        flowc(&["check", "good.flow"], dir.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        flowc(&["check", "bad.flow"], dir.path()).status.code(),
        Some(1)
    );
    assert_eq!(
        flowc(&["check", "warn.flow"], dir.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        flowc(&["check", "--deny-warnings", "warn.flow"], dir.path())
            .status
            .code(),
        Some(1)
    );
    let missing = flowc(&["check", "missing.flow"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("missing.flow: error[E008]: cannot read the file: no such file"));
    assert_eq!(stdout(&missing), "checked 1 file: 1 error\n");
    assert_eq!(
        flowc(&["check", "--format", "nope", "good.flow"], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(flowc(&["check"], dir.path()).status.code(), Some(2));
    // Several files at once: both are reported.
    let both = flowc(
        &[
            "check",
            "--format",
            "short",
            "good.flow",
            "bad.flow",
            "warn.flow",
        ],
        dir.path(),
    );
    assert_eq!(both.status.code(), Some(1));
    let out = stdout(&both);
    assert!(
        out.contains("bad.flow:") && out.contains("warn.flow:"),
        "{out}"
    );
}

#[test]
fn human_output_has_snippets_codes_and_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "bad.flow", BAD);
    let out = stdout(&flowc(&["check", "bad.flow"], dir.path()));
    assert!(out.contains("[E401]"), "{out}");
    assert!(out.contains("[E202]"), "{out}");
    assert!(out.contains("help: write `512Mi`"), "{out}");
    assert!(out.contains("bad.flow:6:23"), "{out}");
    assert!(out.contains("checked 1 file: 2 errors"), "{out}");
}

#[test]
fn json_report_has_the_documented_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "bad.flow", BAD);
    let out = flowc(&["check", "--format", "json", "bad.flow"], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["version"], 1);
    let diags = v["diagnostics"].as_array().expect("diagnostics array");
    assert_eq!(diags.len(), 2);
    for d in diags {
        for key in [
            "code", "name", "severity", "message", "file", "labels", "help", "url",
        ] {
            assert!(d.get(key).is_some(), "missing {key} in {d}");
        }
        let l = &d["labels"][0];
        assert!(l["start"]["line"].as_u64().is_some_and(|x| x >= 1));
        assert!(l["start"]["column"].as_u64().is_some_and(|x| x >= 1));
    }
    assert_eq!(v["summary"]["errors"], 2);
}

#[test]
fn sarif_report_has_the_required_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "bad.flow", BAD);
    let out = flowc(&["check", "--format", "sarif", "bad.flow"], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    // SARIF 2.1.0 §3.13: version and runs are required; each run needs tool.driver.name.
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("sarif-2.1.0")));
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "flowc");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    for r in results {
        // §3.27: message is required; ruleId and ruleIndex must agree with the rules array.
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(matches!(
            r["level"].as_str(),
            Some("error" | "warning" | "note" | "none")
        ));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "bad.flow");
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|x| x >= 1));
    }
}

#[test]
fn gitlab_report_has_the_required_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "bad.flow", BAD);
    write(dir.path(), "warn.flow", WARN);
    let out = flowc(
        &["check", "--format", "gitlab", "bad.flow", "warn.flow"],
        dir.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let issues = v.as_array().expect("an array of issues");
    assert_eq!(issues.len(), 3);
    let mut fingerprints = std::collections::BTreeSet::new();
    for i in issues {
        // GitLab Code Quality: description, check_name, fingerprint, severity, location.path,
        // location.lines.begin are required.
        assert!(i["description"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(i["check_name"].as_str().is_some());
        assert!(matches!(
            i["severity"].as_str(),
            Some("info" | "minor" | "major" | "critical" | "blocker")
        ));
        assert!(i["location"]["path"].as_str().is_some());
        assert!(i["location"]["lines"]["begin"]
            .as_u64()
            .is_some_and(|x| x >= 1));
        assert!(fingerprints.insert(i["fingerprint"].as_str().expect("fingerprint").to_string()));
    }
    // The same input gives the same fingerprints.
    let again = flowc(
        &["check", "--format", "gitlab", "bad.flow", "warn.flow"],
        dir.path(),
    );
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn explain_prints_every_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    for code in flowc_compiler::Code::ALL {
        let out = flowc(&["explain", code.as_str()], dir.path());
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).starts_with(&format!("# {}", code.as_str())));
    }
    let lower = flowc(&["explain", "e203"], dir.path());
    assert_eq!(lower.status.code(), Some(0));
    let unknown = flowc(&["explain", "E999"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn fmt_check_and_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = "pipeline  greet( name:Str=\"world\" ){\n g=hello( name:name )   // hi\n output g }\nstep hello(name: Str) -> (greeting: File) {\n  image \"busybox:1.36\"\n  run [\"sh\", \"-c\", \"echo hello $0 > $1\", name, greeting]\n}\n";
    let path = write(dir.path(), "messy.flow", messy);
    assert_eq!(
        flowc(&["fmt", "--check", "messy.flow"], dir.path())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        messy,
        "--check changes nothing"
    );
    assert_eq!(
        flowc(&["fmt", "messy.flow"], dir.path()).status.code(),
        Some(0)
    );
    let formatted = std::fs::read_to_string(&path).expect("read");
    assert!(
        formatted.contains("  g = hello(name: name)  // hi\n"),
        "{formatted}"
    );
    assert_eq!(
        flowc(&["fmt", "--check", "messy.flow"], dir.path())
            .status
            .code(),
        Some(0)
    );
    write(dir.path(), "broken.flow", "schema {");
    assert_eq!(
        flowc(&["fmt", "broken.flow"], dir.path()).status.code(),
        Some(2)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.flow")).expect("read"),
        "schema {"
    );
}

#[test]
fn graph_as_dot_and_mermaid() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "good.flow", GOOD);
    let dot = flowc(&["graph", "good.flow"], dir.path());
    assert_eq!(dot.status.code(), Some(0));
    let dot = stdout(&dot);
    assert!(dot.starts_with("digraph \"greet\" {"), "{dot}");
    assert!(dot.contains("n0 [label=\"g = hello\"]"), "{dot}");
    let mermaid = stdout(&flowc(
        &["graph", "--format", "mermaid", "good.flow"],
        dir.path(),
    ));
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(mermaid.contains("n0 --> out_g"), "{mermaid}");
    write(dir.path(), "bad.flow", BAD);
    assert_eq!(
        flowc(&["graph", "bad.flow"], dir.path()).status.code(),
        Some(1)
    );
}

#[test]
fn build_writes_through_target_warnings_and_nothing_on_target_errors() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let daily = examples.join("daily_weighting.flow");
    let daily = daily.to_str().expect("utf-8");
    // A schedule on KFP is a warning: the spec is written and the help says what to do.
    let o = flowc(&["build", daily, "--target", "kfp", "-o", "kfp.yaml"], d);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    // Drawn as a diagnostic at the `schedule` statement.
    assert!(err.contains("[W501] `schedule \"0 6 * * *\"`"), "{err}");
    assert!(err.contains("daily_weighting.flow:"), "{err}");
    assert!(err.contains("schedule \"0 6 * * *\" timezone"), "{err}");
    assert!(
        err.contains("help: after uploading, create a recurring run"),
        "{err}"
    );
    let written = std::fs::read_to_string(d.join("kfp.yaml")).expect("the spec is written");
    assert!(written.contains("pipelineInfo:"), "{written}");
    // `--check` compares with what the build writes.
    let o = flowc(
        &["build", daily, "--target", "kfp", "--check", "kfp.yaml"],
        d,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(d.join("kfp.yaml"), written.replace("daily-weighting", "x")).expect("write");
    let o = flowc(
        &["build", daily, "--target", "kfp", "--check", "kfp.yaml"],
        d,
    );
    assert_eq!(o.status.code(), Some(1));

    // A container step reading a value that may be missing cannot be written for KFP:
    // nothing is.
    std::fs::write(
        d.join("maybe.flow"),
        r#"
step make() -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo x > $0", out]
}

step show(f: File?) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "cat $0 > $1", f, out]
}

pipeline maybe(go: Bool = false) {
  if go {
    made = make()
  }
  shown = show(f: made)
}
"#,
    )
    .expect("write");
    let o = flowc(
        &["build", "maybe.flow", "--target", "kfp", "-o", "maybe.yaml"],
        d,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("[E501]"), "{err}");
    assert!(err.contains("[maybe.flow:16:"), "at the call: {err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!d.join("maybe.yaml").exists());

    // A built-in step reading it optionally gets the `else` branch flowc adds.
    let fusion = examples.join("tv_web_fusion.flow");
    let o = flowc(
        &[
            "build",
            fusion.to_str().expect("utf-8"),
            "--target",
            "kfp",
            "-o",
            "fusion.yaml",
        ],
        d,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    let written = std::fs::read_to_string(d.join("fusion.yaml")).expect("written");
    assert!(written.contains("- \"--absent\""), "{written}");
}

#[test]
fn check_target_reports_target_problems_at_their_line_in_every_format() {
    // The KFP fixture whose secret mounts Kubeflow cannot express (lines 26 and 27).
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/emit");
    let args = [
        "check",
        "--format",
        "gitlab",
        "--target",
        "kfp",
        "kfp_secrets.flow",
    ];
    let out = flowc(&args, &fixtures);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let issues = v.as_array().expect("an array of issues");
    let found: Vec<(String, String, u64)> = issues
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap_or_default().to_string(),
                i["location"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                i["location"]["lines"]["begin"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("E501".to_string(), "kfp_secrets.flow".to_string(), 26),
            ("E501".to_string(), "kfp_secrets.flow".to_string(), 27),
        ]
    );
    assert!(issues[0]["description"]
        .as_str()
        .is_some_and(|d| d.contains("`mount renamed at \"/etc/tls/private.key\"`")));
    // Argo can mount them: no target problem, and without `--target` none either.
    let argo = flowc(
        &["check", "--target", "argo", "kfp_secrets.flow"],
        &fixtures,
    );
    assert_eq!(argo.status.code(), Some(0), "{}", stdout(&argo));
    let plain = flowc(&["check", "kfp_secrets.flow"], &fixtures);
    assert_eq!(plain.status.code(), Some(0), "{}", stdout(&plain));
    // A list of targets, in the other machine-readable formats.
    let sarif = flowc(
        &[
            "check",
            "--format",
            "sarif",
            "--target",
            "argo,kfp",
            "kfp_secrets.flow",
        ],
        &fixtures,
    );
    let v: Value = serde_json::from_slice(&sarif.stdout).expect("valid SARIF");
    let lines: Vec<u64> = v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64())
        .collect();
    assert_eq!(lines, [26, 27]);
    let json = flowc(
        &[
            "check",
            "--format",
            "json",
            "--target",
            "kfp",
            "--target",
            "argo",
            "kfp_secrets.flow",
        ],
        &fixtures,
    );
    assert!(stdout(&json).contains("\"E501\""), "{}", stdout(&json));
}

/// A file named on the command line that cannot be read is `E008`, with its path and the
/// reason, for every command that reads one; nothing is written and the exit code is 2.
#[test]
fn every_command_reports_a_file_it_cannot_read_with_e008() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("folder.flow")).expect("a folder");
    for (args, file, why) in [
        (vec!["check", "nope.flow"], "nope.flow", "no such file"),
        (
            vec!["check", "folder.flow"],
            "folder.flow",
            "it is a directory",
        ),
        (
            vec!["build", "nope.flow", "--target", "argo"],
            "nope.flow",
            "no such file",
        ),
        (vec!["run", "nope.flow"], "nope.flow", "no such file"),
        (vec!["fmt", "nope.flow"], "nope.flow", "no such file"),
        (vec!["graph", "nope.flow"], "nope.flow", "no such file"),
        (
            vec!["python-types", "nope.flow", "-o", "t.py"],
            "nope.flow",
            "no such file",
        ),
        (
            vec!["import", "kfp", "nope.yaml"],
            "nope.yaml",
            "no such file",
        ),
        (
            vec!["replay", "nope.json", "step"],
            "nope.json",
            "no such file",
        ),
        (
            vec!["diff", "nope.flow", "nope.flow"],
            "nope.flow",
            "no such file",
        ),
        (
            vec!["autotune", "nope.flow", "--history", "runs"],
            "nope.flow",
            "no such file",
        ),
    ] {
        let out = flowc(&args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{file}: error[E008]: cannot read the file: {why}")),
            "{args:?}: {err}"
        );
        assert!(err.contains("help: check the path"), "{args:?}: {err}");
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["folder.flow"], "nothing is written");
}

/// A lock file beside the pipeline that cannot be used is `E009` for the commands that read it,
/// and nothing is built or run.
#[test]
fn a_broken_lock_file_is_e009_and_nothing_is_built_or_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "p.flow",
        "step s() -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"sh\", \"-c\", \"echo > $0\", o]\n}\n\npipeline p() {\n  s()\n}\n",
    );
    for (lock, words) in [
        ("{", "is not a valid lock file"),
        (
            r#"{"format": "flowc.lock", "version": 9, "steps": {}}"#,
            "version 9 file; this flowc reads",
        ),
    ] {
        write(dir.path(), "p.flow.lock", lock);
        for args in [
            vec!["build", "p.flow", "--target", "argo", "-o", "out.yaml"],
            vec!["run", "p.flow"],
        ] {
            let out = flowc(&args, dir.path());
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("error: [E009] `") && err.contains(words),
                "{args:?}: {err}"
            );
            assert!(err.contains("help: "), "{err}");
        }
    }
    assert!(!dir.path().join("out.yaml").exists());
    assert!(!dir.path().join(".flow").exists(), "no run started");
}

/// `-o` naming something that is not a regular file (a named pipe here, `/dev/null` in a
/// benchmark) is written into, not replaced: writing through a temporary file and a rename
/// had turned `/dev/null` into a regular file when run as root.
#[test]
fn output_to_a_pipe_writes_into_it_and_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "good.flow", GOOD);
    let fifo = dir.path().join("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    // The reader opens the pipe before or while flowc writes; it blocks until flowc opens it.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read the pipe"))
    };
    let out = flowc(
        &["build", "good.flow", "--target", "argo", "-o", "out.fifo"],
        dir.path(),
    );
    let kind = std::fs::metadata(&fifo).expect("the pipe").file_type();
    assert!(kind.is_fifo(), "the named pipe was replaced: {kind:?}");
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let yaml = reader.join().expect("the reader");
    assert!(yaml.contains("kind: WorkflowTemplate"), "{yaml}");
}

/// The `THP_enabled` line of a process's status (`/proc/PID/status`): 0 once it has turned
/// transparent huge pages off.
fn thp_enabled(status: &str) -> Option<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_string())
}

/// A command that only compiles (`flowc lsp` here, kept running to be looked at) turns
/// transparent huge pages off for itself (docs/perf.md, "Huge pages after another process");
/// `flowc run` does not, so its steps' processes keep what the machine gives.
#[cfg(target_os = "linux")]
#[test]
fn compile_only_commands_turn_huge_pages_off_and_run_does_not() {
    use std::process::Stdio;
    let own = std::fs::read_to_string("/proc/self/status").expect("own status");
    let Some(own) = thp_enabled(&own) else {
        panic!("this kernel's /proc/self/status has no THP_enabled line: {own}");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lsp = common::flowc_command(&["lsp"], dir.path(), &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("flowc lsp starts");
    let status_path = format!("/proc/{}/status", lsp.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = None;
    while std::time::Instant::now() < deadline {
        seen = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| thp_enabled(&s));
        if seen.as_deref() == Some("0") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(lsp.stdin.take());
    let _ = lsp.wait();
    assert_eq!(seen.as_deref(), Some("0"), "flowc lsp kept huge pages on");

    write(
        dir.path(),
        "status.flow",
        "step s() -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"sh\", \"-c\", \"cat /proc/self/status > $0\", o]\n  cache off\n}\n\npipeline p() {\n  o = s()\n  output o\n}\n",
    );
    let out = flowc(
        &[
            "run",
            "status.flow",
            "--engine",
            "host",
            "--store",
            "st",
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let step = std::fs::read_to_string(dir.path().join("out/o")).expect("the step's status");
    assert_eq!(
        thp_enabled(&step),
        Some(own),
        "flowc run changed its steps' huge pages"
    );
}
