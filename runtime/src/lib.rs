//! The local runner: executes a flowc [`Plan`](flowc_compiler::plan::Plan) on this machine.
//!
//! Container steps run as local processes (the image is recorded, not pulled), built-in steps
//! run in-process through a [`builtin::BuiltinRunner`], artifacts live in a content-addressed
//! [`store::Store`], results are reused through cache keys that cover the step's definition,
//! its parameter values and its inputs' content, and every attempt is recorded for the
//! autotuner ([`record`]). [`engine::run`] is the entry point; [`runs`] lists past runs.

pub mod builtin;
pub mod engine;
pub mod error;
pub mod eval;
pub mod exec;
pub mod params;
pub mod record;
pub mod runs;
pub mod store;
mod task;
pub mod util;

pub use engine::{run, Event, Observer, RunOptions, RunSummary, TaskStatus};
pub use error::{RunCode, RunError};

/// Eight hex digits of the SHA-256 of `s`.
pub(crate) fn names_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(s.as_bytes()))[..8].to_string()
}
