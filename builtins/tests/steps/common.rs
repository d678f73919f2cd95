//! Helpers of the integration tests: building calls, writing and reading small tables.

use std::path::{Path, PathBuf};

use flowc_builtins::files;
use flowc_builtins::Builtins;
use flowc_compiler::plan::{ColumnRepr, TypeRepr};
use flowc_runtime::builtin::{
    ArtifactArg, BuiltinCall, BuiltinError, BuiltinRunner, InputArtifact, OutputArtifact,
};
use polars::prelude::*;
use serde_json::Value;

/// A table type from `(name, type, nullable)` triples.
pub fn table(cols: &[(&str, &str, bool)]) -> TypeRepr {
    TypeRepr::Table {
        schema: None,
        columns: cols
            .iter()
            .map(|(n, t, nullable)| ColumnRepr {
                name: n.to_string(),
                ty: t.to_string(),
                nullable: *nullable,
            })
            .collect(),
    }
}

/// A named table type.
pub fn named(schema: &str, cols: &[(&str, &str, bool)]) -> TypeRepr {
    match table(cols) {
        TypeRepr::Table { columns, .. } => TypeRepr::Table {
            schema: Some(schema.to_string()),
            columns,
        },
        other => other,
    }
}

/// The declared columns of a table type, for a `DataFrame` built in a test.
pub fn target_type() -> TypeRepr {
    named(
        "Target",
        &[
            ("variable", "Str", false),
            ("level", "Str", false),
            ("share", "Float", false),
        ],
    )
}

/// A metrics type.
pub fn metrics(keys: &[(&str, &str)]) -> TypeRepr {
    TypeRepr::Metrics {
        keys: keys
            .iter()
            .map(|(n, t)| ColumnRepr {
                name: n.to_string(),
                ty: t.to_string(),
                nullable: false,
            })
            .collect(),
    }
}

/// A `File` type.
pub fn file() -> TypeRepr {
    TypeRepr::Artifact {
        name: "File".into(),
    }
}

/// A scratch folder and a counter for unique file names.
pub struct Dir {
    pub dir: tempfile::TempDir,
    n: std::cell::Cell<usize>,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().expect("tempdir"),
            n: std::cell::Cell::new(0),
        }
    }

    /// A fresh path with `ext`.
    pub fn path(&self, stem: &str, ext: &str) -> PathBuf {
        let i = self.n.get();
        self.n.set(i + 1);
        self.dir.path().join(format!("{stem}-{i}.{ext}"))
    }

    /// Writes `df` as a Parquet table and returns its path.
    pub fn parquet(&self, df: &DataFrame) -> PathBuf {
        let p = self.path("in", "parquet");
        files::write_parquet(df, &p).expect("write input");
        p
    }

    /// Writes a text file and returns its path.
    pub fn text(&self, ext: &str, text: &str) -> PathBuf {
        let p = self.path("in", ext);
        std::fs::write(&p, text).expect("write text");
        p
    }
}

/// A call under construction.
pub struct CallBuilder<'d> {
    dir: &'d Dir,
    pub call: BuiltinCall,
}

pub fn call<'d>(dir: &'d Dir, module: &str, name: &str) -> CallBuilder<'d> {
    CallBuilder {
        dir,
        call: BuiltinCall {
            module: module.to_string(),
            name: name.to_string(),
            params: Default::default(),
            inputs: Default::default(),
            outputs: Default::default(),
            scratch: dir.dir.path().to_path_buf(),
            workdir: dir.dir.path().to_path_buf(),
        },
    }
}

impl CallBuilder<'_> {
    pub fn param(mut self, name: &str, v: Value) -> Self {
        self.call.params.insert(name.to_string(), v);
        self
    }

    pub fn input(mut self, name: &str, path: &Path, ty: TypeRepr) -> Self {
        self.call.inputs.insert(
            name.to_string(),
            InputArtifact {
                arg: ArtifactArg::One(path.to_path_buf()),
                ty,
            },
        );
        self
    }

    /// A table input written from `df`, declared with `ty`.
    pub fn table(self, name: &str, df: &DataFrame, ty: TypeRepr) -> Self {
        let p = self.dir.parquet(df);
        self.input(name, &p, ty)
    }

    pub fn many(mut self, name: &str, paths: Vec<PathBuf>, item: TypeRepr) -> Self {
        self.call.inputs.insert(
            name.to_string(),
            InputArtifact {
                arg: ArtifactArg::Many(paths),
                ty: TypeRepr::List {
                    item: Box::new(item),
                },
            },
        );
        self
    }

    pub fn absent(mut self, name: &str, ty: TypeRepr) -> Self {
        self.call.inputs.insert(
            name.to_string(),
            InputArtifact {
                arg: ArtifactArg::Absent,
                ty: TypeRepr::Optional {
                    inner: Box::new(ty),
                },
            },
        );
        self
    }

    pub fn output(mut self, name: &str, ty: TypeRepr) -> Self {
        let ext = match ty {
            TypeRepr::Metrics { .. } => "json",
            TypeRepr::Table { .. } => "parquet",
            _ => "out",
        };
        let path = self.dir.path(name, ext);
        self.call
            .outputs
            .insert(name.to_string(), OutputArtifact { path, ty });
        self
    }

    /// Runs the call.
    pub fn run(self) -> Result<Outputs, BuiltinError> {
        Builtins.run(&self.call)?;
        Ok(Outputs { call: self.call })
    }

    /// Runs the call, expecting an error with `code`; returns its message.
    pub fn fails(self, code: &str) -> String {
        match Builtins.run(&self.call) {
            Ok(()) => panic!("expected {code}, but the call succeeded"),
            Err(e) => {
                assert_eq!(e.code, code, "unexpected error: {e}");
                e.message
            }
        }
    }
}

/// The outputs of a call that ran.
pub struct Outputs {
    pub call: BuiltinCall,
}

impl Outputs {
    pub fn path(&self, name: &str) -> PathBuf {
        self.call.outputs[name].path.clone()
    }

    /// A table output.
    pub fn table(&self, name: &str) -> DataFrame {
        files::read_parquet(&self.path(name)).expect("read output")
    }

    /// A metrics output.
    pub fn metrics(&self, name: &str) -> serde_json::Map<String, Value> {
        let text = std::fs::read_to_string(self.path(name)).expect("read metrics");
        match serde_json::from_str(&text).expect("metrics JSON") {
            Value::Object(m) => m,
            other => panic!("metrics are not an object: {other}"),
        }
    }

    pub fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read output bytes")
    }
}

/// The `i64` values of a column.
pub fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    df.column(name).unwrap().i64().unwrap().iter().collect()
}

/// The `f64` values of a column.
pub fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name).unwrap().f64().unwrap().iter().collect()
}

/// The string values of a column (`String`, or `Enum` as its labels).
pub fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// The boolean values of a column.
pub fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().bool().unwrap().iter().collect()
}

/// The column names of a table.
pub fn names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

/// The schema of the synthetic TV panel.
pub fn panelist() -> TypeRepr {
    named(
        "SynthPanelist",
        &[
            ("panelist_id", "Int", false),
            ("sex", "Str", false),
            ("age_group", "Str", false),
            ("region", "Str", false),
            ("education", "Str", false),
            ("active", "Bool", false),
            ("minutes", "Float", false),
        ],
    )
}

/// The schema of the synthetic web panel.
pub fn web_panelist() -> TypeRepr {
    named(
        "SynthWebPanelist",
        &[
            ("web_id", "Int", false),
            ("sex", "Str", false),
            ("age_group", "Str", false),
            ("region", "Str", false),
            ("education", "Str", false),
            ("minutes", "Float", false),
            ("web_minutes", "Float", false),
            ("sessions", "Int", false),
        ],
    )
}

/// Adds columns to a table type.
pub fn extend(ty: &TypeRepr, cols: &[(&str, &str, bool)]) -> TypeRepr {
    let TypeRepr::Table { columns, .. } = ty else {
        panic!("not a table")
    };
    let mut columns = columns.clone();
    for (n, t, nullable) in cols {
        columns.retain(|c| c.name != *n);
        columns.push(ColumnRepr {
            name: n.to_string(),
            ty: t.to_string(),
            nullable: *nullable,
        });
    }
    TypeRepr::Table {
        schema: None,
        columns,
    }
}

/// Runs `std.synth.panel` and returns the output's path.
pub fn synth_panel(dir: &Dir, n: i64, seed: i64, day: &str) -> PathBuf {
    call(dir, "std.synth", "panel")
        .param("n", n.into())
        .param("seed", seed.into())
        .param("day", day.into())
        .output("panel", panelist())
        .run()
        .expect("panel")
        .path("panel")
}

/// Runs `std.synth.targets` and returns the output's path.
pub fn synth_targets(dir: &Dir) -> PathBuf {
    call(dir, "std.synth", "targets")
        .param("seed", 1.into())
        .output("targets", target_type())
        .run()
        .expect("targets")
        .path("targets")
}

/// Runs `std.synth.web_panel` and returns the output's path.
pub fn synth_web_panel(dir: &Dir, n: i64, seed: i64, day: &str) -> PathBuf {
    call(dir, "std.synth", "web_panel")
        .param("n", n.into())
        .param("seed", seed.into())
        .param("day", day.into())
        .output("panel", web_panelist())
        .run()
        .expect("web_panel")
        .path("panel")
}
