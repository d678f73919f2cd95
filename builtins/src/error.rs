//! The error codes of the built-in steps.
//!
//! Every failure is a [`BuiltinError`] with a stable code (`B0xx` here, `S0xx` passed through
//! from the survey kernels) and a message naming the step's input, file, column or value
//! concerned. A code keeps its meaning forever; new failures get new codes. `docs/stdlib.md`
//! lists them all.

use flowc_runtime::builtin::BuiltinError;
use flowc_survey::SurveyError;

/// `B001`: the step is not implemented by this build.
pub const UNKNOWN_STEP: &str = "B001";
/// `B002`: a parameter is missing or has a value of the wrong kind (e.g. a string for an `Int`).
pub const BAD_PARAM: &str = "B002";
/// `B003`: an input or output artifact is missing from the call or of the wrong kind.
pub const BAD_ARTIFACT: &str = "B003";
/// `B004`: a parameter value is outside its domain (an unknown format, a delimiter of two
/// characters, both `n` and `fraction` given…).
pub const INVALID_VALUE: &str = "B004";
/// `B010`: a file cannot be read or is not a valid CSV or Parquet file.
pub const READ_FAILED: &str = "B010";
/// `B011`: a file cannot be written.
pub const WRITE_FAILED: &str = "B011";
/// `B020`: a column of the declared schema is missing from a file or input table.
pub const MISSING_COLUMN: &str = "B020";
/// `B021`: a column of a file or input table has another type than the declared one.
pub const COLUMN_TYPE: &str = "B021";
/// `B022`: a column declared without `?` holds a null in a file or input table.
pub const UNEXPECTED_NULL: &str = "B022";
/// `B023`: a CSV field cannot be parsed as the column's declared type.
pub const UNPARSABLE_VALUE: &str = "B023";
/// `B030`: a step's result lacks a column of its declared output schema.
pub const OUTPUT_MISSING_COLUMN: &str = "B030";
/// `B031`: a column of a step's result has a type that does not fit the declared one.
pub const OUTPUT_COLUMN_TYPE: &str = "B031";
/// `B032`: a column of a step's result declared without `?` holds nulls.
pub const OUTPUT_NULL: &str = "B032";
/// `B033`: a metric of a step's declared `Metrics` type is not produced by the step, or is not a
/// finite number.
pub const METRIC: &str = "B033";
/// `B040`: an expression string (`where`, `exprs`, `aggregations`, `query`) cannot be parsed or
/// evaluated.
pub const EXPRESSION: &str = "B040";
/// `B041`: a `sql` query is not a single `SELECT` statement.
pub const NOT_A_QUERY: &str = "B041";
/// `B050`: a column named by a parameter is missing from a table, or has a type the step cannot
/// use for that role.
pub const COLUMN_ROLE: &str = "B050";
/// `B051`: a column the step computes with (strata, ids, weights, matching variables) holds
/// a null.
pub const NULL_IN_COLUMN: &str = "B051";
/// `B052`: the targets table has no row for a variable, or two rows for one level.
pub const TARGETS: &str = "B052";
/// `B053`: a column present in both tables has different types on the two sides.
pub const COMMON_COLUMN_TYPE: &str = "B053";

/// A new error.
pub fn err(code: &str, message: impl Into<String>) -> BuiltinError {
    BuiltinError {
        code: code.to_string(),
        message: message.into(),
    }
}

/// A survey kernel's error, with its own code.
pub fn survey(step: &str, e: &SurveyError) -> BuiltinError {
    err(e.code(), format!("{step}: {}", e.message()))
}
