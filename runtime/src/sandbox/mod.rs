//! Running a container step so that it sees what its pod sees: [`PodView`] describes the step
//! as the built Argo workflow places it (inputs under [`INPUTS`], outputs under [`OUTPUTS`],
//! secrets at their declared paths, the declared environment, its limits), and each engine
//! turns that one description into a command line: [`bwrap::argv`] for the sandbox engine
//! (bubblewrap), [`container::argv`] for Docker and Podman. [`choose`] picks the engine a run
//! uses, falling back to host processes, once and out loud, where bubblewrap cannot run.

pub mod bwrap;
pub mod container;

use std::path::PathBuf;

use crate::error::{RunCode, RunError};
use crate::types::{Engine, Event, Observer, RunOptions};

/// Where a pod reads its input artifacts (as the Argo target places them).
pub const INPUTS: &str = "/tmp/flowc/inputs";
/// Where a pod writes its outputs (an `emptyDir` in the cluster).
pub const OUTPUTS: &str = "/tmp/flowc/outputs";
/// `PATH` inside the sandbox and containers: the usual one of container images.
pub const POD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A step as its pod sees it, whatever engine runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodView {
    /// The image (Docker and Podman run it; the sandbox runs this machine's programs).
    pub image: String,
    /// The command, with the pod's paths.
    pub argv: Vec<String>,
    /// The environment the step sees, and nothing else (values stay out of command lines).
    pub env: Vec<(String, String)>,
    /// Files and folders mounted read-only: this machine's path, the pod's path. Inputs,
    /// then secrets.
    pub read_only: Vec<(PathBuf, String)>,
    /// Folders mounted writable (volumes): this machine's path, the pod's path.
    pub read_write: Vec<(PathBuf, String)>,
    /// The step's output folder on this machine, mounted writable at [`OUTPUTS`].
    pub outputs: Option<PathBuf>,
    /// The project folder: mounted read-only at its own path, and the working folder.
    pub workdir: PathBuf,
    /// Whether the step may reach the network.
    pub network: bool,
    /// CPU limit, millicores.
    pub cpu_limit_millis: Option<u64>,
    /// Memory request, bytes.
    pub memory_request_bytes: Option<u64>,
    /// Memory limit, bytes.
    pub memory_limit_bytes: Option<u64>,
}

impl PodView {
    /// The names of its environment variables, in order.
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.env.iter().map(|(k, _)| k.as_str())
    }
}

/// How a run's container steps are run, decided when it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalEngine {
    /// The engine.
    pub engine: Engine,
    /// The `bwrap` program (for the sandbox engine).
    pub bwrap: PathBuf,
    /// Whether steps may reach the network.
    pub network: bool,
    /// Variables passed through from this environment, with their values.
    pub pass_env: Vec<(String, String)>,
    /// Whether a memory request without a limit stops the step (`--strict-memory`).
    pub strict_memory: bool,
}

/// What the engine will run: whether the plan has container steps, and the first step that
/// turns the network off (`network off`), if any.
#[derive(Clone, Debug, Default)]
pub struct Containers {
    /// Whether the plan has a container step.
    pub any: bool,
    /// The name of a container step written `network off`.
    pub offline: Option<String>,
}

/// The run's engine from its options: see [`choose`]. A run that must be offline
/// (`--network off`, or a step's `network off`) and has container steps is refused when its
/// engine cannot turn the network off (host processes).
pub fn local_engine(
    opts: &RunOptions,
    containers: &Containers,
    obs: &dyn Observer,
) -> Result<LocalEngine, RunError> {
    let (engine, bwrap) = choose(opts.engine, containers.any, obs);
    if containers.any && engine == Engine::Host {
        let why = match (&containers.offline, opts.network) {
            (_, false) => Some("`--network off`".to_string()),
            (Some(step), true) => Some(format!("step `{step}` (`network off`)")),
            (None, true) => None,
        };
        if let Some(why) = why {
            return Err(RunError::new(
                RunCode::Unrunnable,
                format!(
                    "{why} needs an engine that can turn the network off, and container steps \
                     would run as host processes"
                ),
            )
            .hint("install `bubblewrap` (the sandbox engine), or pass `--engine docker` or `--engine podman`"));
        }
    }
    let pass_env = opts
        .pass_env
        .iter()
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
        .collect();
    Ok(LocalEngine {
        engine,
        bwrap,
        network: opts.network,
        pass_env,
        strict_memory: opts.strict_memory,
    })
}

/// The engine a run uses for container steps: `requested`, or host processes when the sandbox
/// was asked for (or defaulted to) but bubblewrap is missing or cannot create namespaces, said
/// once through `obs`. Returns the engine and the bubblewrap program to run.
pub fn choose(requested: Engine, has_containers: bool, obs: &dyn Observer) -> (Engine, PathBuf) {
    if requested != Engine::Sandbox || !has_containers {
        return (requested, PathBuf::from("bwrap"));
    }
    match bwrap::probe() {
        Ok(program) => (Engine::Sandbox, program),
        Err(why) => {
            obs.event(&Event::Note(format!(
                "the sandbox engine cannot run here ({why}): container steps run as host \
                 processes, without the pod's paths or isolation (install `bubblewrap`, or \
                 pass `--engine host` to choose this)"
            )));
            (Engine::Host, PathBuf::from("bwrap"))
        }
    }
}
