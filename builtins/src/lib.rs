//! `flowc-builtins`: the native implementations of the standard library's built-in steps
//! (`std.io`, `std.table`, `std.survey`, `std.synth`), on polars.
//!
//! [`Builtins`] implements the runner's [`BuiltinRunner`] interface: a call names the step,
//! gives its parameter values, its input artifacts (tables are Parquet files, metrics JSON
//! objects) with their declared types, and the paths where its outputs must be written with
//! the types they must have. Every step
//!
//! - checks each table it reads against the declared columns (a missing column, a column of
//!   another type, or a null in a column declared without `?` is an error naming the file or
//!   input and the column),
//! - checks each table it writes against the declared columns of the output before writing it
//!   (so a `derive`, `group_by` or `sql` whose result does not match its `as Table<S>` fails
//!   with the column's name), writing exactly those columns in that order,
//! - writes Parquet deterministically: the same inputs and seed give the same bytes.
//!
//! Errors are [`BuiltinError`]s with stable codes: `B0xx` (see [`error`]) and the survey
//! kernels' `S0xx`. The steps, parameters, schema rules and codes are documented in
//! `docs/stdlib.md`.
//!
//! ```no_run
//! use flowc_builtins::Builtins;
//! use flowc_runtime::builtin::BuiltinRunner;
//!
//! assert!(Builtins.has("std.survey", "rake"));
//! ```

#![warn(missing_docs)]

pub mod call;
pub mod dates;
pub mod error;
pub mod files;
mod handoff;
mod rng;
pub mod schema;
mod steps;

use flowc_runtime::builtin::{BuiltinCall, BuiltinError, BuiltinRunner};

use crate::call::Call;
use crate::error::{err, UNKNOWN_STEP};

/// Incremented whenever a step's output for the same inputs changes (a fix, a new synthetic
/// model, other Parquet settings), so that cached results of older implementations are not
/// reused. Part of [`Builtins::version`].
const IMPLEMENTATION_REVISION: u32 = 3;

/// The version of polars the steps run on (part of [`Builtins::version`]: another polars may
/// write other Parquet bytes).
const POLARS_VERSION: &str = "0.55";

type StepFn = fn(&Call<'_>) -> Result<(), BuiltinError>;

/// Every implemented step: module, name, implementation.
const STEPS: &[(&str, &str, StepFn)] = &[
    ("std.io", "read_csv", steps::io::read_csv),
    ("std.io", "read_parquet", steps::io::read_parquet),
    ("std.io", "write_csv", steps::io::write_csv),
    ("std.io", "write_parquet", steps::io::write_parquet),
    ("std.io", "table_from_file", steps::io::table_from_file),
    ("std.io", "file_from_table", steps::io::file_from_table),
    ("std.table", "select", steps::table::select),
    ("std.table", "filter", steps::table::filter),
    ("std.table", "derive", steps::table::derive),
    ("std.table", "join", steps::table::join),
    ("std.table", "group_by", steps::table::group_by),
    ("std.table", "union", steps::table::union),
    ("std.table", "sort", steps::table::sort),
    ("std.table", "sample", steps::table::sample),
    ("std.table", "sql", steps::table::sql),
    ("std.survey", "select_active", steps::survey::select_active),
    ("std.survey", "rake", steps::survey::rake),
    (
        "std.survey",
        "weighting_quality",
        steps::survey::weighting_quality,
    ),
    ("std.survey", "fuse", steps::survey::fuse),
    ("std.synth", "panel", steps::synth::panel),
    ("std.synth", "targets", steps::synth::targets),
    ("std.synth", "web_panel", steps::synth::web_panel),
];

/// The polars implementations of the standard library's built-in steps.
#[derive(Clone, Copy, Debug, Default)]
pub struct Builtins;

impl Builtins {
    /// The steps implemented, as `(module, name)` pairs.
    pub fn steps() -> impl Iterator<Item = (&'static str, &'static str)> {
        STEPS.iter().map(|(m, n, _)| (*m, *n))
    }

    fn find(module: &str, name: &str) -> Option<StepFn> {
        STEPS
            .iter()
            .find(|(m, n, _)| *m == module && *n == name)
            .map(|(_, _, f)| *f)
    }
}

impl BuiltinRunner for Builtins {
    fn run(&self, call: &BuiltinCall) -> Result<(), BuiltinError> {
        match Self::find(&call.module, &call.name) {
            Some(step) => step(&Call::new(call)),
            None => Err(err(
                UNKNOWN_STEP,
                format!(
                    "built-in step `{}.{}` is not implemented by flowc-builtins {}",
                    call.module,
                    call.name,
                    env!("CARGO_PKG_VERSION")
                ),
            )),
        }
    }

    fn has(&self, module: &str, name: &str) -> bool {
        Self::find(module, name).is_some()
    }

    fn version(&self) -> String {
        format!(
            "flowc-builtins {} r{IMPLEMENTATION_REVISION} polars {POLARS_VERSION}",
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// The columns of a Parquet file, in flowc's terms (`Str`, `Int`, `Float`, `Bool`, `Date`),
/// with `nullable` set when the column holds nulls; for a runner or tool that must compare a
/// file written outside the built-in steps (e.g. by a container step) with a declared schema.
/// A column of a type flowc has no name for is reported with polars' name of the type.
pub fn parquet_columns(
    path: &std::path::Path,
) -> Result<Vec<flowc_compiler::plan::ColumnRepr>, BuiltinError> {
    let df = files::read_parquet(path)?;
    Ok(df
        .columns()
        .iter()
        .map(|c| flowc_compiler::plan::ColumnRepr {
            name: c.name().to_string(),
            ty: schema::ColType::of_dtype(c.dtype())
                .map(|t| t.name().to_string())
                .unwrap_or_else(|| c.dtype().to_string()),
            nullable: c.null_count() > 0,
        })
        .collect())
}
