//! `flowc import kfp` driven as a user drives it: files written beside the input or into
//! `-o DIR`, problems printed with file, line and code, exit codes, and the written file
//! checking clean with `flowc check`.

mod common;
use common::{flowc, stdout, write};

const COMPONENT: &str = "name: Say hello\ninputs:\n- {name: Who, type: String, default: world}\noutputs:\n- {name: Greeting, type: Dataset}\nimplementation:\n  container:\n    image: busybox:1.36\n    command: [sh, -c, 'echo hello $0 > $1', {inputValue: Who}, {outputPath: Greeting}]\n";

#[test]
fn a_component_becomes_a_step_that_checks_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "hello.yaml", COMPONENT);
    let o = flowc(&["import", "kfp", "hello.yaml", "-o", "out"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        stdout(&o).contains("wrote out/hello.flow"),
        "{}",
        stdout(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("hello.yaml:1:7: warning[IW001]: the component `Say hello` is `say_hello`"),
        "{err}"
    );
    let flow = std::fs::read_to_string(dir.path().join("out/hello.flow")).expect("written");
    assert!(
        flow.contains("step say_hello(Who: Str = \"world\") -> (Greeting: File)"),
        "{flow}"
    );
    let check = flowc(&["check", "--deny-warnings", "out/hello.flow"], dir.path());
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    // `--stdout` prints the same text.
    let printed = flowc(&["import", "kfp", "hello.yaml", "--stdout"], dir.path());
    assert_eq!(stdout(&printed), flow);
}

#[test]
fn bad_files_report_their_code_and_line_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "bad.yaml",
        &COMPONENT.replace("inputValue: Who", "inputValue: Whom"),
    );
    write(dir.path(), "broken.yaml", "name: [x\n");
    let o = flowc(&["import", "kfp", "bad.yaml", "broken.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.yaml:9:58: error[I004]: `{inputValue: Whom}` names no declared input"),
        "{err}"
    );
    assert!(err.contains("broken.yaml:1:7: error[I001]"), "{err}");
    assert!(!dir.path().join("bad.flow").exists());
    let missing = flowc(&["import", "kfp", "missing.yaml"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn folders_are_searched_and_names_kept_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["components/a/train", "components/b/train"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("folders");
    }
    write(dir.path(), "components/a/train/component.yaml", COMPONENT);
    write(dir.path(), "components/b/train/component.yaml", COMPONENT);
    let o = flowc(&["import", "kfp", "components", "-o", "out"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        dir.path().join("out/train.flow").is_file(),
        "{}",
        stdout(&o)
    );
    assert!(
        dir.path().join("out/train_2.flow").is_file(),
        "{}",
        stdout(&o)
    );
}

/// A pipeline of Kubeflow lightweight Python components (compiled by the kfp SDK; the fixture of
/// the importer's tests) comes over as Python steps with their functions in modules beside the
/// `.flow` file, checks clean, and runs here with a real interpreter: artifact objects,
/// `InputPath`/`OutputPath`, logged metrics and a NamedTuple return all arrive.
#[test]
fn lightweight_python_components_run_here_after_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../import/tests/data/pipelines/python_components.yaml");
    std::fs::copy(&fixture, dir.path().join("pc.yaml")).expect("copy the fixture");
    let o = flowc(&["import", "kfp", "pc.yaml", "-o", "out"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    for written in ["out/pc_kfp/clean.py", "out/pc_kfp/fit.py", "out/pc.flow"] {
        assert!(
            stdout(&o).contains(&format!("wrote {written}")),
            "{}",
            stdout(&o)
        );
    }
    let out = dir.path().join("out");
    let check = flowc(&["check", "--deny-warnings", "pc.flow"], &out);
    assert_eq!(check.status.code(), Some(0), "{}", common::text(&check));
    let python = common::test_python();
    let run = flowc(
        &["run", "pc.flow", "--python", &python.to_string_lossy()],
        &out,
    );
    assert_eq!(run.status.code(), Some(0), "{}", common::text(&run));
    let report = std::fs::read_dir(out.join(".flow/runs"))
        .expect("runs")
        .flatten()
        .map(|r| r.path().join("logs/python_components.report.log"))
        .find(|p| p.exists())
        .expect("the report's log");
    let log = std::fs::read_to_string(report).expect("log");
    // 40 rows, 28 of them with 5 minutes or more.
    assert!(log.contains("mean-model n=28\nfitted on 28"), "{log}");
    let summary = common::last_summary(&out);
    let tasks = summary["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 4, "{summary}");
    let stats = std::fs::read_dir(out.join(".flow/objects"))
        .expect("objects")
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).expect("a prefix folder"))
        .flatten()
        .filter_map(|o| std::fs::read_to_string(o.path()).ok())
        .find(|t| t.contains("\"dropped\""))
        .expect("the metrics object");
    assert_eq!(stats, r#"{"dropped": 12, "kept": 28}"#);
    // `--stdout` cannot write modules: the components stay container steps.
    let printed = flowc(&["import", "kfp", "pc.yaml", "--stdout"], dir.path());
    assert!(
        stdout(&printed).contains("kfp.dsl.executor_main"),
        "{}",
        stdout(&printed)
    );
    assert!(!dir.path().join("pc_kfp").exists());
}
