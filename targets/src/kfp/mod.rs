//! The Kubeflow Pipelines v2 emitter: a [`Plan`] as the PipelineSpec IR that the kfp SDK
//! compiler writes (document 1), plus the Kubernetes PlatformSpec of kfp-kubernetes
//! (document 2) when any step uses secrets, node selectors, tolerations, timeouts or a version
//! label.
//!
//! Each step call is a task with its own component `comp-<task>` and container executor
//! `exec-<task>` with explicit path placeholders; `for` loops, `if` branches and `finally`
//! become `comp-for-loop-N`, `comp-condition-N` / `comp-condition-branches-N` and
//! `comp-exit-handler-N` sub-DAGs, values crossing them are threaded in as `pipelinechannel--…`
//! inputs and surfaced as DAG outputs, and a pipeline called as a step is a DAG component. A
//! value bound in the one branch of an `if` and read after it by built-in steps gets the `else`
//! branch kfp users write by hand (a no-value marker task, [`tree::LeafKind::Absent`]).
//! Built-in steps, and the values KFP cannot compute itself (metric values, arithmetic,
//! checks), run `flowc exec` in the flowc runtime image. What KFP cannot express is reported as
//! a [`TargetIssue`] made in [`crate::diagnostics`], never dropped. See `docs/targets.md` for every mapping and difference.

mod cel;
mod cycles;
mod exec;
mod final_status;
mod pvc;
mod render;
mod secret_name;
mod small_map;
mod small_set;
mod tree;
mod types;
mod wire;
mod write;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use crate::names::{dns_label, Namer};
use crate::text::Text;
use crate::{diagnostics, EmitOptions, Emitted, EmittedText, Issues, Place, TargetIssue};
use flowc_compiler::plan::{Plan, SourceSpan};
use tree::Graph;

/// The runtime image of built-in steps and helper tasks, without its tag.
pub const RUNTIME_IMAGE: &str = "ghcr.io/flowc-dev/flowc-runtime";

/// The longest pipeline name KFP accepts (`^[a-z0-9][a-z0-9-]{0,127}$`).
pub const PIPELINE_NAME_MAX: usize = 128;

/// The longest pipeline name flowc writes: the backend derives pod names from it, and longer
/// names overflow the 63-character limit (kubeflow/pipelines#11235).
pub const PIPELINE_NAME_ADVISED: usize = 40;

/// Task and component names, which pod names are also built from.
const TASK_NAME_MAX: usize = 63;

/// Above this size the Argo Workflow that the KFP backend creates from the spec no longer
/// fits in etcd ("request is too large"; kubeflow/pipelines#4175).
pub const SPEC_SIZE_LIMIT: usize = 1_500_000;

/// Writes `plan` as a KFP v2 PipelineSpec (and PlatformSpec) YAML file.
pub fn emit(plan: &Plan, opts: &EmitOptions) -> Emitted {
    emit_with(plan, opts, true).into_emitted()
}

/// [`emit`], the text held in pieces of the buffers it was written into (see
/// [`crate::text`]): a caller that writes it to a file saves copying it into one string.
pub fn emit_text(plan: &Plan, opts: &EmitOptions) -> EmittedText {
    emit_with(plan, opts, true)
}

/// [`emit`] the way it was before the large mappings' entries were written as they are made:
/// the whole trees, then the YAML. The bytes are the same; a test compares them on every
/// example and fixture.
#[doc(hidden)]
pub fn emit_whole_trees(plan: &Plan, opts: &EmitOptions) -> Emitted {
    emit_with(plan, opts, false).into_emitted()
}

/// [`emit`], writing the large mappings' entries as they are made when `stream`.
fn emit_with(plan: &Plan, opts: &EmitOptions, stream: bool) -> EmittedText {
    let mut e = Emitter::new(plan, opts);
    for issue in crate::local_paths::problems(plan, "KFP") {
        e.report(issue);
    }
    let mut rendered = e.run(stream);
    if rendered.failed {
        rendered = e.render(false);
    }
    e.check_cycles(&rendered.docs, &rendered.root_deps);
    let header = e.header();
    // Since the entries are written from records, the trees left are small, and freeing them
    // here costs less than a thread to free them.
    let text = if stream {
        write::spec(header.clone(), rendered)
            .unwrap_or_else(|| whole_trees(e.render(false), header))
    } else {
        whole_trees(rendered, header)
    };
    drop(std::mem::take(&mut e.graphs));
    if text.len() > SPEC_SIZE_LIMIT {
        e.report(diagnostics::kfp_too_large(e.place(None, ""), text.len()));
    }
    EmittedText {
        text,
        issues: e.issues.into_inner().into_vec(),
    }
}

/// The spec written from the whole trees of `rendered`, after `header`.
fn whole_trees(rendered: render::Rendered, header: String) -> Text {
    crate::yaml::into_yaml_after(header, rendered.docs, crate::yaml::KeyOrder::Sorted).into()
}

/// The state of one emission.
pub(super) struct Emitter<'p> {
    plan: &'p Plan,
    namer: Namer,
    /// Group numbers (`for-loop-N`), shared by all DAGs as in kfp.
    counter: usize,
    graphs: Vec<Graph>,
    issues: RefCell<Issues>,
    /// The pipeline version for pod labels.
    version: Option<String>,
    /// The options of the build (runtime image, GPU label).
    opts: EmitOptions,
    /// The pipeline name written in `pipelineInfo`.
    name: String,
    /// Helpers already made: (graph, node, value) → leaf.
    helpers: HashMap<(usize, usize, String), usize>,
    /// Importers of the entry pipeline's artifact parameters: parameter → leaf.
    importers: HashMap<String, usize>,
    /// One-of outputs already made: (graph, branches node, task, output) → key.
    oneofs: HashMap<(usize, usize, String, String), String>,
    /// Each task's source span by (pipeline, task id), for the places of problems: made at
    /// the first problem placed (a build without problems needs none; at 1,000 steps the
    /// table is about 30 fresh pages).
    task_spans: OnceCell<TaskSpans<'p>>,
}

/// Each task's source span by (pipeline, task id).
type TaskSpans<'p> = HashMap<(&'p str, &'p str), Option<SourceSpan>>;

/// The source span of every task of `plan` (see [`Emitter::place`]).
fn task_spans(plan: &Plan) -> TaskSpans<'_> {
    plan.pipelines
        .iter()
        .flat_map(|(name, p)| {
            p.tasks
                .iter()
                .map(move |t| ((name.as_str(), t.id.as_str()), t.span))
        })
        .collect()
}

impl<'p> Emitter<'p> {
    fn new(plan: &'p Plan, opts: &EmitOptions) -> Emitter<'p> {
        Emitter {
            task_spans: OnceCell::new(),
            plan,
            namer: Namer::new(),
            counter: 0,
            graphs: Vec::new(),
            issues: RefCell::new(Issues::default()),
            version: opts
                .version
                .clone()
                .or_else(|| plan.pipeline_version.clone()),
            name: String::new(),
            opts: opts.clone(),
            helpers: HashMap::new(),
            importers: HashMap::new(),
            oneofs: HashMap::new(),
        }
    }

    /// Where a problem of graph `g` (the entry pipeline's when `None`) and of its task `task`
    /// (none when empty) is: the task's call in the source, or the pipeline's name.
    fn place(&self, g: Option<usize>, task: &str) -> Place {
        let pipeline = g.map_or(self.plan.entry.as_str(), |g| {
            self.graphs[g].pipeline.as_str()
        });
        let plan = self.plan.pipelines.get(pipeline);
        let spans = self.task_spans.get_or_init(|| task_spans(self.plan));
        let call = spans.get(&(pipeline, task)).copied().flatten();
        Place {
            task: (!task.is_empty()).then(|| (pipeline.to_string(), task.to_string())),
            span: call.or(plan.and_then(|p| p.span)),
        }
    }

    /// Records a problem, once.
    fn report(&self, issue: TargetIssue) {
        self.issues.borrow_mut().report(issue);
    }

    fn run(&mut self, stream: bool) -> render::Rendered {
        self.name = self.pipeline_name();
        if let Some(v) = self.version.clone() {
            if !valid_label_value(&v) {
                self.report(diagnostics::kfp_invalid_version(self.place(None, ""), &v));
                self.version = None;
            }
        }
        if let Some(s) = self.plan.entry().and_then(|p| p.schedule.clone()) {
            let tz = s.timezone.as_deref().unwrap_or("UTC");
            let at = self.place(None, "").at(s.span);
            self.report(diagnostics::kfp_schedule(at.clone(), &s.cron, tz));
            if let Some(why) = schedule_options_dropped(&s) {
                self.report(diagnostics::kfp_schedule_options(at, &why));
            }
        }
        for p in self.plan.pipelines.values() {
            if let Some(n) = p.parallelism {
                let at = self.place(None, "").at(p.span);
                self.report(diagnostics::kfp_parallelism(at, &p.name, n));
            }
        }
        for (i, (name, p)) in self.plan.pipelines.iter().enumerate() {
            let entry = *name == self.plan.entry;
            let mut g = Graph::build(p, entry);
            if !entry {
                g.component = self.namer.name(name, TASK_NAME_MAX);
            }
            self.graphs.push(g);
            self.name_graph(i);
        }
        for g in 0..self.graphs.len() {
            self.wire_graph(g);
        }
        self.render(stream)
    }

    /// Gives every group and task of graph `g` its key, in depth-first order.
    fn name_graph(&mut self, g: usize) {
        let (mut nodes, mut leaves) = (Vec::new(), Vec::new());
        self.graphs[g].walk(0, &mut nodes, &mut leaves);
        for n in nodes.into_iter().filter(|n| *n != 0) {
            self.counter += 1;
            let number = self.counter;
            let base = match self.graphs[g].nodes[n].kind {
                tree::NodeKind::Loop(_) => format!("for-loop-{number}"),
                tree::NodeKind::Cond(_) => format!("condition-{number}"),
                tree::NodeKind::Branches { .. } => format!("condition-branches-{number}"),
                tree::NodeKind::ExitHandler => format!("exit-handler-{number}"),
                tree::NodeKind::Root => String::new(),
            };
            let key = self.namer.name(&base, TASK_NAME_MAX);
            let node = &mut self.graphs[g].nodes[n];
            node.number = number;
            node.key = key;
        }
        for l in leaves {
            let display = self.graphs[g].leaves[l].display.clone();
            self.graphs[g].leaves[l].key = self.namer.name(&display, TASK_NAME_MAX);
        }
    }

    /// `pipelineInfo.name`: the entry pipeline's name as a DNS label of at most 40 characters.
    fn pipeline_name(&mut self) -> String {
        let raw = self.plan.entry.clone();
        let has_alnum = raw.chars().any(|c| c.is_ascii_alphanumeric());
        if !has_alnum {
            self.report(diagnostics::kfp_pipeline_name(self.place(None, ""), &raw));
        }
        dns_label(&raw, PIPELINE_NAME_ADVISED)
    }

    /// The comment block kfp writes at the top of the file.
    fn header(&self) -> String {
        let mut s = String::from("# PIPELINE DEFINITION\n");
        s.push_str(&format!("# Name: {}\n", self.name));
        if let Some(v) = &self.version {
            s.push_str(&format!("# Version: {v}\n"));
        }
        s.push_str(&format!(
            "# Compiled by flowc {} from sources with SHA-256 {}\n",
            self.plan.flowc_version, self.plan.source_sha256
        ));
        s
    }
}

/// A Kubernetes label value: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both
/// ends.
fn valid_label_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && v.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && v.chars().last().is_none_or(|c| c.is_ascii_alphanumeric())
}

/// The options of a schedule that a recurring run of the KFP backend does not take, in words
/// (`concurrency forbid` is its `max_concurrency: 1`, which the user sets there).
fn schedule_options_dropped(s: &flowc_compiler::plan::Schedule) -> Option<String> {
    let mut parts = Vec::new();
    match s.concurrency.as_deref() {
        Some("forbid") => parts.push("`concurrency forbid` (set `max_concurrency: 1`)".to_string()),
        Some("replace") => parts.push("`concurrency replace` (no equivalent)".to_string()),
        _ => {}
    }
    if s.succeeded_history.is_some() || s.failed_history.is_some() {
        parts.push("`history` (the backend keeps every run)".into());
    }
    if s.starting_deadline_ms.is_some() {
        parts.push("`starting_deadline` (no equivalent)".into());
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
