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
