//! std.table: relational steps on small hand-made tables.

use crate::common::*;
use flowc_compiler::plan::TypeRepr;
use polars::prelude::*;
use serde_json::json;

fn viewers() -> DataFrame {
    df![
        "id" => [1i64, 2, 3, 4, 5],
        "region" => ["north", "south", "north", "east", "south"],
        "active" => [true, false, true, true, false],
        "minutes" => [Some(120.0f64), Some(0.0), None, Some(30.0), Some(0.0)],
        "weight" => [1.0f64, 2.0, 1.5, 0.5, 1.0],
    ]
    .unwrap()
}

fn viewers_type() -> TypeRepr {
    named(
        "Viewer",
        &[
            ("id", "Int", false),
            ("region", "Str", false),
            ("active", "Bool", false),
            ("minutes", "Float", true),
            ("weight", "Float", false),
        ],
    )
}

fn regions() -> DataFrame {
    df![
        "region" => ["north", "south", "west"],
        "population" => [1000i64, 2000, 500],
    ]
    .unwrap()
}

fn regions_type() -> TypeRepr {
    table(&[("region", "Str", false), ("population", "Int", false)])
}

#[test]
fn select_keeps_columns_in_the_order_given() {
    let d = Dir::new();
    let out = call(&d, "std.table", "select")
        .table("table", &viewers(), viewers_type())
        .param("columns", json!(["weight", "id"]))
        .output(
            "selected",
            table(&[("weight", "Float", false), ("id", "Int", false)]),
        )
        .run()
        .unwrap();
    let df = out.table("selected");
    assert_eq!(names(&df), ["weight", "id"]);
    assert_eq!(
        ints(&df, "id"),
        [Some(1), Some(2), Some(3), Some(4), Some(5)]
    );
    let msg = call(&d, "std.table", "select")
        .table("table", &viewers(), viewers_type())
        .param("columns", json!(["nope"]))
        .output("selected", table(&[("nope", "Float", false)]))
        .fails("B050");
    assert!(msg.contains("`nope`"), "{msg}");
}

#[test]
fn filter_drops_false_and_null_rows() {
    let d = Dir::new();
    let run = |cond: &str| {
        call(&d, "std.table", "filter")
            .table("table", &viewers(), viewers_type())
            .param("where", cond.into())
            .output("kept", viewers_type())
    };
    let df = run("active and minutes > 0").run().unwrap().table("kept");
    assert_eq!(ints(&df, "id"), [Some(1), Some(4)]);
    let df = run("region IN ('north', 'east') OR weight >= 2")
        .run()
        .unwrap()
        .table("kept");
    assert_eq!(ints(&df, "id"), [Some(1), Some(2), Some(3), Some(4)]);
    let msg = run("minutes >").fails("B040");
    assert!(msg.contains("minutes >"), "{msg}");
    let msg = run("no_such_column > 1").fails("B040");
    assert!(msg.contains("no_such_column"), "{msg}");
}

#[test]
fn derive_adds_and_replaces_columns_in_order() {
    let d = Dir::new();
    let out_ty = extend(
        &viewers_type(),
        &[
            ("weighted", "Float", true),
            ("hours", "Float", true),
            ("weight", "Float", false),
        ],
    );
    let df = call(&d, "std.table", "derive")
        .table("table", &viewers(), viewers_type())
        .param(
            "exprs",
            json!([
                "weighted = weight * minutes",
                "hours = weighted / 60",
                "weight = weight * 2",
            ]),
        )
        .output("derived", out_ty)
        .run()
        .unwrap()
        .table("derived");
    assert_eq!(
        names(&df),
        ["id", "region", "active", "minutes", "weighted", "hours", "weight"]
    );
    assert_eq!(
        floats(&df, "weighted"),
        [Some(120.0), Some(0.0), None, Some(15.0), Some(0.0)]
    );
    assert_eq!(floats(&df, "hours")[0], Some(2.0));
    assert_eq!(
        floats(&df, "weight"),
        [Some(2.0), Some(4.0), Some(3.0), Some(1.0), Some(2.0)]
    );

    // The declared output schema does not match what the expressions compute.
    let msg = call(&d, "std.table", "derive")
        .table("table", &viewers(), viewers_type())
        .param("exprs", json!(["score = weight * 2"]))
        .output(
            "derived",
            extend(&viewers_type(), &[("score", "Int", false)]),
        )
        .fails("B031");
    assert!(
        msg.contains("`score`") && msg.contains("Float") && msg.contains("Int"),
        "{msg}"
    );
    let msg = call(&d, "std.table", "derive")
        .table("table", &viewers(), viewers_type())
        .param("exprs", json!(["score = weight * 2"]))
        .output(
            "derived",
            extend(&viewers_type(), &[("scor", "Float", false)]),
        )
        .fails("B030");
    assert!(
        msg.contains("`scor`") && msg.contains("output `derived`"),
        "{msg}"
    );
    let msg = call(&d, "std.table", "derive")
        .table("table", &viewers(), viewers_type())
        .param("exprs", json!(["x = minutes * 2"]))
        .output("derived", extend(&viewers_type(), &[("x", "Float", false)]))
        .fails("B032");
    assert!(msg.contains("`x`") && msg.contains("row 3"), "{msg}");
    let msg = call(&d, "std.table", "derive")
        .table("table", &viewers(), viewers_type())
        .param("exprs", json!(["weight * 2"]))
        .output("derived", viewers_type())
        .fails("B040");
    assert!(msg.contains("name = expression"), "{msg}");
}

#[test]
fn join_inner_and_left() {
    let d = Dir::new();
    let joined_ty = table(&[
        ("id", "Int", false),
        ("region", "Str", false),
        ("active", "Bool", false),
        ("minutes", "Float", true),
        ("weight", "Float", false),
        ("population", "Int", false),
    ]);
    let run = |how: &str| {
        call(&d, "std.table", "join")
            .table("left", &viewers(), viewers_type())
            .table("right", &regions(), regions_type())
            .param("on", json!(["region"]))
            .param("how", how.into())
            .output("joined", joined_ty.clone())
    };
    let df = run("inner").run().unwrap().table("joined");
    assert_eq!(
        ints(&df, "id"),
        [Some(1), Some(2), Some(3), Some(5)],
        "left order kept"
    );
    assert_eq!(
        ints(&df, "population"),
        [Some(1000), Some(2000), Some(1000), Some(2000)]
    );
    let df = run("left").run().unwrap().table("joined");
    assert_eq!(
        ints(&df, "id"),
        [Some(1), Some(2), Some(3), Some(4), Some(5)]
    );
    assert_eq!(
        ints(&df, "population")[3],
        None,
        "unmatched rows hold nulls"
    );
    run("outer").fails("B004");
    let msg = call(&d, "std.table", "join")
        .table("left", &viewers(), viewers_type())
        .table("right", &regions(), regions_type())
        .param("on", json!(["id"]))
        .output("joined", joined_ty.clone())
        .fails("B050");
    assert!(msg.contains("`id`") && msg.contains("right"), "{msg}");
    // Keys of different types.
    let other = df!["region" => [1i64, 2], "population" => [1i64, 2]].unwrap();
    let msg = call(&d, "std.table", "join")
        .table("left", &viewers(), viewers_type())
        .table(
            "right",
            &other,
            table(&[("region", "Int", false), ("population", "Int", false)]),
        )
        .param("on", json!(["region"]))
        .output("joined", joined_ty)
        .fails("B053");
    assert!(msg.contains("`region`"), "{msg}");
}

#[test]
fn group_by_with_sql_aggregates_sorted_by_key() {
    let d = Dir::new();
    let grouped_ty = named(
        "RegionAudience",
        &[
            ("region", "Str", false),
            ("viewers", "Float", false),
            ("mean_minutes", "Float", true),
            ("panelists", "Int", false),
        ],
    );
    let run = || {
        call(&d, "std.table", "group_by")
            .table("table", &viewers(), viewers_type())
            .param("by", json!(["region"]))
            .param(
                "aggregations",
                json!([
                    "viewers = sum(case when active then weight else 0 end)",
                    "mean_minutes = sum(weight * minutes) / sum(weight)",
                    "panelists = count(*)",
                ]),
            )
            .output("grouped", grouped_ty.clone())
    };
    let out = run().run().unwrap();
    let df = out.table("grouped");
    assert_eq!(
        names(&df),
        ["region", "viewers", "mean_minutes", "panelists"]
    );
    assert_eq!(
        strs(&df, "region"),
        [
            Some("east".into()),
            Some("north".into()),
            Some("south".into())
        ]
    );
    assert_eq!(floats(&df, "viewers"), [Some(0.5), Some(2.5), Some(0.0)]);
    assert_eq!(ints(&df, "panelists"), [Some(1), Some(2), Some(2)]);
    // north: minutes 120 (w 1) and null (w 1.5): sum(w·m) = 120 over sum(w) = 2.5.
    assert_eq!(floats(&df, "mean_minutes")[1], Some(48.0));
    // Deterministic, byte for byte.
    assert_eq!(out.bytes("grouped"), run().run().unwrap().bytes("grouped"));

    let msg = call(&d, "std.table", "group_by")
        .table("table", &viewers(), viewers_type())
        .param("by", json!(["region"]))
        .param("aggregations", json!(["n = cnt(*)"]))
        .output(
            "grouped",
            table(&[("region", "Str", false), ("n", "Int", false)]),
        )
        .fails("B040");
    assert!(msg.contains("cnt"), "{msg}");
}

#[test]
fn union_concatenates_in_order() {
    let d = Dir::new();
    let a = d.parquet(&viewers());
    let b = d.parquet(&viewers().slice(1, 2));
    let df = call(&d, "std.table", "union")
        .many("tables", vec![a.clone(), b], viewers_type())
        .output("combined", viewers_type())
        .run()
        .unwrap()
        .table("combined");
    assert_eq!(df.height(), 7);
    assert_eq!(ints(&df, "id")[5..], [Some(2), Some(3)]);
    let empty = call(&d, "std.table", "union")
        .many("tables", vec![], viewers_type())
        .output("combined", viewers_type())
        .run()
        .unwrap()
        .table("combined");
    assert_eq!((empty.height(), names(&empty).len()), (0, 5));
    // An element lacking a column of T.
    let c = d.parquet(&regions());
    let msg = call(&d, "std.table", "union")
        .many("tables", vec![a, c], viewers_type())
        .output("combined", viewers_type())
        .fails("B020");
    assert!(msg.contains("item 2") && msg.contains("`id`"), "{msg}");
}

#[test]
fn sort_is_stable_with_nulls_last() {
    let d = Dir::new();
    let run = |by: serde_json::Value, desc: bool| {
        call(&d, "std.table", "sort")
            .table("table", &viewers(), viewers_type())
            .param("by", by)
            .param("descending", desc.into())
            .output("sorted", viewers_type())
            .run()
            .unwrap()
            .table("sorted")
    };
    let df = run(json!(["minutes"]), false);
    assert_eq!(
        ints(&df, "id"),
        [Some(2), Some(5), Some(4), Some(1), Some(3)]
    );
    let df = run(json!(["minutes"]), true);
    assert_eq!(
        ints(&df, "id"),
        [Some(1), Some(4), Some(2), Some(5), Some(3)]
    );
    let df = run(json!(["region", "weight"]), false);
    assert_eq!(
        ints(&df, "id"),
        [Some(4), Some(1), Some(3), Some(5), Some(2)]
    );
}

#[test]
fn sample_is_seeded_and_keeps_row_order() {
    let d = Dir::new();
    let big = df!["id" => (0..1000i64).collect::<Vec<_>>()].unwrap();
    let ty = table(&[("id", "Int", false)]);
    let run = |n: Option<i64>, fraction: Option<f64>, seed: i64| {
        let mut c = call(&d, "std.table", "sample")
            .table("table", &big, ty.clone())
            .param("seed", seed.into())
            .output("sampled", ty.clone());
        c = c.param("n", json!(n)).param("fraction", json!(fraction));
        c
    };
    let a = run(Some(100), None, 7).run().unwrap();
    let b = run(Some(100), None, 7).run().unwrap();
    assert_eq!(a.bytes("sampled"), b.bytes("sampled"));
    let ids_a: Vec<i64> = ints(&a.table("sampled"), "id")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ids_a.len(), 100);
    assert!(
        ids_a.windows(2).all(|w| w[0] < w[1]),
        "input order kept, no repeats"
    );
    let ids_c: Vec<i64> = ints(
        &run(Some(100), None, 8).run().unwrap().table("sampled"),
        "id",
    )
    .into_iter()
    .flatten()
    .collect();
    assert_ne!(ids_a, ids_c, "another seed, another sample");
    assert_eq!(
        run(None, Some(0.25), 1)
            .run()
            .unwrap()
            .table("sampled")
            .height(),
        250
    );
    assert_eq!(
        run(Some(5000), None, 1)
            .run()
            .unwrap()
            .table("sampled")
            .height(),
        1000
    );
    run(Some(10), Some(0.1), 1).fails("B004");
    run(None, None, 1).fails("B004");
    run(None, Some(1.5), 1).fails("B004");
}

#[test]
fn sql_over_a_b_and_c() {
    let d = Dir::new();
    let result_ty = table(&[
        ("region", "Str", false),
        ("total", "Float", false),
        ("population", "Int", true),
    ]);
    let run = |q: &str| {
        call(&d, "std.table", "sql")
            .param("query", q.into())
            .table("a", &viewers(), viewers_type())
            .table("b", &regions(), regions_type())
            .absent("c", table(&[("x", "Int", false)]))
            .output("result", result_ty.clone())
    };
    let q = "SELECT a.region, sum(a.weight) AS total, max(b.population) AS population \
             FROM a LEFT JOIN b ON a.region = b.region GROUP BY a.region";
    let out = run(q).run().unwrap();
    let df = out.table("result");
    // Without ORDER BY the rows are sorted by all columns: same result on every run.
    assert_eq!(
        strs(&df, "region"),
        [
            Some("east".into()),
            Some("north".into()),
            Some("south".into())
        ]
    );
    assert_eq!(floats(&df, "total"), [Some(0.5), Some(2.5), Some(3.0)]);
    assert_eq!(ints(&df, "population"), [None, Some(1000), Some(2000)]);
    assert_eq!(out.bytes("result"), run(q).run().unwrap().bytes("result"));
    // With ORDER BY, the query's order.
    let df = run(&format!("{q} ORDER BY total DESC"))
        .run()
        .unwrap()
        .table("result");
    assert_eq!(floats(&df, "total"), [Some(3.0), Some(2.5), Some(0.5)]);
    // Not a query; not valid; unknown table (c is absent).
    run("DROP TABLE a").fails("B041");
    run("SELECT * FROM a; SELECT * FROM b").fails("B041");
    run("SELEKT 1").fails("B040");
    let msg = run("SELECT * FROM c").fails("B040");
    assert!(msg.contains('c'), "{msg}");
    // The declared schema is checked.
    let msg = run("SELECT region, weight AS total FROM a").fails("B030");
    assert!(msg.contains("`population`"), "{msg}");
}
