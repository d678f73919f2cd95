//! The two YAML documents as JSON trees: components, executors and DAGs of document 1, the
//! PlatformSpec of document 2. Keys are sorted alphabetically when written
//! ([`crate::yaml::KeyOrder::Sorted`]), as kfp writes them.

use crate::diagnostics;
use crate::yaml::WrittenEntries;
use serde_json::{json, Map, Value as Json};

use super::exec::retry_policy;
use super::small_map::SmallMap;
use super::small_set::SortedSet;
use super::tree::{Child, DagOutputs, Items, Leaf, LeafKind, NodeKind, Src};
use super::types::{constant, definitions, ktype, write_definitions, Def, KType};
use super::Emitter;
use crate::obj;
use flowc_compiler::plan::{CachePlan, TaskKind, TypeRepr};
use std::borrow::Cow;

/// `inputs` of a DAG task.
fn task_inputs<'a>(inputs: impl IntoIterator<Item = (&'a String, &'a Src)>) -> Option<Json> {
    let mut params = Map::new();
    let mut arts = Map::new();
    for (name, src) in inputs {
        match src {
            Src::Comp {
                name: n,
                artifact: true,
            } => {
                arts.insert(name.clone(), json!({"componentInputArtifact": n}));
            }
            Src::Comp {
                name: n,
                artifact: false,
            } => {
                params.insert(name.clone(), json!({"componentInputParameter": n}));
            }
            Src::Task {
                task,
                key,
                artifact: true,
            } => {
                arts.insert(
                    name.clone(),
                    json!({"taskOutputArtifact": {"producerTask": task, "outputArtifactKey": key}}),
                );
            }
            Src::Task {
                task,
                key,
                artifact: false,
            } => {
                params.insert(
                    name.clone(),
                    json!({"taskOutputParameter": {"producerTask": task, "outputParameterKey": key}}),
                );
            }
            Src::Const(c) => {
                params.insert(name.clone(), json!({"runtimeValue": {"constant": c}}));
            }
            Src::FinalStatus { producer } => {
                params.insert(
                    name.clone(),
                    json!({"taskFinalStatus": {"producerTask": producer}}),
                );
            }
            Src::Select { name: n, selector } => {
                params.insert(
                    name.clone(),
                    json!({"componentInputParameter": n, "parameterExpressionSelector": selector}),
                );
            }
        }
    }
    let mut out = Map::new();
    if !arts.is_empty() {
        out.insert("artifacts".into(), Json::Object(arts));
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Json::Object(params));
    }
    (!out.is_empty()).then_some(Json::Object(out))
}

/// The room reserved for each written entry: the components, executors and root tasks of
/// the distinct-steps pipelines take 370 to 530 bytes each; larger ones grow the buffer.
const ENTRY_BYTES: usize = 640;

/// The entries of one of the large mappings (the leaves' `components` and
/// `deploymentSpec.executors`, the root's `dag.tasks`): trees, or, when written as they are
/// made, their YAML text (see [`Rendered`]).
struct LeafEntries {
    /// The depth of the entries in the document (components 1, executors 2, root tasks 3).
    depth: usize,
    /// Whether entries are written as they are made.
    stream: bool,
    /// The entries written.
    written: WrittenEntries,
    /// Whether an entry could not be written (see [`crate::yaml::push_sorted_entry`]).
    failed: bool,
}

impl LeafEntries {
    /// Entries at `depth`, written when `stream`, room made for `leaves` of them.
    fn new(depth: usize, stream: bool, leaves: usize) -> LeafEntries {
        let written = if stream {
            WrittenEntries::with_capacity(leaves, leaves * ENTRY_BYTES)
        } else {
            WrittenEntries::default()
        };
        LeafEntries {
            depth,
            stream,
            written,
            failed: false,
        }
    }

    /// Adds the entry `key: value`, to `trees` or written.
    fn insert(&mut self, key: String, value: Json, trees: &mut Map<String, Json>) {
        if !self.stream {
            trees.insert(key, value);
            return;
        }
        self.write(key, &value);
    }

    /// Writes the entry `key: value`.
    fn write(&mut self, key: String, value: &Json) {
        if !self.written.push(key, value, self.depth) {
            self.failed = true;
        }
    }

    /// Writes the entry `key` with `direct` (from the record, at this depth), or, when that
    /// refuses it, the tree `tree` makes; to `trees` when entries are not written.
    fn insert_with(
        &mut self,
        key: String,
        direct: impl FnOnce(&str, usize, &mut String) -> bool,
        tree: impl FnOnce() -> Json,
        trees: &mut Map<String, Json>,
    ) {
        if !self.stream {
            trees.insert(key, tree());
            return;
        }
        let depth = self.depth;
        if let Err(key) = self.written.push_with(key, |k, out| direct(k, depth, out)) {
            self.write(key, &tree());
        }
    }
}

/// The documents of a build: trees, and, when the leaves' components and executors and the
/// root's tasks were written as they were made (the trees of a 1,000-step pipeline are
/// megabytes of small allocations, and freeing each entry at once lets the next reuse its
/// memory), their text.
pub(super) struct Rendered {
    /// Document 1 (without the written entries) and, when there is one, document 2.
    pub docs: Vec<Json>,
    /// The written entries of `components`.
    pub components: WrittenEntries,
    /// The written entries of `deploymentSpec.executors`.
    pub executors: WrittenEntries,
    /// The written tasks of the root DAG (`root.dag.tasks`).
    pub root_tasks: WrittenEntries,
    /// The written root tasks and the tasks each depends on, in the order they were made, for
    /// the cycle check (see [`super::cycles`]).
    pub root_deps: Vec<(String, Vec<String>)>,
    /// Whether an entry could not be written: the build then renders the trees whole.
    pub failed: bool,
}

impl Emitter<'_> {
    /// Document 1 and, when any executor has Kubernetes settings, document 2; the leaves'
    /// components and executors, and the root's tasks, written as text when `stream`.
    pub(super) fn render(&self, stream: bool) -> Rendered {
        let mut components = Map::new();
        let mut executors = Map::new();
        let leaves = self.graphs.iter().map(|g| g.leaves.len()).sum();
        let mut leaf_components = LeafEntries::new(1, stream, leaves);
        let mut leaf_executors = LeafEntries::new(2, stream, leaves);
        // The root's tasks are written as made unless volumes add tasks and dependencies to
        // them afterwards (see `add_pvc_tasks`).
        let root_leaves = self
            .graphs
            .iter()
            .find(|g| g.entry)
            .map_or(0, |g| g.leaves.len());
        let written_root = stream && self.plan.volumes.is_empty();
        let mut root_tasks = LeafEntries::new(3, written_root, root_leaves);
        let mut root_deps = Vec::new();
        let mut platform = Map::new();
        let mut root = json!({});
        let mut mounters: Vec<(String, String)> = Vec::new();
        for g in 0..self.graphs.len() {
            let (mut nodes, mut leaves) = (Vec::new(), Vec::new());
            self.graphs[g].walk(0, &mut nodes, &mut leaves);
            for l in leaves {
                let leaf = &self.graphs[g].leaves[l];
                if let LeafKind::Task(i) = leaf.kind {
                    if matches!(
                        self.pipeline_plan(g).tasks.get(i).map(|t| &t.kind),
                        Some(TaskKind::Pipeline { .. })
                    ) {
                        continue;
                    }
                }
                let k8s = match (leaf_executors.stream, &leaf.kind) {
                    (true, LeafKind::Task(_)) => {
                        let Some((c, k8s)) = self.container(g, l) else {
                            continue;
                        };
                        leaf_executors.insert_with(
                            prefixed("exec-", &leaf.key),
                            |key, depth, out| c.write(key, depth, out),
                            || c.tree(),
                            &mut executors,
                        );
                        k8s
                    }
                    _ => {
                        let Some((exec, k8s)) = self.executor(g, l) else {
                            continue;
                        };
                        leaf_executors.insert(prefixed("exec-", &leaf.key), exec, &mut executors);
                        k8s
                    }
                };
                leaf_components.insert_with(
                    prefixed("comp-", &leaf.key),
                    |key, depth, out| write_leaf_component(leaf, key, depth, out),
                    || leaf_component(leaf),
                    &mut components,
                );
                if let Some(p) = k8s {
                    platform.insert(prefixed("exec-", &leaf.key), p);
                }
                if let LeafKind::Task(i) = leaf.kind {
                    if let Some(task) = self.pipeline_plan(g).tasks.get(i) {
                        for v in self.created_mounts(g, task) {
                            mounters.push((leaf.key.clone(), v));
                        }
                    }
                }
            }
            for n in nodes {
                let graph = &self.graphs[g];
                let written = (n == 0 && graph.entry && root_tasks.stream)
                    .then_some((&mut root_tasks, &mut root_deps));
                let comp = self.dag_component(g, n, written);
                if n == 0 && graph.entry {
                    root = comp;
                } else if n == 0 {
                    components.insert(format!("comp-{}", graph.component), comp);
                } else {
                    components.insert(format!("comp-{}", graph.nodes[n].key), comp);
                }
            }
        }
        self.add_pvc_tasks(&mounters, &mut components, &mut executors, &mut root);
        let entry = self.plan.entry();
        let mut info = Map::new();
        info.insert("name".into(), json!(self.name));
        if let Some(d) = entry.and_then(|p| p.description.clone()) {
            info.insert("description".into(), json!(d));
        }
        let doc = obj([
            ("components", Json::Object(components)),
            (
                "deploymentSpec",
                obj([("executors", Json::Object(executors))]),
            ),
            ("pipelineInfo", Json::Object(info)),
            ("root", root),
            ("schemaVersion", json!("2.1.0")),
            (
                "sdkVersion",
                json!(format!("flowc-{}", self.plan.flowc_version)),
            ),
        ]);
        let mut docs = vec![doc];
        if !platform.is_empty() {
            let executors = obj([("executors", Json::Object(platform))]);
            let p = obj([(
                "platforms",
                obj([("kubernetes", obj([("deploymentSpec", executors)]))]),
            )]);
            docs.push(p);
        }
        Rendered {
            docs,
            failed: leaf_components.failed || leaf_executors.failed || root_tasks.failed,
            components: leaf_components.written,
            executors: leaf_executors.written,
            root_tasks: root_tasks.written,
            root_deps,
        }
    }

    /// The component of DAG node `n`: its tasks, outputs and interface; the tasks written,
    /// with their dependencies, into `written` when given.
    fn dag_component(&self, g: usize, n: usize, mut written: Option<WrittenTasks<'_>>) -> Json {
        let mut tasks = Map::new();
        for &c in &self.graphs[g].nodes[n].children {
            if let (Child::Leaf(l), Some((entries, deps))) = (c, written.as_mut()) {
                let t = self.leaf_task_record(g, l);
                deps.push((t.key.to_string(), t.deps.iter().cloned().collect()));
                let key = t.key.to_string();
                entries.insert_with(
                    key,
                    |_, depth, out| t.write(depth, out),
                    || t.tree(),
                    &mut tasks,
                );
                continue;
            }
            let (key, t) = match c {
                Child::Leaf(l) => self.leaf_task(g, l),
                Child::Node(m) if !self.graphs[g].nodes[m].dead => self.group_task(g, m),
                Child::Node(_) => continue,
            };
            match written.as_mut() {
                Some((entries, deps)) => {
                    deps.push((key.clone(), dependent_tasks(&t)));
                    entries.write(key, &t);
                }
                None => {
                    tasks.insert(key, t);
                }
            }
        }
        let node = &self.graphs[g].nodes[n];
        let mut dag = Map::new();
        if let Some(o) = dag_outputs(&node.outputs) {
            dag.insert("outputs".into(), o);
        }
        dag.insert("tasks".into(), Json::Object(tasks));
        let mut comp = Map::new();
        comp.insert("dag".into(), Json::Object(dag));
        let inputs = if n == 0 {
            self.pipeline_inputs(g)
        } else {
            definitions(&node.inputs)
        };
        if let Some(d) = inputs {
            comp.insert("inputDefinitions".into(), d);
        }
        let outs: Vec<(String, Def)> = node
            .outputs
            .iter()
            .map(|(k, (t, _))| (k.clone(), Def::of(t.clone())))
            .collect();
        if let Some(d) = definitions(outs.iter().map(|(k, d)| (k, d))) {
            comp.insert("outputDefinitions".into(), d);
        }
        Json::Object(comp)
    }

    /// The parameters of a pipeline as the inputs of its DAG; the entry pipeline takes an
    /// artifact parameter as its URI, which an importer task reads.
    fn pipeline_inputs(&self, g: usize) -> Option<Json> {
        let entry = self.graphs[g].entry;
        let defs: Vec<(String, Def)> = self
            .pipeline_plan(g)
            .params
            .iter()
            .map(|p| {
                let optional = matches!(p.ty, TypeRepr::Optional { .. });
                let ty = if entry && p.ty.is_artifact() {
                    KType::Param("STRING")
                } else {
                    ktype(&p.ty)
                };
                let default = p
                    .default
                    .as_ref()
                    .filter(|v| !v.is_null() && !ty.is_artifact())
                    .map(|v| Box::new(constant(v)));
                (
                    p.name.clone(),
                    Def {
                        ty,
                        optional: optional || p.default.is_some(),
                        default,
                    },
                )
            })
            .collect();
        definitions(defs.iter().map(|(k, d)| (k, d)))
    }

    fn leaf_task(&self, g: usize, l: usize) -> (String, Json) {
        let t = self.leaf_task_record(g, l);
        (t.key.to_string(), t.tree())
    }

    /// The task of leaf `l` in its DAG, before it is written (problems of its settings
    /// reported).
    fn leaf_task_record(&self, g: usize, l: usize) -> LeafTask<'_> {
        let leaf = &self.graphs[g].leaves[l];
        let mut t = LeafTask {
            key: &leaf.key,
            display: &leaf.display,
            cache: None,
            retry: None,
            trigger: false,
            component: prefixed("comp-", &leaf.key),
            deps: Cow::Borrowed(&leaf.deps),
            inputs: &leaf.inputs,
        };
        match &leaf.kind {
            LeafKind::Task(i) => {
                let task = self.pipeline_plan(g).tasks.get(*i);
                if let Some(task) = task {
                    if let TaskKind::Pipeline { pipeline } = &task.kind {
                        if let Some(callee) = self.graphs.iter().find(|x| x.pipeline == *pipeline) {
                            t.component = format!("comp-{}", callee.component);
                        }
                    } else {
                        t.cache = Some(match task.settings.cache {
                            CachePlan::On => true,
                            CachePlan::Off => false,
                            CachePlan::Ttl { ttl_ms } => {
                                let at = self.place(Some(g), &task.id).at(task.setting_spans.cache);
                                let ttl = flowc_compiler::units::format_duration(ttl_ms);
                                self.report(diagnostics::kfp_cache_ttl(at, &ttl, &task.step));
                                false
                            }
                        });
                        t.retry = retry_policy(&task.settings);
                        if let Some(ms) = task.settings.retry_within_ms {
                            let at = self.place(Some(g), &task.id).at(task.setting_spans.retries);
                            let within = flowc_compiler::units::format_duration(ms);
                            self.report(diagnostics::kfp_retry_within(at, &within, &task.step));
                        }
                    }
                }
            }
            LeafKind::Importer { .. } => t.cache = Some(true),
            LeafKind::Eval { .. } | LeafKind::Absent { .. } | LeafKind::Gather => {
                t.cache = Some(false);
            }
        }
        if leaf.finally {
            let body = self.graphs[g].body;
            t.deps
                .to_mut()
                .insert(self.graphs[g].nodes[body].key.clone());
            t.trigger = true;
        }
        t
    }

    fn group_task(&self, g: usize, n: usize) -> (String, Json) {
        let node = &self.graphs[g].nodes[n];
        let mut t = Map::new();
        t.insert("taskInfo".into(), json!({"name": node.key}));
        t.insert(
            "componentRef".into(),
            json!({"name": format!("comp-{}", node.key)}),
        );
        if !node.deps.is_empty() {
            t.insert("dependentTasks".into(), json!(node.deps));
        }
        if let Some(i) = task_inputs(&node.task_inputs) {
            t.insert("inputs".into(), i);
        }
        if let (NodeKind::Cond(_), Some(cel)) = (&node.kind, &node.cel) {
            t.insert("triggerPolicy".into(), json!({"condition": cel}));
        }
        if let Some(it) = &node.iterator {
            let (field, items) = match &it.items {
                Items::Raw(raw) => ("parameterIterator", json!({"raw": raw})),
                Items::Input {
                    name,
                    artifact: false,
                } => ("parameterIterator", json!({"inputParameter": name})),
                Items::Input {
                    name,
                    artifact: true,
                } => ("artifactIterator", json!({"inputArtifact": name})),
                Items::Pending => ("parameterIterator", json!({"raw": "[]"})),
            };
            t.insert(
                field.into(),
                obj([("itemInput", json!(it.item_input)), ("items", items)]),
            );
            if let Some(p) = it.parallel {
                t.insert("iteratorPolicy".into(), json!({"parallelismLimit": p}));
            }
        }
        (node.key.clone(), Json::Object(t))
    }
}

/// The task of a leaf in its DAG, before it is written.
struct LeafTask<'g> {
    /// Its key in the DAG's `tasks`.
    key: &'g str,
    /// `taskInfo.name`.
    display: &'g str,
    /// `cachingOptions`: none, `{enableCache: true}` (true) or `{}` (false).
    cache: Option<bool>,
    /// `retryPolicy`.
    retry: Option<Json>,
    /// `triggerPolicy.strategy: ALL_UPSTREAM_TASKS_COMPLETED` (an exit task).
    trigger: bool,
    /// `componentRef.name`.
    component: String,
    /// `dependentTasks`: the leaf's own, borrowed unless an exit task adds the body's.
    deps: Cow<'g, SortedSet>,
    /// `inputs`.
    inputs: &'g SmallMap<Src>,
}

impl LeafTask<'_> {
    /// The task as a tree.
    fn tree(&self) -> Json {
        let mut t = Map::new();
        t.insert("taskInfo".into(), json!({"name": self.display}));
        match self.cache {
            Some(true) => {
                t.insert("cachingOptions".into(), json!({"enableCache": true}));
            }
            Some(false) => {
                t.insert("cachingOptions".into(), json!({}));
            }
            None => {}
        }
        if let Some(r) = &self.retry {
            t.insert("retryPolicy".into(), r.clone());
        }
        if self.trigger {
            t.insert(
                "triggerPolicy".into(),
                json!({"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}),
            );
        }
        t.insert("componentRef".into(), json!({"name": self.component}));
        if !self.deps.is_empty() {
            t.insert("dependentTasks".into(), json!(self.deps));
        }
        if let Some(i) = task_inputs(self.inputs) {
            t.insert("inputs".into(), i);
        }
        Json::Object(t)
    }

    /// The entry of the task at `depth`, as [`crate::yaml::push_sorted_entry`] writes
    /// [`LeafTask::tree`]; false when a name is one the direct writer does not take.
    fn write(&self, depth: usize, out: &mut String) -> bool {
        use crate::yaml::typed;
        let d = depth + 1;
        if !typed::open(out, depth, self.key) {
            return false;
        }
        match self.cache {
            Some(true) => {
                typed::open_fixed(out, d, "cachingOptions");
                typed::raw_fixed(out, d + 1, "enableCache", "true");
            }
            Some(false) => {
                typed::raw_fixed(out, d, "cachingOptions", "{}");
            }
            None => {}
        }
        typed::open_fixed(out, d, "componentRef");
        typed::string_fixed(out, d + 1, "name", &self.component);
        if !self.deps.is_empty() {
            typed::open_fixed(out, d, "dependentTasks");
            for dep in self.deps.iter() {
                typed::item(out, d, dep);
            }
        }
        let done = write_task_inputs(out, d, self.inputs)
            && self
                .retry
                .as_ref()
                .is_none_or(|r| typed::value(out, d, "retryPolicy", r));
        if !done {
            return false;
        }
        typed::open_fixed(out, d, "taskInfo");
        typed::string_fixed(out, d + 1, "name", self.display);
        if self.trigger {
            typed::open_fixed(out, d, "triggerPolicy");
            typed::string_fixed(out, d + 1, "strategy", "ALL_UPSTREAM_TASKS_COMPLETED");
        }
        true
    }
}

/// The entry `inputs:` of a DAG task at `depth`, as [`crate::yaml::push_sorted_entry`] writes
/// the tree of [`task_inputs`]; nothing when there are none. False when a name is one the
/// direct writer does not take.
fn write_task_inputs(out: &mut String, depth: usize, inputs: &SmallMap<Src>) -> bool {
    use crate::yaml::typed;
    let is_artifact = |src: &Src| {
        matches!(
            src,
            Src::Comp { artifact: true, .. } | Src::Task { artifact: true, .. }
        )
    };
    type Named<'a> = Vec<(&'a String, &'a Src)>;
    let (mut arts, mut params): (Named<'_>, Named<'_>) =
        inputs.iter().partition(|(_, src)| is_artifact(src));
    if arts.is_empty() && params.is_empty() {
        return true;
    }
    arts.sort_unstable_by(|a, b| a.0.cmp(b.0));
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    typed::open_fixed(out, depth, "inputs");
    let d = depth + 2;
    for (key, list) in [("artifacts", arts), ("parameters", params)] {
        if list.is_empty() {
            continue;
        }
        typed::open_fixed(out, depth + 1, key);
        for (name, src) in list {
            if !(typed::open(out, d, name) && write_src(out, d + 1, src)) {
                return false;
            }
        }
    }
    true
}

/// Where a DAG task input comes from, its entries at `depth`.
fn write_src(out: &mut String, depth: usize, src: &Src) -> bool {
    use crate::yaml::typed;
    let d = depth + 1;
    match src {
        Src::Comp {
            name,
            artifact: true,
        } => typed::string_fixed(out, depth, "componentInputArtifact", name),
        Src::Comp {
            name,
            artifact: false,
        } => typed::string_fixed(out, depth, "componentInputParameter", name),
        Src::Task {
            task,
            key,
            artifact,
        } => {
            let (field, key_field) = if *artifact {
                ("taskOutputArtifact", "outputArtifactKey")
            } else {
                ("taskOutputParameter", "outputParameterKey")
            };
            typed::open_fixed(out, depth, field)
                && typed::string_fixed(out, d, key_field, key)
                && typed::string_fixed(out, d, "producerTask", task)
        }
        Src::Const(c) => {
            typed::open_fixed(out, depth, "runtimeValue") && typed::value(out, d, "constant", c)
        }
        Src::FinalStatus { producer } => {
            typed::open_fixed(out, depth, "taskFinalStatus")
                && typed::string_fixed(out, d, "producerTask", producer)
        }
        Src::Select { name, selector } => {
            typed::string_fixed(out, depth, "componentInputParameter", name)
                && typed::string_fixed(out, depth, "parameterExpressionSelector", selector)
        }
    }
}

/// `prefix` then `name` (a leaf's `exec-` or `comp-` name) in one allocation of their length:
/// `format!` gives a short literal no room and grows the string twice.
fn prefixed(prefix: &str, name: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + name.len());
    s.push_str(prefix);
    s.push_str(name);
    s
}

/// The component of a leaf: its executor's label and its interface.
fn leaf_component(leaf: &Leaf) -> Json {
    let mut comp = Map::new();
    comp.insert("executorLabel".into(), json!(prefixed("exec-", &leaf.key)));
    if let Some(d) = definitions(&leaf.defs) {
        comp.insert("inputDefinitions".into(), d);
    }
    if let Some(d) = definitions(&leaf.outputs) {
        comp.insert("outputDefinitions".into(), d);
    }
    Json::Object(comp)
}

/// The entry `key:` of a leaf's component at `depth`, as [`crate::yaml::push_sorted_entry`]
/// writes [`leaf_component`]; false when a name is one the direct writer does not take.
fn write_leaf_component(leaf: &Leaf, key: &str, depth: usize, out: &mut String) -> bool {
    use crate::yaml::typed;
    if !typed::open(out, depth, key) {
        return false;
    }
    typed::string_fixed(
        out,
        depth + 1,
        "executorLabel",
        &prefixed("exec-", &leaf.key),
    ) && write_definitions(out, depth + 1, "inputDefinitions", &leaf.defs)
        && write_definitions(out, depth + 1, "outputDefinitions", &leaf.outputs)
}

/// Where a DAG's tasks are written as they are made, and their dependencies recorded.
type WrittenTasks<'a> = (&'a mut LeafEntries, &'a mut Vec<(String, Vec<String>)>);

/// The `dependentTasks` of a DAG task.
fn dependent_tasks(task: &Json) -> Vec<String> {
    (task.get("dependentTasks").and_then(Json::as_array))
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect()
}

/// `dag.outputs`: artifact selectors, or parameter selectors (a one-of when several).
fn dag_outputs(outputs: &DagOutputs) -> Option<Json> {
    let mut params = Map::new();
    let mut arts = Map::new();
    for (name, (ty, selectors)) in outputs {
        if ty.is_artifact() {
            let list: Vec<Json> = selectors
                .iter()
                .map(|(p, k)| json!({"producerSubtask": p, "outputArtifactKey": k}))
                .collect();
            arts.insert(
                name.clone(),
                obj([("artifactSelectors", Json::Array(list))]),
            );
        } else if let [(p, k)] = selectors.as_slice() {
            params.insert(
                name.clone(),
                json!({"valueFromParameter": {"producerSubtask": p, "outputParameterKey": k}}),
            );
        } else {
            let list: Vec<Json> = selectors
                .iter()
                .map(|(p, k)| json!({"producerSubtask": p, "outputParameterKey": k}))
                .collect();
            params.insert(
                name.clone(),
                obj([(
                    "valueFromOneof",
                    obj([("parameterSelectors", Json::Array(list))]),
                )]),
            );
        }
    }
    let mut out = Map::new();
    if !arts.is_empty() {
        out.insert("artifacts".into(), Json::Object(arts));
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Json::Object(params));
    }
    (!out.is_empty()).then_some(Json::Object(out))
}
