//! Python steps end to end, with a real interpreter (the test virtualenv: pyarrow, pandas,
//! polars): every kind of value in and out, Python and built-in steps reading each other's
//! tables, the cache, each way a step can go wrong, the desk checks against the source, and the
//! Argo build's command run as the controller would run it.

mod common;
use common::argo::play_argo_with;
use common::{flowc, test_python, text, write};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value as Json};

/// The folder of the test functions (`kinds.py`, `faults.py`).
fn functions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_steps")
}

/// A project folder holding `main.flow` and the test functions next to it.
fn project(flow: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for f in ["kinds.py", "faults.py"] {
        std::fs::copy(functions().join(f), dir.path().join(f)).expect("copy");
    }
    write(dir.path(), "main.flow", flow);
    dir
}

/// `flowc run main.flow` with the test interpreter, on the sandbox engine unless `engine`.
fn run(dir: &Path, extra: &[&str]) -> Output {
    let python = test_python();
    let mut args = vec![
        "run",
        "main.flow",
        "--python",
        python.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    flowc(&args, dir)
}

/// The outputs of the newest run's summary.
fn outputs(dir: &Path) -> Json {
    let runs = dir.join(".flow/runs");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&runs)
        .expect("runs")
        .flatten()
        .map(|e| e.path())
        .collect();
    all.sort();
    let last = all.last().expect("a run");
    let summary: Json = serde_json::from_str(
        &std::fs::read_to_string(last.join("summary.json")).expect("a summary"),
    )
    .expect("JSON");
    summary["outputs"].clone()
}

const KINDS: &str = r#"
schema Row { id: Int, name: Str?, score: Float, active: Bool, day: Date }

step make(text: Str, n: Int, x: Float, flag: Bool, day: Date, days: List<Date>, maybe: Int?, note: Str?)
    -> (table: Table<Row>, doc: Json, stats: Metrics<{ rows: Int, mean: Float }>, report: File,
        label: Str, count: Int, ratio: Float, ok: Bool, next_day: Date, names: List<Str>) {
  image "registry.example.com/etl:1.0"
  python "kinds:make"
}

step use(table: Table<Row>, doc: Json, stats: Metrics<{ rows: Int, mean: Float }>, report: File,
         label: Str, count: Int, ratio: Float, ok: Bool, next_day: Date, names: List<Str>)
    -> (summary: Json) {
  image "registry.example.com/etl:1.0"
  python "kinds:use"
}

pipeline kinds() {
  m = make(text: "héllo \"q\" {{x}}", n: 41, x: 1.25, flag: true, day: "2026-03-01",
           days: ["2026-03-01", "2026-03-02"], maybe: 7)
  u = use(table: m.table, doc: m.doc, stats: m.stats, report: m.report, label: m.label,
          count: m.count, ratio: m.ratio, ok: m.ok, next_day: m.next_day, names: m.names)
  output summary = u.summary
}
"#;

#[test]
fn every_kind_of_value_goes_in_and_out_and_a_second_run_is_all_cached() {
    let dir = project(KINDS);
    let o = run(dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let summary_path = outputs(dir.path())["summary"].clone();
    let summary: Json = serde_json::from_str(
        &std::fs::read_to_string(summary_path.as_str().expect("a path")).expect("the summary"),
    )
    .expect("JSON");
    assert_eq!(
        summary,
        json!({
            "columns": ["id", "name", "score", "active", "day"],
            "rows": 3,
            "names": ["a", "b", null],
            "day_type": "Date",
            "doc": {"text": "héllo \"q\" {{x}}", "days": ["2026-03-01", "2026-03-02"]},
            "stats": {"rows": 3, "mean": 1.5},
            "report": "report for héllo \"q\" {{x}}\n",
            "values": ["HÉLLO \"Q\" {{X}}", 42, 2.5, false, "2026-03-02", ["a", "b"]],
            "types": ["str", "int", "float", "bool", "date", "list"],
        })
    );
    let again = run(dir.path(), &["--explain-cache"]);
    assert!(again.status.success(), "{}", text(&again));
    let records = common::run_records(&dir.path().join(".flow"));
    let last = records.last().expect("the second run");
    assert!(!last.is_empty());
    assert!(
        last.iter().all(|r| r["reason"] == json!("cached")),
        "the second run recomputed: {last:?}"
    );
    // Editing the function's module reruns its steps.
    let module = dir.path().join("kinds.py");
    let source = std::fs::read_to_string(&module).expect("read") + "\n# edited\n";
    std::fs::write(&module, source).expect("write");
    let third = run(dir.path(), &[]);
    assert!(third.status.success(), "{}", text(&third));
    let records = common::run_records(&dir.path().join(".flow"));
    assert!(
        records
            .last()
            .expect("a third run")
            .iter()
            .all(|r| r["reason"] == json!("ok")),
        "an edit of the module must invalidate the cache"
    );
}

const MIXED: &str = r#"
import std.table (filter, sort)
import std.io (write_csv)

schema Row { id: Int, name: Str?, score: Float, active: Bool, day: Date }

step make(text: Str, n: Int, x: Float, flag: Bool, day: Date, days: List<Date>, maybe: Int?, note: Str?)
    -> (table: Table<Row>, doc: Json, stats: Metrics<{ rows: Int, mean: Float }>, report: File,
        label: Str, count: Int, ratio: Float, ok: Bool, next_day: Date, names: List<Str>) {
  image "registry.example.com/etl:1.0"
  python "kinds:make"
}

step scale(table: Table<Row>, factor: Float = 2.0) -> (scaled: Table<Row>) {
  image "registry.example.com/etl:1.0"
  python "kinds:scale"
}

pipeline mixed() {
  m = make(text: "t", n: 1, x: 1.0, flag: false, day: "2026-03-01", days: ["2026-03-05"], maybe: 7)
  kept = filter(table: m.table, where: "score > 1")
  s = scale(table: kept, factor: 10.0)
  sorted = sort(table: s, by: ["id"], descending: true)
  csv = write_csv(table: sorted, path: "out/scaled.csv")
  output csv = csv
}
"#;

#[test]
fn python_and_built_in_steps_read_each_others_tables() {
    let dir = project(MIXED);
    let o = run(dir.path(), &["--engine", "host"]);
    assert!(o.status.success(), "{}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("out/scaled.csv")).expect("the CSV");
    assert_eq!(
        csv,
        "id,name,score,active,day\n3,,25.0,true,2026-03-05\n2,b,15.0,false,2026-03-02\n"
    );
}

/// A pipeline of one Python step with the given signature and function.
fn one_step(signature: &str, function: &str, args: &str) -> String {
    format!(
        "step s{signature} {{\n  image \"registry.example.com/etl:1.0\"\n  python \"{function}\"\n}}\n\n\
         pipeline p() {{\n  r = s({args})\n}}\n"
    )
}

/// Runs a failing step and returns the run's output and the step's log.
fn failing(flow: &str) -> (String, String) {
    let dir = project(flow);
    let o = run(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let runs = dir.path().join(".flow/runs");
    let run = std::fs::read_dir(&runs)
        .expect("runs")
        .flatten()
        .next()
        .expect("a run");
    let mut log = String::new();
    for e in std::fs::read_dir(run.path().join("logs"))
        .expect("logs")
        .flatten()
    {
        log.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    // No output of the failed step reached the store: no Parquet object, no JSON document.
    for e in walk(&dir.path().join(".flow/objects")) {
        let bytes = std::fs::read(&e).expect("an object");
        assert!(
            !bytes.starts_with(b"PAR1"),
            "a table of the failed step was stored"
        );
    }
    (text(&o), log)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_function_that_raises_fails_the_step_with_its_traceback() {
    let (out, log) = failing(&one_step("(n: Int)", "faults:raises", "n: 3"));
    assert!(log.contains("Traceback (most recent call last)"), "{log}");
    assert!(log.contains("ValueError: n was 3"), "{log}");
    assert!(
        log.contains("error[P102]: `faults:raises` raised ValueError: n was 3"),
        "{log}"
    );
    assert!(out.contains("failed"), "{out}");
}

#[test]
fn a_module_that_is_not_on_the_python_path_fails_the_step_with_p101() {
    // The check could only note that the source is not here (P006); the run finds out.
    let (_, log) = failing(&one_step("(n: Int)", "elsewhere.module:f", "n: 1"));
    assert!(
        log.contains("error[P101]: module `elsewhere.module` is not on the Python path"),
        "{log}"
    );
}

#[test]
fn returned_tables_that_break_their_schema_fail_naming_the_column_and_row() {
    let (_, log) = failing(&one_step(
        "() -> (good: Table<{ id: Int }>, bad: Table<{ id: Int }>)",
        "faults:partial",
        "",
    ));
    assert!(
        log.contains("error[P103]: column `id` of output `bad` has a null at row 1, but it is declared `Int`, not `Int?`"),
        "{log}"
    );
    let (_, log) = failing(&one_step(
        "() -> (t: Table<{ id: Int }>)",
        "faults:wrong_type",
        "",
    ));
    assert!(
        log.contains("error[P103]: column `id` of output `t` holds Str values, not Int (first value, row 0: '1')"),
        "{log}"
    );
    let (_, log) = failing(&one_step(
        "() -> (t: Table<{ id: Int }>)",
        "faults:missing_column",
        "",
    ));
    assert!(
        log.contains("error[P103]: output `t` has no column `id` (its columns: `other`)"),
        "{log}"
    );
}

#[test]
fn a_wrong_return_shape_and_values_that_are_not_json_fail_with_their_codes() {
    let (_, log) = failing(&one_step(
        "() -> (a: Int, b: Int, c: Int)",
        "faults:two_of_three",
        "",
    ));
    assert!(
        log.contains("error[P104]: `faults:two_of_three` returned tuple of 2 values, but the step has 3 outputs (a, b, c)"),
        "{log}"
    );
    let (_, log) = failing(&one_step("() -> (doc: Json)", "faults:not_json", ""));
    assert!(
        log.contains("error[P105]: output `doc` cannot be written as JSON"),
        "{log}"
    );
}

#[test]
fn a_missing_interpreter_or_one_without_pyarrow_stops_the_run_before_it_starts() {
    // A step with a table needs pyarrow; one without does not.
    let dir = project(&one_step(
        "() -> (t: Table<{ id: Int }>)",
        "faults:wrong_type",
        "",
    ));
    let o = flowc(
        &["run", "main.flow", "--python", "/nonexistent/python3"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("[R025] the Python interpreter `/nonexistent/python3`"),
        "{}",
        text(&o)
    );
    // A virtualenv of its own, without packages.
    let bare = dir.path().join("bare");
    let made = Command::new(test_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .output()
        .expect("venv runs");
    assert!(made.status.success(), "{}", text(&made));
    let bare_python = bare.join("bin/python");
    let o = flowc(
        &[
            "run",
            "main.flow",
            "--python",
            bare_python.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("[R026]"), "{}", text(&o));
    assert!(
        text(&o).contains("No module named 'pyarrow'"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join(".flow/runs").exists() || run_count(dir.path()) == 0);
}

/// How many runs the store holds (none when the interpreter was refused before it started).
fn run_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(".flow/runs")).map_or(0, |d| d.count())
}

#[test]
fn check_compares_the_step_with_the_function_at_the_desk() {
    let dir = project("");
    let date = "n: \"2026-01-01\"";
    let cases = [
        (
            "(n: Int, extra: Str)",
            "faults:raises",
            "n: 1, extra: \"x\"",
            "P003",
            "function `raises` takes no parameter `extra`, which the step passes",
        ),
        (
            "()",
            "faults:raises",
            "",
            "P004",
            "function parameter `n` has no default, and step `s` does not give it",
        ),
        (
            "(n: Date)",
            "faults:raises",
            date,
            "P005",
            "parameter `n` is `Date` in the step, but its Python annotation says otherwise",
        ),
        (
            "(n: Int)",
            "faults:rasies",
            "n: 1",
            "P002",
            "module `faults` defines no function `rasies`",
        ),
        (
            "(n: Int)",
            "elsewhere.mod:f",
            "n: 1",
            "P006",
            "the source of module `elsewhere.mod` is not found here",
        ),
    ];
    for (sig, function, args, code, message) in cases {
        write(dir.path(), "main.flow", &one_step(sig, function, args));
        let o = flowc(&["check", "--format", "short", "main.flow"], dir.path());
        let out = text(&o);
        assert!(out.contains(&format!("[{code}]")), "{code}: {out}");
        assert!(out.contains(message), "{code}: {out}");
        assert_eq!(
            o.status.code(),
            Some(if code == "P006" { 0 } else { 1 }),
            "{code}: {out}"
        );
    }
    // The terminal report shows the Python line too.
    write(
        dir.path(),
        "main.flow",
        &one_step("(n: Date)", "faults:raises", date),
    );
    let o = flowc(&["check", "main.flow"], dir.path());
    assert!(
        text(&o).contains("related location in faults.py"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("def raises(n: int):"), "{}", text(&o));
}

/// Runs a container of the Argo build as its pod would: a Python step with the test
/// interpreter and the runtime package of this repository, a built-in with `flowc exec`.
fn run_pod(container: &Json, args: &[String], cwd: &Path) -> Option<Output> {
    let command = container["command"].as_array()?;
    if command == &[json!("python3")] {
        let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../python");
        let path = std::env::join_paths([runtime.as_path(), cwd]).expect("a path");
        return Some(
            Command::new(test_python())
                .args(args)
                .env("PYTHONPATH", path)
                .current_dir(cwd)
                .output()
                .expect("python runs"),
        );
    }
    if command == &[json!("flowc"), json!("exec")] {
        let mut argv = vec!["exec"];
        argv.extend(args.iter().map(String::as_str));
        return Some(flowc(&argv, cwd));
    }
    None
}

#[test]
fn the_argo_build_runs_the_same_python_command_to_the_same_bytes() {
    // In the cluster the CSV goes to a volume (a pod's own disk is thrown away: E432).
    let flow = MIXED
        .replace(
            "  output csv = csv\n",
            "  output csv = csv\n  output scaled = s\n",
        )
        .replace(
            "path: \"out/scaled.csv\")",
            "path: \"/results/scaled.csv\") with { mount results at \"/results\" }",
        )
        .replace(
            "import std.io (write_csv)\n",
            "import std.io (write_csv)\n\nvolume results = k8s_pvc(\"results\")\n",
        );
    let cluster = project(&flow);
    let workflow = common::argo::build_workflow("main.flow", cluster.path());
    let played = play_argo_with(&workflow, cluster.path(), &|c, a| {
        run_pod(c, a, cluster.path())
    });
    assert!(played.skipped.is_empty(), "skipped: {:?}", played.skipped);
    assert_eq!(played.ran.len(), 5, "{:?}", played.ran);

    let local = project(&flow);
    let o = run(local.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let here =
        std::fs::read(local.path().join(".flow/volumes/results/scaled.csv")).expect("local CSV");
    let there = std::fs::read(cluster.path().join("volumes/volume-results/scaled.csv"))
        .expect("cluster CSV");
    assert_eq!(here, there);
    let local_table = outputs(local.path())["scaled"]
        .as_str()
        .expect("a path")
        .to_string();
    let here = std::fs::read(local_table).expect("the local table");
    let there =
        std::fs::read(cluster.path().join("pods/s/outputs/scaled")).expect("the pod's table");
    assert!(
        here == there,
        "the Python step's Parquet differs between flowc run and the pod"
    );
}

/// Runs the unit tests of a Python folder of the repository (`tests/` in it).
fn python_unit_tests(folder: &str) {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(folder);
    let o = Command::new(test_python())
        .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&package)
        .output()
        .expect("python runs");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("\nOK"), "{}", text(&o));
}

#[test]
fn the_runtime_package_passes_its_own_unit_tests() {
    python_unit_tests("python");
}

#[test]
fn the_examples_python_steps_pass_their_own_unit_tests() {
    python_unit_tests("examples/python");
}

#[test]
fn python_types_describe_the_schemas_and_steps_for_the_python_side() {
    let dir = project(KINDS);
    let o = flowc(
        &["python-types", "main.flow", "-o", "kinds_types.py"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let types = std::fs::read_to_string(dir.path().join("kinds_types.py")).expect("the module");
    insta::assert_snapshot!("python_types_kinds", types);
    // The module imports, and its names are what the snapshot shows.
    let o = Command::new(test_python())
        .args([
            "-c",
            "import kinds_types as t; print(t.RowColumns.ALL, t.MakeOutputs._fields, t.MakeStats.__annotations__)",
        ])
        .current_dir(dir.path())
        .output()
        .expect("python runs");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).starts_with("('id', 'name', 'score', 'active', 'day') ('table', 'doc', 'stats', 'report', 'label', 'count', 'ratio', 'ok', 'next_day', 'names')"),
        "{}",
        text(&o)
    );
}

/// A Python step on the sandbox engine with an interpreter whose virtualenv lies under `/tmp`,
/// which the pod replaces with its own: the virtualenv is bound where it is, so the step runs
/// (it failed with bwrap's "execvp ...: No such file or directory" when the project was
/// cloned under `/tmp`).
#[test]
fn an_interpreter_under_tmp_runs_in_the_sandbox() {
    let home = tempfile::Builder::new()
        .prefix("flowc-venv-")
        .tempdir_in("/tmp")
        .expect("a folder under /tmp");
    let venv = home.path().join("venv");
    let made = Command::new(test_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .expect("python -m venv");
    assert!(made.status.success(), "{made:?}");
    let dir = tempfile::tempdir().expect("a folder");
    write(
        dir.path(),
        "greet.py",
        "def greet(name: str) -> str:\n    return f\"hello {name}\"\n",
    );
    write(
        dir.path(),
        "main.flow",
        r#"
step greet(name: Str) -> (text: Str) {
  image "registry.example.com/etl:1.0"
  python "greet:greet"
}
pipeline p() {
  g = greet(name: "tmp")
  output text = g.text
}
"#,
    );
    let python = venv.join("bin/python");
    let o = flowc(
        &[
            "run",
            "main.flow",
            "--engine",
            "sandbox",
            "--python",
            python.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(outputs(dir.path())["text"], json!("hello tmp"));
}
