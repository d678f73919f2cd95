//! The interface between the runner and the built-in steps of the standard library.
//!
//! The runner knows nothing of data frames: it hands a [`BuiltinCall`] (parameter values,
//! input artifact paths, output paths with their declared types) to a [`BuiltinRunner`], which
//! the CLI provides (the polars implementations live in `flowc-builtins`). Tables are Parquet
//! files, metrics are JSON objects, and outputs must be written completely at the given paths
//! (the runner moves them into the store afterwards).

use std::path::PathBuf;

use indexmap::IndexMap;

use flowc_compiler::plan::TypeRepr;

/// An artifact given to a built-in step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactArg {
    /// One artifact, read-only.
    One(PathBuf),
    /// A list of artifacts (`List<Table<T>>`), read-only, in order.
    Many(Vec<PathBuf>),
    /// An optional input that was not given.
    Absent,
}

/// One input artifact: where it is and its declared type at this call.
#[derive(Clone, Debug, PartialEq)]
pub struct InputArtifact {
    /// Its location(s).
    pub arg: ArtifactArg,
    /// Its type (tables carry their columns).
    pub ty: TypeRepr,
}

/// One output artifact: where to write it and the type it must have.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputArtifact {
    /// The path to write (its folder exists; the file does not).
    pub path: PathBuf,
    /// The declared type at this call (tables carry the columns the output must have).
    pub ty: TypeRepr,
}

/// A call of a built-in step.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltinCall {
    /// The module, such as `std.survey`.
    pub module: String,
    /// The step, such as `rake`.
    pub name: String,
    /// Parameter values (scalars, lists and column-name lists), defaults applied; `null` for an
    /// optional parameter that was not given.
    pub params: IndexMap<String, serde_json::Value>,
    /// Artifact inputs.
    pub inputs: IndexMap<String, InputArtifact>,
    /// Artifact outputs.
    pub outputs: IndexMap<String, OutputArtifact>,
    /// A folder the step may use for scratch files.
    pub scratch: PathBuf,
}

/// Why a built-in step failed: a stable code and a message for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltinError {
    /// A stable code, such as `B003` or a survey code `S006`.
    pub code: String,
    /// What went wrong, naming the input, column or value concerned.
    pub message: String,
}

impl std::fmt::Display for BuiltinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Runs built-in steps in-process.
pub trait BuiltinRunner: Send + Sync {
    /// Runs one call; on success every output has been written at its path.
    fn run(&self, call: &BuiltinCall) -> Result<(), BuiltinError>;

    /// Whether this runner implements `module.name`.
    fn has(&self, module: &str, name: &str) -> bool;

    /// A version string of the implementations, part of the cache key of built-in tasks.
    fn version(&self) -> String;
}

/// A runner with no built-in steps (every call fails), for tests of container pipelines.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBuiltins;

impl BuiltinRunner for NoBuiltins {
    fn run(&self, call: &BuiltinCall) -> Result<(), BuiltinError> {
        Err(BuiltinError {
            code: "B001".into(),
            message: format!(
                "built-in step `{}.{}` is not available in this build",
                call.module, call.name
            ),
        })
    }
    fn has(&self, _: &str, _: &str) -> bool {
        false
    }
    fn version(&self) -> String {
        "none".into()
    }
}
