//! The Argo Workflows emitter: a [`Plan`] as a `WorkflowTemplate` (and a `CronWorkflow` when
//! the pipeline has a schedule).
//!
//! The work is done in three passes over plain data:
//!
//! 1. [`graph`] lays the plan out as frames (DAG templates: one per pipeline, per loop body,
//!    per `parallel` loop wrapper, per exit handler, per chunk of an oversized DAG) and nodes
//!    (their tasks), with dependencies lifted to the frame that holds both ends and oversized
//!    frames split into chunks of at most 200 tasks.
//! 2. [`dag`] renders every node, children frames first, resolving each value it uses with
//!    [`resolve`] (which threads values through DAG template inputs and outputs) and
//!    [`values`] (text of parameters, artifact sources, conditions); container templates come
//!    from [`leaf`], shared between calls with the same definition and argument shape.
//! 3. [`docs`] assembles the documents, orders the templates and checks Argo's limits.
//!
//! Everything Argo cannot express is a [`crate::TargetIssue`] (`E501`), never dropped silently; an
//! invalid version is `E502`; a limit flowc cannot work around is `E503`. The output is a
//! function of the plan only: maps are ordered and names are derived, so the same plan gives
//! the same bytes. The conventions (artifact keys, the runtime command line, fan-in, chunking)
//! are documented for users in `docs/targets.md`.

mod branch_values;
mod dag;
mod docs;
mod graph;
mod leaf;
mod metrics;
mod release;
mod resolve;
mod retry_patch;
mod text;
mod tuned_memory;
mod values;

pub use tuned_memory::{
    configmap_key, is_configmap_name, ladder, ladder_text, memory_configmap, DEFAULT_CONFIGMAP,
    OOM_RETRIES,
};

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::names::Namer;
use crate::{diagnostics, EmitOptions, Emitted, Issues, Place};
use flowc_compiler::plan::{CachePlan, PipelinePlan, Plan, TaskKind, Value};
use graph::{Graph, MAX_TASKS};
use resolve::Ports;

/// The image that runs built-in steps, checks and loop enumeration, tagged with the flowc
/// version that wrote the plan.
pub const RUNTIME_IMAGE: &str = "ghcr.io/flowc-dev/flowc-runtime";

/// The node label a GPU model selects nodes by, unless `--gpu-label` says otherwise: the label
/// NVIDIA's GPU feature discovery puts on every GPU node (`nvidia.com/gpu.product:
/// Tesla-T4`).
pub const GPU_PRODUCT_LABEL: &str = "nvidia.com/gpu.product";

/// The most templates Argo accepts in one workflow spec (`maxItems` of the v4 CRDs).
pub const MAX_TEMPLATES: usize = 200;

/// The largest object etcd stores (about 1.5 MB); larger workflows are refused. Measured as
/// Kubernetes stores custom resources: compact JSON.
pub const MAX_BYTES: usize = 1_500_000;

/// The largest `Workflow` the Argo controller accepts by default (`MAX_WORKFLOW_SIZE`, 1 MiB,
/// in `workflow/packer`); a run holds a copy of its template's spec, so a larger spec is `W503`.
pub const RUN_MAX_BYTES: usize = 1024 * 1024;

/// An output of a task: the pipeline (its index in plan order), the task (its index in the
/// pipeline) and the output's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct OutputRef {
    pub(crate) pipe: usize,
    pub(crate) task: usize,
    pub(crate) output: String,
}

impl OutputRef {
    pub(crate) fn new(pipe: usize, task: usize, output: impl Into<String>) -> OutputRef {
        OutputRef {
            pipe,
            task,
            output: output.into(),
        }
    }
}

/// The emitter's state while one plan is written.
pub(crate) struct WorkflowEmitter<'a> {
    pub(crate) plan: &'a Plan,
    /// Pipelines in plan order.
    pub(crate) pipes: Vec<&'a PipelinePlan>,
    pub(crate) pipe_index: HashMap<&'a str, usize>,
    pub(crate) task_ids: Vec<HashMap<String, usize>>,
    pub(crate) entry: usize,
    pub(crate) g: Graph,
    pub(crate) issues: Issues,
    pub(crate) template_names: Namer,
    /// Container templates in creation order.
    pub(crate) leaves: Vec<(String, Json)>,
    pub(crate) leaf_index: HashMap<String, String>,
    /// Secret volumes: Kubernetes Secret name → volume name.
    pub(crate) volumes: IndexMap<String, String>,
    /// ConfigMap volumes: Kubernetes ConfigMap name → volume name.
    pub(crate) config_volumes: IndexMap<String, String>,
    /// Whether a template mounts the outputs volume, which `spec.volumes` then declares once
    /// for every template (each pod gets an `emptyDir` of its own).
    pub(crate) outputs_volume: bool,
    /// Persistent volume claims: flowc volume name → pod volume name.
    pub(crate) pvc_volumes: IndexMap<String, String>,
    pub(crate) volume_names: Namer,
    /// Inputs and outputs of each frame.
    pub(crate) ports: Vec<Ports>,
    /// The rendered DAG task of each node.
    pub(crate) tasks: Vec<Option<Json>>,
    /// Steps whose outputs some consumer reads by storage key (gathered after a loop, or read
    /// by the exit handler); cached ones get copy nodes.
    pub(crate) keyed: HashSet<(usize, usize)>,
    /// The outputs read by key.
    pub(crate) keyed_outputs: HashSet<OutputRef>,
    /// Task outputs whose storage key a cached consumer needs (`flowc-key-<output>`).
    pub(crate) identity: HashSet<OutputRef>,
    /// Pipeline outputs whose storage key a cached consumer needs.
    pub(crate) identity_out: HashSet<(usize, String)>,
    /// The extra `when` condition of copy nodes, while they are rendered.
    pub(crate) copy_conds: HashMap<graph::NodeId, (String, usize)>,
    pub(crate) runtime_image: String,
    /// The node label of GPU models (`gpu_type`).
    pub(crate) gpu_label: String,
    /// The labels of the Prometheus metrics of `Metrics` outputs: the pipeline and the version.
    pub(crate) metric_labels: (String, String),
    pub(crate) cache_config_map: String,
    /// The ConfigMap tuned steps read their memory from (`--memory-from-configmap`).
    pub(crate) memory_configmap: Option<String>,
    /// The first segments of every artifact key: `flowc/<pipeline>`.
    pub(crate) key_root: String,
    /// Step definitions (`definition_sha256`) called by exactly one task of the plan: their
    /// template serves that call only, so a storage key that needs nothing passed (the entry
    /// pipeline's, `flowc/<pipeline>/{{workflow.uid}}/<task>`) is written into it.
    pub(crate) single_calls: HashSet<&'a str>,
}

/// The step definitions that exactly one task of the plan calls (by `definition_sha256`).
fn single_calls(plan: &Plan) -> HashSet<&str> {
    let mut calls: HashMap<&str, usize> = HashMap::new();
    let steps = plan.pipelines.values().flat_map(|p| &p.tasks);
    for t in steps.filter(|t| !t.definition_sha256.is_empty()) {
        *calls.entry(t.definition_sha256.as_str()).or_default() += 1;
    }
    calls
        .into_iter()
        .filter(|&(_, n)| n == 1)
        .map(|(d, _)| d)
        .collect()
}

impl<'a> WorkflowEmitter<'a> {
    fn new(plan: &'a Plan, entry: usize, opts: &EmitOptions) -> WorkflowEmitter<'a> {
        let pipes: Vec<&PipelinePlan> = plan.pipelines.values().collect();
        let pipe_index = plan
            .pipelines
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let task_ids = pipes
            .iter()
            .map(|p| {
                p.tasks
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.id.clone(), i))
                    .collect()
            })
            .collect();
        let entry_label = crate::names::dns_label(&plan.entry, 40);
        WorkflowEmitter {
            plan,
            pipes,
            pipe_index,
            task_ids,
            entry,
            g: Graph::default(),
            issues: Issues::default(),
            template_names: Namer::new(),
            leaves: Vec::new(),
            leaf_index: HashMap::new(),
            volumes: IndexMap::new(),
            config_volumes: IndexMap::new(),
            outputs_volume: false,
            pvc_volumes: IndexMap::new(),
            volume_names: Namer::new(),
            ports: Vec::new(),
            tasks: Vec::new(),
            keyed: HashSet::new(),
            keyed_outputs: HashSet::new(),
            identity: HashSet::new(),
            identity_out: HashSet::new(),
            copy_conds: HashMap::new(),
            runtime_image: opts
                .runtime_image
                .clone()
                .unwrap_or_else(|| format!("{RUNTIME_IMAGE}:{}", plan.flowc_version)),
            metric_labels: (
                entry_label.clone(),
                opts.version
                    .clone()
                    .or_else(|| plan.pipeline_version.clone())
                    .unwrap_or_else(|| "none".to_string()),
            ),
            memory_configmap: opts.memory_configmap.clone(),
            gpu_label: opts
                .gpu_label
                .clone()
                .unwrap_or_else(|| GPU_PRODUCT_LABEL.to_string()),
            cache_config_map: format!("{entry_label}-flowc-cache"),
            key_root: format!("flowc/{entry_label}"),
            single_calls: single_calls(plan),
        }
    }

    /// Where a problem of pipeline `pipe` (and of its task `task`, if given) is: the task's
    /// call in the source, or the pipeline's name.
    pub(crate) fn place(&self, pipe: usize, task: Option<&str>) -> Place {
        let p = self.pipes[pipe];
        let call = task
            .and_then(|t| self.task_ids.get(pipe)?.get(t))
            .and_then(|&i| p.tasks.get(i));
        Place {
            task: task.map(|t| (p.name.clone(), t.to_string())),
            span: call.and_then(|t| t.span).or(p.span),
        }
    }

    /// Pipelines in an order where every callee comes before its callers.
    fn call_order(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.pipes.len()];
        let mut stack = vec![(self.entry, false)];
        while let Some((p, expanded)) = stack.pop() {
            if expanded {
                out.push(p);
                continue;
            }
            if seen[p] {
                continue;
            }
            seen[p] = true;
            stack.push((p, true));
            for t in (0..self.pipes[p].tasks.len()).rev() {
                if let Some(c) = self.callee(p, t) {
                    if !seen[c] {
                        stack.push((c, false));
                    }
                }
            }
        }
        out
    }

    /// Finds which steps have outputs read by storage key, and which outputs must expose their
    /// storage key (to the cache keys of cached consumers, or to copy nodes).
    fn prepass(&mut self) {
        for pipe in 0..self.pipes.len() {
            let p = self.pipes[pipe];
            for (t, task) in p.tasks.iter().enumerate() {
                for i in task.inputs.iter().filter(|i| i.ty.is_artifact()) {
                    self.mark_keyed(pipe, &i.value, task.is_finally, t);
                }
            }
        }
        // A cached step read by key exposes its outputs' keys, so its copy nodes can tell a
        // result reused from the cache (stored under an earlier run's key) from a fresh one.
        let keyed: Vec<OutputRef> = self.keyed_outputs.iter().cloned().collect();
        for o in keyed {
            if self.pipes[o.pipe].tasks[o.task].settings.cache != CachePlan::Off {
                self.identity.insert(o);
            }
        }
        // Cached steps hash the storage keys of their input artifacts.
        let mut callers: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
        for pipe in 0..self.pipes.len() {
            for t in 0..self.pipes[pipe].tasks.len() {
                if let Some(c) = self.callee(pipe, t) {
                    callers.entry(c).or_default().push((pipe, t));
                }
            }
        }
        let mut work: Vec<(usize, Value)> = Vec::new();
        for pipe in 0..self.pipes.len() {
            for task in &self.pipes[pipe].tasks {
                if task.settings.cache == CachePlan::Off
                    || matches!(task.kind, TaskKind::Pipeline { .. })
                {
                    continue;
                }
                for i in task.inputs.iter().filter(|i| i.ty.is_artifact()) {
                    work.push((pipe, i.value.clone()));
                }
            }
        }
        let mut seen_params: HashSet<(usize, String)> = HashSet::new();
        while let Some((pipe, v)) = work.pop() {
            match v {
                Value::Output {
                    task,
                    output,
                    collected: false,
                } => {
                    let Some(t) = self.task_index(pipe, &task) else {
                        continue;
                    };
                    if self.callee_output_is_prefix(pipe, t, &output) {
                        continue;
                    }
                    if self
                        .identity
                        .insert(OutputRef::new(pipe, t, output.clone()))
                    {
                        if let Some(c) = self.callee(pipe, t) {
                            self.identity_out.insert((c, output.clone()));
                            if let Some(o) = self.pipes[c].outputs.iter().find(|o| o.name == output)
                            {
                                work.push((c, o.value.clone()));
                            }
                        }
                    }
                }
                Value::Param { name }
                    if pipe != self.entry && seen_params.insert((pipe, name.clone())) =>
                {
                    for (cp, ct) in callers.get(&pipe).cloned().unwrap_or_default() {
                        let call = &self.pipes[cp].tasks[ct];
                        if let Some(i) = call.inputs.iter().find(|i| i.name == name) {
                            work.push((cp, i.value.clone()));
                        }
                    }
                }
                Value::List { items } => work.extend(items.into_iter().map(|i| (pipe, i))),
                _ => {}
            }
        }
    }

    /// Marks the producers of artifacts that consumers read by key rather than through Argo.
    fn mark_keyed(&mut self, pipe: usize, v: &Value, in_exit: bool, consumer: usize) {
        match v {
            Value::Output {
                task,
                output,
                collected,
            } => {
                let Some(t) = self.task_index(pipe, task) else {
                    return;
                };
                let from_main = in_exit && !self.pipes[pipe].tasks[t].is_finally;
                if *collected || from_main || self.callee_output_is_prefix(pipe, t, output) {
                    self.forbid_path(pipe, t, output);
                } else {
                    let alts = self.alternatives(pipe, Some(consumer), t, output);
                    if alts.len() > 1 {
                        for (a, o) in alts {
                            self.forbid_path(pipe, a, &o);
                        }
                    }
                }
            }
            Value::List { items } => {
                for i in items {
                    self.mark_keyed(pipe, i, in_exit, consumer);
                }
            }
            // Flattened by a node that reads the gathered outputs by key.
            Value::Op { op, args } if op == "flatten" => {
                for a in args {
                    self.mark_keyed(pipe, a, in_exit, consumer);
                }
            }
            _ => {}
        }
    }

    fn forbid_path(&mut self, pipe: usize, t: usize, output: &str) {
        match self.callee(pipe, t) {
            None => {
                self.keyed.insert((pipe, t));
                self.keyed_outputs.insert(OutputRef::new(pipe, t, output));
            }
            Some(c) => {
                let found = self.pipes[c]
                    .outputs
                    .iter()
                    .find(|o| o.name == output)
                    .map(|o| o.value.clone());
                if let Some(Value::Output { task, output, .. }) = found {
                    if let Some(d) = self.task_index(c, &task) {
                        self.forbid_path(c, d, &output);
                    }
                }
            }
        }
    }
}

/// Writes a plan as Argo Workflows documents: a `WorkflowTemplate`, plus a `CronWorkflow` when
/// the entry pipeline has a schedule. Issues list what Argo cannot express; an error-severity
/// issue means the output must not be deployed.
pub fn emit(plan: &Plan, opts: &EmitOptions) -> Emitted {
    let Some(entry) = plan.pipelines.get_index_of(&plan.entry) else {
        return Emitted {
            text: String::new(),
            issues: vec![diagnostics::plan_without_entry(&plan.entry)],
        };
    };
    let mut ctx = WorkflowEmitter::new(plan, entry, opts);
    for issue in crate::local_paths::problems(plan, "Argo") {
        ctx.issues.report(issue);
    }
    ctx.prepass();
    ctx.check_branch_values();
    let copies: HashSet<OutputRef> = ctx
        .keyed_outputs
        .iter()
        .filter(|o| ctx.pipes[o.pipe].tasks[o.task].settings.cache != CachePlan::Off)
        .cloned()
        .collect();
    let g = graph::build(plan, entry, &copies, &mut ctx.template_names);
    ctx.ports = (0..g.frames.len()).map(|_| Ports::default()).collect();
    ctx.tasks = vec![None; g.nodes.len()];
    ctx.g = g;
    for pipe in ctx.call_order() {
        ctx.render_pipeline(pipe);
    }
    let version = opts
        .version
        .clone()
        .or_else(|| plan.pipeline_version.clone());
    let docs = docs::documents(&mut ctx, version.as_deref(), opts.channel.as_deref());
    let stored = json_bytes(&docs);
    if stored > MAX_BYTES {
        let at = ctx.place(entry, None);
        ctx.issues
            .report(diagnostics::argo_too_large(at, stored, MAX_BYTES));
    } else if stored > RUN_MAX_BYTES {
        let at = ctx.place(entry, None);
        ctx.issues
            .report(diagnostics::argo_run_too_large(at, stored, RUN_MAX_BYTES));
    }
    let text = crate::yaml::into_compact_yaml(docs);
    debug_assert!(ctx.g.frames.iter().all(|f| f.nodes.len() <= MAX_TASKS));
    Emitted {
        text,
        issues: ctx.issues.into_vec(),
    }
}

/// The size of `docs` as the Kubernetes API server stores custom resources: compact JSON, the
/// documents together (a run copies every template it uses into its `Workflow`). The YAML
/// file's layout (indentation, line breaks, quotes) is not stored. Go's JSON encoder writes `&`,
/// `<` and `>` as `\u0026`, `\u003c` and `\u003e`, so each counts six bytes.
fn json_bytes(docs: &[Json]) -> usize {
    /// A writer that only counts, as Go would write the bytes.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let html = buf
                .iter()
                .filter(|c| matches!(c, b'&' | b'<' | b'>'))
                .count();
            self.0 += buf.len() + 5 * html;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    for doc in docs {
        // Writing a JSON value into a counter cannot fail.
        let _ = serde_json::to_writer(&mut count, doc);
    }
    count.0
}
