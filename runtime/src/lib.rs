//! The local runner: executes a flowc [`Plan`](flowc_compiler::plan::Plan) on this machine.
//!
//! Container steps run in a bubblewrap sandbox that looks like their pod ([`sandbox`]), as
//! host processes, or in Docker or Podman; built-in steps run in-process through a
//! [`builtin::BuiltinRunner`], artifacts live in a content-addressed [`store::Store`], results are reused through cache keys that cover the step's definition,
//! its parameter values and its inputs' content, and every attempt is recorded for the
//! autotuner ([`record`]). [`engine::run`] is the entry point and [`types`] has the types it
//! takes and gives; [`runs`] lists past runs.

pub mod audit;
mod budget;
pub mod builtin;
mod context;
pub mod engine;
pub mod error;
pub mod eval;
pub mod exec;
pub mod huge_pages;
mod instances;
pub mod one_step;
pub mod out_dir;
pub mod params;
pub mod python;
pub mod record;
mod run_folder;
pub mod runs;
pub mod sandbox;
mod scheduler;
mod spawn;
pub mod store;
mod task;
pub mod types;
pub mod util;
mod volumes;
mod workers;

pub use engine::run;
pub use error::{RunCode, RunError};
pub use types::{Engine, Event, Observer, RunOptions, RunSummary, TaskReport, TaskStatus};
