//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// flowc: typed data and ML pipelines, checked before they run, built for Argo and Kubeflow,
/// or run on this machine.
#[derive(Debug, Parser)]
#[command(name = "flowc", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. Each one's arguments are defined only when it is the one run (`defer`),
/// not all of them at every start (docs/perf.md, "The front end, third round"). The argument
/// structs of these subcommands carry plain comments, not doc comments: a deferred struct's
/// doc comment would replace the subcommand's line in the help.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Parse and type-check files and report every diagnostic.
    Check(CheckArgs),
    /// Print the explanation of a diagnostic code, such as E203.
    Explain(ExplainArgs),
    /// Format files in the canonical style.
    Fmt(FmtArgs),
    /// Print a pipeline's step graph as DOT or Mermaid.
    Graph(GraphArgs),
    /// Compile a pipeline for Argo Workflows, Kubeflow Pipelines, or the native plan.
    Build(BuildArgs),
    /// Run a pipeline on this machine.
    Run(RunArgs),
    /// Compare two versions of a pipeline: steps, images, commands, parameters, resources,
    /// schedules, secrets, and which steps will recompute (files or Git revisions `REV:PATH`).
    Diff(DiffArgs),
    /// List past runs, or show one.
    Runs(RunsArgs),
    /// Run one step of an Argo workflow here, with the inputs the cluster gave it (downloaded
    /// from the artifact repository) and the run's parameter values (docs/storage.md).
    Replay(ReplayArgs),
    /// Check a store's integrity (`store verify`) or remove what retention no longer needs
    /// (`store gc`); see docs/reliability.md.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Set steps' resources from past runs, or evaluate the tuner on traces (`autotune eval`).
    Autotune(AutotuneArgs),
    /// Run one step, check, evaluation, enumeration or copy of a built pipeline inside a cluster
    /// (the runtime image's command; see docs/targets.md, "The runtime command line").
    Exec(ExecArgs),
    /// Serve the Language Server Protocol over standard input and output, for editors.
    Lsp,
    /// Convert existing pipelines and components to `.flow` (see docs/migrating.md).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the Python types of a file's schemas and Python steps (see docs/python.md).
    PythonTypes(PythonTypesArgs),
}

// `flowc python-types`.
#[derive(Debug, clap::Args)]
pub struct PythonTypesArgs {
    /// The `.flow` file.
    pub file: PathBuf,
    /// Where to write the Python module; `-` for standard output.
    #[arg(long, short = 'o', default_value = "-")]
    pub output: PathBuf,
}

/// `flowc import`: what to convert from.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Kubeflow component YAML files and compiled KFP v2 pipelines, one `.flow` file each.
    Kfp(ImportKfpArgs),
}

/// `flowc import kfp`.
#[derive(Debug, clap::Args)]
pub struct ImportKfpArgs {
    /// Component files (`component.yaml`) and compiled pipelines (`pipeline.yaml`); folders
    /// are searched for `.yaml` and `.yml` files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The folder to write `NAME.flow` files to (default: beside each input).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the `.flow` source instead of writing files.
    #[arg(long, conflicts_with = "out")]
    pub stdout: bool,
}

// `flowc autotune`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AutotuneArgs {
    /// `eval`: replay traces and compare the tuner with the rules of thumb.
    #[command(subcommand)]
    pub command: Option<AutotuneCommand>,
    /// The `.flow` file whose steps to tune.
    pub file: Option<PathBuf>,
    /// Past runs: flowc run folders or stores, Argo workflow JSON, Prometheus exports, traces,
    /// or Argo's workflow archive in PostgreSQL (`postgres://USER:PASSWORD@HOST:PORT/DB`).
    #[arg(long, num_args = 1.., value_name = "PATH|URL")]
    pub history: Vec<PathBuf>,
    /// The history's time window and Prometheus servers.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Write the tuned values to the lock file beside the source (`FILE.lock`).
    #[arg(long)]
    pub write: bool,
    /// Write the report to this file: Markdown (`.md`) or a self-contained HTML page (`.html`).
    #[arg(long, value_name = "OUT")]
    pub report: Option<PathBuf>,
    /// Also write the tuned memory as a ConfigMap manifest to this file (`kubectl apply -f`
    /// it), for builds with `--memory-from-configmap` (docs/autotune.md).
    #[arg(long, value_name = "OUT")]
    pub configmap: Option<PathBuf>,
    /// The name of the ConfigMap of `--configmap`.
    #[arg(
        long,
        value_name = "NAME",
        default_value = flowc_targets::argo::DEFAULT_CONFIGMAP,
        requires = "configmap"
    )]
    pub configmap_name: String,
    /// The memory in force: the ConfigMap the every-minute job applied, as `kubectl get
    /// configmap NAME -o json` prints it (instead of the lock file's values for its steps).
    #[arg(long, value_name = "CONFIGMAP.json")]
    pub in_force: Option<PathBuf>,
    /// Skip malformed records (counted) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Target probability that a run exceeds its memory limit (default 0.005).
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub risk: Option<f64>,
    /// Largest probability accepted where leaving rare peaks to retries costs less than
    /// reserving for them on every run (default 0.1; equal to `--risk` turns the trade off).
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub max_risk: Option<f64>,
    /// Half-life of a run's weight in the model, in hours (default 24).
    #[arg(long, value_name = "HOURS", value_parser = parse_positive)]
    pub half_life: Option<f64>,
}

/// A probability strictly between 0 and 1.
fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!(
            "`{s}` is not a probability between 0 and 1, such as 0.01"
        )),
    }
}

/// A finite number above 0.
fn parse_positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a number above 0")),
    }
}

// Where else history comes from, and its time window (`flowc autotune` and `recommend`).
#[derive(Debug, clap::Args)]
pub struct WindowArgs {
    /// A Prometheus server to read container memory, CPU and GPU series from, joined to the
    /// history's pods (`http://HOST:PORT`; repeatable).
    #[arg(long, value_name = "URL")]
    pub prometheus: Vec<String>,
    /// Keep runs that started in the window: a span before `--until` (`14d`, `36h`, `90m`) or
    /// an RFC 3339 time (default: every run; Prometheus: the last 14 days).
    #[arg(long, value_name = "SPAN|TIME")]
    pub since: Option<String>,
    /// End of the window, an RFC 3339 time (default: now).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// `flowc autotune recommend`.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// Past runs, as for `flowc autotune --history`.
    #[arg(long, num_args = 1.., required_unless_present = "prometheus", value_name = "PATH|URL")]
    pub history: Vec<PathBuf>,
    /// The history's time window and Prometheus servers.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Skip malformed records (counted) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: RecommendFormat,
}

/// Output formats of `flowc autotune recommend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecommendFormat {
    /// The Markdown report of `flowc autotune`.
    Markdown,
    /// `flowc.autotune.recommendations/1` (docs/autotune.md).
    Json,
}

// Subcommands of `flowc autotune`.
#[derive(Debug, Subcommand)]
pub enum AutotuneCommand {
    /// Recommend resources for every step found in the history, without a `.flow` file.
    Recommend(RecommendArgs),
    /// Replay traces in time order and score flowc's tuner against VPA-like and KRR-like rules.
    Eval {
        /// Trace files or folders.
        #[arg(required = true)]
        traces: Vec<PathBuf>,
        /// Also replay the synthetic stress traces of this seed (see docs/autotune.md).
        #[arg(long, value_name = "SEED")]
        synthetic: Option<u64>,
    },
}

// `flowc run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The `.flow` file.
    pub file: PathBuf,
    /// The pipeline to run (default: the last pipeline of the file).
    #[arg(long, short = 'p')]
    pub pipeline: Option<String>,
    /// A pipeline parameter, `name=value` (repeatable); wins over `--params`.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub params: Vec<(String, String)>,
    /// A JSON object of parameter values (`{"day": "2024-06-03", "regions": ["north"]}`), such
    /// as the job a service posts to start a run.
    #[arg(long = "params", value_name = "FILE")]
    pub params_file: Option<PathBuf>,
    /// The artifact store: a folder, or object storage as `s3://BUCKET/PREFIX` (default: the
    /// `[run] store` of `flowc.toml`, else `.flow` beside the file; docs/storage.md).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Most steps at once (default: the number of CPUs).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// CPU budget, in cores (default: the machine's).
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Memory budget, such as `8Gi` (default: the machine's available memory).
    #[arg(long)]
    pub memory: Option<String>,
    /// A secret's value from a file, `name=path` (a folder of one file per key for a whole
    /// Secret, declared without `key`; repeatable); the value never reaches a log.
    #[arg(long = "secret", value_name = "NAME=PATH", value_parser = parse_pair)]
    pub secrets: Vec<(String, String)>,
    /// A config's value (a Kubernetes ConfigMap's key in the cluster) from a file, `name=path`
    /// (a folder for a whole ConfigMap; repeatable); its bytes are mounted unchanged where
    /// steps declare it.
    #[arg(long = "config", value_name = "NAME=PATH", value_parser = parse_pair)]
    pub configs: Vec<(String, String)>,
    /// Stop every step at the first failure (default: independent branches finish).
    #[arg(long)]
    pub fail_fast: bool,
    /// Say why each step that ran missed the cache.
    #[arg(long)]
    pub explain_cache: bool,
    /// Re-execute every cached step with the cache bypassed and compare its outputs with the
    /// cached ones, naming each step whose output differs (exit 1); the cache is left as it is.
    #[arg(long)]
    pub verify: bool,
    /// What runs container steps: a bubblewrap sandbox that looks like the step's pod (the
    /// default; host processes, said once, where it cannot run), host processes, or Docker or
    /// Podman with the step's image (docs/running.md).
    #[arg(long, value_enum, default_value_t = EngineArg::Sandbox)]
    pub engine: EngineArg,
    /// Whether container steps may reach the network, as a pod can (`off`: a hermetic run).
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub network: Switch,
    /// A variable of this environment that container steps also see (repeatable); in the
    /// sandbox and containers they see only their declared environment otherwise.
    #[arg(long = "pass-env", value_name = "NAME")]
    pub pass_env: Vec<String>,
    /// Stop a step at its memory request when it has no limit (Kubernetes stops a step only
    /// at its limit, as `flowc run` does without this).
    #[arg(long)]
    pub strict_memory: bool,
    /// The Python interpreter that runs Python steps (default: `FLOWC_PYTHON`, then
    /// `[python] interpreter` in flowc.toml, then `python3` on PATH).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// A build variable's value, `name=value` (repeatable; a later one wins), read in the
    /// source as `${build.name}` (docs/language.md).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub set: Vec<(String, String)>,
    /// Run one task of the pipeline (its name, or the step it calls): the tasks before it
    /// are not run but reused, from `--inputs-from RUN` or the cache (docs/running.md).
    #[arg(long, value_name = "NAME")]
    pub step: Option<String>,
    /// With `--step`: also run the tasks it needs (those in the cache are reused).
    #[arg(long, requires = "step", conflicts_with = "inputs_from")]
    pub upstream: bool,
    /// With `--step`: the tasks before it reuse the outputs of this earlier run (an id as
    /// `flowc runs` lists them).
    #[arg(long, value_name = "RUN", requires = "step")]
    pub inputs_from: Option<String>,
    /// With `--step`: leave the step's work folder in the run folder and print the command
    /// that enters its sandbox.
    #[arg(long, requires = "step")]
    pub keep: bool,
    /// Place the run's outputs in this folder under their names (a loop's as NAME/0, NAME/1,
    /// …; values as NAME.json), replacing what an earlier `--out` placed there.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With `--out`: write into a folder that holds other files (replacing those named as
    /// outputs).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print nothing while the pipeline runs and no summary when it succeeds: only failed
    /// steps, failed checks, notes and errors (as `make -s`). The run is recorded as always
    /// (`flowc runs`).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `flowc run --engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// A bubblewrap sandbox that looks like the step's pod.
    Sandbox,
    /// A process of this machine.
    Host,
    /// `docker run` of the step's image.
    Docker,
    /// `podman run` of the step's image.
    Podman,
}

/// `on` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

// `flowc exec`: exactly one of `--step`, `--check`, `--eval`, `--enumerate`, `--copy`,
// `--absent` and `--call`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["step", "check", "eval", "enumerate", "copy", "gather", "absent", "call"])))]
pub struct ExecArgs {
    /// Run the built-in step `<module>.<name>`, such as `std.survey.rake`.
    #[arg(long, value_name = "MODULE.NAME")]
    pub step: Option<String>,
    /// Evaluate a condition (the plan's value JSON); exit 1 when it does not hold.
    #[arg(
        long,
        value_name = "EXPR",
        allow_hyphen_values = true,
        requires = "message"
    )]
    pub check: Option<String>,
    /// The condition as written, printed when a `--check` fails.
    #[arg(
        long,
        value_name = "SOURCE",
        allow_hyphen_values = true,
        requires = "check"
    )]
    pub message: Option<String>,
    /// Evaluate a value (the plan's value JSON) and write its text to `--output value=PATH`.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub eval: Option<String>,
    /// Number the items of a JSON list for a loop, written to `--output items=PATH`.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub enumerate: Option<String>,
    /// Copy the file or folder SRC to DST.
    #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
    pub copy: Option<Vec<PathBuf>>,
    /// Gather the list of artifacts `--input items=SRC` into the folder `--output folder=PATH`,
    /// one entry per item named by its index (`00000`, `00001`, ...): how a container step on
    /// Kubeflow receives a list of artifacts, as on Argo and under `flowc run`'s sandbox.
    #[arg(long)]
    pub gather: bool,
    /// With `--gather` of a list folder: how many levels of numbered folders it holds (the
    /// outputs of nested loops, a folder per iteration of each outer loop), all flattened into
    /// the one list, in order (`flatten(xs)` on Argo).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "gather")]
    pub levels: usize,
    /// Write the no-value marker to every `--output NAME=PATH`: the `else` branch flowc adds on
    /// Kubeflow for a value bound in one branch of an `if` and read, optionally, after it.
    #[arg(long)]
    pub absent: bool,
    /// Run the built-in step call saved as JSON in FILE (how `flowc run` runs each built-in
    /// step in a process of its own); its error, if any, goes to `FILE.error`.
    #[arg(long, value_name = "FILE")]
    pub call: Option<PathBuf>,
    /// The types of the values passed (JSON; see docs/targets.md).
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    pub signature: Option<String>,
    /// A parameter value as text, `NAME=TEXT` (repeatable).
    #[arg(long = "param", value_name = "NAME=TEXT", value_parser = parse_pair, allow_hyphen_values = true)]
    pub params: Vec<(String, String)>,
    /// An input artifact, `NAME=PATH` or `NAME=@executor-input:KEY` (repeatable).
    #[arg(long = "input", value_name = "NAME=PATH", value_parser = parse_pair)]
    pub inputs: Vec<(String, String)>,
    /// Where to write an output, `NAME=PATH` (repeatable).
    #[arg(long = "output", value_name = "NAME=PATH", value_parser = parse_pair)]
    pub outputs: Vec<(String, String)>,
    /// The current item of loop `LOOP`, `LOOP=TEXT` (repeatable).
    #[arg(long = "item", value_name = "LOOP=TEXT", value_parser = parse_pair, allow_hyphen_values = true)]
    pub items: Vec<(String, String)>,
    /// The metrics file of a task's output, `TASK.OUTPUT=PATH` (repeatable).
    #[arg(long = "metrics", value_name = "TASK.OUTPUT=PATH", value_parser = parse_pair)]
    pub metrics: Vec<(String, String)>,
    /// A value output of a task as text, `TASK.OUTPUT=TEXT` (repeatable), typed by the
    /// signature's `values`.
    #[arg(long = "value", value_name = "TASK.OUTPUT=TEXT", value_parser = parse_pair, allow_hyphen_values = true)]
    pub values: Vec<(String, String)>,
    /// The Kubeflow executor input (`{{$}}`), for `@executor-input:KEY` lists of artifacts.
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    pub executor_input: Option<String>,
}

// `flowc replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The workflow's status, as `argo get NAME -o json` prints it.
    pub workflow: PathBuf,
    /// The step (the DAG task's name, such as `weights` or `weights-csv`).
    pub step: String,
    /// The folder the pod's `/tmp/flowc/` becomes: inputs are downloaded to `DIR/inputs/`,
    /// outputs written to `DIR/outputs/`.
    #[arg(long, default_value = "replay", value_name = "DIR")]
    pub out: PathBuf,
    /// The artifact repository's bucket (default: the one the status names).
    #[arg(long)]
    pub bucket: Option<String>,
}

// `flowc runs`.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// A run id to show (default: list every run).
    pub run: Option<String>,
    /// The artifact store: a folder, or object storage as `s3://BUCKET/PREFIX`.
    #[arg(long, default_value = ".flow")]
    pub store: PathBuf,
}

/// `flowc store` subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Re-hash every object and check that cache entries and run summaries name existing
    /// objects of their recorded size; exit 1 when something is wrong.
    Verify(StoreVerifyArgs),
    /// Remove runs past retention, cache entries past an age, and objects nothing names.
    Gc(StoreGcArgs),
}

/// `flowc store verify`.
#[derive(Debug, clap::Args)]
pub struct StoreVerifyArgs {
    /// The artifact store: a folder, or object storage as `s3://BUCKET/PREFIX`.
    #[arg(long, default_value = ".flow")]
    pub store: PathBuf,
    /// Move what is wrong to `quarantine/` in the store, so that no run reuses it.
    #[arg(long)]
    pub quarantine: bool,
}

/// `flowc store gc`.
#[derive(Debug, clap::Args)]
pub struct StoreGcArgs {
    /// The artifact store: a folder, or object storage as `s3://BUCKET/PREFIX`.
    #[arg(long, default_value = ".flow")]
    pub store: PathBuf,
    /// Keep the newest N runs (and every run whose folder holds a `keep` file).
    #[arg(long, value_name = "N")]
    pub keep_runs: Option<usize>,
    /// Remove runs and cache entries older than this (`30d`, `12h`, `90m`).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Print what would be removed without removing it.
    #[arg(long)]
    pub dry_run: bool,
    /// On object storage, keep whatever was written less than this long ago: with no lock
    /// across machines, a running run's uploads are not named by a cache entry yet.
    #[arg(long, value_name = "AGE", default_value = "1d")]
    pub grace: String,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, found `{s}`")),
    }
}

/// `--memory-from-configmap`'s optional value: a `.flow` file written right after the flag
/// would be taken as the ConfigMap's name; it is refused with the fix instead. (The name's
/// own rules are checked with the build, `commands/build.rs`.)
fn parse_configmap_name(s: &str) -> Result<String, String> {
    if s.ends_with(".flow") || s.contains('/') {
        return Err(format!(
            "`{s}` looks like the .flow file, not a ConfigMap name: write the file before \
             `--memory-from-configmap`, or give the name as `--memory-from-configmap=NAME`"
        ));
    }
    Ok(s.to_string())
}

/// Build targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// An Argo Workflows `WorkflowTemplate` (and a `CronWorkflow` for a schedule).
    Argo,
    /// A Kubeflow Pipelines v2 PipelineSpec and its Kubernetes platform spec.
    Kfp,
    /// The native plan that `flowc run` executes (JSON, documented in docs/plan.md).
    Plan,
}

// `flowc build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The `.flow` file.
    pub file: PathBuf,
    /// What to produce.
    #[arg(long, short = 't', value_enum, default_value_t = Target::Plan)]
    pub target: Target,
    /// Where to write it; `-` for standard output.
    #[arg(long, short = 'o', default_value = "-")]
    pub output: PathBuf,
    /// The pipeline to build (default: the last pipeline of the file).
    #[arg(long, short = 'p')]
    pub pipeline: Option<String>,
    /// The version stamped on the pipeline.
    #[arg(long = "version", value_name = "VERSION")]
    pub pipeline_version: Option<String>,
    /// Write nothing; fail (exit 1) if this file differs from what the build would write.
    #[arg(long, value_name = "FILE", conflicts_with = "output")]
    pub check: Option<PathBuf>,
    /// Also write the channel's alias (`<pipeline>-CHANNEL`, Argo only), which runs this
    /// version and which the schedule starts (see docs/releasing.md).
    #[arg(long, value_name = "CHANNEL", requires = "pipeline_version")]
    pub channel: Option<String>,
    /// The image of built-in steps, checks and loops (default: `runtime_image` in
    /// `flowc.toml`'s `[build]`, else `ghcr.io/flowc-dev/flowc-runtime:<flowc version>`).
    #[arg(long, value_name = "IMAGE")]
    pub runtime_image: Option<String>,
    /// The node label a GPU model (`gpu_type`) selects nodes by (default: `gpu_label` in
    /// `flowc.toml`'s `[build]`, else `nvidia.com/gpu.product` on Argo and
    /// `cloud.google.com/gke-accelerator` on Kubeflow).
    #[arg(long, value_name = "LABEL")]
    pub gpu_label: Option<String>,
    /// Argo: tuned steps read their memory from this ConfigMap (default `flowc-memory`) when
    /// they start, the lock file's values being the defaults; `flowc autotune --configmap`
    /// writes it (docs/autotune.md).
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = flowc_targets::argo::DEFAULT_CONFIGMAP, value_parser = parse_configmap_name)]
    pub memory_from_configmap: Option<String>,
    /// A build variable's value, `name=value` (repeatable; a later one wins), read in the
    /// source as `${build.name}` (docs/language.md).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub set: Vec<(String, String)>,
}

// `flowc diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old version: a `.flow` file, or `REV:PATH` for the file at a Git revision
    /// (`origin/main:pipelines/daily.flow`).
    pub old: String,
    /// The new version, in the same forms.
    pub new: String,
    /// The pipeline to compare (default: the last pipeline of each file).
    #[arg(long, short = 'p')]
    pub pipeline: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
    pub format: DiffFormat,
    /// Where to write it; `-` for standard output.
    #[arg(long, short = 'o', default_value = "-")]
    pub output: PathBuf,
    /// Build values both sides are built with, `name=value` (repeatable; default: the
    /// declared defaults), as `flowc build --set` takes them.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub set: Vec<(String, String)>,
}

/// How `flowc diff` writes the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Markdown, for a merge-request comment.
    Markdown,
    /// JSON (see docs/releasing.md).
    Json,
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source snippets with labels and help, for people.
    Human,
    /// One line per diagnostic: `file:line:col: severity[code]: message`.
    Short,
    /// A JSON document (see docs/diagnostics.md).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// A GitLab Code Quality report.
    Gitlab,
}

// `flowc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The `.flow` files to check (their imports are checked too).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Also report what a cluster target cannot express (E5xx, W5xx), as `flowc build
    /// --target` would: repeat the flag or give a list (`--target argo,kfp`).
    #[arg(long = "target", value_enum, value_delimiter = ',')]
    pub targets: Vec<CheckTarget>,
    /// Check build values as `flowc build` would take them: `name=value` (repeatable; see
    /// docs/language.md, build variables).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub set: Vec<(String, String)>,
}

/// The targets `flowc check --target` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckTarget {
    /// Argo Workflows.
    Argo,
    /// Kubeflow Pipelines v2.
    Kfp,
}

impl CheckTarget {
    /// The target of the emitters' crate.
    pub fn target(self) -> flowc_targets::Target {
        match self {
            CheckTarget::Argo => flowc_targets::Target::Argo,
            CheckTarget::Kfp => flowc_targets::Target::Kfp,
        }
    }
}

/// When to use colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When writing to a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

// `flowc explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as E203, or `all` to list every code.
    pub code: String,
}

// `flowc fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Files to format in place (folders are searched for `.flow` files).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 if a file is not formatted.
    #[arg(long)]
    pub check: bool,
    /// Print the formatted text instead of writing files.
    #[arg(long, conflicts_with = "check")]
    pub stdout: bool,
}

/// Graph output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

// `flowc graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The `.flow` file.
    pub file: PathBuf,
    /// The pipeline to draw (default: the only, or the last, pipeline of the file).
    #[arg(long, short = 'p')]
    pub pipeline: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}
