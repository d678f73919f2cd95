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
