//! `flowc run` with records: a loop over a literal list of records and over a record-typed
//! parameter's list, fields read as arguments, in strings and in conditions, a record passed
//! whole; a record parameter from a parameters file (`--params job.json`, nested objects) and
//! from `--param job='{...}'`, typed (R002 for a wrong field, a missing one or an extra one).

mod common;
use common::{flowc, last_summary, text, write};

const FLOW: &str = r#"
step note(text: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "printf %s \"$0\" > $1", text, out]
}
step whole(job: { day: Date, regions: List<Str>, where: { zone: Str } }) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "printf %s \"$0\" > $1", job, out]
}

pipeline job(job: { day: Date, regions: List<Str>, where: { zone: Str } }) {
  for r in job.regions {
    n = note(text: "${job.day} ${r} ${job.where.zone}")
  }
  for item in [{ a: 1, b: "x" }, { a: 2, b: "y" }] {
    if item.a > 1 { m = note(text: item.b) }
  }
  w = whole(job: job)
  output n
  output m
  output w
}
"#;

/// The text of each file of a list output (holes skipped).
fn contents(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .expect("a list of files")
        .iter()
        .filter_map(|p| p.as_str())
        .map(|p| std::fs::read_to_string(p).expect("an output file"))
        .collect()
}

#[test]
fn records_in_loops_and_record_parameters_run_locally() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "job.flow", FLOW);
    write(
        d,
        "job.json",
        r#"{"job": {"day": "2024-06-03", "regions": ["north", "south"], "where": {"zone": "eu"}}}"#,
    );
    let out = flowc(&["run", "job.flow", "--params", "job.json"], d);
    assert!(out.status.success(), "{}", text(&out));
    let summary = last_summary(d);
    let outputs = &summary["outputs"];
    assert_eq!(
        contents(&outputs["n"]),
        ["2024-06-03 north eu", "2024-06-03 south eu"]
    );
    assert_eq!(contents(&outputs["m"]), ["y"]);
    let whole = std::fs::read_to_string(outputs["w"].as_str().expect("a path")).expect("w");
    let parsed: serde_json::Value = serde_json::from_str(&whole).expect("the record as JSON");
    assert_eq!(parsed["where"]["zone"], "eu");
    assert_eq!(parsed["regions"][1], "south");

    // The same job on the command line.
    let out = flowc(
        &[
            "run",
            "job.flow",
            "--param",
            r#"job={"day": "2024-07-01", "regions": ["west"], "where": {"zone": "us"}}"#,
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        contents(&last_summary(d)["outputs"]["n"]),
        ["2024-07-01 west us"]
    );
}

#[test]
fn record_parameters_are_typed_field_by_field() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "job.flow", FLOW);
    let cases = [
        (
            r#"{"job": {"day": "2024-13-01", "regions": [], "where": {"zone": "eu"}}}"#,
            "field `day`",
        ),
        (
            r#"{"job": {"day": "2024-06-03", "regions": [], "where": {}}}"#,
            "no field `zone`",
        ),
        (
            r#"{"job": {"day": "2024-06-03", "regions": [], "where": {"zone": "eu"}, "x": 1}}"#,
            "field `x`",
        ),
        (r#"{"job": ["2024-06-03"]}"#, "expected an object"),
    ];
    for (json, words) in cases {
        write(d, "bad.json", json);
        let out = flowc(&["run", "job.flow", "--params", "bad.json"], d);
        assert_ne!(out.status.code(), Some(0), "{json}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains("R002") && t.contains(words), "{json}: {t}");
    }
    let out = flowc(&["run", "job.flow", "--param", "job=not json"], d);
    let t = text(&out);
    assert!(t.contains("R002") && t.contains("not a JSON object"), "{t}");
}
