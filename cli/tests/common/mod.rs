//! What the CLI integration tests share: running the real `flowc` binary and reading its output.
//! Each test binary uses a part of it.
#![allow(dead_code)]

pub mod argo;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `flowc` binary built for the tests in `dir`, without colour.
pub fn flowc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("flowc runs")
}

/// The `flowc` command in `dir` with the variables of `env` (and no `AWS_PROFILE` of the
/// machine's, so that tests of object storage use only the credentials they give).
pub fn flowc_command(args: &[&str], dir: &Path, env: &[(String, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flowc"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c
}

/// Runs `flowc ARGS` in `dir` with the variables of `env`.
pub fn flowc_env(args: &[&str], dir: &Path, env: &[(String, String)]) -> Output {
    flowc_command(args, dir, env).output().expect("flowc runs")
}

/// Runs flowc and insists on exit 0.
pub fn ok(args: &[&str], dir: &Path) -> Output {
    let out = flowc(args, dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "flowc {}:\n{}",
        args.join(" "),
        text(&out)
    );
    out
}

/// The text of the file a run printed as its output `f` (`f = PATH`).
pub fn output_text(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("f = "))
        .unwrap_or_else(|| panic!("no output `f`: {}", text(out)));
    std::fs::read_to_string(PathBuf::from(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Standard output and standard error, as one text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Standard output alone.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes a file in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write a fixture file");
    p
}

/// A bundled example, such as `daily_weighting.flow`.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

/// The summary of the newest run in the store `.flow` of project `d`.
pub fn last_summary(d: &Path) -> serde_json::Value {
    let run = std::fs::read_dir(d.join(".flow/runs"))
        .expect("a runs folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .max()
        .expect("a run");
    let text = std::fs::read_to_string(run.join("summary.json")).expect("the run's summary");
    serde_json::from_str(&text).expect("a JSON summary")
}

/// Every record of every run in the store, oldest run first (runs are named by their start).
pub fn run_records(store: &Path) -> Vec<Vec<serde_json::Value>> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(store.join("runs"))
        .expect("runs")
        .flatten()
        .map(|e| e.path())
        .collect();
    runs.sort();
    runs.iter()
        .map(|r| {
            std::fs::read_to_string(r.join("records.jsonl"))
                .unwrap_or_default()
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON record"))
                .collect()
        })
        .collect()
}

/// The test virtualenv's interpreter (pyarrow, pandas, polars, moto): `$FLOWC_TEST_VENV` or the
/// workspace's `target/test-venv`, made by `.ci/python-venv` (which `.ci/setup` runs). Panics
/// with how to make it when it is missing: a Python test never passes without Python.
pub fn test_python() -> PathBuf {
    let venv = std::env::var_os("FLOWC_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv"));
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "the test virtualenv is missing at {}: run .ci/python-venv (or .ci/setup) first",
        venv.display()
    );
    python
}

/// Copies `src` (a file or a folder) to `dst`, folders recursively.
pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst.parent().expect("a parent")).expect("mkdir");
    if src.is_dir() {
        std::fs::create_dir_all(dst).expect("mkdir");
        for e in std::fs::read_dir(src).expect("read_dir").flatten() {
            copy_tree(&e.path(), &dst.join(e.file_name()));
        }
    } else {
        std::fs::copy(src, dst).expect("copy");
    }
}

/// The example files under `dir/examples` that declare a pipeline (not the libraries of shared
/// declarations), relative to `dir`, sorted.
pub fn example_files(dir: &Path) -> Vec<String> {
    let mut stack = vec![dir.join("examples")];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read").flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != ".flow" && n != "ci") {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "flow")
                && std::fs::read_to_string(&p)
                    .unwrap_or_default()
                    .contains("\npipeline ")
            {
                let rel = p.strip_prefix(dir).expect("inside").to_string_lossy();
                files.push(rel.into_owned());
            }
        }
    }
    files.sort();
    files
}

/// `--secret NAME=FILE` for every secret the example's plan uses, each a made-up value in a
/// file of `dir` (a step that needs a secret the run was not given fails).
pub fn example_secrets(rel: &str, dir: &Path) -> Vec<String> {
    let built = ok(&["build", rel], dir);
    let plan: serde_json::Value = serde_json::from_slice(&built.stdout).expect("the plan is JSON");
    let mut args = Vec::new();
    for name in plan["secrets"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
    {
        let file = write(
            dir,
            &format!("{name}.secret"),
            &format!("value-of-{name}\n"),
        );
        args.push("--secret".to_string());
        args.push(format!("{name}={}", file.display()));
    }
    args
}
