//! `flowc run` with whole Secrets and ConfigMaps (declared without `key`): given as folders
//! (`--secret NAME=DIR`, `--config NAME=DIR`), mounted read-only at the declared folder by the
//! sandbox engine (the real `bwrap`), written for the mount path by the host engine; every
//! file of a whole Secret is hidden in the step's log; a file where a folder is needed (or the
//! reverse) is R040 before anything runs.

mod common;
use common::{flowc, output_text, text, write};

use std::path::Path;

const FLOW: &str = r#"
secret creds = k8s("panel-creds")
config hadoop = k8s_configmap("hadoop-conf")

step fetch(n: Int) -> (o: File) {
  image "debian:12"
  run ["sh", "-c", "cat /etc/creds/user /etc/creds/password; cat /etc/creds/user /etc/hadoop/conf/core-site.xml > $1; ls /etc/creds | tr '\n' ' ' >> $1", n, o]
  mount creds at "/etc/creds"
  mount hadoop at "/etc/hadoop/conf"
}

pipeline w(n: Int = 1) {
  f = fetch(n: n)
  output f
}
"#;

/// A folder with the pipeline, a Secret folder (`creds/`: `user`, `password`) and a
/// ConfigMap folder (`conf/`: `core-site.xml`).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "w.flow", FLOW);
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).expect("mkdir");
    std::fs::write(creds.join("user"), "panel-reader\n").expect("write");
    std::fs::write(creds.join("password"), "s3cr3t-pw-5521\n").expect("write");
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).expect("mkdir");
    std::fs::write(conf.join("core-site.xml"), "<configuration/>\n").expect("write");
    dir
}

/// The step's logs under the store.
fn logs(store: &Path) -> Vec<String> {
    let mut stack = vec![store.to_path_buf()];
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "log") {
                out.push(std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out
}

fn run_whole(engine: &str) {
    let dir = project();
    let out = flowc(
        &[
            "run",
            "w.flow",
            "--engine",
            engine,
            "--secret",
            "creds=creds",
            "--config",
            "hadoop=conf",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        output_text(&out),
        "panel-reader\n<configuration/>\npassword user ",
        "the step read every key of both folders at their paths"
    );
    let logs = logs(&dir.path().join(".flow"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(!logs[0].contains("s3cr3t-pw-5521"), "{}", logs[0]);
    assert!(!logs[0].contains("panel-reader"), "{}", logs[0]);
    assert!(logs[0].contains("***"), "{}", logs[0]);
}

#[test]
fn the_sandbox_mounts_a_whole_secret_and_config_as_folders() {
    run_whole("sandbox");
}

#[test]
fn the_host_engine_writes_the_folders_for_their_mount_paths() {
    run_whole("host");
}

#[test]
fn a_file_for_a_whole_secret_or_a_folder_for_a_key_is_r040() {
    let dir = project();
    let out = flowc(
        &[
            "run",
            "w.flow",
            "--secret",
            "creds=creds/user",
            "--config",
            "hadoop=conf",
        ],
        dir.path(),
    );
    assert_ne!(out.status.code(), Some(0));
    let t = text(&out);
    assert!(t.contains("R040"), "{t}");
    assert!(t.contains("secret `creds` names a whole object"), "{t}");
    assert!(t.contains("a folder with one file per key"), "{t}");

    write(
        dir.path(),
        "k.flow",
        &FLOW
            .replace(
                "k8s(\"panel-creds\")",
                "k8s(\"panel-creds\", key: \"user\")",
            )
            .replace(
                "mount creds at \"/etc/creds\"",
                "mount creds at \"/etc/creds/user\"",
            ),
    );
    let out = flowc(
        &[
            "run",
            "k.flow",
            "--secret",
            "creds=creds",
            "--config",
            "hadoop=conf",
        ],
        dir.path(),
    );
    let t = text(&out);
    assert!(t.contains("R040") && t.contains("names one key"), "{t}");
}
