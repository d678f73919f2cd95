//! The public types of a run: how to run ([`RunOptions`]), what happens while it runs
//! ([`Event`], received by an [`Observer`]), and how it ended ([`RunSummary`], one
//! [`TaskReport`] per task instance, each with a [`TaskStatus`]).

use std::path::PathBuf;

use serde_json::Value as Json;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The store folder; with `remote`, the store's local folder (its working area and cache
    /// of objects).
    pub store: PathBuf,
    /// The store on object storage (`s3://BUCKET/PREFIX`), if the store is there.
    pub remote: Option<String>,
    /// The folder steps run in (the project folder).
    pub workdir: PathBuf,
    /// `--param name=value`.
    pub params: Vec<(String, String)>,
    /// The values of a parameters file (`--params FILE`), by name in the file's order; the
    /// `--param` pairs win over them.
    pub param_file: Vec<(String, serde_json::Value)>,
    /// `--secret name=file`.
    pub secrets: Vec<(String, PathBuf)>,
    /// `--config name=file`.
    pub configs: Vec<(String, PathBuf)>,
    /// Most tasks at once (default: the CPU count).
    pub jobs: Option<usize>,
    /// CPU budget in millicores (default: the machine's).
    pub cpu_millis: Option<u64>,
    /// Memory budget in bytes (default: the machine's available memory).
    pub memory_bytes: Option<u64>,
    /// Stop every task at the first failure.
    pub fail_fast: bool,
    /// What runs container steps (`--engine`).
    pub engine: Engine,
    /// Whether container steps may reach the network (`--network on|off`).
    pub network: bool,
    /// Variables of this environment that container steps also see (`--pass-env NAME`).
    pub pass_env: Vec<String>,
    /// Stop a step at its memory request when it has no limit (`--strict-memory`).
    pub strict_memory: bool,
    /// How Python steps run here (`--python`, the project's source roots).
    pub python: crate::python::PythonOptions,
    /// `--step NAME`: run one task of the entry pipeline (see [`crate::one_step`]).
    pub step: Option<StepSelection>,
    /// Re-execute every cached step with the cache bypassed and compare its outputs with the
    /// cached ones, leaving the cache as it is (`--verify`; docs/reliability.md).
    pub verify: bool,
}

/// `--step NAME` and what goes with it (see [`crate::one_step`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepSelection {
    /// The task of the entry pipeline to run: its id, or the name of the step it calls when
    /// only one task calls it.
    pub task: String,
    /// `--upstream`: also run what the task needs (else it is reused).
    pub upstream: bool,
    /// `--inputs-from RUN`: the run whose outputs the tasks before it reuse.
    pub inputs_from: Option<String>,
    /// `--keep`: leave the task's sandbox folder and say how to enter it.
    pub keep: bool,
}

/// What runs container steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// A bubblewrap sandbox that looks like the step's pod (the default, where it can run).
    #[default]
    Sandbox,
    /// A process of this machine, in the project folder, with this environment.
    Host,
    /// `docker run` of the step's image.
    Docker,
    /// `podman run` of the step's image.
    Podman,
}

impl Engine {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sandbox => "sandbox",
            Engine::Host => "host",
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }
}

/// Something that happened, for the progress display.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An attempt started.
    Started {
        /// `pipeline.task`.
        task: String,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An instance finished.
    Finished {
        /// `pipeline.task`.
        task: String,
        /// How.
        status: TaskStatus,
        /// Seconds.
        wall_seconds: f64,
        /// Why it missed the cache.
        cache_note: Option<String>,
    },
    /// An attempt failed and will be retried.
    Retrying {
        /// `pipeline.task`.
        task: String,
        /// The next attempt.
        attempt: u32,
        /// Delay before it.
        delay_ms: u64,
        /// Why the last one failed.
        why: String,
    },
    /// A `check` was false.
    CheckFailed {
        /// The check as written.
        source: String,
    },
    /// A note for the user.
    Note(String),
}

/// Receives events.
pub trait Observer: Sync {
    /// Called for every event, from any thread.
    fn event(&self, e: &Event);

    /// Called when a pipeline's scheduler is about to wait for a running step: anything the
    /// observer holds back (a step's end line, to be written with the next step's start) is
    /// due now.
    fn waiting(&self) {}
}

/// How a task (instance) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// Ran and succeeded.
    Succeeded,
    /// Its outputs came from the cache.
    Cached,
    /// Failed, with the reason.
    Failed(String),
    /// Did not run, with the reason.
    Skipped(String),
    /// Stopped by cancellation.
    Cancelled,
}

impl TaskStatus {
    /// A short word for tables.
    pub fn word(&self) -> &'static str {
        match self {
            TaskStatus::Succeeded => "ok",
            TaskStatus::Cached => "cached",
            TaskStatus::Failed(_) => "failed",
            TaskStatus::Skipped(_) => "skipped",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Whether it ended with its outputs (ran or came from the cache).
    pub(crate) fn finished_ok(&self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Cached)
    }
}

/// One line of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    /// `pipeline.task[i]`.
    pub task: String,
    /// The step called.
    pub step: String,
    /// How it ended.
    pub status: TaskStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Seconds.
    pub wall_seconds: f64,
    /// Why it missed the cache.
    pub cache_note: Option<String>,
    /// Its log.
    pub log: Option<PathBuf>,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// Its folder.
    pub run_dir: PathBuf,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// Every task instance.
    pub tasks: Vec<TaskReport>,
    /// Pipeline outputs: values, or the paths of artifacts in the store.
    pub outputs: Vec<(String, Json)>,
    /// Checks that were false.
    pub failed_checks: Vec<String>,
}
