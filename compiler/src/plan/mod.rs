//! The plan: the checked program lowered to what every backend needs, and nothing else.
//!
//! A [`Plan`] is plain serialisable data (the JSON of `flowc build --target plan`): the entry
//! pipeline and the pipelines it calls, each a list of tasks in a topological order, with
//! resolved commands, bindings, resources, caching, retries, secrets by reference, conditions
//! and fan-outs. The Argo and Kubeflow emitters and the local runner consume only this type,
//! never the syntax tree. Maps are ordered, so the same source gives the same bytes.
//!
//! Pipelines, tasks, their settings, loops, outputs, checks and schedules also say where in the
//! source they come from ([`SourceSpan`], in `span` fields), so that a target can report a
//! problem at the line that causes it. Those fields are never serialised: the plan's JSON
//! (docs/plan.md) does not contain them, and a plan read back from JSON has none.

mod canonical;
mod lower;
pub mod python;
mod spans;
mod value;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use lower::{build_plan, build_plan_tuned, build_plan_with, PlanError, Tuned, TunedResources};
pub use spans::{SettingSpans, SourceSpan};
pub use value::{Part, Value};

/// The plan format's name, written in every plan.
pub const FORMAT: &str = "flowc.plan";
/// The plan format's version: incremented when a field changes meaning or disappears.
pub const VERSION: u32 = 1;

/// A whole program, ready to run or emit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] for plans this flowc writes.
    pub version: u32,
    /// The version of flowc that wrote it.
    pub flowc_version: String,
    /// The pipeline to run.
    pub entry: String,
    /// The version stamped on the pipeline (`flowc build --version`), if any.
    pub pipeline_version: Option<String>,
    /// SHA-256 of the sources the plan was built from (the import closure, in load order).
    pub source_sha256: String,
    /// Every pipeline of the program reachable from the entry, entry first.
    pub pipelines: IndexMap<String, PipelinePlan>,
    /// Secrets used by any task, by their name in the source.
    pub secrets: IndexMap<String, SecretRef>,
    /// The values of the program's build variables (`--set`), by name; absent when it
    /// declares none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub build_values: std::collections::BTreeMap<String, String>,
    /// Configs (keys of Kubernetes ConfigMaps) used by any task, by their name in the source.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub configs: IndexMap<String, SecretRef>,
    /// Volumes (persistent volume claims) mounted by any task, by their name in the source.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub volumes: IndexMap<String, VolumeRef>,
}

/// One pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelinePlan {
    /// Its name.
    pub name: String,
    /// Its doc comment.
    pub description: Option<String>,
    /// Parameters in declaration order.
    pub params: Vec<PlanParam>,
    /// Tasks in a topological order of their dependencies.
    pub tasks: Vec<Task>,
    /// `for` loops, referenced by tasks.
    pub loops: Vec<LoopPlan>,
    /// Outputs.
    pub outputs: Vec<PlanOutput>,
    /// Checks that fail the run when false.
    pub checks: Vec<PlanCheck>,
    /// `schedule`, if any.
    pub schedule: Option<Schedule>,
    /// `parallel N`: the most of its steps running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// The pipeline's name in its declaration (not serialised).
    #[serde(skip)]
    pub span: Option<SourceSpan>,
}

/// A pipeline parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanParam {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeRepr,
    /// Its default, if any.
    pub default: Option<serde_json::Value>,
}

/// A type in the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeRepr {
    /// `Str`, `Int`, `Float`, `Bool` or `Date`.
    Scalar {
        /// The scalar's name.
        name: String,
    },
    /// `List<T>`.
    List {
        /// The item type.
        item: Box<TypeRepr>,
    },
    /// `T?`.
    Optional {
        /// The inner type.
        inner: Box<TypeRepr>,
    },
    /// `File`, `Dir`, `Model` or `Json`.
    Artifact {
        /// The artifact kind.
        name: String,
    },
    /// `Metrics`, with its declared keys.
    Metrics {
        /// Declared keys and their types.
        keys: Vec<ColumnRepr>,
    },
    /// `Table<...>` with its concrete columns.
    Table {
        /// The schema's name, if named.
        schema: Option<String>,
        /// Columns in order.
        columns: Vec<ColumnRepr>,
    },
    /// A list of column names.
    Columns,
    /// A record `{ name: Type, ... }`: a JSON object with these fields.
    Record {
        /// Fields in declaration order.
        fields: Vec<FieldRepr>,
    },
    /// A type flowc could not determine.
    Unknown,
}

impl TypeRepr {
    /// Whether values of this type are artifacts (files) rather than parameters.
    pub fn is_artifact(&self) -> bool {
        match self {
            TypeRepr::Artifact { .. } | TypeRepr::Metrics { .. } | TypeRepr::Table { .. } => true,
            TypeRepr::List { item } => item.is_artifact(),
            TypeRepr::Optional { inner } => inner.is_artifact(),
            _ => false,
        }
    }
}

/// A field of a record type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRepr {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeRepr,
}

/// A column (or metric key) with its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRepr {
    /// Its name.
    pub name: String,
    /// `Str`, `Int`, `Float`, `Bool` or `Date`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether it may be null.
    pub nullable: bool,
}

/// A task: one call of a step or pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Unique within its pipeline: the bound name, or the step's name (with `-2`, `-3` …).
    pub id: String,
    /// The name of the step or pipeline called.
    pub step: String,
    /// What runs.
    pub kind: TaskKind,
    /// Inputs by parameter name, in the callee's declaration order.
    pub inputs: Vec<TaskInput>,
    /// Outputs in the callee's declaration order.
    pub outputs: Vec<TaskOutput>,
    /// Tasks whose data this task reads.
    pub data_deps: Vec<String>,
    /// Tasks named in `after`.
    pub after: Vec<String>,
    /// Enclosing `for` loop (index into [`PipelinePlan::loops`]), innermost last.
    pub loops: Vec<usize>,
    /// Conditions that must all hold for the task to run (from enclosing `if` branches).
    pub when: Vec<Value>,
    /// Whether it is a `finally` exit handler.
    pub is_finally: bool,
    /// Operational settings after merging step, profiles and pipeline defaults.
    pub settings: Settings,
    /// SHA-256 of the task's definition: the cache key's fixed part.
    pub definition_sha256: String,
    /// The call in the pipeline's body (not serialised).
    #[serde(skip)]
    pub span: Option<SourceSpan>,
    /// Where each of its settings was written (not serialised).
    #[serde(skip)]
    pub setting_spans: SettingSpans,
}

/// What a task runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskKind {
    /// A container step: an image and a command.
    Container {
        /// The image (recorded, not pulled, by the local runner).
        image: String,
        /// The command; each argument is a template.
        command: Vec<Vec<Part>>,
        /// Environment variables (secrets are in `settings.secret_env`).
        env: Vec<(String, Vec<Part>)>,
        /// The Python function the command calls, for a `python` step (its command is the
        /// runtime entry point's, see [`python::command`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        python: Option<python::PythonCall>,
    },
    /// A built-in step of the standard library.
    Builtin {
        /// Its module, such as `std.survey`.
        module: String,
        /// Its name, such as `rake`.
        name: String,
    },
    /// A pipeline called as a step.
    Pipeline {
        /// The pipeline's name in [`Plan::pipelines`].
        pipeline: String,
    },
}

/// An input of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskInput {
    /// The parameter name.
    pub name: String,
    /// The parameter's type at this call (schema variables substituted).
    #[serde(rename = "type")]
    pub ty: TypeRepr,
    /// Where the value comes from (an omitted argument is its default, or `null`).
    pub value: Value,
}

/// An output of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskOutput {
    /// The output name.
    pub name: String,
    /// Its type at this call.
    #[serde(rename = "type")]
    pub ty: TypeRepr,
}

/// Operational settings of a task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Caching: `"off"`, `"on"` or a TTL.
    pub cache: CachePlan,
    /// Resources.
    pub resources: ResourcesPlan,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Delay before the first retry, in milliseconds.
    pub backoff_ms: Option<u64>,
    /// Growth factor of the delay.
    pub backoff_factor: Option<f64>,
    /// Longest delay, in milliseconds.
    pub backoff_max_ms: Option<u64>,
    /// No retry starts once this many milliseconds have passed since the first attempt
    /// (`retries N within D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_within_ms: Option<u64>,
    /// Timeout of one attempt, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Secrets as environment variables: variable name → secret name.
    pub secret_env: Vec<(String, String)>,
    /// Secrets as files: mount path → secret name.
    pub secret_mounts: Vec<(String, String)>,
    /// Configs as environment variables: variable name → config name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_env: Vec<(String, String)>,
    /// Configs as files: mount path → config name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_mounts: Vec<(String, String)>,
    /// Volumes as folders: mount path → volume name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<(String, String)>,
    /// `network off`: the step must not reach the network (a hermetic step).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub network_off: bool,
    /// Node selector labels.
    pub node_selector: Vec<(String, String)>,
    /// Tolerations, each as ordered fields.
    pub tolerations: Vec<Vec<(String, String)>>,
}

/// Caching of a task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum CachePlan {
    /// Never reuse results.
    #[default]
    Off,
    /// Reuse results forever.
    On,
    /// Reuse results younger than `ttl_ms`.
    Ttl {
        /// Time to live in milliseconds.
        ttl_ms: u64,
    },
}

/// Resources of a task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcesPlan {
    /// Whether `flowc autotune` may set them.
    pub auto: bool,
    /// CPU request, millicores.
    pub cpu_millis: Option<u64>,
    /// CPU limit, millicores.
    pub cpu_limit_millis: Option<u64>,
    /// Memory request, bytes.
    pub memory_bytes: Option<u64>,
    /// Memory limit, bytes.
    pub memory_limit_bytes: Option<u64>,
    /// GPUs.
    pub gpu: Option<u64>,
    /// GPU type.
    pub gpu_type: Option<String>,
    /// Lower bounds for `auto`.
    pub min: Option<Box<ResourcesPlan>>,
    /// Upper bounds for `auto`.
    pub max: Option<Box<ResourcesPlan>>,
    /// Whether the values come from the lock file written by `flowc autotune`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tuned: bool,
    /// The lock file's retry rule for an attempt killed for memory (tuned steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_retry: Option<MemoryRetry>,
    /// The lock file's input-size rule, for runners that know a run's input before it starts
    /// (tuned steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_scaling: Option<MemoryScaling>,
}

/// The memory of a run with `x` input bytes: `multiplier` × (a + b·x) (linear) or
/// `multiplier` × e^(a + b·ln x) (power law), at most `cap_bytes` inside the input range the
/// rule was fitted on (up to `max_input_bytes`) and growing in proportion to the input beyond
/// it. Written by `flowc autotune` into the lock file; the local runner applies it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryScaling {
    /// Power law (else linear).
    pub power_law: bool,
    /// Intercept (bytes, or log-bytes for a power law).
    pub a: f64,
    /// Slope (bytes per input byte, or the exponent).
    pub b: f64,
    /// Safety multiplier.
    pub multiplier: f64,
    /// Largest input the rule was fitted on, bytes.
    pub max_input_bytes: u64,
    /// Largest value inside the input range fitted, bytes.
    pub cap_bytes: u64,
}

/// The lock file reader admits finite numbers only, so equality is reflexive.
impl Eq for MemoryScaling {}

impl MemoryScaling {
    /// The memory for a run with `input` bytes (rounded up to a MiB); `None` for no input.
    pub fn limit_for(&self, input: u64) -> Option<u64> {
        const MIB: f64 = 1_048_576.0;
        if input == 0 {
            return None;
        }
        let x = input as f64;
        let base = if self.power_law {
            (self.a + self.b * x.ln()).exp()
        } else {
            self.a + self.b * x
        };
        let over = (x / self.max_input_bytes.max(1) as f64).max(1.0);
        let bytes = (base.max(MIB) * self.multiplier).min(self.cap_bytes as f64 * over);
        (bytes.is_finite() && bytes > 0.0).then(|| ((bytes / MIB).ceil().min(1.7e13) as u64) << 20)
    }
}

/// The retries after an OOM kill that a step with a retry rule (and a memory limit) gets at
/// least, on every target: Argo's `retryStrategy`, the local runner, and the replay of
/// `flowc autotune eval`. A step without `retries` is retried only after OOM kills; a step with
/// `retries N` is retried after any failure, max(N, this) times (Argo's retry expression has no
/// attempt counter to tell them apart).
pub const OOM_RETRIES: u32 = 5;

/// Where the retry of an attempt OOM-killed at k bytes goes: max(`first_bytes`,
/// `factor_permille` / 1000 × k, k + `min_step_bytes`), rounded up to a MiB. Written by
/// `flowc autotune` into the lock file; Argo applies it through `podSpecPatch`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryRetry {
    /// The first retry's limit after a kill at the tuned limit, bytes.
    pub first_bytes: u64,
    /// Multiplier over the killed limit, in thousandths (1400: 1.4×).
    pub factor_permille: u64,
    /// Smallest step over the killed limit, bytes.
    pub min_step_bytes: u64,
}

impl MemoryRetry {
    /// The limit after a kill at `killed` bytes.
    pub fn after(&self, killed: u64) -> u64 {
        const MIB: u64 = 1 << 20;
        let scaled = u128::from(killed) * u128::from(self.factor_permille.max(1000)) / 1000;
        let scaled = u64::try_from(scaled).unwrap_or(u64::MAX);
        let bumped = scaled.max(killed.saturating_add(self.min_step_bytes));
        let rounded = bumped.div_ceil(MIB).saturating_mul(MIB);
        self.first_bytes.max(rounded)
    }

    /// The limits of attempts 0..=`retries` of a run whose first attempt gets `limit`.
    pub fn ladder(&self, limit: u64, retries: u32) -> Vec<u64> {
        let mut out = vec![limit];
        for _ in 0..retries.min(64) {
            let last = out.last().copied().unwrap_or(limit);
            out.push(self.after(last));
        }
        out
    }
}

impl ResourcesPlan {
    /// The most memory an `auto` step may get (its `max` bound), which retries do not exceed.
    pub fn memory_ceiling(&self) -> Option<u64> {
        let max = self.max.as_deref()?;
        max.memory_limit_bytes.or(max.memory_bytes)
    }

    /// The requests and limits a cluster target writes. Plain resources are what they say.
    /// `auto` resources request their minimum and are limited to their maximum until
    /// `flowc autotune` sets them; once the lock file has, a tuned value wins and a value it
    /// leaves unset keeps its bound (requests from `min`, limits and the GPU from `max`).
    pub fn in_force(&self) -> ResourcesPlan {
        if !self.auto {
            return self.clone();
        }
        let min = self.min.as_deref().cloned().unwrap_or_default();
        let max = self.max.as_deref().cloned().unwrap_or_default();
        let tuned = |v: Option<u64>| v.filter(|_| self.tuned);
        ResourcesPlan {
            auto: false,
            cpu_millis: tuned(self.cpu_millis).or(min.cpu_millis),
            memory_bytes: tuned(self.memory_bytes).or(min.memory_bytes),
            cpu_limit_millis: tuned(self.cpu_limit_millis)
                .or(max.cpu_limit_millis)
                .or(max.cpu_millis),
            memory_limit_bytes: tuned(self.memory_limit_bytes)
                .or(max.memory_limit_bytes)
                .or(max.memory_bytes),
            gpu: self.gpu.or(max.gpu),
            gpu_type: self.gpu_type.clone().or(max.gpu_type),
            min: None,
            max: None,
            tuned: self.tuned,
            memory_retry: self.memory_retry.filter(|_| self.tuned),
            memory_scaling: self.memory_scaling.filter(|_| self.tuned),
        }
    }
}

/// A `for` loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoopPlan {
    /// The loop variable.
    pub var: String,
    /// The list iterated over.
    pub items: Value,
    /// The most iterations at once.
    pub parallel: Option<u32>,
    /// Enclosing loops.
    pub parents: Vec<usize>,
    /// The list expression after `in` (not serialised).
    #[serde(skip)]
    pub span: Option<SourceSpan>,
}

/// A pipeline output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeRepr,
    /// Its value.
    pub value: Value,
    /// The output's name in the `output` statement (not serialised).
    #[serde(skip)]
    pub span: Option<SourceSpan>,
}

/// A `check`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanCheck {
    /// The condition.
    pub condition: Value,
    /// The condition as written, for messages.
    pub source: String,
    /// Enclosing loops.
    pub loops: Vec<usize>,
    /// The conditions of the enclosing `if` branches (all must hold), as for tasks: a check in
    /// a branch that does not run is not made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Value>,
    /// The condition as written (not serialised).
    #[serde(skip)]
    pub span: Option<SourceSpan>,
}

/// A cron schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Five-field cron expression.
    pub cron: String,
    /// IANA time zone; UTC when absent.
    pub timezone: Option<String>,
    /// What a start does while the previous run still runs: `allow`, `forbid` or `replace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<String>,
    /// Finished runs kept that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded_history: Option<u32>,
    /// Finished runs kept that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_history: Option<u32>,
    /// How late, in milliseconds, a missed start may still happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_ms: Option<u64>,
    /// The `schedule` statement (not serialised).
    #[serde(skip)]
    pub span: Option<SourceSpan>,
}

/// A Kubernetes Secret reference (in [`Plan::configs`], a ConfigMap reference).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRef {
    /// The Kubernetes Secret's (or ConfigMap's) name.
    pub k8s_name: String,
    /// The key in it; empty for the whole object (a declaration without `key`), mounted as a
    /// directory with one file per key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `k8s(param p, ...)`: the Secret's name is the entry pipeline's `Str` parameter `p`
    /// (`k8s_name` is then empty); the run's value names it on the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_param: Option<String>,
}

impl SecretRef {
    /// Whether it names the whole Secret or ConfigMap rather than one key.
    pub fn is_whole(&self) -> bool {
        self.key.is_empty()
    }
}

/// A persistent volume claim: an existing one (`claim`), or one created for each run and
/// deleted after it (`size`, with its storage class and access mode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRef {
    /// The existing claim's name; none for a claim created for the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// A created claim's size, a canonical Kubernetes quantity (`10Gi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// A created claim's storage class; none for the cluster's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// A created claim's access mode (`ReadWriteOnce` unless written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

impl VolumeRef {
    /// Whether the claim is created for each run (and deleted after it).
    pub fn created(&self) -> bool {
        self.claim.is_none()
    }
}

impl Plan {
    /// The entry pipeline.
    pub fn entry(&self) -> Option<&PipelinePlan> {
        self.pipelines.get(&self.entry)
    }

    /// The plan as pretty JSON, with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
