//! [`RunContext`]: what every task of a run shares, from the entry pipeline's scheduler down to
//! the worker threads and the schedulers of called pipelines.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use flowc_compiler::plan::{Plan, Task};

use crate::budget::Budget;
use crate::builtin::BuiltinRunner;
use crate::record::{Host, RecordWriter};
use crate::store::Store;
use crate::types::{Observer, TaskReport};

/// The state of one run, shared by its schedulers and their workers.
pub(crate) struct RunContext<'a> {
    pub(crate) store: Store,
    pub(crate) plan: &'a Plan,
    pub(crate) builtins: &'a dyn BuiltinRunner,
    pub(crate) obs: &'a dyn Observer,
    pub(crate) cancel: &'a AtomicBool,
    pub(crate) records: RecordWriter,
    pub(crate) run_id: String,
    pub(crate) run_dir: PathBuf,
    pub(crate) workdir: PathBuf,
    pub(crate) host: Host,
    /// Secret values by name: the bytes of their files.
    pub(crate) secrets: HashMap<String, Vec<u8>>,
    /// The files secrets were read from, by name (for steps that mount them); the folder of a
    /// whole Secret (declared without `key`).
    pub(crate) secret_files: HashMap<String, PathBuf>,
    /// The bytes of each file of a whole Secret's folder, by name, hidden in logs.
    pub(crate) secret_parts: HashMap<String, Vec<Vec<u8>>>,
    /// Config values by name (`--config`): the bytes of their files. Unlike secrets, they
    /// may appear in logs.
    pub(crate) configs: HashMap<String, Vec<u8>>,
    /// The files configs were read from, by name (for steps that mount them).
    pub(crate) config_files: HashMap<String, PathBuf>,
    /// The folders standing for the plan's volumes.
    pub(crate) volumes: crate::volumes::LocalVolumes,
    /// What runs container steps, and how.
    pub(crate) local: crate::sandbox::LocalEngine,
    /// The interpreter and Python path of Python steps (none without Python steps, or when a
    /// container engine runs them with the image's interpreter).
    pub(crate) python: Option<crate::python::PythonSetup>,
    /// The machine's share, across every pipeline of the run.
    pub(crate) budget: Mutex<Budget>,
    /// `--fail-fast`.
    pub(crate) fail_fast: bool,
    /// `--verify`: steps run again and are compared with the cache, which stays as it is.
    pub(crate) verify: bool,
    /// `--step`: the selected task, and where the tasks before it take their outputs from.
    pub(crate) reuse: Option<crate::one_step::Reuse>,
    /// The run's `instances.ndjson`.
    pub(crate) instances: crate::one_step::InstanceLog,
    /// One report per finished task instance, in the order they finished.
    pub(crate) reports: Mutex<Vec<TaskReport>>,
}

impl RunContext<'_> {
    /// Takes the CPU and memory `held` for an instance of `t` (nothing for a called pipeline).
    pub(crate) fn take(&self, t: &Task, held: (u64, u64)) -> bool {
        crate::budget::is_composite(t)
            || self
                .budget
                .lock()
                .map(|mut b| b.try_take(held.0, held.1))
                .unwrap_or(false)
    }

    /// Gives back what [`RunContext::take`] took.
    pub(crate) fn give_back(&self, t: &Task, held: (u64, u64)) {
        if !crate::budget::is_composite(t) {
            if let Ok(mut b) = self.budget.lock() {
                b.give(held.0, held.1);
            }
        }
    }
}
