//! The nested DAGs of one pipeline: which task runs in which `for-loop-N`, `condition-N`,
//! `condition-branches-N` or `exit-handler-N` sub-DAG.
//!
//! The plan gives each task its enclosing loops and the conjunction of the conditions of its
//! enclosing `if` branches, but not how loops and `if`s nest in the source. A condition is put
//! outside a loop when every task of the loop has it and it reads nothing of the loop; otherwise
//! inside (both orders run the same tasks; this one keeps each loop in one piece). Sibling
//! groups guarded by `X` and `not X` are one `if`/`else` chain: they go under a
//! `condition-branches-N` DAG, and an `else if` chain is flattened the way kfp writes it
//! (`X`, `!(X) && Y`, `!(X) && !(Y)`), so a value bound in every branch can be merged there.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;
use serde_json::Value as Json;

use super::small_map::SmallMap;
use super::small_set::SortedSet;
use super::types::{Def, KType};
use flowc_compiler::plan::{PipelinePlan, Task, TaskKind, TypeRepr, Value};

/// Where a DAG task input comes from.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Src {
    /// `componentInputParameter` / `componentInputArtifact`.
    Comp {
        /// The enclosing component's input.
        name: String,
        /// An artifact rather than a parameter.
        artifact: bool,
    },
    /// `taskOutputParameter` / `taskOutputArtifact`.
    Task {
        /// The producer task, a sibling.
        task: String,
        /// Its output.
        key: String,
        /// An artifact rather than a parameter.
        artifact: bool,
    },
    /// `runtimeValue.constant`.
    Const(Json),
    /// `taskFinalStatus`: how the group `producer` (the exit handler's body) ended, given to
    /// an exit task as a `PipelineTaskFinalStatus`.
    FinalStatus {
        /// The exit handler's body.
        producer: String,
    },
    /// `componentInputParameter` with a `parameterExpressionSelector`: a field of a record
    /// loop item (`parseJson(string_value)["region"]`, as the kfp SDK writes `item.region`).
    Select {
        /// The enclosing component's input (the loop item).
        name: String,
        /// The CEL selector.
        selector: String,
    },
}

/// DAG outputs by name: type and selectors `(producerSubtask, key)`.
pub(super) type DagOutputs = IndexMap<String, (KType, Vec<(String, String)>)>;

/// What a DAG node is.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum NodeKind {
    /// The pipeline's own DAG (`root`, or the component of a pipeline called as a step).
    Root,
    /// The body of an exit handler.
    ExitHandler,
    /// A `for` loop (index into the pipeline's loops).
    Loop(usize),
    /// A condition: the conjunction of these values.
    Cond(Vec<Value>),
    /// The branches of an `if` chain; `exhaustive` when it ends with an `else`.
    Branches {
        /// Whether exactly one branch always runs.
        exhaustive: bool,
    },
}

/// A DAG: the root or a group.
#[derive(Clone, Debug)]
pub(super) struct Node {
    pub kind: NodeKind,
    pub parent: Option<usize>,
    pub children: Vec<Child>,
    /// Task key in the parent DAG, and component name without `comp-`.
    pub key: String,
    /// The group number (`for-loop-N`).
    pub number: usize,
    /// Component inputs.
    pub inputs: IndexMap<String, Def>,
    /// Wiring of those inputs on the group's task in the parent DAG.
    pub task_inputs: IndexMap<String, Src>,
    /// `dependentTasks` of the group's task.
    pub deps: SortedSet,
    /// DAG outputs: definition and selectors `(producerSubtask, key)` (several for a one-of).
    pub outputs: DagOutputs,
    /// Loops: the item input, its type, and the iterated items.
    pub iterator: Option<Iterator>,
    /// Conditions: the CEL expression.
    pub cel: Option<String>,
    /// Inputs whose value may be missing (it comes from a branch that may not run).
    pub optional: BTreeSet<String>,
    /// Removed by flattening an `else if` chain.
    pub dead: bool,
}

/// How a loop iterates.
#[derive(Clone, Debug)]
pub(super) struct Iterator {
    /// `itemInput`.
    pub item_input: String,
    /// Its type.
    pub item_type: KType,
    /// `items.raw` (JSON text) or `items.inputParameter` / `items.inputArtifact`.
    pub items: Items,
    /// `iteratorPolicy.parallelismLimit`.
    pub parallel: Option<u32>,
}

/// The items of a loop.
#[derive(Clone, Debug)]
pub(super) enum Items {
    /// A literal list, as JSON text.
    Raw(String),
    /// An input of the loop's component.
    Input {
        /// Its name.
        name: String,
        /// Whether it is a list of artifacts.
        artifact: bool,
    },
    /// Not known yet (wired later).
    Pending,
}

/// A child of a DAG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Child {
    Leaf(usize),
    Node(usize),
}

/// What a leaf task runs.
#[derive(Clone, Debug)]
pub(super) enum LeafKind {
    /// A task of the plan (index in the pipeline's tasks).
    Task(usize),
    /// Imports the entry pipeline's artifact parameter from its URI.
    Importer {
        /// The artifact's type.
        ty: KType,
    },
    /// Computes a value in the flowc runtime image (`flowc.eval`), or fails the run when a
    /// `check` is false (`flowc.check`, with the check as written).
    Eval {
        /// The value (boxed: a plan value is larger than the other kinds, and every leaf
        /// holds its kind).
        value: Box<Value>,
        /// For a check: its source text.
        check: Option<String>,
    },
    /// The `else` branch added for plan task `of` (index in the pipeline's tasks), bound in one
    /// branch of an `if` and read after it only by built-in steps' optional inputs: writes the
    /// no-value marker (`flowc exec --absent`) as each of its artifact outputs, so that the
    /// readers take a one-of of the two branches, as a kfp `dsl.OneOf` after `dsl.If`/`dsl.Else`.
    Absent {
        /// The task it stands in for.
        of: usize,
    },
    /// Gathers a list of artifacts (a fan-in) into one folder of numbered entries for a
    /// container step, which KFP cannot give a list of artifacts as a path (`flowc exec
    /// --gather`): input `items`, output `folder`.
    Gather,
}

/// A task that runs an executor (or a pipeline component).
#[derive(Clone, Debug)]
pub(super) struct Leaf {
    pub kind: LeafKind,
    pub node: usize,
    pub key: String,
    pub display: String,
    /// Input wiring.
    pub inputs: SmallMap<Src>,
    /// Input definitions of its component.
    pub defs: SmallMap<Def>,
    /// Output definitions of its component.
    pub outputs: SmallMap<Def>,
    pub deps: SortedSet,
    /// An exit handler.
    pub finally: bool,
    /// For evaluations and checks: what they read (`--param`, `--item` or `--metrics`, the name
    /// on the command line, the input key).
    pub refs: Vec<(String, String, String)>,
    /// Inputs left out: `true` when the value is `none`, `false` when the callee's default
    /// applies.
    pub skipped: SmallMap<bool>,
    /// Inputs given `run.status`: KFP hands them over as a `PipelineTaskFinalStatus`, which
    /// the executor's adapter turns into `succeeded` or `failed` (`exec.rs`).
    pub final_status: BTreeSet<String>,
    /// Parameters naming a Secret of the task (`k8s(param p, ...)`): parameter → the input of
    /// the leaf's DAG it is read from (`secret_name.rs`).
    pub secret_names: BTreeMap<String, String>,
}

impl Leaf {
    pub(super) fn new(kind: LeafKind, node: usize, display: String) -> Leaf {
        Leaf {
            kind,
            node,
            key: String::new(),
            display,
            inputs: SmallMap::new(),
            defs: SmallMap::new(),
            outputs: SmallMap::new(),
            deps: SortedSet::new(),
            finally: false,
            refs: Vec::new(),
            skipped: SmallMap::new(),
            final_status: BTreeSet::new(),
            secret_names: BTreeMap::new(),
        }
    }
}

/// The DAGs of one pipeline.
#[derive(Clone, Debug)]
pub(super) struct Graph {
    /// The pipeline's name in the plan.
    pub pipeline: String,
    /// Whether it is the entry pipeline (`root`).
    pub entry: bool,
    pub nodes: Vec<Node>,
    pub leaves: Vec<Leaf>,
    /// Plan task index → its leaf (see [`Graph::leaf_of`]).
    task_leaf: Vec<usize>,
    /// Plan task id → index in the pipeline's tasks.
    pub task_index: HashMap<String, usize>,
    /// Plan task id → the other tasks binding the same name in other branches of an `if`
    /// (`weights-2`, `weights-3` for `weights`): ids are the binding's name, then `-2`, `-3`.
    pub alternatives: HashMap<String, Vec<usize>>,
    /// Where the body goes: the root, or the exit handler's DAG.
    pub body: usize,
    /// Component name (without `comp-`) of a pipeline called as a step.
    pub component: String,
    /// Plan task id → the [`LeafKind::Absent`] leaf of the `else` branch added for it.
    pub absent: HashMap<String, usize>,
    /// Index of a check in the plan → the condition group made for it in an `if` branch
    /// (it keeps its id when an `else if` chain is paired into a `condition-branches` group).
    pub check_groups: HashMap<usize, usize>,
}

impl Node {
    fn new(kind: NodeKind, parent: Option<usize>) -> Node {
        Node {
            kind,
            parent,
            children: Vec::new(),
            key: String::new(),
            number: 0,
            inputs: IndexMap::new(),
            task_inputs: IndexMap::new(),
            deps: SortedSet::new(),
            outputs: IndexMap::new(),
            iterator: None,
            cel: None,
            optional: BTreeSet::new(),
            dead: false,
        }
    }
}

/// One level of nesting of a task.
#[derive(Clone, Debug)]
enum Frame {
    Loop(usize),
    Cond(Value, String),
}

/// Tasks and loops referenced by a value.
pub(super) fn refs(v: &Value, tasks: &mut BTreeSet<String>, loops: &mut BTreeSet<usize>) {
    match v {
        Value::Output { task, .. } | Value::Metric { task, .. } => {
            tasks.insert(task.clone());
        }
        Value::LoopItem { r#loop } => {
            loops.insert(*r#loop);
        }
        Value::Template { parts } => {
            for p in parts {
                if let flowc_compiler::plan::Part::Value { value } = p {
                    refs(value, tasks, loops);
                }
            }
        }
        Value::List { items: args } | Value::Op { args, .. } => {
            for a in args {
                refs(a, tasks, loops);
            }
        }
        Value::Field { record, .. } => refs(record, tasks, loops),
        Value::Literal { .. } | Value::Param { .. } | Value::Run { .. } => {}
    }
}

fn key_of(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl Graph {
    /// The leaf of plan task `id` (every task of the pipeline has one, made in task order by
    /// [`Graph::build`]); found through `task_index` rather than a second map of the ids.
    pub(super) fn leaf_of(&self, id: &str) -> Option<usize> {
        let &i = self.task_index.get(id)?;
        self.task_leaf.get(i).copied()
    }

    /// Places the tasks of `p` in nested DAGs. Leaves for importers, helpers and checks are
    /// added later; names are given by [`Graph::name`].
    pub(super) fn build(p: &PipelinePlan, entry: bool) -> Graph {
        let mut g = Graph {
            pipeline: p.name.clone(),
            entry,
            nodes: vec![Node::new(NodeKind::Root, None)],
            // A leaf per task, and a few helpers: sized at once, as a leaf is hundreds of
            // bytes and a vector grown by doubling touches twice the memory.
            leaves: Vec::with_capacity(p.tasks.len() + p.tasks.len() / 8),
            task_leaf: Vec::with_capacity(p.tasks.len()),
            task_index: p
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.clone(), i))
                .collect(),
            alternatives: HashMap::new(),
            body: 0,
            component: String::new(),
            absent: HashMap::new(),
            check_groups: HashMap::new(),
        };
        for (i, t) in p.tasks.iter().enumerate() {
            let Some((base, n)) = t.id.rsplit_once('-') else {
                continue;
            };
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                if let Some(&b) = g.task_index.get(base) {
                    let (tb, ti) = (&p.tasks[b], t);
                    if !tb.when.is_empty() && !ti.when.is_empty() && tb.loops == ti.loops {
                        g.alternatives.entry(base.to_string()).or_default().push(i);
                    }
                }
            }
        }
        if p.tasks.iter().any(|t| t.is_finally) {
            g.body = g.add_node(NodeKind::ExitHandler, 0);
        }
        // Which tasks each loop holds (nested loops included), and what the loop reads.
        let mut in_loop: Vec<Vec<usize>> = vec![Vec::new(); p.loops.len()];
        for (i, t) in p.tasks.iter().enumerate() {
            for l in &t.loops {
                if let Some(v) = in_loop.get_mut(*l) {
                    v.push(i);
                }
            }
        }
        let whens: Vec<Vec<String>> = p
            .tasks
            .iter()
            .map(|t| t.when.iter().map(key_of).collect())
            .collect();
        for (i, t) in p.tasks.iter().enumerate() {
            if t.is_finally {
                let leaf = g.add_leaf(Leaf::new(LeafKind::Task(i), 0, t.id.clone()));
                g.leaves[leaf].finally = true;
                g.task_leaf.push(leaf);
                continue;
            }
            let mut loops: Vec<usize> = t.loops.clone();
            loops.sort_by_key(|l| p.loops.get(*l).map_or(0, |x| x.parents.len()));
            let conds: Vec<(Value, String)> =
                t.when.iter().map(|v| (v.clone(), key_of(v))).collect();
            let mut frames = Vec::new();
            let (mut li, mut ci) = (0, 0);
            while li < loops.len() || ci < conds.len() {
                let take_cond = match (loops.get(li), conds.get(ci)) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(&l), Some((v, k))) => {
                        let mut tasks = BTreeSet::new();
                        let mut read_loops = BTreeSet::new();
                        refs(v, &mut tasks, &mut read_loops);
                        let inside = |task: &String| {
                            p.tasks
                                .iter()
                                .find(|x| &x.id == task)
                                .is_some_and(|x| x.loops.contains(&l))
                        };
                        let nested = |r: &usize| {
                            *r == l || p.loops.get(*r).is_some_and(|x| x.parents.contains(&l))
                        };
                        in_loop[l].iter().all(|j| whens[*j].contains(k))
                            && !tasks.iter().any(inside)
                            && !read_loops.iter().any(nested)
                    }
                };
                if take_cond {
                    let (v, k) = conds[ci].clone();
                    frames.push(Frame::Cond(v, k));
                    ci += 1;
                } else {
                    frames.push(Frame::Loop(loops[li]));
                    li += 1;
                }
            }
            let mut node = g.body;
            for f in frames {
                node = g.child_for(node, f);
            }
            let leaf = g.add_leaf(Leaf::new(LeafKind::Task(i), node, t.id.clone()));
            g.task_leaf.push(leaf);
        }
        g.add_absent_branches(p);
        // The condition groups of checks in `if` branches, made now so that they are named and
        // paired with their `else` like the groups of tasks (`wire_checks` finds them again).
        for (i, c) in p.checks.iter().enumerate() {
            if c.when.is_empty() {
                continue;
            }
            let start = match c.loops.last() {
                None => Some(g.body),
                Some(l) => (0..g.nodes.len()).find(|n| g.nodes[*n].kind == NodeKind::Loop(*l)),
            };
            if let Some(mut node) = start {
                for w in &c.when {
                    node = g.under_condition(node, w);
                }
                g.check_groups.insert(i, node);
            }
        }
        g.pair_branches(0);
        g
    }

    /// Adds an `else` branch with an [`LeafKind::Absent`] leaf for each task bound in the one
    /// branch of an `if` (a single condition, no other branch binding its name) whose outputs
    /// are read after the `if` only as built-in steps' optional artifact inputs. Other reads
    /// (a container step, which could not tell the marker from data; a check, a loop or a
    /// pipeline output) leave the task as it is, and the wiring reports them (E501).
    fn add_absent_branches(&mut self, p: &PipelinePlan) {
        // Only a task under exactly one condition can get one: without any, the reads need
        // not be gathered.
        let candidate = |t: &&Task| {
            t.when.len() == 1 && !t.is_finally && !self.alternatives.contains_key(&t.id)
        };
        if !p.tasks.iter().any(|t| candidate(&t)) {
            return;
        }
        // Every read of a task's outputs, found once: (reader's conditions, whether the read
        // could take the no-value marker). Checks, loops and pipeline outputs never can.
        let mut reads: HashMap<String, Vec<(&[Value], bool)>> = HashMap::new();
        fn note<'p>(
            reads: &mut HashMap<String, Vec<(&'p [Value], bool)>>,
            v: &Value,
            when: &'p [Value],
            marker_ok: bool,
        ) {
            let (mut tasks, mut loops) = (BTreeSet::new(), BTreeSet::new());
            refs(v, &mut tasks, &mut loops);
            for t in tasks {
                reads.entry(t).or_default().push((when, marker_ok));
            }
        }
        for r in &p.tasks {
            let builtin = matches!(r.kind, TaskKind::Builtin { .. });
            for input in &r.inputs {
                // Only a task output itself, as a built-in step's optional artifact input.
                let marker_ok = builtin
                    && matches!(input.ty, TypeRepr::Optional { .. })
                    && input.ty.is_artifact()
                    && matches!(input.value, Value::Output { .. });
                note(&mut reads, &input.value, &r.when, marker_ok);
            }
        }
        for c in &p.checks {
            note(&mut reads, &c.condition, &c.when, false);
        }
        for o in &p.outputs {
            note(&mut reads, &o.value, &[], false);
        }
        for l in &p.loops {
            note(&mut reads, &l.items, &[], false);
        }
        for (i, t) in p.tasks.iter().enumerate() {
            let [x] = t.when.as_slice() else { continue };
            if t.is_finally || self.alternatives.contains_key(&t.id) {
                continue;
            }
            let xk = key_of(x);
            // Reads from outside the branch (inside it, the value is always there).
            let outside: Vec<bool> = reads
                .get(&t.id)
                .into_iter()
                .flatten()
                .filter(|(when, _)| !when.iter().any(|w| key_of(w) == xk))
                .map(|(_, marker_ok)| *marker_ok)
                .collect();
            if outside.is_empty() || !outside.iter().all(|ok| *ok) {
                continue;
            }
            let Some(leaf) = self.leaf_of(&t.id) else {
                continue;
            };
            let node = self.leaves[leaf].node;
            if !matches!(&self.nodes[node].kind, NodeKind::Cond(v) if v.len() == 1) {
                continue;
            }
            let parent = self.nodes[node].parent.unwrap_or(0);
            let not_x = Value::Op {
                op: "not".into(),
                args: vec![x.clone()],
            };
            let branch = self.else_node(parent, node, not_x);
            let absent = self.add_leaf(Leaf::new(
                LeafKind::Absent { of: i },
                branch,
                format!("{}-absent", t.id),
            ));
            self.absent.insert(t.id.clone(), absent);
        }
    }

    pub(super) fn add_node(&mut self, kind: NodeKind, parent: usize) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node::new(kind, Some(parent)));
        self.nodes[parent].children.push(Child::Node(id));
        id
    }

    /// Adds a leaf as the last child of its node.
    pub(super) fn add_leaf(&mut self, leaf: Leaf) -> usize {
        let id = self.leaves.len();
        let node = leaf.node;
        self.leaves.push(leaf);
        self.nodes[node].children.push(Child::Leaf(id));
        id
    }

    /// The node under `node` that runs only when `cond` holds: `node` itself when it or an
    /// ancestor already has that condition, a condition group (made if needed) otherwise.
    pub(super) fn under_condition(&mut self, node: usize, cond: &Value) -> usize {
        let key = key_of(cond);
        let mut n = Some(node);
        while let Some(x) = n {
            if let NodeKind::Cond(vs) = &self.nodes[x].kind {
                if vs.iter().any(|v| key_of(v) == key) {
                    return node;
                }
            }
            n = self.nodes[x].parent;
        }
        // A group made earlier may since have moved into a `condition-branches` group.
        let is_cond = |n: usize| matches!(&self.nodes[n].kind, NodeKind::Cond(vs) if vs.len() == 1 && key_of(&vs[0]) == key);
        for c in self.nodes[node].children.iter().rev() {
            let Child::Node(m) = c else { continue };
            if is_cond(*m) {
                return *m;
            }
            if matches!(self.nodes[*m].kind, NodeKind::Branches { .. }) {
                for cc in &self.nodes[*m].children {
                    if let Child::Node(x) = cc {
                        if is_cond(*x) {
                            return *x;
                        }
                    }
                }
            }
        }
        self.child_for(node, Frame::Cond(cond.clone(), key))
    }

    /// The child of `node` for frame `f`: a loop's one group, or a condition group. A task
    /// joins a group of its condition only when that group is `node`'s last child: separate
    /// `if`s on one condition, with a task or loop between them, get groups of their own (one
    /// group for both could depend on what runs between them, and that on it: a cycle).
    fn child_for(&mut self, node: usize, f: Frame) -> usize {
        let last = self.nodes[node].children.last().copied();
        for c in &self.nodes[node].children {
            if let Child::Node(n) = c {
                let same = match (&self.nodes[*n].kind, &f) {
                    (NodeKind::Loop(a), Frame::Loop(b)) => a == b,
                    (NodeKind::Cond(a), Frame::Cond(_, k)) => {
                        a.len() == 1 && key_of(&a[0]) == *k && last == Some(Child::Node(*n))
                    }
                    _ => false,
                };
                if same {
                    return *n;
                }
            }
        }
        let kind = match f {
            Frame::Loop(l) => NodeKind::Loop(l),
            Frame::Cond(v, _) => NodeKind::Cond(vec![v]),
        };
        self.add_node(kind, node)
    }

    /// The single condition of a condition node, as a key.
    fn single_cond(&self, n: usize) -> Option<String> {
        match &self.nodes[n].kind {
            NodeKind::Cond(v) if v.len() == 1 => Some(key_of(&v[0])),
            _ => None,
        }
    }

    /// The `else` of the condition group at `n`'s child `i` (condition `x`): the first child
    /// after it whose condition is `not_x` (the key), unless another group on `x` (a separate
    /// `if`) comes first.
    fn else_child(&self, n: usize, i: usize, x: &str, not_x: &str) -> Option<usize> {
        for c in &self.nodes[n].children[i + 1..] {
            let Child::Node(m) = c else { continue };
            match self.single_cond(*m) {
                Some(k) if k == not_x => return Some(*m),
                Some(k) if k == x => return None,
                _ => {}
            }
        }
        None
    }

    /// The `not x` group beside the condition group `branch` (a child of `parent`) for an
    /// `else` of absent values: the one right after it, or a new one put right after it.
    fn else_node(&mut self, parent: usize, branch: usize, not_x: Value) -> usize {
        let key = key_of(&not_x);
        let kids = &self.nodes[parent].children;
        let at = kids.iter().position(|c| *c == Child::Node(branch));
        let next = at.and_then(|i| kids.get(i + 1)).copied();
        if let Some(Child::Node(m)) = next {
            if self.single_cond(m).as_deref() == Some(key.as_str()) {
                return m;
            }
        }
        let id = self.add_node(NodeKind::Cond(vec![not_x]), parent);
        if let Some(i) = at {
            let made = self.nodes[parent].children.pop();
            if let Some(made) = made {
                self.nodes[parent].children.insert(i + 1, made);
            }
        }
        id
    }

    /// Groups `X` / `not X` siblings into `condition-branches` DAGs, recursively.
    fn pair_branches(&mut self, n: usize) {
        let mut i = 0;
        // The branches of a chain are not paired again.
        let paired = matches!(self.nodes[n].kind, NodeKind::Branches { .. });
        while !paired && i < self.nodes[n].children.len() {
            let Child::Node(x) = self.nodes[n].children[i] else {
                i += 1;
                continue;
            };
            let NodeKind::Cond(vx) = self.nodes[x].kind.clone() else {
                i += 1;
                continue;
            };
            let negated = (vx.len() == 1).then(|| {
                let not_x = key_of(&Value::Op {
                    op: "not".into(),
                    args: vec![vx[0].clone()],
                });
                (key_of(&vx[0]), not_x)
            });
            let Some(y) = negated.and_then(|(x, k)| self.else_child(n, i, &x, &k)) else {
                i += 1;
                continue;
            };
            // A chain: X, then the branches found inside `not X`.
            let mut branches = vec![(x, vx.clone())];
            let mut rest = y;
            let mut prefix = match &self.nodes[y].kind {
                NodeKind::Cond(v) => v.clone(),
                _ => Vec::new(),
            };
            let exhaustive = loop {
                let kids = self.nodes[rest].children.clone();
                let conds: Vec<usize> = kids
                    .iter()
                    .filter_map(|c| match c {
                        Child::Node(m) if self.single_cond(*m).is_some() => Some(*m),
                        _ => None,
                    })
                    .collect();
                let inner = match conds.as_slice() {
                    [z] if kids.len() == 1 => Some((*z, None)),
                    [a, b] if kids.len() == 2 => {
                        let not_of = |p: usize, q: usize| {
                            let NodeKind::Cond(v) = self.nodes[p].kind.clone() else {
                                return false;
                            };
                            self.single_cond(q)
                                == Some(key_of(&Value::Op {
                                    op: "not".into(),
                                    args: vec![v[0].clone()],
                                }))
                        };
                        if not_of(*a, *b) {
                            Some((*a, Some(*b)))
                        } else if not_of(*b, *a) {
                            Some((*b, Some(*a)))
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                match inner {
                    Some((z, w)) => {
                        self.nodes[rest].dead = true;
                        let NodeKind::Cond(vz) = self.nodes[z].kind.clone() else {
                            break false;
                        };
                        let mut conds_z = prefix.clone();
                        conds_z.extend(vz.iter().cloned());
                        branches.push((z, conds_z));
                        match w {
                            Some(w) => {
                                if let NodeKind::Cond(vw) = &self.nodes[w].kind {
                                    prefix.extend(vw.iter().cloned());
                                }
                                rest = w;
                            }
                            None => break false,
                        }
                    }
                    None => {
                        branches.push((rest, prefix.clone()));
                        break true;
                    }
                }
            };
            let b = self.nodes.len();
            let mut node = Node::new(NodeKind::Branches { exhaustive }, Some(n));
            for (m, conds) in &branches {
                node.children.push(Child::Node(*m));
                self.nodes[*m].parent = Some(b);
                self.nodes[*m].kind = NodeKind::Cond(conds.clone());
            }
            self.nodes.push(node);
            self.nodes[n].children[i] = Child::Node(b);
            self.nodes[n].children.retain(|c| *c != Child::Node(y));
            i = self.nodes[n]
                .children
                .iter()
                .position(|c| *c == Child::Node(b))
                .map_or(i + 1, |p| p + 1);
        }
        let kids: Vec<usize> = self.nodes[n]
            .children
            .iter()
            .filter_map(|c| match c {
                Child::Node(m) => Some(*m),
                Child::Leaf(_) => None,
            })
            .collect();
        for m in kids {
            self.pair_branches(m);
        }
    }

    /// The nodes from `n` up to the root, `n` first.
    pub(super) fn path(&self, n: usize) -> Vec<usize> {
        let mut out = vec![n];
        let mut cur = n;
        while let Some(p) = self.nodes[cur].parent {
            out.push(p);
            cur = p;
        }
        out
    }

    /// The lowest common ancestor of two nodes.
    pub(super) fn lca(&self, a: usize, b: usize) -> usize {
        let pa = self.path(a);
        let pb: BTreeSet<usize> = self.path(b).into_iter().collect();
        pa.into_iter().find(|x| pb.contains(x)).unwrap_or(0)
    }

    /// The child of `ancestor` on the way down to `n` (`n` itself when it is a child).
    pub(super) fn child_towards(&self, ancestor: usize, n: usize) -> usize {
        let mut cur = n;
        while let Some(p) = self.nodes[cur].parent {
            if p == ancestor {
                return cur;
            }
            cur = p;
        }
        n
    }

    /// The loops enclosing node `n`, outermost first.
    pub(super) fn loops_of(&self, n: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .path(n)
            .into_iter()
            .filter_map(|m| match self.nodes[m].kind {
                NodeKind::Loop(l) => Some(l),
                _ => None,
            })
            .collect();
        out.reverse();
        out
    }

    /// Marks dead the condition groups under `n` left with no task (KFP rejects an empty DAG):
    /// a check's group made in an `else if` chain whose check went into another group. Returns
    /// whether `n` holds a task.
    pub(super) fn prune_empty(&mut self, n: usize) -> bool {
        let mut any = false;
        for c in self.nodes[n].children.clone() {
            match c {
                Child::Leaf(_) => any = true,
                Child::Node(m) if !self.nodes[m].dead => any |= self.prune_empty(m),
                Child::Node(_) => {}
            }
        }
        if !any
            && matches!(
                self.nodes[n].kind,
                NodeKind::Cond(_) | NodeKind::Branches { .. }
            )
        {
            self.nodes[n].dead = true;
        }
        any
    }

    /// Live nodes in depth-first pre-order from `n`, and leaves in the same walk.
    pub(super) fn walk(&self, n: usize, nodes: &mut Vec<usize>, leaves: &mut Vec<usize>) {
        nodes.push(n);
        for c in &self.nodes[n].children {
            match c {
                Child::Leaf(l) => leaves.push(*l),
                Child::Node(m) if !self.nodes[*m].dead => self.walk(*m, nodes, leaves),
                Child::Node(_) => {}
            }
        }
    }
}
