//! Every target problem, one constructor per message.
//!
//! The emitters find what a target cannot express; this module words it. Each function makes
//! one message from typed arguments and a [`Place`] (the plan's task and the source span it
//! came from), so `rg 'fn kfp_cache_ttl'` finds the one place a message lives. Codes:
//! `E501` a feature the target cannot express, `E502` a name or version it would refuse, `E503`
//! a size limit, `W501` a setting the target approximates (see `flowc explain CODE`).

use flowc_compiler::{Code, Diagnostic, Label};
use serde_json::Value as Json;

use crate::{Place, TargetIssue};

/// The help of the KFP problems of values that may be missing.
const OPTIONAL_HELP: &str = "bind the value in every branch of the `if` (with an `else`), or move \
                             the step that reads it into the branch";

/// The help of the Argo problems of arguments.
const ARGO_ARGUMENT_HELP: &str =
    "pass a parameter, a loop variable, a literal or an expression over them";

/// The help of the Argo problems of artifact inputs.
const ARGO_INPUT_HELP: &str = "pass an output of a step or an artifact parameter";

/// A problem of `code` at `at`, labelled `label` when the source is known.
fn issue(
    code: Code,
    at: Place,
    message: String,
    label: &str,
    help: impl Into<String>,
) -> TargetIssue {
    let labels = at
        .span
        .map(|s| Label {
            file: s.file,
            span: s.span,
            message: label.to_string(),
            primary: true,
        })
        .into_iter()
        .collect();
    TargetIssue {
        diagnostic: Diagnostic {
            code,
            severity: code.severity(),
            message,
            labels,
            help: Some(help.into()),
            notes: Vec::new(),
        },
        task: at.task,
    }
}

// ---------------------------------------------------------------------------------------------
// Both targets.

/// A `std.io` step given a local path (`path` is its text known at build time) that a pod of
/// `target` would put on its throw-away disk.
pub fn local_path_on_cluster(at: Place, path: &str, step: &str, target: &str) -> TargetIssue {
    issue(
        Code::LocalPathOnCluster,
        at,
        format!(
            "`{path}` is a local path: in the pod of `{step}` on {target} it is the pod's own disk, \
             thrown away when the step ends"
        ),
        "a local path in a pod",
        "use an s3:// URL or mount a volume (`volume v = k8s_pvc(...)`, `with { mount v at \
         \"/data\" }`) and write under its path",
    )
}

/// The plan names an entry pipeline it does not contain (a plan edited by hand).
pub fn plan_without_entry(entry: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        Place::default(),
        format!("the plan has no pipeline `{entry}`"),
        "",
        "build the plan again with `flowc build`",
    )
}

// ---------------------------------------------------------------------------------------------
// Argo Workflows.

/// A condition of an `if` that Argo's `when` cannot evaluate.
pub fn argo_condition(at: Place, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("a condition Argo cannot evaluate: {why}"),
        "runs under a condition Argo cannot evaluate",
        "write the condition over parameters, loop variables and literals",
    )
}

/// A value (`what`) that cannot reach a part of the workflow; `in_exit` when that part is the
/// exit handler.
pub fn argo_value_unreachable(at: Place, what: &str, in_exit: bool) -> TargetIssue {
    let part = if in_exit {
        "a `finally` call on Argo: the exit handler runs outside the main DAG"
    } else {
        "this part of the Argo workflow"
    };
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("{what} cannot be passed to {part}"),
        "in this pipeline",
        "give `finally` calls pipeline parameters and literals only",
    )
}

/// A value output of a call under an `if` (`output` of `producer`), read where that call may
/// not have run: Argo has no output parameter of a skipped task to substitute.
pub fn argo_value_from_branch(at: Place, output: &str, producer: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!(
            "the value output `{output}` of `{producer}` is read where `{producer}` may not have \
             run: Argo cannot pass the output of a skipped task"
        ),
        "reads a value of a call under an `if`",
        "read the value inside the branch that binds it, or write it to a file output (`File`) \
         and pass the file",
    )
}

/// An input the entry DAG declares but nothing passes (a flowc bug).
pub fn argo_internal_entry_input(at: Place, input: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("internal: the entry DAG needs {input}, which nothing passes"),
        "in this pipeline",
        "report this to the flowc maintainers",
    )
}

/// The exit handler reads artifact parameters.
pub fn argo_exit_reads_artifacts(at: Place) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        "the exit handler reads artifact parameters, which Argo cannot pass to it".into(),
        "its `finally` calls read artifact parameters",
        "give `finally` calls value parameters and literals only",
    )
}

/// A value argument of a call that cannot be passed.
pub fn argo_argument(at: Place, input: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("argument `{input}` cannot be passed on Argo: {why}"),
        "Argo cannot pass this argument",
        ARGO_ARGUMENT_HELP,
    )
}

/// An artifact input of a call that cannot be passed.
pub fn argo_input(at: Place, input: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("input `{input}` cannot be passed on Argo: {why}"),
        "Argo cannot pass this input",
        ARGO_INPUT_HELP,
    )
}

/// A list of artifacts passed to a pipeline called as a step.
pub fn argo_artifact_list_to_pipeline(at: Place, callee: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("a list of artifacts cannot be passed to pipeline `{callee}` on Argo"),
        "Argo cannot pass a list of artifacts here",
        "gather the list in a step (such as `union`) before the call",
    )
}

/// Metrics of `task` read where Argo cannot reach them.
pub fn argo_metrics(at: Place, task: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("metrics of `{task}` cannot be read on Argo: {why}"),
        "in this pipeline",
        "read metrics of steps of the same pipeline",
    )
}

/// The list of a `for` loop that cannot be passed.
pub fn argo_loop_list(at: Place, var: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("the list of `for {var}` cannot be passed on Argo: {why}"),
        "Argo cannot pass this list",
        "loop over a list parameter or a literal list",
    )
}

/// A pipeline output that cannot be returned.
pub fn argo_output(at: Place, output: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("output `{output}` cannot be returned on Argo: {why}"),
        "Argo cannot return this output",
        "return a step output or a parameter",
    )
}

/// A retry backoff factor that is not a whole number.
pub fn argo_backoff_factor(at: Place, factor: f64, whole: f64) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("Argo multiplies the retry backoff by whole factors only, not {factor}"),
        "not a whole factor",
        format!("use `factor {whole}` (or another whole number)"),
    )
}

/// A pipeline version that cannot be part of a Kubernetes name (`why` says which rule).
pub fn argo_invalid_version(at: Place, why: String) -> TargetIssue {
    issue(
        Code::InvalidTargetName,
        at,
        why,
        "the pipeline built with this version",
        "use a version such as `1.2.0` or `2.0.0-rc.1`",
    )
}

/// An output of the entry pipeline that Argo cannot export as a workflow output (a list
/// gathered from a loop, or a storage-key prefix): the run still writes it under its keys.
pub fn argo_output_not_exported(at: Place, output: &str) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!(
            "output `{output}` is not a workflow output on Argo: it is gathered from several \
             tasks, which Argo cannot export as one artifact"
        ),
        "not exported",
        "read it from the run's storage keys, or output each item (or a step that combines \
         them) instead",
    )
}

/// `network off` on a target whose pods have no network switch (`target`: `Argo`, `KFP`): the
/// pod can reach the network unless a NetworkPolicy cuts it off (`selector`: which pods it
/// selects, as words).
pub fn network_off(at: Place, target: &str, step: &str, selector: &str) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!(
            "`network off` on `{step}`: {target} has no per-step network switch, so the \
             step's pod can reach the network in the cluster"
        ),
        "not enforced in the cluster",
        format!(
            "cut the pods off with a Kubernetes NetworkPolicy that denies all egress, selecting \
             {selector}; `flowc run` enforces it locally"
        ),
    )
}

/// A release channel that cannot be part of the alias's name (`why` says which rule).
pub fn argo_invalid_channel(at: Place, why: String) -> TargetIssue {
    issue(
        Code::InvalidTargetName,
        at,
        why,
        "the pipeline built on this channel",
        "use a channel such as `prod`, `staging` or `canary`",
    )
}

/// More DAG templates than Argo accepts in one spec.
pub fn argo_too_many_templates(at: Place, count: usize, max: usize) -> TargetIssue {
    issue(
        Code::TargetLimit,
        at,
        format!(
            "the workflow needs {count} DAG templates, more than the {max} Argo accepts in one \
             spec (its step templates are already in templates of their own)"
        ),
        "this pipeline's workflow",
        "use fewer nested pipelines, loops and conditions, or split the pipeline",
    )
}

/// A workflow larger than one Kubernetes object (`bytes` as stored: compact JSON).
pub fn argo_too_large(at: Place, bytes: usize, max: usize) -> TargetIssue {
    issue(
        Code::TargetLimit,
        at,
        format!(
            "the workflow is {bytes} bytes as Kubernetes stores it (JSON), more than the {max} \
             bytes Kubernetes stores in one object"
        ),
        "this pipeline's workflow",
        "split the pipeline into smaller pipelines submitted separately, or move large literal \
         values into files",
    )
}

/// A workflow whose runs (which hold a copy of its spec) are over the Argo controller's default
/// limit (`bytes` as stored: compact JSON).
pub fn argo_run_too_large(at: Place, bytes: usize, max: usize) -> TargetIssue {
    issue(
        Code::RunTooLarge,
        at,
        format!(
            "a run of this workflow holds its {bytes}-byte spec, more than the {max} bytes the \
             Argo controller accepts in a Workflow by default"
        ),
        "this pipeline's workflow",
        "raise `MAX_WORKFLOW_SIZE` on the workflow controller, or split the pipeline into \
         smaller pipelines run one after the other (see `flowc explain W503`)",
    )
}

// ---------------------------------------------------------------------------------------------
// Kubeflow Pipelines.

/// A spec whose Workflow would exceed etcd's object limit.
pub fn kfp_too_large(at: Place, bytes: usize) -> TargetIssue {
    issue(
        Code::TargetLimit,
        at,
        format!(
            "the KFP pipeline spec is {bytes} bytes; the Workflow the KFP backend makes of it \
             would exceed the 1.5 MB object limit of etcd"
        ),
        "this pipeline's spec",
        "split the pipeline into pipelines run separately, or move large constants into files",
    )
}

/// A version that is not a Kubernetes label value.
pub fn kfp_invalid_version(at: Place, version: &str) -> TargetIssue {
    issue(
        Code::InvalidTargetName,
        at,
        format!(
            "the version `{version}` is not a valid Kubernetes label value, so it cannot label \
             the pods"
        ),
        "the pipeline built with this version",
        "use at most 63 letters, digits, `.`, `_` and `-`, starting and ending with a letter or \
         digit, such as `1.2.0`",
    )
}

/// A `schedule`, which a KFP spec cannot hold.
pub fn kfp_schedule(at: Place, cron: &str, timezone: &str) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!(
            "`schedule \"{cron}\"` ({timezone}): a KFP pipeline spec has no schedule; a \
             recurring run is created separately"
        ),
        "not part of the KFP spec",
        format!(
            "after uploading, create a recurring run with the six-field cron `0 {cron}` \
             (seconds first), converted to the time zone of the KFP backend (UTC by default)"
        ),
    )
}

/// A pipeline name with no letter or digit.
pub fn kfp_pipeline_name(at: Place, name: &str) -> TargetIssue {
    issue(
        Code::InvalidTargetName,
        at,
        format!(
            "the pipeline name `{name}` has no letter or digit, so it cannot be made a valid KFP \
             pipeline name"
        ),
        "no letter or digit",
        "rename the pipeline: KFP names match `^[a-z0-9][a-z0-9-]{0,127}$`",
    )
}

/// `cache ttl`, which KFP cannot expire; said once per step and setting, whatever the number
/// of calls.
pub fn kfp_cache_ttl(at: Place, ttl: &str, step: &str) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!(
            "`cache ttl {ttl}`: KFP cannot expire cached results, so `{step}` is not cached on \
             KFP"
        ),
        "KFP cannot expire cached results",
        "the step runs every time on KFP, which is safe; use `cache on` to reuse results until \
         the inputs change",
    )
}

/// A constant argument that does not fit its KFP parameter type.
pub fn kfp_constant_type(at: Place, constant: &Json, input: &str, kfp_type: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("the constant {constant} for `{input}` does not fit its KFP type {kfp_type}"),
        "KFP does not convert this value",
        "KFP does not convert values: pass a value of the declared type",
    )
}

/// Why the Kubeflow emitter cannot wire a value from where it is made to where it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unwired {
    /// The artifacts of every iteration of nested loops read as a list of lists of artifacts
    /// (KFP hands them over flat).
    ListOfLists,
    /// `flatten` of artifacts that are not the outputs of a step in nested loops.
    FlattenOther,
    /// A loop variable read outside its loop.
    LoopItemOutside,
    /// `run.status` where KFP has no final status to give (the reason in words): KFP gives it
    /// only to an exit task, as a `PipelineTaskFinalStatus`.
    RunStatus(&'static str),
    /// Any other reason, in words.
    Other(String),
}

impl std::fmt::Display for Unwired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unwired::ListOfLists => f.write_str(
                "KFP cannot collect a list of lists of artifacts (a fan-in across nested loops): \
                 it hands them over as one flat list",
            ),
            Unwired::FlattenOther => f.write_str(
                "on Kubeflow, `flatten` of artifacts reads the outputs of a step in nested loops, \
                 not another list of lists",
            ),
            Unwired::LoopItemOutside => {
                f.write_str("a loop variable cannot be read outside its loop")
            }
            Unwired::RunStatus(why) => {
                write!(f, "`run.status` cannot be passed on Kubeflow here: {why}")
            }
            Unwired::Other(why) => f.write_str(why),
        }
    }
}

impl From<String> for Unwired {
    fn from(why: String) -> Unwired {
        Unwired::Other(why)
    }
}

impl From<&str> for Unwired {
    fn from(why: &str) -> Unwired {
        Unwired::Other(why.to_string())
    }
}

impl From<Unwired> for String {
    fn from(why: Unwired) -> String {
        why.to_string()
    }
}

impl Unwired {
    /// The help that fits the reason.
    fn help(&self) -> &'static str {
        match self {
            Unwired::ListOfLists => {
                "read them as one list with `flatten(xs)`, or collect the artifacts of the inner \
                 loop inside the outer loop first (for example with `union` over the inner \
                 loop's tables), so that the outer loop gathers one artifact per iteration"
            }
            Unwired::FlattenOther => {
                "flatten the name bound by the step inside the nested loops (`flatten(m)`)"
            }
            Unwired::LoopItemOutside => "read the loop variable inside its `for` body",
            Unwired::RunStatus(_) => {
                "read `run.status` in an argument of a container step called by `finally` at \
                 the top level of the entry pipeline, or build this pipeline for Argo"
            }
            Unwired::Other(_) => OPTIONAL_HELP,
        }
    }
}

/// A value the task reads that KFP cannot wire (`why` says which, and why).
pub fn kfp_unwired_value(at: Place, why: Unwired) -> TargetIssue {
    let help = why.help();
    issue(
        Code::UnsupportedByTarget,
        at,
        why.to_string(),
        "KFP cannot pass a value this call reads",
        help,
    )
}

/// An input that may be missing when the task runs.
pub fn kfp_missing_input(at: Place, input: &str, task: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!(
            "`{input}` of `{task}` may be missing when it runs (its value comes from an `if` \
             branch that may not run), and a KFP task input cannot be missing"
        ),
        "an input of this call may be missing",
        OPTIONAL_HELP,
    )
}

/// The list of a `for` loop that may be missing.
pub fn kfp_missing_loop_list(at: Place, var: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("the list of `for {var}` may be missing"),
        "this list may be missing",
        OPTIONAL_HELP,
    )
}

/// A `check` KFP cannot evaluate where it is.
pub fn kfp_check(at: Place, source: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("`check {source}`: {why}"),
        "KFP cannot evaluate this check here",
        OPTIONAL_HELP,
    )
}

/// Options of a schedule that a KFP recurring run does not take (`dropped` says which).
pub fn kfp_schedule_options(at: Place, dropped: &str) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!("the schedule's options are not part of the KFP spec: {dropped}"),
        "options a recurring run does not take",
        "set what the recurring run offers when creating it; the rest applies on Argo only",
    )
}

/// `retries N within D`, which a KFP retry policy has no field for.
pub fn kfp_retry_within(at: Place, within: &str, step: &str) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!(
            "`within {within}` of the retries of `{step}`: a KFP retry policy has no limit on the \
             time retries take, so every retry is made"
        ),
        "no such limit on Kubeflow",
        "bound each attempt with `timeout` instead, which KFP honours",
    )
}

/// Tasks of one Kubeflow DAG that depend on each other in a cycle (`tasks`, in order).
pub fn kfp_dependency_cycle(at: Place, tasks: &[String]) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!(
            "the Kubeflow build would make tasks depend on each other in a cycle ({}), which \
             Kubeflow refuses",
            tasks
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        "part of a dependency cycle on Kubeflow",
        "give the second of two `if`s on the same condition a condition of its own, or move the \
         steps between them into the first `if`",
    )
}

/// `parallel N` of a pipeline, which Kubeflow has no setting for.
pub fn kfp_parallelism(at: Place, pipeline: &str, n: u32) -> TargetIssue {
    issue(
        Code::TargetApproximation,
        at,
        format!(
            "`parallel {n}` of `{pipeline}`: Kubeflow has no limit on the steps of a run at once, \
             so all its ready steps may run together"
        ),
        "no such limit on Kubeflow",
        "limit the loops that fan out instead (`for x in xs parallel N`), which KFP honours",
    )
}

/// A pipeline output that is not the output of a task.
pub fn kfp_output_not_from_task(at: Place, output: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("the output `{output}` does not come from a task"),
        "not the output of a task",
        "output the result of a step",
    )
}

/// A pipeline output KFP cannot surface.
pub fn kfp_output(at: Place, output: &str, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("output `{output}`: {why}"),
        "KFP cannot return this output",
        "collect the inner loop's results inside the outer loop first (for example with \
         `union`), or output the result of a step",
    )
}

/// A list of artifacts in a container's command.
pub fn kfp_artifact_list_in_command(at: Place, input: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("`{input}` is a list of artifacts, which KFP cannot pass to a container as paths"),
        "KFP cannot pass a list of artifacts as paths",
        "pass the list to a built-in step such as `union` first, or fan out over it with `for`",
    )
}

/// A pipeline value inside a step's command.
pub fn kfp_value_in_command(at: Place) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        "a pipeline value inside a step's command".into(),
        "a pipeline value in the command",
        "pass it as an argument of the step",
    )
}

/// Why a secret cannot be mounted at a path on KFP.
#[derive(Clone, Copy, Debug)]
pub enum MountProblem<'a> {
    /// The file name of the path is not the secret's key.
    FileIsNotKey {
        /// The directory of the path.
        dir: &'a str,
        /// The secret's key.
        key: &'a str,
    },
    /// The path is a file in the root directory.
    RootDirectory,
    /// The Kubernetes Secret's name has dots, which a volume name cannot have.
    DottedSecretName {
        /// The Kubernetes Secret's name.
        k8s_name: &'a str,
    },
    /// The Secret is mounted in two directories, or two Secrets in one.
    SharedDirectory,
}

/// What a mount on KFP mounts: a Secret or a ConfigMap, for messages.
#[derive(Clone, Copy, Debug)]
pub struct MountedObject {
    /// The Kubernetes kind: `Secret` or `ConfigMap`.
    pub kind: &'static str,
    /// The declaration's keyword: `secret` or `config`.
    pub keyword: &'static str,
}

/// `mount secret at "path"` (or a config) that KFP cannot do.
pub fn kfp_secret_mount(
    at: Place,
    object: MountedObject,
    secret: &str,
    path: &str,
    problem: MountProblem<'_>,
) -> TargetIssue {
    let MountedObject { kind, keyword } = object;
    let message = match problem {
        MountProblem::FileIsNotKey { dir, key } => format!(
            "`mount {secret} at \"{path}\"`: KFP mounts a {kind} as a directory whose files are \
             its keys, so the file would be `{dir}/{key}`, not `{path}`"
        ),
        MountProblem::RootDirectory => format!(
            "`mount {secret} at \"{path}\"`: the {kind} would be mounted over the root directory"
        ),
        MountProblem::DottedSecretName { k8s_name } => format!(
            "`mount {secret}`: KFP names the pod volume after the {kind} `{k8s_name}`, and a \
             volume name cannot contain dots"
        ),
        MountProblem::SharedDirectory => format!(
            "`mount {secret} at \"{path}\"`: KFP mounts each Secret or ConfigMap once, as one \
             directory, and one directory holds one of them"
        ),
    };
    let help = match problem {
        MountProblem::DottedSecretName { .. } => format!(
            "give the Kubernetes {kind} a name without dots, or pass the key as an environment \
             variable (`env NAME = {keyword}`)"
        ),
        _ => format!(
            "mount the {keyword} at a path whose file name is the {keyword}'s key, in a directory \
             of its own"
        ),
    };
    issue(
        Code::UnsupportedByTarget,
        at,
        message,
        &format!("KFP cannot mount the {keyword} here"),
        help,
    )
}

/// A claim created for the run mounted by a step outside the entry pipeline's root DAG.
pub fn kfp_created_volume_nested(at: Place, volume: &str, step: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!(
            "volume `{volume}` is created for the run, and KFP can mount such a claim only in \
             steps of the pipeline's top level, not in `{step}` here (in a loop, a branch, a \
             called pipeline or a pipeline with `finally`)"
        ),
        "KFP cannot mount the created claim here",
        "mount an existing claim (`volume NAME = k8s_pvc(\"claim-name\")`), or call the step at \
         the pipeline's top level",
    )
}

/// A condition KFP's CEL cannot evaluate.
pub fn kfp_condition(at: Place, why: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!("a condition cannot be evaluated by KFP: {why}"),
        "runs under a condition KFP cannot evaluate",
        "test parameters, loop variables or metric values that exist whenever the `if` is \
         reached",
    )
}

/// A Secret named by a parameter (`k8s(param p, ...)`) used where KFP cannot read it.
pub fn kfp_secret_name_param(at: Place, secret: &str, param: &str, step: &str) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!(
            "secret `{secret}` is named by the parameter `{param}` of the pipeline being run, \
             which KFP cannot hand to `{step}` here: a called pipeline is a component of its \
             own, and the run's parameters do not reach it"
        ),
        "KFP cannot name the Secret here",
        "call the step from the entry pipeline, or name the Secret in the declaration \
         (`k8s(\"secret-name\", ...)`)",
    )
}

/// A Secret named by a parameter (`k8s(param p, ...)`) in a build whose entry pipeline does not
/// declare `p` (a called pipeline built on its own).
pub fn secret_name_param_undeclared(
    at: Place,
    secret: &str,
    param: &str,
    entry: &str,
) -> TargetIssue {
    issue(
        Code::UnsupportedByTarget,
        at,
        format!(
            "secret `{secret}` is named by the parameter `{param}` of the pipeline being run, \
             and `{entry}`, built here, has no such parameter"
        ),
        "no parameter names this Secret",
        format!("build the pipeline that calls this one, or declare `{param}: Str` on `{entry}`"),
    )
}
