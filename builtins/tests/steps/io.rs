//! std.io: CSV and Parquet in and out, with the declared schema checked against the files.

use crate::common::*;
use polars::prelude::*;
use serde_json::json;

fn people_type() -> flowc_compiler::plan::TypeRepr {
    named(
        "Person",
        &[
            ("id", "Int", false),
            ("name", "Str", false),
            ("score", "Float", true),
            ("member", "Bool", false),
            ("joined", "Date", false),
        ],
    )
}

const PEOPLE_CSV: &str = "\
joined,id,name,score,member,extra
2024-06-03,1,Ann,1.5,true,x
2024-01-31,2,\"Bob, Jr\",,false,y
1999-12-31,3,Cy,-2e3,TRUE,z
";

#[test]
fn read_csv_parses_declared_types_and_drops_extra_columns() {
    let d = Dir::new();
    let path = d.text("csv", PEOPLE_CSV);
    let out = call(&d, "std.io", "read_csv")
        .param("path", path.to_str().unwrap().into())
        .param("delimiter", ",".into())
        .output("table", people_type())
        .run()
        .unwrap();
    let df = out.table("table");
    assert_eq!(names(&df), ["id", "name", "score", "member", "joined"]);
    assert_eq!(ints(&df, "id"), [Some(1), Some(2), Some(3)]);
    assert_eq!(strs(&df, "name")[1].as_deref(), Some("Bob, Jr"));
    assert_eq!(floats(&df, "score"), [Some(1.5), None, Some(-2000.0)]);
    assert_eq!(bools(&df, "member"), [Some(true), Some(false), Some(true)]);
    assert_eq!(df.column("joined").unwrap().dtype(), &DataType::Date);
    let days: Vec<Option<i32>> = df
        .column("joined")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(days, [Some(19_877), Some(19_753), Some(10_956)]);
}

#[test]
fn read_csv_with_another_delimiter() {
    let d = Dir::new();
    let path = d.text("csv", "a;b\n1;x\n2;y\n");
    let out = call(&d, "std.io", "read_csv")
        .param("path", path.to_str().unwrap().into())
        .param("delimiter", ";".into())
        .output("table", table(&[("b", "Str", false), ("a", "Int", false)]))
        .run()
        .unwrap();
    let df = out.table("table");
    assert_eq!(names(&df), ["b", "a"]);
    assert_eq!(ints(&df, "a"), [Some(1), Some(2)]);
    let msg = call(&d, "std.io", "read_csv")
        .param("path", path.to_str().unwrap().into())
        .param("delimiter", ";;".into())
        .output("table", table(&[("a", "Int", false)]))
        .fails("B004");
    assert!(msg.contains("delimiter"), "{msg}");
}

#[test]
fn read_csv_schema_errors_name_the_file_and_column() {
    let d = Dir::new();
    let path = d.text("csv", PEOPLE_CSV);
    let file = path.file_name().unwrap().to_str().unwrap().to_string();
    let run = |ty| {
        call(&d, "std.io", "read_csv")
            .param("path", path.to_str().unwrap().into())
            .output("table", ty)
    };
    // Missing column.
    let msg = run(table(&[("id", "Int", false), ("age", "Int", false)])).fails("B020");
    assert!(msg.contains(&file) && msg.contains("`age`"), "{msg}");
    // A value of another type: the line is named.
    let msg = run(table(&[("name", "Int", false)])).fails("B023");
    assert!(
        msg.contains(&file) && msg.contains("`name`") && msg.contains("line 2"),
        "{msg}"
    );
    // A null in a column declared without `?`.
    let msg = run(table(&[("score", "Float", false)])).fails("B022");
    assert!(
        msg.contains(&file) && msg.contains("`score`") && msg.contains("row 2"),
        "{msg}"
    );
    // A missing file.
    let msg = call(&d, "std.io", "read_csv")
        .param("path", "no/such/file.csv".into())
        .output("table", table(&[("a", "Int", false)]))
        .fails("B010");
    assert!(msg.contains("no/such/file.csv"), "{msg}");
}

fn mixed() -> DataFrame {
    df![
        "id" => [1i32, 2, 3],
        "name" => ["a", "b", "c"],
        "w" => [0.5f64, 1.5, 2.5],
        "flag" => [true, false, true],
    ]
    .unwrap()
}

#[test]
fn read_parquet_checks_and_widens() {
    let d = Dir::new();
    let path = d.parquet(&mixed());
    let file = path.file_name().unwrap().to_str().unwrap().to_string();
    let run = |ty| {
        call(&d, "std.io", "read_parquet")
            .param("path", path.to_str().unwrap().into())
            .output("table", ty)
    };
    // Int32 is an Int; an Int column is accepted as Float (width subtyping).
    let out = run(table(&[
        ("w", "Float", false),
        ("id", "Float", false),
        ("name", "Str", false),
    ]))
    .run()
    .unwrap();
    let df = out.table("table");
    assert_eq!(names(&df), ["w", "id", "name"]);
    assert_eq!(floats(&df, "id"), [Some(1.0), Some(2.0), Some(3.0)]);
    let df = run(table(&[("id", "Int", false)]))
        .run()
        .unwrap()
        .table("table");
    assert_eq!(df.column("id").unwrap().dtype(), &DataType::Int64);
    // Wrong type.
    let msg = run(table(&[("name", "Float", false)])).fails("B021");
    assert!(
        msg.contains(&file) && msg.contains("`name`") && msg.contains("Str"),
        "{msg}"
    );
    let msg = run(table(&[("w", "Int", false)])).fails("B021");
    assert!(msg.contains("`w`") && msg.contains("Float"), "{msg}");
    // Missing column.
    let msg = run(table(&[("nope", "Bool", true)])).fails("B020");
    assert!(
        msg.contains("`nope`") && msg.contains("id, name, w, flag"),
        "{msg}"
    );
    // Nulls.
    let with_null = df!["x" => [Some(1i64), None]].unwrap();
    let p = d.parquet(&with_null);
    let msg = call(&d, "std.io", "read_parquet")
        .param("path", p.to_str().unwrap().into())
        .output("table", table(&[("x", "Int", false)]))
        .fails("B022");
    assert!(msg.contains("`x`") && msg.contains("row 2"), "{msg}");
    // Not a Parquet file.
    let bad = d.text("parquet", "not parquet");
    call(&d, "std.io", "read_parquet")
        .param("path", bad.to_str().unwrap().into())
        .output("table", table(&[("x", "Int", false)]))
        .fails("B010");
}

#[test]
fn write_csv_and_parquet_write_the_output_and_the_path() {
    let d = Dir::new();
    let df = df![
        "id" => [1i64, 2],
        "name" => [Some("a"), None],
        "day" => [19_877i32, 0],
        "w" => [0.25f64, 3.0],
    ]
    .unwrap();
    let mut df = df;
    df.with_column(df.column("day").unwrap().cast(&DataType::Date).unwrap())
        .unwrap();
    let ty = table(&[
        ("id", "Int", false),
        ("name", "Str", true),
        ("day", "Date", false),
        ("w", "Float", false),
    ]);
    let target = d.dir.path().join("out/sub/weights.csv");
    let out = call(&d, "std.io", "write_csv")
        .table("table", &df, ty.clone())
        .param("path", target.to_str().unwrap().into())
        .param("delimiter", ";".into())
        .output("file", file())
        .run()
        .unwrap();
    let text = std::fs::read_to_string(out.path("file")).unwrap();
    assert_eq!(
        text,
        "id;name;day;w\n1;a;2024-06-03;0.25\n2;;1970-01-01;3.0\n"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);

    let target = d.dir.path().join("out/weights.parquet");
    let out = call(&d, "std.io", "write_parquet")
        .table("table", &df, ty.clone())
        .param("path", target.to_str().unwrap().into())
        .output("file", file())
        .run()
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), out.bytes("file"));
    let back = flowc_builtins::files::read_parquet(&target).unwrap();
    assert!(back.equals_missing(&df), "{back}");
}

#[test]
fn file_from_table_and_back() {
    let d = Dir::new();
    let ty = table(&[
        ("id", "Int", false),
        ("name", "Str", false),
        ("w", "Float", false),
        ("flag", "Bool", false),
    ]);
    for format in ["csv", "parquet"] {
        let out = call(&d, "std.io", "file_from_table")
            .table("table", &mixed(), ty.clone())
            .param("format", format.into())
            .output("file", file())
            .run()
            .unwrap();
        let back = call(&d, "std.io", "table_from_file")
            .input("file", &out.path("file"), file())
            .param("format", format.into())
            .output("table", ty.clone())
            .run()
            .unwrap()
            .table("table");
        assert_eq!(ints(&back, "id"), [Some(1), Some(2), Some(3)], "{format}");
        assert_eq!(
            floats(&back, "w"),
            [Some(0.5), Some(1.5), Some(2.5)],
            "{format}"
        );
        assert_eq!(bools(&back, "flag"), [Some(true), Some(false), Some(true)]);
    }
    let msg = call(&d, "std.io", "file_from_table")
        .table("table", &mixed(), ty)
        .param("format", json!("xlsx"))
        .output("file", file())
        .fails("B004");
    assert!(msg.contains("xlsx"), "{msg}");
}

#[test]
fn an_input_table_is_checked_against_its_declared_type() {
    let d = Dir::new();
    let msg = call(&d, "std.io", "write_parquet")
        .table(
            "table",
            &mixed(),
            table(&[("id", "Int", false), ("age", "Int", false)]),
        )
        .param(
            "path",
            d.dir.path().join("x.parquet").to_str().unwrap().into(),
        )
        .output("file", file())
        .fails("B020");
    assert!(
        msg.contains("input `table`") && msg.contains("`age`"),
        "{msg}"
    );
}

/// Every column type survives a Parquet round trip with its values, whichever encoding the
/// writer picks: floats with few distinct values (dictionary) or many (plain), integers
/// (delta), text with few or many distinct values, booleans, dates, `Enum`s, nulls, several
/// row groups, and a table without rows.
#[test]
fn parquet_round_trips_every_column_kind() {
    let d = Dir::new();
    let n = 600_000usize; // three row groups
    let few: Vec<f64> = (0..n)
        .map(|i| match i % 5 {
            0 => -0.0,
            1 => f64::NAN,
            k => k as f64 * 0.1,
        })
        .collect();
    let many: Vec<f64> = (0..n).map(|i| (i as f64).sqrt()).collect();
    let ids: Vec<i64> = (0..n as i64).map(|i| i * 3 - 7).collect();
    let sparse: Vec<Option<i64>> = (0..n as i64).map(|i| (i % 3 != 0).then_some(i)).collect();
    let text: Vec<String> = (0..n).map(|i| format!("label-{}", i % 11)).collect();
    let unique: Vec<String> = (0..n).map(|i| format!("row {i} of many")).collect();
    let flags: Vec<bool> = (0..n).map(|i| i % 7 == 0).collect();
    let days = Column::new(
        "days".into(),
        (0..n as i32).map(|i| 19_000 + i % 400).collect::<Vec<_>>(),
    )
    .cast(&DataType::Date)
    .unwrap();
    let sex = Column::new(
        "sex".into(),
        (0..n)
            .map(|i| ["male", "female"][i % 2])
            .collect::<Vec<_>>(),
    )
    .cast(&DataType::from_frozen_categories(
        FrozenCategories::new(["male", "female"]).unwrap(),
    ))
    .unwrap();
    let df = DataFrame::new(
        n,
        vec![
            Column::new("few".into(), few.clone()),
            Column::new("many".into(), many),
            Column::new("ids".into(), ids),
            Column::new("sparse".into(), sparse),
            Column::new("text".into(), text),
            Column::new("unique".into(), unique),
            Column::new("flags".into(), flags),
            days,
            sex,
        ],
    )
    .unwrap();
    let path = d.parquet(&df);
    let back = flowc_builtins::files::read_parquet(&path).unwrap();
    assert_eq!(back.schema(), df.schema());
    for name in [
        "many", "ids", "sparse", "text", "unique", "flags", "days", "sex",
    ] {
        assert!(
            back.column(name)
                .unwrap()
                .as_materialized_series()
                .equals_missing(df.column(name).unwrap().as_materialized_series()),
            "{name}"
        );
    }
    // Floats to the bit (-0.0 and NaN included).
    let bits = |df: &DataFrame| -> Vec<u64> {
        df.column("few")
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .map(f64::to_bits)
            .collect()
    };
    assert_eq!(bits(&back), bits(&df));
    // The few distinct floats are stored as a dictionary: far smaller than 8 bytes a row.
    let plain = d.parquet(&df.select(["many"]).unwrap());
    let dict = d.parquet(&df.select(["few"]).unwrap());
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert!(
        size(&dict) * 10 < size(&plain),
        "{} vs {}",
        size(&dict),
        size(&plain)
    );
    // No rows.
    let empty = d.parquet(&df.head(Some(0)));
    let back = flowc_builtins::files::read_parquet(&empty).unwrap();
    assert_eq!((back.height(), back.schema()), (0, df.schema()));
}

/// A file no step of this process wrote is decoded column by column, a row group at a time:
/// numbers gathered in one buffer until a row group with nulls, `Enum` columns from their codes
/// (polars' own import when one has nulls), each column one chunk, every value as written.
#[test]
fn a_parquet_file_is_decoded_a_row_group_at_a_time_with_every_value() {
    let d = Dir::new();
    let n = 700_000usize; // three row groups
    let late_nulls: Vec<Option<i64>> = (0..n as i64)
        .map(|i| (i < 300_000 || i % 5 != 0).then_some(i * 7))
        .collect();
    let floats: Vec<f64> = (0..n).map(|i| (i as f64).ln_1p()).collect();
    let small: Vec<i32> = (0..n as i32).map(|i| i % 1000 - 500).collect();
    let dtype = DataType::from_frozen_categories(
        FrozenCategories::new(["north", "south", "east"]).unwrap(),
    );
    let region = Column::new(
        "region".into(),
        (0..n)
            .map(|i| ["north", "south", "east"][i % 3])
            .collect::<Vec<_>>(),
    )
    .cast(&dtype)
    .unwrap();
    let holes = Column::new(
        "holes".into(),
        (0..n)
            .map(|i| (i % 11 != 0).then_some(["east", "north"][i % 2]))
            .collect::<Vec<_>>(),
    )
    .cast(&dtype)
    .unwrap();
    let df = DataFrame::new(
        n,
        vec![
            Column::new("late_nulls".into(), late_nulls),
            Column::new("floats".into(), floats),
            Column::new("small".into(), small),
            region,
            holes,
        ],
    )
    .unwrap();
    let written = d.parquet(&df);
    // A copy: the same bytes in a file no step wrote, so it is decoded, not handed over.
    let path = d.path("copy", "parquet");
    std::fs::copy(&written, &path).unwrap();
    let back = flowc_builtins::files::read_parquet(&path).unwrap();
    assert_eq!(back.schema(), df.schema());
    for column in back.columns() {
        assert_eq!(column.n_chunks(), 1, "{}", column.name());
        let name = column.name().as_str();
        assert!(
            column
                .as_materialized_series()
                .equals_missing(df.column(name).unwrap().as_materialized_series()),
            "{name}"
        );
    }
    assert_eq!(back.column("holes").unwrap().null_count(), n.div_ceil(11));
}
