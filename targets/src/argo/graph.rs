//! The shape of the workflow: frames (DAG templates) and the nodes (DAG tasks) inside them.
//!
//! Each pipeline becomes a root frame (its DAG template), plus an exit frame for its `finally`
//! calls. A `for` loop becomes an iterating node in the frame around it, whose body is a frame
//! of its own (with a wrapper frame carrying `parallelism` when the loop has `parallel N`);
//! loops over a list known only at run time get an enumerating node that numbers the items.
//! Checks, and conditions or arguments that read metric values, get evaluating nodes run by
//! the flowc runtime image.
//!
//! Dependencies are recorded between nodes of one frame only: a dependency between nodes in
//! different frames is lifted to the closest frame holding both, between the nodes that
//! contain them. Frames with more nodes than Argo accepts in one DAG are then split into chunk
//! frames of consecutive nodes in a topological order, and the dependencies between chunks
//! become dependencies between the chunk nodes; so a 1,000-step pipeline is a DAG of a few
//! chunks, each a DAG of at most [`MAX_TASKS`] tasks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::OutputRef;
use crate::names::{dns_label, Namer};
use flowc_compiler::plan::{PipelinePlan, Plan, Value};

/// The most tasks Argo accepts in one DAG template (`maxItems` of the v4 CRDs).
pub(crate) const MAX_TASKS: usize = 200;

/// Index of a frame in [`Graph::frames`].
pub(crate) type FrameId = usize;
/// Index of a node in [`Graph::nodes`].
pub(crate) type NodeId = usize;

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A pipeline's DAG.
    Root,
    /// A pipeline's `finally` calls.
    Exit,
    /// The wrapper of a `parallel` loop: its enumerating and iterating nodes.
    Loop(usize),
    /// The body of a loop, run once per item.
    Body(usize),
    /// A part of a frame that was too large.
    Chunk,
}

/// A DAG template.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The template name.
    pub(crate) name: String,
    /// The pipeline (index in the plan) it belongs to.
    pub(crate) pipe: usize,
    /// What it is.
    pub(crate) kind: FrameKind,
    /// The node that runs it; `None` for roots and exit frames.
    pub(crate) parent: Option<NodeId>,
    /// Its nodes, in a topological order.
    pub(crate) nodes: Vec<NodeId>,
    /// The most pods or iterations at once (`parallel N`).
    pub(crate) parallelism: Option<u32>,
    /// Task names in use.
    pub(crate) namer: Namer,
}

/// A condition of a node's `when`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cond {
    /// A condition Argo evaluates itself.
    Native(Value),
    /// A condition computed by an evaluating node (it reads metric values).
    Eval(NodeId),
}

/// What a node runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum NodeKind {
    /// A task of the plan: a step or a pipeline call.
    Task(usize),
    /// A `check` of the pipeline.
    Check(usize),
    /// The runtime evaluation of a value that reads metrics (a condition or an argument).
    Eval(Value),
    /// The numbering of a loop's items.
    Enumerate(usize),
    /// The iteration of a loop over its body frame.
    Iterate(usize),
    /// A child frame: a loop wrapper or a chunk.
    Frame,
    /// The copy of a cached output into this run's storage key, when it was reused from the
    /// cache (so that readers by key find it): task and output.
    Copy(usize, String),
    /// `flatten` of the outputs of a task in nested loops for a reader: the nested folders of
    /// the gathered key prefix copied into one folder of numbered entries. Reader, producer,
    /// output.
    Flatten(usize, usize, String),
}

/// A DAG task.
#[derive(Debug)]
pub(crate) struct Node {
    /// The task name, unique in its frame.
    pub(crate) name: String,
    /// Its frame.
    pub(crate) frame: FrameId,
    /// What it runs.
    pub(crate) kind: NodeKind,
    /// Nodes of the same frame it waits for.
    pub(crate) deps: BTreeSet<NodeId>,
    /// Conditions that must all hold for it to run.
    pub(crate) conds: Vec<Cond>,
    /// The frame it runs, for iterating and frame nodes.
    pub(crate) child: Option<FrameId>,
}

/// Where things of one pipeline ended up.
#[derive(Debug, Default)]
pub(crate) struct PipeFrames {
    /// The pipeline's root frame.
    pub(crate) root: FrameId,
    /// Its exit frame, if it has `finally` calls.
    pub(crate) exit: Option<FrameId>,
    /// The node of each task.
    pub(crate) task_node: Vec<NodeId>,
    /// The body frame of each loop.
    pub(crate) body: Vec<FrameId>,
    /// The enumerating node of each loop, if its items are not a literal list.
    pub(crate) enumerate: Vec<Option<NodeId>>,
    /// The evaluating node of each (task, input) whose argument reads metrics.
    pub(crate) input_eval: HashMap<(usize, String), NodeId>,
    /// The evaluating node of each value output of the pipeline that reads metrics
    /// (`output auc = train.metrics.auc`), by output name.
    pub(crate) output_eval: HashMap<String, NodeId>,
    /// Evaluating nodes by frame and what they compute, to share them.
    evals: HashMap<(FrameId, String), NodeId>,
    /// Check nodes.
    pub(crate) checks: Vec<NodeId>,
    /// The flattening node of each (reader, producer, output) that an artifact input of the
    /// reader reads through `flatten`.
    pub(crate) flatten: HashMap<(usize, usize, String), NodeId>,
}

/// The frames and nodes of a whole plan.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// Every frame.
    pub(crate) frames: Vec<Frame>,
    /// Every node.
    pub(crate) nodes: Vec<Node>,
    /// Per pipeline (in plan order).
    pub(crate) pipes: Vec<PipeFrames>,
}

/// Whether a value reads a metric (and so needs the runtime to evaluate it).
pub(crate) fn has_metric(v: &Value) -> bool {
    match v {
        Value::Metric { .. } => true,
        Value::Template { parts } => parts.iter().any(|p| match p {
            flowc_compiler::plan::Part::Value { value } => has_metric(value),
            _ => false,
        }),
        Value::List { items } => items.iter().any(has_metric),
        Value::Op { args, .. } => args.iter().any(has_metric),
        _ => false,
    }
}

/// Task names Argo's `depends` expressions would read as operators or literals.
const RESERVED_TASK_NAMES: &[&str] = &[
    "and", "or", "not", "in", "matches", "contains", "nil", "true", "false", "let", "if", "else",
];

/// A task name: a DNS label that starts with a letter and is not an `expr` keyword.
pub(crate) fn task_label(raw: &str) -> String {
    let mut s = dns_label(raw, 60);
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("t-{s}");
    }
    if RESERVED_TASK_NAMES.contains(&s.as_str()) {
        s.push_str("-task");
    }
    s
}

impl Graph {
    fn add_frame(&mut self, name: String, pipe: usize, kind: FrameKind) -> FrameId {
        self.frames.push(Frame {
            name,
            pipe,
            kind,
            parent: None,
            nodes: Vec::new(),
            parallelism: None,
            namer: Namer::new(),
        });
        self.frames.len() - 1
    }

    fn add_node(&mut self, frame: FrameId, raw_name: &str, kind: NodeKind) -> NodeId {
        let name = self.frames[frame].namer.name(&task_label(raw_name), 63);
        self.nodes.push(Node {
            name,
            frame,
            kind,
            deps: BTreeSet::new(),
            conds: Vec::new(),
            child: None,
        });
        let id = self.nodes.len() - 1;
        self.frames[frame].nodes.push(id);
        id
    }

    fn attach(&mut self, node: NodeId, child: FrameId) {
        self.nodes[node].child = Some(child);
        self.frames[child].parent = Some(node);
    }

    /// The frames from a node's own up to its tree's root, each with the node standing for it.
    fn chain(&self, node: NodeId) -> Vec<(FrameId, NodeId)> {
        let mut out = vec![(self.nodes[node].frame, node)];
        let mut f = self.nodes[node].frame;
        while let Some(p) = self.frames[f].parent {
            f = self.nodes[p].frame;
            out.push((f, p));
        }
        out
    }

    /// Records that `from` waits for `to`, between the nodes that contain them in the closest
    /// frame holding both. Nodes in different trees (a `finally` call and the main DAG) need
    /// no dependency: the exit handler runs after everything.
    pub(crate) fn depend(&mut self, from: NodeId, to: NodeId) {
        if from == to {
            return;
        }
        let a = self.chain(from);
        let b = self.chain(to);
        for (fa, na) in &a {
            if let Some((_, nb)) = b.iter().find(|(fb, _)| fb == fa) {
                if na != nb {
                    self.nodes[*na].deps.insert(*nb);
                }
                return;
            }
        }
    }

    /// The root of the tree a frame belongs to (a pipeline root or exit frame).
    pub(crate) fn tree_root(&self, mut f: FrameId) -> FrameId {
        while let Some(p) = self.frames[f].parent {
            f = self.nodes[p].frame;
        }
        f
    }

    /// The node of frame `f` whose child frames contain frame `inner`, if `inner` is strictly
    /// inside `f`.
    pub(crate) fn child_towards(&self, f: FrameId, inner: FrameId) -> Option<NodeId> {
        let mut x = inner;
        while let Some(p) = self.frames[x].parent {
            let pf = self.nodes[p].frame;
            if pf == f {
                return Some(p);
            }
            x = pf;
        }
        None
    }

    /// Child frames of a frame, in node order.
    pub(crate) fn children(&self, f: FrameId) -> Vec<FrameId> {
        self.frames[f]
            .nodes
            .iter()
            .filter_map(|n| self.nodes[*n].child)
            .collect()
    }

    /// Frames of a tree in post-order: every frame after the frames it runs.
    pub(crate) fn post_order(&self, root: FrameId) -> Vec<FrameId> {
        let mut out = Vec::new();
        let mut stack = vec![(root, false)];
        while let Some((f, expanded)) = stack.pop() {
            if expanded {
                out.push(f);
                continue;
            }
            stack.push((f, true));
            for c in self.children(f).into_iter().rev() {
                stack.push((c, false));
            }
        }
        out
    }
}

/// Builds the frames and nodes of every pipeline of the plan. `template_names` hands out
/// template names; `entry` is the index of the entry pipeline.
pub(crate) fn build(
    plan: &Plan,
    entry: usize,
    copies: &HashSet<OutputRef>,
    template_names: &mut Namer,
) -> Graph {
    let mut g = Graph::default();
    for (pi, p) in plan.pipelines.values().enumerate() {
        let pf = build_pipeline(&mut g, p, pi, pi == entry, copies, template_names);
        g.pipes.push(pf);
    }
    for pi in 0..g.pipes.len() {
        let p = &plan.pipelines[pi];
        add_dependencies(&mut g, p, pi);
    }
    let mut f = 0;
    while f < g.frames.len() {
        while g.frames[f].nodes.len() > MAX_TASKS {
            chunk(&mut g, f, template_names);
        }
        f += 1;
    }
    g
}

fn build_pipeline(
    g: &mut Graph,
    p: &PipelinePlan,
    pi: usize,
    is_entry: bool,
    copies: &HashSet<OutputRef>,
    names: &mut Namer,
) -> PipeFrames {
    let pname = dns_label(&p.name, 40);
    let root_name = if is_entry {
        names.name("main", 63)
    } else {
        names.name(&pname, 63)
    };
    let root = g.add_frame(root_name, pi, FrameKind::Root);
    // `parallel N` of a pipeline called as a step limits its DAG template; the entry
    // pipeline's is the workflow's own `spec.parallelism` (see `docs`).
    if !is_entry {
        g.frames[root].parallelism = p.parallelism;
    }
    let exit = if p.tasks.iter().any(|t| t.is_finally) {
        let n = if is_entry {
            names.name("exit-handler", 63)
        } else {
            names.name(&format!("{pname}-exit"), 63)
        };
        Some(g.add_frame(n, pi, FrameKind::Exit))
    } else {
        None
    };
    let mut pf = PipeFrames {
        root,
        exit,
        ..PipeFrames::default()
    };

    // Loops, outer ones first (a loop is declared before the loops inside it).
    for (li, l) in p.loops.iter().enumerate() {
        let outer = l.parents.last().map_or(root, |o| pf.body[*o]);
        let var = dns_label(&l.var, 30);
        let literal_items = matches!(&l.items, Value::Literal { value } if value.is_array());
        let (frame, prefix) = match l.parallel {
            Some(n) => {
                let w = g.add_frame(
                    names.name(&format!("{pname}-for-{var}"), 63),
                    pi,
                    FrameKind::Loop(li),
                );
                g.frames[w].parallelism = Some(n);
                let wn = g.add_node(outer, &format!("for-{var}"), NodeKind::Frame);
                g.attach(wn, w);
                (w, String::new())
            }
            None => (outer, format!("for-{var}")),
        };
        let enumerate = if literal_items {
            None
        } else {
            let n = if prefix.is_empty() {
                "items".to_string()
            } else {
                format!("{prefix}-items")
            };
            Some(g.add_node(frame, &n, NodeKind::Enumerate(li)))
        };
        let it_name = if prefix.is_empty() { "each" } else { &prefix };
        let it = g.add_node(frame, it_name, NodeKind::Iterate(li));
        if let Some(e) = enumerate {
            g.nodes[it].deps.insert(e);
        }
        let body = g.add_frame(
            names.name(&format!("{pname}-for-{var}-body"), 63),
            pi,
            FrameKind::Body(li),
        );
        g.attach(it, body);
        pf.body.push(body);
        pf.enumerate.push(enumerate);
    }

    // Tasks.
    for (ti, t) in p.tasks.iter().enumerate() {
        let frame = if t.is_finally {
            exit.unwrap_or(root)
        } else {
            t.loops.last().map_or(root, |l| pf.body[*l])
        };
        let n = g.add_node(frame, &t.id, NodeKind::Task(ti));
        pf.task_node.push(n);
    }
    // Conditions and arguments that read metrics get evaluating nodes.
    for (ti, t) in p.tasks.iter().enumerate() {
        let node = pf.task_node[ti];
        let frame = g.nodes[node].frame;
        let conds = when_conds(g, &mut pf, node, &t.when);
        for i in &t.inputs {
            if !i.ty.is_artifact() && has_metric(&i.value) {
                let e = eval_node(g, &mut pf, frame, &i.value, &conds);
                g.nodes[node].deps.insert(e);
                pf.input_eval.insert((ti, i.name.clone()), e);
            }
        }
        g.nodes[node].conds = conds;
    }
    // Value outputs of the pipeline that read metrics are computed by evaluating nodes too.
    for o in p.outputs.iter().filter(|o| !o.ty.is_artifact()) {
        if has_metric(&o.value) {
            let e = eval_node(g, &mut pf, root, &o.value, &[]);
            pf.output_eval.insert(o.name.clone(), e);
        }
    }
    flatten_nodes(g, &mut pf, p);
    // Copies of cached outputs read by key, next to their producer, under its conditions.
    for (ti, t) in p.tasks.iter().enumerate() {
        let node = pf.task_node[ti];
        let frame = g.nodes[node].frame;
        for o in t
            .outputs
            .iter()
            .filter(|o| copies.contains(&OutputRef::new(pi, ti, o.name.clone())))
        {
            let c = g.add_node(
                frame,
                &format!("{}-copy-{}", t.id, o.name),
                NodeKind::Copy(ti, o.name.clone()),
            );
            g.nodes[c].deps.insert(node);
            g.nodes[c].conds = g.nodes[node].conds.clone();
            // Its `when` reads what its producer's reads: it waits for the same evaluations.
            for cond in &g.nodes[node].conds.clone() {
                if let Cond::Eval(e) = cond {
                    g.nodes[c].deps.insert(*e);
                }
            }
        }
    }
    // Checks.
    for (ci, c) in p.checks.iter().enumerate() {
        let frame = c.loops.last().map_or(root, |l| pf.body[*l]);
        let n = g.add_node(frame, &format!("check-{}", ci + 1), NodeKind::Check(ci));
        // Under the conditions of its `if` branches, as a task is.
        g.nodes[n].conds = when_conds(g, &mut pf, n, &c.when);
        pf.checks.push(n);
    }
    pf
}

/// A flattening node beside each task for every artifact input it reads through `flatten`
/// of a task's outputs in nested loops, under the task's conditions; the task waits for it,
/// and it for the producer.
fn flatten_nodes(g: &mut Graph, pf: &mut PipeFrames, p: &PipelinePlan) {
    for (ti, t) in p.tasks.iter().enumerate() {
        let node = pf.task_node[ti];
        for i in t.inputs.iter().filter(|i| i.ty.is_artifact()) {
            let Value::Op { op, args } = &i.value else {
                continue;
            };
            let [Value::Output { task, output, .. }] = args.as_slice() else {
                continue;
            };
            let Some(pi) = p.tasks.iter().position(|x| x.id == *task) else {
                continue;
            };
            let key = (ti, pi, output.clone());
            if op != "flatten" || pf.flatten.contains_key(&key) {
                continue;
            }
            let frame = g.nodes[node].frame;
            let f = g.add_node(
                frame,
                &format!("{}-flatten-{}", t.id, task),
                NodeKind::Flatten(ti, pi, output.clone()),
            );
            g.nodes[f].conds = g.nodes[node].conds.clone();
            for cond in &g.nodes[node].conds.clone() {
                if let Cond::Eval(e) = cond {
                    g.nodes[f].deps.insert(*e);
                }
            }
            g.nodes[node].deps.insert(f);
            g.depend(f, pf.task_node[pi]);
            pf.flatten.insert(key, f);
        }
    }
}

/// The conditions of `node` for the `when` values of its task or check: native ones as they
/// are, those reading metrics through an evaluating node it depends on.
fn when_conds(g: &mut Graph, pf: &mut PipeFrames, node: NodeId, when: &[Value]) -> Vec<Cond> {
    let frame = g.nodes[node].frame;
    let mut conds: Vec<Cond> = Vec::new();
    for w in when {
        if has_metric(w) {
            let e = eval_node(g, pf, frame, w, &conds);
            g.nodes[node].deps.insert(e);
            conds.push(Cond::Eval(e));
        } else {
            conds.push(Cond::Native(w.clone()));
        }
    }
    conds
}

/// The evaluating node of `value` in `frame` under `conds`, shared between identical uses.
fn eval_node(
    g: &mut Graph,
    pf: &mut PipeFrames,
    frame: FrameId,
    value: &Value,
    conds: &[Cond],
) -> NodeId {
    let key = format!(
        "{}|{:?}",
        serde_json::to_string(value).unwrap_or_default(),
        conds
    );
    if let Some(n) = pf.evals.get(&(frame, key.clone())) {
        return *n;
    }
    let n = g.add_node(frame, "eval", NodeKind::Eval(value.clone()));
    g.nodes[n].conds = conds.to_vec();
    for c in conds {
        if let Cond::Eval(e) = c {
            g.nodes[n].deps.insert(*e);
        }
    }
    pf.evals.insert((frame, key), n);
    n
}

/// Tasks whose outputs a value reads (metrics and outputs).
pub(crate) fn value_tasks(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Output { task, .. } | Value::Metric { task, .. } => {
            out.insert(task.clone());
        }
        Value::Template { parts } => {
            for p in parts {
                if let flowc_compiler::plan::Part::Value { value } = p {
                    value_tasks(value, out);
                }
            }
        }
        Value::List { items } => items.iter().for_each(|i| value_tasks(i, out)),
        Value::Op { args, .. } => args.iter().for_each(|a| value_tasks(a, out)),
        _ => {}
    }
}

/// The tasks read by the conditions Argo evaluates itself (those without metrics).
fn native_reads(when: &[Value]) -> BTreeSet<String> {
    let mut tasks = BTreeSet::new();
    for w in when.iter().filter(|w| !has_metric(w)) {
        value_tasks(w, &mut tasks);
    }
    tasks
}

fn add_dependencies(g: &mut Graph, p: &PipelinePlan, pi: usize) {
    let index: BTreeMap<&str, usize> = p
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let task_node = g.pipes[pi].task_node.clone();
    for (ti, t) in p.tasks.iter().enumerate() {
        let from = task_node[ti];
        for d in t.data_deps.iter().chain(&t.after) {
            let Some(di) = index.get(d.as_str()) else {
                continue;
            };
            // A `finally` call waits for nothing of the main DAG: it runs after all of it.
            if t.is_finally != p.tasks[*di].is_finally {
                continue;
            }
            g.depend(from, task_node[*di]);
        }
    }
    // Conditions and the lists of loops read value outputs too (`if f == "heads"`, `for n in
    // c`): the node waits for their producers (its evaluating node, if any, already does).
    let mut readers: Vec<(NodeId, BTreeSet<String>)> = Vec::new();
    for (ti, t) in p.tasks.iter().enumerate() {
        readers.push((task_node[ti], native_reads(&t.when)));
    }
    for (ci, c) in p.checks.iter().enumerate() {
        readers.push((g.pipes[pi].checks[ci], native_reads(&c.when)));
    }
    // Copies of cached outputs, evaluating nodes and flattening nodes run under conditions too
    // (their task's, or those of the branch they are in): they wait for what those read.
    for (n, node) in g.nodes.iter().enumerate() {
        if g.frames[node.frame].pipe == pi
            && matches!(
                node.kind,
                NodeKind::Copy(..) | NodeKind::Eval(_) | NodeKind::Flatten(..)
            )
        {
            let mut tasks = BTreeSet::new();
            for c in &node.conds {
                if let Cond::Native(v) = c {
                    value_tasks(v, &mut tasks);
                }
            }
            readers.push((n, tasks));
        }
    }
    for (li, l) in p.loops.iter().enumerate() {
        if let Some(e) = g.pipes[pi].enumerate[li] {
            let mut tasks = BTreeSet::new();
            value_tasks(&l.items, &mut tasks);
            readers.push((e, tasks));
        }
    }
    for (n, tasks) in readers {
        for t in tasks {
            if let Some(ti) = index.get(t.as_str()) {
                g.depend(n, task_node[*ti]);
            }
        }
    }
    // Evaluating nodes wait for the tasks whose metrics they read.
    let evals: Vec<(NodeId, Value)> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| g.frames[n.frame].pipe == pi)
        .filter_map(|(i, n)| match &n.kind {
            NodeKind::Eval(v) => Some((i, v.clone())),
            _ => None,
        })
        .collect();
    for (n, v) in evals {
        let mut tasks = BTreeSet::new();
        value_tasks(&v, &mut tasks);
        for t in tasks {
            if let Some(ti) = index.get(t.as_str()) {
                g.depend(n, task_node[*ti]);
            }
        }
    }
    for (ci, c) in p.checks.iter().enumerate() {
        let n = g.pipes[pi].checks[ci];
        let mut tasks = BTreeSet::new();
        value_tasks(&c.condition, &mut tasks);
        for t in tasks {
            if let Some(ti) = index.get(t.as_str()) {
                g.depend(n, task_node[*ti]);
            }
        }
    }
}

/// A topological order of a frame's nodes, keeping the current order where it can.
fn topo(g: &Graph, nodes: &[NodeId]) -> Vec<NodeId> {
    let set: BTreeSet<NodeId> = nodes.iter().copied().collect();
    let mut done: BTreeSet<NodeId> = BTreeSet::new();
    let mut out = Vec::with_capacity(nodes.len());
    while out.len() < nodes.len() {
        let before = out.len();
        for n in nodes {
            if done.contains(n) {
                continue;
            }
            let ready = g.nodes[*n]
                .deps
                .iter()
                .all(|d| done.contains(d) || !set.contains(d));
            if ready {
                done.insert(*n);
                out.push(*n);
            }
        }
        if out.len() == before {
            // A cycle cannot happen in a checked plan; keep the rest in order.
            out.extend(nodes.iter().filter(|n| !done.contains(n)));
            break;
        }
    }
    out
}

/// Splits frame `f` into chunks of at most [`MAX_TASKS`] consecutive nodes of a topological
/// order; `f` then holds one node per chunk.
fn chunk(g: &mut Graph, f: FrameId, names: &mut Namer) {
    let order = topo(g, &g.frames[f].nodes.clone());
    let n = order.len();
    let k = n.div_ceil(MAX_TASKS);
    let size = n.div_ceil(k);
    let groups: Vec<Vec<NodeId>> = order.chunks(size).map(<[NodeId]>::to_vec).collect();
    let mut group_of: HashMap<NodeId, usize> = HashMap::new();
    for (i, grp) in groups.iter().enumerate() {
        for m in grp {
            group_of.insert(*m, i);
        }
    }
    let base = g.frames[f].name.clone();
    let pipe = g.frames[f].pipe;
    g.frames[f].nodes.clear();
    g.frames[f].namer = Namer::new();
    let mut chunk_nodes = Vec::new();
    for (i, grp) in groups.iter().enumerate() {
        let c = g.add_frame(
            names.name(&format!("{base}-part-{}", i + 1), 63),
            pipe,
            FrameKind::Chunk,
        );
        let cn = g.add_node(f, &format!("part-{}", i + 1), NodeKind::Frame);
        g.attach(cn, c);
        for m in grp {
            g.nodes[*m].frame = c;
            g.frames[c].nodes.push(*m);
            g.frames[c].namer.name(&g.nodes[*m].name.clone(), 63);
        }
        chunk_nodes.push(cn);
    }
    for (i, grp) in groups.iter().enumerate() {
        for m in grp {
            let deps: Vec<NodeId> = g.nodes[*m].deps.iter().copied().collect();
            for d in deps {
                match group_of.get(&d) {
                    Some(j) if *j == i => {}
                    Some(j) => {
                        g.nodes[*m].deps.remove(&d);
                        let (a, b) = (chunk_nodes[i], chunk_nodes[*j]);
                        g.nodes[a].deps.insert(b);
                    }
                    None => {}
                }
            }
        }
    }
}
