//! The interface between the runner and the built-in steps of the standard library.
//!
//! The runner knows nothing of data frames: it hands a [`BuiltinCall`] (parameter values,
//! input artifact paths, output paths with their declared types) to a [`BuiltinRunner`], which
//! the CLI provides (the polars implementations live in `flowc-builtins`). Tables are Parquet
//! files, metrics are JSON objects, and outputs must be written completely at the given paths
//! (the runner moves them into the store afterwards). A runner may run a call in a process of
//! its own ([`BuiltinRunner::process`]), which the CLI does for a step with a timeout, a memory
//! limit or automatic resources, so that they hold, and are measured, as for a container step.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use flowc_compiler::plan::TypeRepr;

/// An artifact given to a built-in step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArtifactArg {
    /// One artifact, read-only.
    One(PathBuf),
    /// A list of artifacts (`List<Table<T>>`), read-only, in order.
    Many(Vec<PathBuf>),
    /// An optional input that was not given.
    Absent,
}

/// One input artifact: where it is and its declared type at this call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputArtifact {
    /// Its location(s).
    pub arg: ArtifactArg,
    /// Its type (tables carry their columns).
    pub ty: TypeRepr,
}

/// One output artifact: where to write it and the type it must have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputArtifact {
    /// The path to write (its folder exists; the file does not).
    pub path: PathBuf,
    /// The declared type at this call (tables carry the columns the output must have).
    pub ty: TypeRepr,
}

/// A call of a built-in step (saved as JSON for a step run in a process of its own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// The folder that relative paths given as parameters (`read_csv(path: "data/x.csv")`) are
    /// read from and written to: the project's, where container steps run too. Empty: the
    /// process's current folder.
    #[serde(default)]
    pub workdir: PathBuf,
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

    /// The command line that runs the call saved as JSON at `call` in a process of its own
    /// (the CLI's `flowc exec --call FILE`), which writes the step's error, if any, to
    /// [`error_file`]`(call)`. The runner uses it for a step with a timeout, a memory limit or
    /// automatic resources, and treats the step as it treats a container step: its timeout
    /// and memory limit are enforced, a cancelled run stops it, and its own time and peak
    /// memory are recorded. `None` (the default) runs every step in this process.
    fn process(&self, call: &Path) -> Option<Vec<String>> {
        let _ = call;
        None
    }
}

/// Where a built-in step run by [`BuiltinRunner::process`] writes its error (`CODE: message`).
pub fn error_file(call: &Path) -> PathBuf {
    let mut name = call.as_os_str().to_owned();
    name.push(".error");
    PathBuf::from(name)
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
