//! The runner interface: which steps exist, the version, unknown steps, bad calls, and
//! byte-identical Parquet outputs on two runs.

use crate::common::*;
use flowc_builtins::Builtins;
use flowc_runtime::builtin::{BuiltinRunner, NoBuiltins};
use polars::prelude::*;
use serde_json::json;

/// `builtin step NAME` declarations of a standard library file.
fn declared(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("builtin step "))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_standard_library_builtin_is_implemented() {
    let modules = [
        ("std.io", include_str!("../../../stdlib/std/io.flow")),
        ("std.table", include_str!("../../../stdlib/std/table.flow")),
        (
            "std.survey",
            include_str!("../../../stdlib/std/survey.flow"),
        ),
        ("std.synth", include_str!("../../../stdlib/std/synth.flow")),
    ];
    let mut expected = Vec::new();
    for (module, text) in modules {
        for name in declared(text) {
            assert!(
                Builtins.has(module, &name),
                "{module}.{name} is not implemented"
            );
            expected.push((module.to_string(), name));
        }
    }
    let implemented: Vec<(String, String)> = Builtins::steps()
        .map(|(m, n)| (m.to_string(), n.to_string()))
        .collect();
    assert_eq!(
        implemented, expected,
        "exactly the declared steps, in the files' order"
    );
    assert!(!Builtins.has("std.survey", "nope") && !NoBuiltins.has("std.io", "read_csv"));
    assert!(Builtins.version().starts_with("flowc-builtins "));
}

#[test]
fn unknown_steps_and_bad_calls() {
    let d = Dir::new();
    let msg = call(&d, "std.survey", "calibrate").fails("B001");
    assert!(msg.contains("std.survey.calibrate"), "{msg}");
    // A missing parameter, a parameter of the wrong kind, a missing input and output.
    call(&d, "std.synth", "targets")
        .output("targets", target_type())
        .fails("B002");
    let msg = call(&d, "std.synth", "panel")
        .param("n", json!("ten"))
        .param("seed", json!(1))
        .param("day", json!("2024-06-03"))
        .output("panel", panelist())
        .fails("B002");
    assert!(msg.contains("`n`") && msg.contains("integer"), "{msg}");
    call(&d, "std.table", "sort")
        .param("by", json!(["x"]))
        .output("sorted", table(&[("x", "Int", false)]))
        .fails("B003");
    let df = df!["x" => [1i64]].unwrap();
    call(&d, "std.table", "sort")
        .table("table", &df, table(&[("x", "Int", false)]))
        .param("by", json!(["x"]))
        .fails("B003");
}

#[test]
fn parquet_outputs_are_byte_identical_on_two_runs() {
    let d = Dir::new();
    let twice = |make: &dyn Fn() -> Outputs, output: &str| {
        let (a, b) = (make(), make());
        assert_eq!(a.bytes(output), b.bytes(output), "{output}");
        assert_ne!(a.path(output), b.path(output));
    };
    twice(
        &|| {
            call(&d, "std.synth", "panel")
                .param("n", json!(2000))
                .param("seed", json!(5))
                .param("day", json!("2024-06-08"))
                .output("panel", panelist())
                .run()
                .unwrap()
        },
        "panel",
    );
    twice(
        &|| {
            call(&d, "std.synth", "web_panel")
                .param("n", json!(2000))
                .param("seed", json!(5))
                .param("day", json!("2024-06-08"))
                .output("panel", web_panelist())
                .run()
                .unwrap()
        },
        "panel",
    );
    let panel = synth_panel(&d, 3000, 9, "2024-06-03");
    twice(
        &|| {
            call(&d, "std.table", "sample")
                .input("table", &panel, panelist())
                .param("fraction", json!(0.3))
                .param("seed", json!(11))
                .output("sampled", panelist())
                .run()
                .unwrap()
        },
        "sampled",
    );
    twice(
        &|| {
            call(&d, "std.table", "sql")
                .param(
                    "query",
                    json!("SELECT region, education, count(*) AS n, avg(minutes) AS m FROM a GROUP BY region, education"),
                )
                .input("a", &panel, panelist())
                .output(
                    "result",
                    table(&[("region", "Str", false), ("education", "Str", false), ("n", "Int", false), ("m", "Float", false)]),
                )
                .run()
                .unwrap()
        },
        "result",
    );
    // The same table computed with another chunk layout gives the same bytes.
    let df = flowc_builtins::files::read_parquet(&panel).unwrap();
    let mut chunked = df.slice(0, 1000);
    chunked.vstack_mut(&df.slice(1000, 2000)).unwrap();
    let (p1, p2) = (d.path("a", "parquet"), d.path("b", "parquet"));
    flowc_builtins::files::write_parquet(&df, &p1).unwrap();
    flowc_builtins::files::write_parquet(&chunked, &p2).unwrap();
    assert_eq!(std::fs::read(p1).unwrap(), std::fs::read(p2).unwrap());
}

#[test]
fn parquet_columns_reports_a_file_schema() {
    let d = Dir::new();
    let df = df!["a" => [Some(1i64), None], "b" => ["x", "y"]].unwrap();
    let p = d.parquet(&df);
    let cols = flowc_builtins::parquet_columns(&p).unwrap();
    let got: Vec<(String, String, bool)> = cols
        .into_iter()
        .map(|c| (c.name, c.ty, c.nullable))
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), "Int".into(), true),
            ("b".into(), "Str".into(), false)
        ]
    );
}
