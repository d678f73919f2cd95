//! `flowc run` with Secrets named by a pipeline parameter (`k8s(param p, ...)`): locally the
//! value comes from `--secret NAME=PATH` as for any secret (the parameter names the Kubernetes
//! Secret only on the cluster), under the sandbox engine (the real `bwrap`) and the host
//! engine; the value never reaches the step's log, and a run without it fails before the step
//! starts (R009).

mod common;
use common::{flowc, output_text, text, write};

const FLOW: &str = r#"
secret token = k8s(param tenant_secret, key: "token")
secret tls = k8s(param tenant_tls)

step fetch(day: Str) -> (o: File) {
  image "debian:12"
  run ["sh", "-c", "echo $TOKEN; printf '%s %s ' $0 $TOKEN > $1; cat /etc/tls/tls.crt >> $1", day, o]
  env TOKEN = token
  mount tls at "/etc/tls"
}

pipeline w(tenant_secret: Str = "tenant-a-token", tenant_tls: Str = "tenant-a-tls", day: Str = "mon") {
  f = fetch(day: day)
  output f
}
"#;

/// A folder with the pipeline, the token's file and the TLS Secret's folder.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "w.flow", FLOW);
    write(dir.path(), "token", "tok-93817");
    let tls = dir.path().join("tls");
    std::fs::create_dir(&tls).expect("mkdir");
    std::fs::write(tls.join("tls.crt"), "CERT\n").expect("write");
    dir
}

fn run_named(engine: &str) {
    let dir = project();
    let out = flowc(
        &[
            "run",
            "w.flow",
            "--engine",
            engine,
            "--param",
            "tenant_secret=tenant-b-token",
            "--secret",
            "token=token",
            "--secret",
            "tls=tls",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(output_text(&out), "mon tok-93817 CERT\n");
    assert!(!text(&out).contains("tok-93817"), "{}", text(&out));
}

#[test]
fn the_sandbox_gives_a_parameter_named_secret_from_its_file() {
    run_named("sandbox");
}

#[test]
fn the_host_engine_gives_a_parameter_named_secret_from_its_file() {
    run_named("host");
}

#[test]
fn a_run_without_the_secret_fails_before_the_step() {
    let dir = project();
    let out = flowc(&["run", "w.flow", "--secret", "tls=tls"], dir.path());
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("[R009] the step needs secret `token`"),
        "{}",
        text(&out)
    );
}
