//! Tables handed between steps in memory: a step reading a table another step of this process
//! wrote gets exactly what decoding the file gives, and writes the same bytes.

use crate::common::*;
use polars::prelude::*;
use serde_json::json;

/// A copy of `path`: the same bytes in another file, which no step wrote, so it is decoded.
fn copy(d: &Dir, path: &std::path::Path) -> std::path::PathBuf {
    let to = d.path("copy", "parquet");
    std::fs::copy(path, &to).expect("copied");
    to
}

fn same_table(a: &DataFrame, b: &DataFrame) {
    assert_eq!(a.schema(), b.schema());
    assert_eq!(a, b);
    let chunks = |df: &DataFrame| {
        df.columns()
            .iter()
            .map(Column::n_chunks)
            .collect::<Vec<_>>()
    };
    assert_eq!(chunks(a), chunks(b));
}

#[test]
fn a_table_handed_over_in_memory_is_the_decoded_file_and_gives_the_same_bytes() {
    let d = Dir::new();
    // Over two row groups, drawn in ranges (several chunks), with `Enum`, text, integer,
    // boolean and float columns.
    let panel = call(&d, "std.synth", "panel")
        .param("n", json!(300_000))
        .param("seed", json!(3))
        .param("day", json!("2024-06-05"))
        .output("panel", panelist())
        .run()
        .unwrap()
        .path("panel");
    let targets = call(&d, "std.synth", "targets")
        .param("seed", json!(3))
        .output("targets", target_type())
        .run()
        .unwrap()
        .path("targets");
    let decoded = copy(&d, &panel);
    same_table(
        &flowc_builtins::files::read_parquet(&panel).unwrap(),
        &flowc_builtins::files::read_parquet(&decoded).unwrap(),
    );
    let rake = |input: &std::path::Path| {
        call(&d, "std.survey", "rake")
            .input("panel", input, panelist())
            .input("targets", &targets, target_type())
            .param("by", json!(["sex", "age_group", "region", "education"]))
            .output(
                "weights",
                extend(&panelist(), &[("weight", "Float", false)]),
            )
            .output(
                "report",
                metrics(&[
                    ("iterations", "Int"),
                    ("max_rel_error", "Float"),
                    ("converged", "Bool"),
                ]),
            )
            .run()
            .unwrap()
    };
    let (in_memory, from_file) = (rake(&panel), rake(&decoded));
    assert_eq!(in_memory.bytes("weights"), from_file.bytes("weights"));
    assert_eq!(in_memory.bytes("report"), from_file.bytes("report"));
    // And one step further: the weighted panel, handed over, written as a file.
    let write = |input: &std::path::Path| {
        let out = d.path("written", "parquet");
        call(&d, "std.io", "write_parquet")
            .input(
                "table",
                input,
                extend(&panelist(), &[("weight", "Float", false)]),
            )
            .param("path", json!(out.to_string_lossy()))
            .output("file", file())
            .run()
            .unwrap();
        std::fs::read(&out).expect("written")
    };
    let weights = in_memory.path("weights");
    assert_eq!(write(&weights), write(&copy(&d, &weights)));
}

/// `read_parquet` keeps a file's `Enum` columns (one code a row), as every step writing a table
/// does, so a panel read back is written with the same bytes.
#[test]
fn read_parquet_keeps_enum_columns() {
    let d = Dir::new();
    let panel = synth_panel(&d, 1_000, 5, "2024-06-05");
    let read = call(&d, "std.io", "read_parquet")
        .param("path", json!(panel.to_string_lossy()))
        .output("table", panelist())
        .run()
        .unwrap();
    let table = read.table("table");
    for name in ["sex", "age_group", "region", "education"] {
        let dtype = table.column(name).unwrap().dtype();
        assert!(matches!(dtype, DataType::Enum(_, _)), "{name}: {dtype}");
    }
    assert_eq!(read.bytes("table"), std::fs::read(&panel).unwrap());
}

#[cfg(unix)]
fn inode(path: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).expect("a file"))
}

#[cfg(unix)]
#[test]
fn write_parquet_of_a_table_just_written_takes_its_bytes_only_when_they_are_the_tables() {
    let d = Dir::new();
    let panel = synth_panel(&d, 1_000, 5, "2024-06-05");
    let delivered = d.path("delivered", "parquet");
    let write = |input: &std::path::Path, ty| {
        call(&d, "std.io", "write_parquet")
            .input("table", input, ty)
            .param("path", json!(delivered.to_string_lossy()))
            .output("file", file())
            .run()
            .unwrap()
            .path("file")
    };
    // Writable (a file outside a store): copied.
    let copied = write(&panel, panelist());
    assert_ne!(inode(&copied), inode(&panel));
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(&panel).unwrap()
    );
    // Read-only, as the store's objects are: linked.
    let mut perm = std::fs::metadata(&panel).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&panel, perm).unwrap();
    let linked = write(&panel, panelist());
    assert_eq!(inode(&linked), inode(&panel));
    // The file delivered to `path` is the user's: a writable copy.
    assert_eq!(
        std::fs::read(&delivered).unwrap(),
        std::fs::read(&panel).unwrap()
    );
    assert!(!std::fs::metadata(&delivered)
        .unwrap()
        .permissions()
        .readonly());
    // A projection (width subtyping drops `minutes`) is another table: encoded.
    let fewer = table(&[
        ("panelist_id", "Int", false),
        ("sex", "Str", false),
        ("active", "Bool", false),
    ]);
    let projected = write(&panel, fewer);
    assert_ne!(inode(&projected), inode(&panel));
    let expected = flowc_builtins::files::read_parquet(&panel)
        .unwrap()
        .select(["panelist_id", "sex", "active"])
        .unwrap();
    same_table(
        &flowc_builtins::files::read_parquet(&copy(&d, &projected)).unwrap(),
        &expected,
    );
}
